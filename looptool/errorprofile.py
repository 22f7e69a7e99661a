"""What made an error seed hard for the model, read from the probe, and how much of it a candidate expansion
carries (``expand.carry``).

The structured synthesizer keeps a seed's difficulty signature (pattern, number of calls, argument kinds,
tools, distractors, turns), yet the model fails such expansions no more often than random pool rows: the
signature does not say *where* the model went wrong. :func:`error_profile` reads that from the model's answer
against the right label. Its ``kind`` is the first difference found, in this order:

=================  =====================================================================================
``no_call``        the label calls a function; the model answered in text or its call did not parse
``spurious_call``  the label is a text reply (missing_arg, irrelevant); the model called
``wrong_function`` the model called a function the label does not (a distractor, a neighbour)
``missing_call``   fewer calls than the label
``extra_call``     more calls than the label
``missing_arg``    a label argument the model left out
``extra_arg``      an argument the label does not have
``wrong_value``    the right functions and arguments, a wrong value
``right``          no difference (a seed whose label, not the answer, was wrong)
=================  =====================================================================================

An argument-level error also names its argument: its kind (:func:`looptool.checks.surface.kind_of`), whether
it is optional, and whether its value is written verbatim in the conversation (``July 15th, 2025`` for
``2025-07-15`` is not). :func:`trap_score` counts how many of these traps a candidate expansion sets again;
``expand.carry: true`` keeps the best of ``expand.candidates`` instantiations of the seed's signature. A
spurious call on an irrelevant request is scored by how close the offered tools' names come to the one asked
for, as close as the tool the model wrongly called.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from looptool.calls import parse, tool_index
from looptool.checks.sample import grounding_text
from looptool.checks.surface import _words, kind_of, normalize
from looptool.match import tool_match

KINDS = (
    "no_call",
    "spurious_call",
    "wrong_function",
    "missing_call",
    "extra_call",
    "missing_arg",
    "extra_arg",
    "wrong_value",
    "right",
)
"""Error kinds, in the order :func:`error_profile` looks for them."""


@dataclass(frozen=True)
class Profile:
    """Where the model went wrong on a seed."""

    kind: str
    arg_kind: str | None = None
    """missing_arg / extra_arg / wrong_value: the argument's kind; spurious_call: the missing argument's kind."""
    optional: bool | None = None
    """The argument is not in its tool's ``required``."""
    literal: bool | None = None
    """The label's value is written verbatim in the user's and tools' text."""
    n_args: int | None = None
    """no_call: arguments of the label's first call."""
    similar: float | None = None
    """wrong_function: name similarity (word Jaccard) of the function called to the right one; spurious_call on
    an irrelevant request: of the function called to the one the user asked for (``meta.requested``)."""

    def as_meta(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


TRAP_MAX = {
    "missing_arg": 4,
    "wrong_value": 4,
    "extra_arg": 3,
    "wrong_function": 2,
    "spurious_call": 2,
    "no_call": 1,
}
"""The most :func:`trap_score` can give a candidate for each kind (kinds not named here carry nothing beyond
the signature, which every structured expansion keeps)."""


def trap_max(profile: Profile) -> int:
    """The most :func:`trap_score` can give for ``profile`` (0: nothing to carry beyond the signature)."""
    if profile.kind == "spurious_call" and profile.arg_kind is None and profile.similar is None:
        return 0
    return TRAP_MAX.get(profile.kind, 0)


def name_similarity(a: str, b: str) -> float:
    """Word Jaccard of two function names (``getRepairStatus`` / ``accept_repair_quote``: 1/5)."""
    wa, wb = set(_words(a)), set(_words(b))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def _param(index: dict[str, Any], fn: str, arg: str) -> tuple[dict[str, Any] | None, bool]:
    params = (index.get(fn) or {}).get("parameters") or {}
    return (params.get("properties") or {}).get(arg), arg not in (params.get("required") or [])


def _literal(value: Any, text: str) -> bool:
    shown = value if isinstance(value, str) else json.dumps(value)
    return normalize(shown) in text


def _arg_profile(kind: str, fn: str, arg: str, value: Any, index: dict[str, Any], text: str) -> Profile:
    schema, optional = _param(index, fn, arg)
    return Profile(kind, kind_of(schema), optional, _literal(value, text) if kind != "extra_arg" else None)


def _pairs(right: list[dict[str, Any]], wrong: list[dict[str, Any]]) -> list[tuple[dict, dict]]:
    """Each right call with the unused predicted call of the same name that shares most argument values."""
    left = list(wrong)
    out = []
    for r in right:
        same = [w for w in left if w["name"] == r["name"]]
        if not same:
            continue
        best = max(same, key=lambda w: sum(w["arguments"].get(k) == v for k, v in r["arguments"].items()))
        left.remove(best)
        out.append((r, best))
    return out


def error_profile(
    right: list[dict[str, Any]],
    wrong: list[dict[str, Any]] | None,
    tools: Any,
    messages: list[dict[str, Any]],
    meta: dict[str, Any] | None = None,
) -> Profile:
    """Where the answer ``wrong`` (label-form calls; None or [] for a text answer) departs from ``right``."""
    index = tool_index(tools)
    wrong = wrong or []
    if not right:
        if not wrong:
            return Profile("right")
        missing = (meta or {}).get("missing") or {}
        if missing:
            schema, optional = _param(index, missing.get("tool", ""), missing.get("param", ""))
            return Profile("spurious_call", kind_of(schema), optional)
        requested = ((meta or {}).get("requested") or {}).get("tool")
        if requested:
            return Profile("spurious_call", similar=name_similarity(wrong[0]["name"], requested))
        return Profile("spurious_call")
    if not wrong:
        return Profile("no_call", n_args=len(right[0]["arguments"]))
    names = Counter(c["name"] for c in right)
    stray = [c["name"] for c in wrong if c["name"] not in names]
    if stray:
        return Profile("wrong_function", similar=max(name_similarity(stray[0], n) for n in names))
    if len(wrong) != len(right):
        return Profile("missing_call" if len(wrong) < len(right) else "extra_call")
    text = grounding_text(messages)
    pairs = _pairs(right, wrong)
    for r, w in pairs:
        for arg in sorted(set(r["arguments"]) - set(w["arguments"])):
            return _arg_profile("missing_arg", r["name"], arg, r["arguments"][arg], index, text)
    for r, w in pairs:
        for arg in sorted(set(w["arguments"]) - set(r["arguments"])):
            return _arg_profile("extra_arg", r["name"], arg, w["arguments"][arg], index, text)
    for r, w in pairs:
        for arg in sorted(r["arguments"]):
            one = {"name": r["name"], "arguments": {arg: r["arguments"][arg]}}
            mine = {"name": r["name"], "arguments": {arg: w["arguments"][arg]}}
            if not tool_match([mine], [one], tools):
                return _arg_profile("wrong_value", r["name"], arg, r["arguments"][arg], index, text)
    return Profile("right")


def seed_profile(seed: Any) -> Profile:
    """The profile of an :class:`looptool.expand.ErrorSeed` (a boundary seed's rejected draw is parsed)."""
    wrong = seed.wrong
    if wrong is None and seed.wrong_text:
        wrong = parse(seed.wrong_text).label()
    return error_profile(seed.right, wrong, seed.row["tools"], json.loads(seed.row["messages"]), seed.meta)


def trap_score(profile: Profile, row: dict[str, Any]) -> int:
    """How many of ``profile``'s traps the sample ``row`` (Python objects: ``tools``, ``messages``, ``label``,
    ``meta``) sets again; at most :data:`TRAP_MAX` of its kind."""
    index = tool_index(row["tools"])
    label = row["label"]
    kind = profile.kind
    if kind in ("missing_arg", "wrong_value"):
        text = grounding_text(row["messages"])
        best = 0
        for call in label:
            for arg, value in call["arguments"].items():
                schema, optional = _param(index, call["name"], arg)
                if kind_of(schema) != profile.arg_kind:
                    continue
                best = max(
                    best, 2 + (optional == profile.optional) + (_literal(value, text) == profile.literal)
                )
        return best
    if kind == "extra_arg":
        best = 0
        for call in label:
            params = (index.get(call["name"]) or {}).get("parameters") or {}
            for arg in set(params.get("properties") or {}) - set(call["arguments"]):
                schema, optional = _param(index, call["name"], arg)
                if kind_of(schema) == profile.arg_kind:
                    best = max(best, 2 + (optional == profile.optional))
        return best
    if kind == "wrong_function":
        names = {c["name"] for c in label}
        sims = [name_similarity(t, n) for t in index if t not in names for n in names]
        top = max(sims, default=0.0)
        return 0 if top == 0 else 1 + (top >= (profile.similar or 0.0))
    if kind == "spurious_call":
        meta = row.get("meta") or {}
        missing = meta.get("missing") or {}
        if missing and profile.arg_kind is not None:
            schema, optional = _param(index, missing["tool"], missing["param"])
            return (kind_of(schema) == profile.arg_kind) + (optional == profile.optional)
        requested = (meta.get("requested") or {}).get("tool")
        if requested and profile.similar is not None:
            top = max((name_similarity(t, requested) for t in index), default=0.0)
            return 0 if top == 0 else 1 + (top >= profile.similar)
        return 0
    if kind == "no_call":
        return int(bool(label) and len(label[0]["arguments"]) == profile.n_args)
    return 0
