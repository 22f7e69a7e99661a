"""LLaMA-Factory ShareGPT (``conversations`` with human / gpt / function_call / observation turns): writer."""

from __future__ import annotations

import json
from typing import Any

from looptool.calls import render_target
from looptool.interchange.records import parsed_row, tool_order

_ODD = ("human", "observation")  # LLaMA-Factory: turns alternate (human|observation), (gpt|function_call)


def _calls_value(calls: list[dict[str, Any]]) -> str:
    calls = [{"name": c["name"], "arguments": c.get("arguments") or {}} for c in calls]
    return json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)


def to_sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as a LLaMA-Factory ShareGPT record (``conversations`` + ``tools`` JSON text).

    Consecutive user messages, or consecutive tool results (parallel calls), are joined with a newline, since
    LLaMA-Factory needs strictly alternating turns; the text of an assistant turn that also calls tools is
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
        if turns and turns[-1][0] == tag and tag in _ODD:
            turns[-1][1] += "\n" + value
        else:
            turns.append([tag, value])
    turns.append(
        ["function_call", _calls_value(label)] if label else ["gpt", render_target([], meta.get("reply"))]
    )
    for k, (tag, _) in enumerate(turns):
        if (tag in _ODD) != (k % 2 == 0):
            raise ValueError(
                f"turn {k} is {tag!r}: ShareGPT turns must alternate human/observation and gpt/function_call"
            )
    conv = [{"from": "system", "value": "\n\n".join(system)}] if system else []
    conv += [{"from": tag, "value": value} for tag, value in turns]
    return {"conversations": conv, "tools": json.dumps([tool_order(t) for t in tools], ensure_ascii=False)}
