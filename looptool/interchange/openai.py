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

Call ids pair up: every context tool call without an ``id`` gets one (``lt_<turn>_<k>``) and every tool reply
without a ``tool_call_id`` takes the id of the next unanswered call before it, as OpenAI's fine-tuning format
expects. Import drops ids of that exact form again (:data:`looptool.interchange.normalize.GENERATED_ID`), so
the round trip still keeps sample ids.

Rows of TRL's conversational prompt-completion form (``prompt`` + ``completion`` + ``tools``, e.g. our own
``trl`` export) are read the same way, with only the completion's assistant turn as the decision point.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool.calls import render_target
from looptool.interchange.normalize import (
    GENERATED_ID,
    decision_points,
    infer_pattern,
    normalize_messages,
    normalize_tools,
)
from looptool.interchange.records import (
    FieldError,
    Item,
    checked_item,
    iter_records,
    json_field,
    parsed_row,
    tool_order,
)


def conversation_items(
    rec_tools: Any,
    raw_messages: Any,
    where: str,
    base_meta: dict[str, Any],
    check_labels: bool = True,
    last_only: bool = False,
) -> Iterator[Item]:
    """Decision points of one conversation (OpenAI messages + tools) as candidate rows.

    ``last_only``: only the last assistant turn is a decision point (prompt-completion rows, where the
    prompt's assistant turns are context).
    """
    try:
        tools = normalize_tools(rec_tools)
        messages = normalize_messages(raw_messages)
        raw = [m if isinstance(m, dict) else {} for m in raw_messages]
        if last_only:
            raw = [{**m, "weight": 0} if k < len(raw) - 1 else m for k, m in enumerate(raw)]
        points = list(decision_points(raw, messages))
    except FieldError as e:
        yield Item(
            where, reason=e.reason, error=f"{where}: {e}", raw={"tools": rec_tools, "messages": raw_messages}
        )
        return
    if not points:
        yield Item(
            where,
            reason="no_decision_point",
            error=f"{where}: messages: no assistant turn is a decision point (see import rules)",
            raw={"tools": tools, "messages": messages},
        )
        return
    for i, label, reply in points:
        prefix = messages[:i]
        meta: dict[str, Any] = {
            **base_meta,
            "turn": i,
            "pattern": infer_pattern(tools, prefix, label),
            "pattern_inferred": True,
        }
        if reply is not None:
            meta["reply"] = reply
        yield checked_item(where, f"messages[{i}]", tools, prefix, label, meta, check_labels)


def openai_items(
    rec: Any, where: str, base_meta: dict[str, Any], check_labels: bool = True
) -> Iterator[Item]:
    """Decision points of one OpenAI record, or of one TRL prompt-completion record."""
    if not isinstance(rec, dict):
        yield Item(
            where,
            reason="invalid_record",
            error=f"{where}: <line>: must be a JSON object, got {type(rec).__name__}",
            raw={"value": rec},
        )
        return
    try:  # TRL / datasets rows keep tools as JSON text
        tools = json_field(rec.get("tools"), "tools", "invalid_tools")
    except FieldError as e:
        yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=rec)
        return
    if "messages" in rec:
        yield from conversation_items(tools, rec["messages"], where, base_meta, check_labels)
        return
    if "prompt" in rec and "completion" in rec:
        prompt, completion = rec["prompt"], rec["completion"]
        if not isinstance(prompt, list) or not isinstance(completion, list):
            yield Item(
                where,
                reason="unsupported",
                error=f"{where}: prompt: only conversational prompt-completion rows (lists of messages) are supported",
                raw=rec,
            )
            return
        meta = {**base_meta, "format": "trl"}
        yield from conversation_items(tools, prompt + completion, where, meta, check_labels, last_only=True)
        return
    yield Item(
        where, reason="invalid_messages", error=f"{where}: messages: missing (keys: {sorted(rec)})", raw=rec
    )


def read_openai(path: str | Path, check_labels: bool = True) -> Iterator[Item]:
    """Decision points of an OpenAI messages+tools JSONL file (labels checked against the tools unless
    ``check_labels`` is False)."""
    path = Path(path)
    for n, rec, bad in iter_records(path):
        if bad:
            yield bad
            continue
        meta = {"source": str(path), "line": n, "format": "openai"}
        yield from openai_items(rec, f"{path}:{n}", meta, check_labels)


def _openai_tool_call(tc: dict[str, Any], k: int | None = None, call_id: str | None = None) -> dict[str, Any]:
    fn = tc.get("function", tc)
    args = fn.get("arguments") or {}
    out: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": fn["name"],
            "arguments": args
            if isinstance(args, str)
            else json.dumps(args, ensure_ascii=False, allow_nan=False),
        },
    }
    if tc.get("id") is not None:
        out = {"id": tc["id"], **out}
    elif call_id is not None:
        out = {"id": call_id, **out}
    elif k is not None:
        out = {"id": f"call_{k}", **out}
    return out


def to_openai(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as one OpenAI fine-tuning line: context (assistant turns ``weight: 0``) + label turn,
    with call ids and ``tool_call_id``s that pair up (module docstring)."""
    tools, messages, label, meta = parsed_row(row)
    out = []
    pending: list[str] = []  # ids of the last assistant turn's calls not answered yet
    for i, m in enumerate(messages):
        m = {"role": m.get("role"), **{k: v for k, v in m.items() if k != "role"}}  # role first, for readers
        if m.get("role") == "assistant":
            if m.get("tool_calls"):
                m["tool_calls"] = [
                    _openai_tool_call(tc, call_id=GENERATED_ID.format(turn=i, k=k))
                    for k, tc in enumerate(m["tool_calls"])
                ]
                pending = [tc["id"] for tc in m["tool_calls"]]
            m["weight"] = 0
        elif m.get("role") == "tool":
            if m.get("tool_call_id") is not None:
                if m["tool_call_id"] in pending:
                    pending.remove(m["tool_call_id"])
            elif pending:
                m["tool_call_id"] = pending.pop(0)
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


def pairing_problems(record: dict[str, Any]) -> list[str]:
    """Why an OpenAI record's tool replies do not pair with earlier calls (empty: every ``tool`` message has a
    ``tool_call_id`` naming a call ``id`` of an earlier assistant turn, each call answered at most once, and
    every context call has an id)."""
    problems: list[str] = []
    open_ids: set[str] = set()
    answered: set[str] = set()
    msgs = record.get("messages") or []
    for i, m in enumerate(msgs):
        if m.get("role") == "assistant":
            for k, tc in enumerate(m.get("tool_calls") or []):
                if not tc.get("id"):
                    problems.append(f"messages[{i}].tool_calls[{k}]: no id")
                else:
                    open_ids.add(tc["id"])
        elif m.get("role") == "tool":
            tid = m.get("tool_call_id")
            if not tid:
                problems.append(f"messages[{i}]: tool reply without tool_call_id")
            elif tid not in open_ids:
                problems.append(f"messages[{i}]: tool_call_id {tid!r} names no earlier call")
            elif tid in answered:
                problems.append(f"messages[{i}]: tool_call_id {tid!r} answered twice")
            else:
                answered.add(tid)
    return problems
