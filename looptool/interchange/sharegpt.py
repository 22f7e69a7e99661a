"""LLaMA-Factory ShareGPT (``conversations`` with human / gpt / function_call / observation turns).

Reader: each record becomes OpenAI messages (system from the ``system`` column or a first ``system`` turn;
``human`` -> user, ``gpt`` -> assistant text, ``function_call`` -> an assistant turn with content ``""`` and
the calls of its JSON value, an object or a list; ``observation`` -> tool replies, named after the calls they
answer, one per call when the value is a JSON list of as many texts), then the OpenAI decision-point rules
apply; a record with ``"mask_history": true`` (what :func:`to_sharegpt` writes: the last turn is the
decision point, earlier ones context) has only its last assistant turn as a decision point. Tools come
from the ``tools`` column (JSON text or a list). Writer: :func:`to_sharegpt`, and
:func:`dataset_info` for LLaMA-Factory's ``dataset_info.json``.

What ShareGPT cannot hold (so a row using it does not keep its sample id through export and import): call
ids, ``tool_call_id``s, and an assistant's text beside its calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.calls import render_target
from looptool.interchange.openai import conversation_items
from looptool.interchange.records import FieldError, Item, iter_records, json_field, parsed_row, tool_order

_ODD = ("human", "observation")  # LLaMA-Factory: turns alternate (human|observation), (gpt|function_call)
ROLE_OF = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


def _calls_value(calls: list[dict[str, Any]]) -> str:
    calls = [{"name": c["name"], "arguments": c.get("arguments") or {}} for c in calls]
    return json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False, allow_nan=False)


def _json_field(value: Any, field: str, reason: str = "invalid_tools") -> Any:
    return json_field(value, field, reason) if not isinstance(value, str) or value.strip() else []


def tool_replies(value: str, calls: list[str]) -> list[str]:
    """The tool replies an observation holds: a JSON list of exactly ``len(calls)`` strings is one reply per
    call (what :func:`to_sharegpt` writes for parallel calls); anything else is one reply."""
    if len(calls) > 1 and value.lstrip().startswith("["):
        try:
            parts = jsonutil.loads(value)
        except ValueError:  # not JSON, or JSON the decoder refuses: one reply, kept as text
            return [value]
        if isinstance(parts, list) and len(parts) == len(calls) and all(isinstance(p, str) for p in parts):
            return parts
    return [value]


def sharegpt_messages(rec: dict[str, Any], tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """OpenAI messages of one ShareGPT record (module docstring); raises FieldError naming the turn."""
    tags = {"role": "from", "content": "value", **(tags or {})}
    conv = rec.get("conversations")
    if not isinstance(conv, list) or not conv:
        raise FieldError("conversations", "must be a non-empty list of turns", "invalid_messages")
    out: list[dict[str, Any]] = []
    system = rec.get("system")
    if system:
        if not isinstance(system, str):
            raise FieldError("system", "must be a string", "invalid_messages")
        out.append({"role": "system", "content": system})
    pending: list[str] = []  # names of the last function_call's calls, for the observation after it
    for i, turn in enumerate(conv):
        here = f"conversations[{i}]"
        if not isinstance(turn, dict):
            raise FieldError(here, "must be an object", "invalid_messages")
        tag, value = turn.get(tags["role"]), turn.get(tags["content"])
        if not isinstance(value, str):
            raise FieldError(f"{here}.{tags['content']}", "must be a string", "invalid_messages")
        if tag == "function_call":
            calls = _json_field(value, f"{here}.value", "invalid_messages")
            calls = calls if isinstance(calls, list) else [calls]
            if not calls or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in calls):
                raise FieldError(
                    f"{here}.value", "must be a call {name, arguments} or a list of them", "invalid_messages"
                )
            out.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "type": "function",
                            "function": {"name": c["name"], "arguments": c.get("arguments", {})},
                        }
                        for c in calls
                    ],
                }
            )
            pending = [c["name"] for c in calls]
        elif tag in ("observation", "tool"):
            replies = tool_replies(value, pending)
            for k, text in enumerate(replies):
                msg = {"role": "tool", "content": text}
                if len(replies) == len(pending) and pending:
                    msg["name"] = pending[k]
                out.append(msg)
            pending = []
        elif tag in ROLE_OF:
            out.append({"role": ROLE_OF[tag], "content": value})
        else:
            raise FieldError(
                f"{here}.{tags['role']}",
                f"unknown role {tag!r} (human, gpt, function_call, observation, system)",
                "invalid_messages",
            )
    return out


def sharegpt_items(
    rec: Any, where: str, base_meta: dict[str, Any], check_labels: bool = True
) -> Iterator[Item]:
    """Decision points of one ShareGPT record."""
    if not isinstance(rec, dict):
        yield Item(
            where,
            reason="invalid_record",
            error=f"{where}: <line>: must be a JSON object",
            raw={"value": rec},
        )
        return
    try:
        tools = _json_field(rec.get("tools"), "tools")
        messages = sharegpt_messages(rec)
    except FieldError as e:
        yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=rec)
        return
    last_only = rec.get("mask_history") is True
    yield from conversation_items(tools, messages, where, base_meta, check_labels, last_only=last_only)


def read_sharegpt(path: str | Path, check_labels: bool = True) -> Iterator[Item]:
    """Decision points of a ShareGPT / LLaMA-Factory file (JSON Lines or one JSON array)."""
    path = Path(path)
    for n, rec, bad in iter_records(path):
        if bad:
            yield bad
            continue
        yield from sharegpt_items(
            rec, f"{path}:{n}", {"source": str(path), "line": n, "format": "sharegpt"}, check_labels
        )


# LLaMA-Factory chat template names by model family (substring of the model id, most specific first).
_LLAMAFACTORY_TEMPLATES = (
    ("smollm2", "smollm2"),
    ("smollm", "smollm"),
    ("qwen3", "qwen3"),
    ("qwen", "qwen"),
    ("llama-3", "llama3"),
    ("llama3", "llama3"),
    ("mistral", "mistral"),
    ("gemma-3", "gemma3"),
    ("gemma", "gemma"),
)


def llamafactory_template(model_source: str | None) -> str | None:
    """LLaMA-Factory's template name for a model (params ``model.source``: the embedded SmolLM2, a hub id or
    a folder named after its model); None when the name does not say.

    >>> llamafactory_template("embedded:smollm2-135m-instruct"), llamafactory_template("Qwen/Qwen2.5-7B-Instruct")
    ('smollm2', 'qwen')
    >>> llamafactory_template("/models/my-finetune") is None
    True
    """
    name = str(model_source or "").lower()
    return next((t for key, t in _LLAMAFACTORY_TEMPLATES if key in name), None)


def dataset_info(name: str, file_name: str) -> dict[str, Any]:
    """LLaMA-Factory's ``dataset_info.json`` entry for an exported file (default ShareGPT tags)."""
    return {
        name: {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "tools": "tools"},
            "tags": {
                "role_tag": "from",
                "content_tag": "value",
                "user_tag": "human",
                "assistant_tag": "gpt",
                "observation_tag": "observation",
                "function_tag": "function_call",
                "system_tag": "system",
            },
        }
    }


def to_sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as a LLaMA-Factory ShareGPT record (``conversations`` + ``tools`` JSON text).

    Consecutive user messages are joined with a newline and consecutive tool results (parallel calls) become
    one observation holding a JSON list of their texts, since LLaMA-Factory needs strictly alternating turns; the text of an assistant turn that also calls tools is
    dropped (ShareGPT's ``function_call`` holds only the calls). Raises ValueError when the turns cannot
    alternate (e.g. a user message right after a tool result).
    """
    from looptool.prompts.render import message_calls

    tools, messages, label, meta = parsed_row(row)
    system = [m.get("content") or "" for m in messages if m.get("role") == "system"]
    turns: list[list[str]] = []
    for m in messages:
        role = m.get("role")
        if role == "system":
            continue
        if role == "user":
            tag, value = "human", m.get("content") or ""
        elif role == "tool":
            tag, value = "observation", m.get("content") or ""
        elif m.get("tool_calls"):
            tag, value = "function_call", _calls_value(message_calls(m))
        else:
            tag, value = "gpt", m.get("content") or ""
        if turns and turns[-1][0] == tag == "human":
            turns[-1][1] += "\n" + value
        elif turns and turns[-1][0] == tag == "observation":
            turns[-1].append(value)
        else:
            turns.append([tag, value])
    turns.append(
        ["function_call", _calls_value(label)] if label else ["gpt", render_target([], meta.get("reply"))]
    )
    turns = [[t[0], t[1] if len(t) == 2 else json.dumps(t[1:], ensure_ascii=False)] for t in turns]
    for k, (tag, _) in enumerate(turns):
        if (tag in _ODD) != (k % 2 == 0):
            raise ValueError(
                f"turn {k} is {tag!r}: ShareGPT turns must alternate human/observation and gpt/function_call"
            )
    conv = [{"from": "system", "value": "\n\n".join(system)}] if system else []
    conv += [{"from": tag, "value": value} for tag, value in turns]
    return {
        "conversations": conv,
        "tools": json.dumps([tool_order(t) for t in tools], ensure_ascii=False),
        "mask_history": True,
    }
