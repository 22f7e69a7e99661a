"""A finished draft as a SAMPLE row, with the ``meta`` contract other stages rely on.

``meta`` always holds: ``pattern``, ``domain``, ``subdomain``, ``capability``, ``generator`` ("procedural" or
the generator model's name), ``reply`` (the reference text answer of a ``[]`` label: the clarifying question
of ``missing_arg``, the refusal of ``irrelevant``; null otherwise) and ``signature``, the difficulty signature
``{pattern, n_calls, parallel, arg_types, n_tools, n_distractors, missing_arg, turns}`` that
:func:`looptool.synth.instantiate` reproduces in another domain. Extra keys: ``leaf`` (the capability path),
``apis`` (catalog keys of the offered tools), ``missing`` / ``requested`` for the two ``[]`` patterns, and
``decontam`` (the benchmark match, when one was found).
"""

from __future__ import annotations

from typing import Any

from looptool.checks.sample import signature_of
from looptool.schema import make_sample_id
from looptool.synth.planner import Draft


def to_row(draft: Draft, generator: str, origin: str = "seed", iteration: int = 0) -> dict[str, Any]:
    """The SAMPLE row of a realised draft; JSON columns are Python objects (``schema.frame`` dumps them)."""
    tools = [a.tool for a in draft.tools]
    messages = draft.messages
    label = draft.label
    meta: dict[str, Any] = {
        "pattern": draft.pattern,
        "domain": draft.domain,
        "subdomain": draft.subdomain,
        "capability": draft.capability,
        "generator": generator,
        "reply": draft.reply if not label else None,
        "signature": signature_of(draft.pattern, label, tools, draft.n_distractors, draft.turns),
        "leaf": f"{draft.domain}/{draft.subdomain}/{draft.capability}",
        "apis": [a.key for a in draft.tools],
    }
    if draft.pattern == "missing_arg" and draft.main is not None and draft.missing:
        p = draft.main.param(draft.missing)
        meta["missing"] = {"tool": draft.main.name, "param": p.prop if p else draft.missing}
    if draft.pattern == "irrelevant" and draft.requested is not None:
        meta["requested"] = {"tool": draft.requested.api.name, "leaf": draft.requested.api.leaf.path}
    if draft.pattern == "parallel":
        meta["capabilities"] = sorted({c.api.leaf.capability for c in draft.calls})
    return {
        "sample_id": make_sample_id(tools, messages),
        "tools": tools,
        "messages": messages,
        "label": label,
        "origin": origin,
        "parent_id": None,
        "iteration": iteration,
        "label_rev": 0,
        "meta": meta,
    }
