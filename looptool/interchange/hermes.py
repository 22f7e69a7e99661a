"""NousResearch Hermes function-calling records (``conversations`` of system / human / gpt / tool turns).

The tools are the ``<tools>...</tools>`` block of the system turn (a JSON list, JSON objects one after
another, or the Python-literal form some releases use), in the OpenAI wrapper or plain. A ``gpt`` turn's
``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` blocks are its calls, the text outside them its
content; a ``tool`` turn's ``<tool_response>...</tool_response>`` blocks are one tool reply each (a
``{"name", "content"}`` object gives the name and content; otherwise the reply is named after the call it
answers). The system turn that held the tools is dropped (the chat template renders the tools from the
row's ``tools``); other system text is kept. Then the OpenAI decision-point rules apply.

Python literals are read with :func:`ast.literal_eval`, never ``eval``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.interchange.openai import conversation_items
from looptool.interchange.records import FieldError, Item, iter_records
from looptool.interchange.sharegpt import ROLE_OF

_TOOLS = re.compile(r"<tools>(.*?)</tools>", re.DOTALL)
_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_RESPONSE = re.compile(r"<tool_response>(.*?)</tool_response>", re.DOTALL)


def literal(text: str, field: str) -> Any:
    """JSON, else a Python literal (``{'name': ...}``), else FieldError. JSON the decoder refuses (NaN, too
    deep, a lone surrogate) is refused, not read as Python (where ``1e999`` would be infinity); the values of
    a Python literal are checked when the row is built (:func:`looptool.interchange.records.checked_item`)."""
    text = text.strip()
    try:
        return jsonutil.loads(text)
    except json.JSONDecodeError as e:
        err = f"{e.msg} at char {e.pos}"
    except jsonutil.RefusedJSON as e:
        raise FieldError(field, str(e), "invalid_messages") from None
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise FieldError(field, f"neither JSON ({err}) nor a Python literal", "invalid_messages") from None


def _tools_of(block: str, field: str) -> list[Any]:
    block = block.strip()
    if not block:
        return []
    try:
        value = literal(block, field)
    except FieldError:  # objects one after another (one per line, as Hermes' templates write them)
        value, pos = [], 0
        while pos < len(block):
            while pos < len(block) and block[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(block):
                break
            try:
                obj, pos = jsonutil.raw_decode(block, pos)
            except ValueError as e:
                raise FieldError(field, f"<tools> block: {jsonutil.problem(e)}", "invalid_tools") from None
            value.append(obj)
    return value if isinstance(value, list) else [value]


def hermes_messages(rec: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """(tools, OpenAI messages) of one Hermes record (module docstring); raises FieldError naming the turn."""
    conv = rec.get("conversations")
    if not isinstance(conv, list) or not conv:
        raise FieldError("conversations", "must be a non-empty list of turns", "invalid_messages")
    tools: list[Any] = []
    out: list[dict[str, Any]] = []
    pending: list[str] = []
    for i, turn in enumerate(conv):
        here = f"conversations[{i}]"
        if not isinstance(turn, dict):
            raise FieldError(here, "must be an object", "invalid_messages")
        tag, value = turn.get("from"), turn.get("value")
        if not isinstance(value, str):
            raise FieldError(f"{here}.value", "must be a string", "invalid_messages")
        if tag == "system" and _TOOLS.search(value):
            for m in _TOOLS.finditer(value):
                tools.extend(_tools_of(m.group(1), f"{here}.value <tools>"))
            continue
        if tag in ("gpt", "assistant") and "<tool_call>" in value:
            calls = []
            for k, m in enumerate(_CALL.finditer(value)):
                c = literal(m.group(1), f"{here}.value <tool_call> {k + 1}")
                if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                    raise FieldError(
                        f"{here}.value <tool_call> {k + 1}", "must be {name, arguments}", "invalid_messages"
                    )
                calls.append(
                    {"type": "function", "function": {"name": c["name"], "arguments": c.get("arguments", {})}}
                )
            if not calls:
                raise FieldError(f"{here}.value", "unclosed <tool_call> block", "invalid_messages")
            out.append({"role": "assistant", "content": _CALL.sub("", value).strip(), "tool_calls": calls})
            pending = [c["function"]["name"] for c in calls]
        elif tag == "tool":
            blocks = [m.group(1).strip() for m in _RESPONSE.finditer(value)] or [value]
            for k, text in enumerate(blocks):
                msg: dict[str, Any] = {"role": "tool", "content": text}
                try:
                    obj = literal(text, here)
                except FieldError:
                    obj = None
                content = obj.get("content", "") if isinstance(obj, dict) else ""
                if not isinstance(content, str):
                    try:  # a Python literal may hold what JSON cannot (a set, bytes): then the reply is text
                        content = json.dumps(content, ensure_ascii=False)
                    except (TypeError, ValueError, RecursionError):
                        obj = None
                if isinstance(obj, dict) and isinstance(obj.get("name"), str) and "content" in obj:
                    msg = {"role": "tool", "content": content, "name": obj["name"]}
                elif len(blocks) == len(pending):
                    msg["name"] = pending[k]
                out.append(msg)
            pending = []
        elif tag in ROLE_OF:
            out.append({"role": ROLE_OF[tag], "content": value})
        else:
            raise FieldError(
                f"{here}.from", f"unknown role {tag!r} (system, human, gpt, tool)", "invalid_messages"
            )
    if not tools and isinstance(rec.get("tools"), (list, str)):
        tools = rec["tools"] if isinstance(rec["tools"], list) else _tools_of(rec["tools"], "tools")
    return tools, out


def hermes_items(
    rec: Any, where: str, base_meta: dict[str, Any], check_labels: bool = True
) -> Iterator[Item]:
    """Decision points of one Hermes record."""
    if not isinstance(rec, dict):
        yield Item(
            where,
            reason="invalid_record",
            error=f"{where}: <line>: must be a JSON object",
            raw={"value": rec},
        )
        return
    try:
        tools, messages = hermes_messages(rec)
    except FieldError as e:
        yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=rec)
        return
    meta = dict(base_meta)
    for key in ("category", "subcategory", "task"):
        if isinstance(rec.get(key), str):
            meta[key] = rec[key]
    yield from conversation_items(tools, messages, where, meta, check_labels)


def read_hermes(path: str | Path, check_labels: bool = True) -> Iterator[Item]:
    """Decision points of a Hermes function-calling file (JSON Lines or one JSON array)."""
    path = Path(path)
    for n, rec, bad in iter_records(path):
        if bad:
            yield bad
            continue
        yield from hermes_items(
            rec, f"{path}:{n}", {"source": str(path), "line": n, "format": "hermes"}, check_labels
        )
