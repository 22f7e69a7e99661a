"""The optional LLM judge of the seed corpus (``backends.judge``): one verdict with a reason per sample."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from looptool.calls import json_value
from looptool.llm.base import Backend, Request, Sampling
from looptool.prompts.agents import reference_judge_messages

# Structured output where the server takes it (``response_format``): the verdict is valid by construction.
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["accept", "reject"]}, "reason": {"type": "string"}},
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}


def parse_verdict(text: str) -> tuple[bool | None, str]:
    """(accepted, reason) from a judge output; accepted is None when the output is not a valid verdict."""
    obj, err = json_value(text)
    if err or not isinstance(obj, dict):
        return None, f"unparseable verdict ({err or 'not an object'}): {text[:200]!r}"
    verdict = str(obj.get("verdict", "")).strip().lower()
    reason = str(obj.get("reason", "")).strip()
    if verdict not in ("accept", "reject"):
        return None, f"verdict must be accept or reject, got {obj.get('verdict')!r}"
    return verdict == "accept", reason or "(no reason given)"


def judge_rows(
    rows: Sequence[dict[str, Any]], backend: Backend, max_new_tokens: int = 160, seed: int = 0
) -> list[tuple[bool | None, str]]:
    """A verdict for each row (JSON columns as objects), in one batched generate call."""
    if not rows:
        return []
    reqs = []
    for r in rows:
        meta = r["meta"] if isinstance(r["meta"], dict) else json.loads(r["meta"])
        reqs.append(
            Request.chat(
                reference_judge_messages(r["tools"], r["messages"], r["label"], meta.get("reply")),
                key=r["sample_id"],
                json_schema=VERDICT_SCHEMA,
            )
        )
    outs = backend.generate(reqs, Sampling(max_new_tokens=max_new_tokens, temperature=0.0, seed=seed))
    verdicts = []
    for c in outs:
        if c.error:
            verdicts.append((None, f"judge error: {c.error}"))
        else:
            verdicts.append(parse_verdict(c.text))
    return verdicts
