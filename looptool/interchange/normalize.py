"""Canonical form written by import (what ``sample_id`` hashes).

* tools: :func:`looptool.calls.normalize_tool` (``{name, description, parameters}``; the OpenAI
  ``{"type": "function", "function": ...}`` wrapper removed), parameters checked as JSON Schema;
* messages: only the keys ``role``, ``content``, ``name``, ``tool_calls``, ``tool_call_id``; content given as
  a list of text parts is joined into one string; each tool call is
  ``{"type": "function", "function": {"name", "arguments": <object>}}`` (plus its ``id`` when given),
  arguments parsed from JSON text when they are a string;
* label: ``[{name, arguments}]``, checked against the tools with :func:`looptool.calls.validate_calls`.

Decision points of a conversation follow the OpenAI rules of :mod:`looptool.interchange.openai`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from looptool import jsonutil
from looptool.calls import normalize_tool
from looptool.interchange.records import FieldError, json_field

MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
ROLES = ("system", "user", "assistant", "tool")
GENERATED_ID = "lt_{turn}_{k}"
"""Form of the call ids the OpenAI export invents for context calls that had none; import drops ids of
exactly this form (and ``tool_call_id``s naming them), so export -> import keeps sample ids."""
_GENERATED_ID = re.compile(r"^lt_\d+_\d+$")


def normalize_tools(tools: Any, field: str = "tools") -> list[dict[str, Any]]:
    """Check and normalise a tools list (OpenAI wrapper or plain functions) to ``{name, description,
    parameters}``; each ``parameters`` must be a valid JSON Schema of type object."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise FieldError(field, f"must be a list of tools, got {type(tools).__name__}", "invalid_tools")
    out = []
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        here = f"{field}[{i}]"
        if not isinstance(tool, dict):
            raise FieldError(here, "must be an object", "invalid_tools")
        if "type" in tool and tool["type"] != "function":
            raise FieldError(
                here, f"only function tools are supported, got type {tool['type']!r}", "invalid_tools"
            )
        fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        name = fn.get("name")
        if not isinstance(name, str) or not name.strip():
            raise FieldError(f"{here}.name", "must be a non-empty string", "invalid_tools")
        here = f"{field}[{i}] ({name})"
        if not isinstance(fn.get("description", ""), str):
            raise FieldError(f"{here}.description", "must be a string", "invalid_tools")
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise FieldError(f"{here}.parameters", "must be a JSON Schema object", "invalid_tools")
        if params:
            if params.get("type", "object") != "object":
                raise FieldError(
                    f"{here}.parameters",
                    f"must be a schema of type object, got {params.get('type')!r}",
                    "invalid_tools",
                )
            problem = _schema_problem(jsonutil.dumps(params))
            if problem:
                raise FieldError(
                    f"{here}.parameters{problem[0]}", f"invalid JSON Schema: {problem[1]}", "invalid_tools"
                )
        if name in seen:
            raise FieldError(here, f"duplicate tool name {name!r}", "invalid_tools")
        seen.add(name)
        out.append(normalize_tool(fn))
    return out


@lru_cache(maxsize=8192)
def _schema_problem(params_json: str) -> tuple[str, str] | None:
    """(path, message) of the first way a tool's parameters break their JSON Schema metaschema, or None.

    Cached by canonical JSON: datasets repeat the same tools across many rows. A schema without ``$schema``
    is checked against the Draft 7 metaschema: it covers every keyword tool schemas use, and checking is
    6x faster than against Draft 2020-12's (measured: 0.27 vs 1.5 ms a BFCL schema), which matters at
    millions of rows.
    """
    from jsonschema import Draft7Validator, validators
    from jsonschema.exceptions import best_match

    schema = json.loads(params_json)
    cls = validators.validator_for(schema, default=Draft7Validator)
    err = best_match(_meta_validator(cls).iter_errors(schema))
    if err is None:
        return None
    path = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return path, err.message


@lru_cache(maxsize=8)
def _meta_validator(cls):
    return cls(cls.META_SCHEMA)


def _content(value: Any, field: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for j, part in enumerate(value):
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                raise FieldError(f"{field}[{j}]", "only text content parts are supported", "invalid_messages")
        return "".join(texts)
    raise FieldError(
        field,
        f"must be a string, null or a list of text parts, got {type(value).__name__}",
        "invalid_messages",
    )


def _tool_call(tc: Any, field: str) -> dict[str, Any]:
    if not isinstance(tc, dict):
        raise FieldError(field, "must be an object", "invalid_messages")
    fn = tc.get("function") if isinstance(tc.get("function"), dict) else tc
    name = fn.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldError(f"{field}.function.name", "must be a non-empty string", "invalid_messages")
    args = fn.get("arguments")
    if isinstance(args, str):
        args = json_field(args, f"{field}.function.arguments", "invalid_messages") if args.strip() else {}
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise FieldError(
            f"{field}.function.arguments",
            f"must be a JSON object, got {type(args).__name__}",
            "invalid_messages",
        )
    out: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": args}}
    if tc.get("id") is not None and not (isinstance(tc["id"], str) and _GENERATED_ID.match(tc["id"])):
        out["id"] = tc["id"]
    return out


def normalize_messages(messages: Any, field: str = "messages") -> list[dict[str, Any]]:
    """Check and normalise OpenAI chat messages to the canonical form (module docstring)."""
    if not isinstance(messages, list) or not messages:
        raise FieldError(field, "must be a non-empty list of messages", "invalid_messages")
    out = []
    for i, m in enumerate(messages):
        here = f"{field}[{i}]"
        if not isinstance(m, dict):
            raise FieldError(here, "must be an object", "invalid_messages")
        role = m.get("role")
        if role not in ROLES:
            raise FieldError(
                f"{here}.role", f"must be one of {list(ROLES)}, got {role!r}", "invalid_messages"
            )
        n = {k: m[k] for k in MESSAGE_KEYS if k in m}
        if isinstance(n.get("tool_call_id"), str) and _GENERATED_ID.match(n["tool_call_id"]):
            del n["tool_call_id"]
        if "content" in n:
            n["content"] = _content(n["content"], f"{here}.content")
        calls = n.pop("tool_calls", None)
        if calls:
            if role != "assistant":
                raise FieldError(
                    f"{here}.tool_calls", "only assistant messages may have tool_calls", "invalid_messages"
                )
            if not isinstance(calls, list):
                raise FieldError(f"{here}.tool_calls", "must be a list", "invalid_messages")
            n["tool_calls"] = [_tool_call(tc, f"{here}.tool_calls[{j}]") for j, tc in enumerate(calls)]
        if role in ("system", "user", "tool") and not isinstance(n.get("content"), str):
            raise FieldError(f"{here}.content", f"a {role} message needs text content", "invalid_messages")
        if role == "assistant" and not n.get("tool_calls") and not isinstance(n.get("content"), str):
            raise FieldError(
                f"{here}.content", "an assistant message needs text content or tool_calls", "invalid_messages"
            )
        out.append(n)
    return out


def label_of(msg: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}
        for tc in msg.get("tool_calls") or []
    ]


def infer_pattern(tools: list[dict[str, Any]], prefix: list[dict[str, Any]], label: list[Any]) -> str:
    """The seed pattern an imported decision point most resembles (stored with ``pattern_inferred``).

    A ``[]`` label reads as ``irrelevant``: a clarifying question (``missing_arg``) cannot be told apart.
    """
    if not label:
        return "irrelevant"
    if any(m["role"] == "assistant" for m in prefix):
        return "multi_turn"
    if len(label) > 1:
        return "parallel"
    if len(tools) > 1:
        return "distractor"
    return "single"


def decision_points(
    raw_messages: list[Any], messages: list[dict[str, Any]]
) -> Iterator[tuple[int, list[Any], str | None]]:
    """(index, label, reply) of each decision point of a conversation (rules in the module docstring).

    ``raw_messages`` are the messages as read (for ``weight``), ``messages`` their normalised form.
    """
    for i, m in enumerate(messages):
        if m["role"] != "assistant" or i == 0:
            continue
        weight = raw_messages[i].get("weight")
        if weight is not None and weight not in (0, 1):
            raise FieldError(f"messages[{i}].weight", f"must be 0 or 1, got {weight!r}", "invalid_messages")
        if weight == 0:
            continue
        if m.get("tool_calls"):
            yield i, label_of(m), None
        elif messages[i - 1]["role"] == "user" or weight == 1:
            yield i, [], m.get("content") or ""
