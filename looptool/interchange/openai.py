"""OpenAI fine-tuning JSONL (``{"messages": [...], "tools": [...]}``): reader and writer.

Decision points of a conversation: every assistant message is a candidate, with the messages before it as
the context:

* an assistant turn with ``tool_calls`` is a decision point; its label is its calls;
* an assistant *text* turn is a decision point with label ``[]`` (answer in text, call nothing; the text is
  kept as ``meta.reply``) when it directly follows a user message -- a refusal or a clarifying question --
  or when it carries ``"weight": 1``. A text turn after tool results (a summary of them) is not: the loop
  trains the decision to call, and a summary after the results teaches nothing about that;
* an assistant turn with ``"weight": 0`` (OpenAI fine-tuning's "do not train on this turn") is never one.

Export writes one line per decision point: the context with its assistant turns marked ``"weight": 0``, then
the label as a final assistant turn with ``"weight": 1`` (calls as ``tool_calls``; a ``[]`` label as a text
turn from ``meta.reply``). Importing that line gives back exactly the one decision point, so
import -> export -> import keeps sample ids, tools, messages and labels identical.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool.calls import render_target
from looptool.interchange.normalize import decision_points, infer_pattern, normalize_messages, normalize_tools
from looptool.interchange.records import (
    FieldError,
    Item,
    checked_item,
    parse_line,
    parsed_row,
    read_lines,
    tool_order,
)


def read_openai(path: str | Path, check_labels: bool = True) -> Iterator[Item]:
    """Decision points of an OpenAI messages+tools JSONL file (labels checked against the tools unless
    ``check_labels`` is False)."""
    path = Path(path)
    for n, line in read_lines(path):
        where = f"{path}:{n}"
        rec, bad = parse_line(path, n, line)
        if bad:
            yield bad
            continue
        try:
            if not isinstance(rec, dict):
                raise FieldError("<line>", f"must be a JSON object, got {type(rec).__name__}")
            if "messages" not in rec:
                raise FieldError("messages", f"missing (keys: {sorted(rec)})", "invalid_messages")
            tools = normalize_tools(rec.get("tools"))
            raw_messages = rec["messages"]
            messages = normalize_messages(raw_messages)
            points = list(decision_points(raw_messages, messages))
        except FieldError as e:
            raw = rec if isinstance(rec, dict) else {"value": rec}
            yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=raw)
            continue
        if not points:
            yield Item(
                where,
                reason="no_decision_point",
                error=f"{where}: messages: no assistant turn is a decision point (see import rules)",
                raw={"tools": tools, "messages": messages},
            )
            continue
        for i, label, reply in points:
            prefix = messages[:i]
            meta: dict[str, Any] = {
                "source": str(path),
                "line": n,
                "turn": i,
                "format": "openai",
                "pattern": infer_pattern(tools, prefix, label),
                "pattern_inferred": True,
            }
            if reply is not None:
                meta["reply"] = reply
            yield checked_item(where, f"messages[{i}]", tools, prefix, label, meta, check_labels)


def _openai_tool_call(tc: dict[str, Any], k: int | None = None) -> dict[str, Any]:
    fn = tc.get("function", tc)
    args = fn.get("arguments") or {}
    out: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": fn["name"],
            "arguments": args if isinstance(args, str) else json.dumps(args, ensure_ascii=False),
        },
    }
    if tc.get("id") is not None:
        out = {"id": tc["id"], **out}
    elif k is not None:
        out = {"id": f"call_{k}", **out}
    return out


def to_openai(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as one OpenAI fine-tuning line: context (assistant turns ``weight: 0``) + label turn."""
    tools, messages, label, meta = parsed_row(row)
    out = []
    for m in messages:
        m = {"role": m.get("role"), **{k: v for k, v in m.items() if k != "role"}}  # role first, for readers
        if m.get("role") == "assistant":
            if m.get("tool_calls"):
                m["tool_calls"] = [_openai_tool_call(tc) for tc in m["tool_calls"]]
            m["weight"] = 0
        out.append(m)
    final: dict[str, Any] = {"role": "assistant"}
    if label:
        final["content"] = None
        final["tool_calls"] = [_openai_tool_call({"function": c}, k) for k, c in enumerate(label)]
    else:
        final["content"] = render_target([], meta.get("reply"))
    final["weight"] = 1
    out.append(final)
    return {"messages": out, "tools": [{"type": "function", "function": tool_order(t)} for t in tools]}
