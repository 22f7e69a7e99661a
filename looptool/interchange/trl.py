"""TRL-ready rows: conversational prompt-completion with per-row tools (``datasets`` folder, ``save_to_disk``).

One row per decision point: ``prompt`` (the context messages), ``completion`` (one assistant turn: the
label's calls as ``tool_calls``, or the text reply for a ``[]`` label), ``tools`` (JSON text of the OpenAI
tool list: ``SFTTrainer`` parses it and passes it to the chat template), and the columns looptool's reward
reads, ``label`` (JSON text) and ``sample_id``, plus ``meta`` (JSON text).

``SFTTrainer`` trains on it directly (loss on the completion). ``GRPOTrainer`` reads ``prompt`` and hands the
other columns to the reward: pass ``looptool.train.rewards.tool_match_reward`` as ``reward_funcs``. GRPOTrainer
renders every prompt with the trainer's own ``tools`` (not a per-row list), so for GRPO on rows with
different tools render the tools into the prompt (as looptool's train stage does), or use one tool set.

Call arguments are JSON text (OpenAI's convention): Arrow stores a column of objects with one merged set of
keys, which would add other calls' argument names as nulls. Chat templates of Qwen2.5 / Qwen3 accept text
arguments; a template that applies ``tojson`` to them unconditionally (Llama 3.1) needs them parsed first.
"""

from __future__ import annotations

import json
from typing import Any

from looptool.calls import render_target
from looptool.interchange.records import parsed_row, tool_order


def _call(c: dict[str, Any]) -> dict[str, Any]:
    fn = c.get("function", c)
    args = fn.get("arguments") or {}
    return {
        "type": "function",
        "function": {
            "name": fn["name"],
            "arguments": args if isinstance(args, str) else json.dumps(args, ensure_ascii=False),
        },
    }


def _message(m: dict[str, Any]) -> dict[str, Any]:
    out = {"role": m["role"], **{k: v for k, v in m.items() if k != "role"}}
    if m.get("tool_calls"):
        out["tool_calls"] = [_call(tc) for tc in m["tool_calls"]]
    return out


def to_trl(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as one TRL prompt-completion row (module docstring)."""
    tools, messages, label, meta = parsed_row(row)
    if label:
        completion = {"role": "assistant", "content": "", "tool_calls": [_call(c) for c in label]}
    else:
        completion = {"role": "assistant", "content": render_target([], meta.get("reply"))}
    return {
        "sample_id": row["sample_id"],
        "prompt": [_message(m) for m in messages],
        "completion": [completion],
        "tools": json.dumps(
            [{"type": "function", "function": tool_order(t)} for t in tools], ensure_ascii=False
        ),
        "label": row["label"],
        "meta": row.get("meta") or "{}",
    }
