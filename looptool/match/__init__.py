"""ToolMatch: the paper's binary reward, and the benchmark answer checkers (``bfcl``, ``acebench``).

``tool_match(prediction, label, tools)`` is True when the prediction makes exactly the label's calls:
the same number of calls, in any order, names equal, arguments equal after canonicalisation. Numbers are
compared by value only where the tool's schema says the parameter is a number (``1 == 1.0`` for a
``number``/``integer`` parameter), and never across types elsewhere (``"5" != 5``, ``True != 1``).
An empty label matches an answer that makes no call.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from typing import Any

from looptool.calls import Call, Parsed, tool_index

__all__ = ["tool_match", "canonical_calls"]

_NUMERIC = frozenset(("number", "integer"))


def _is_numeric(schema: dict[str, Any] | None) -> bool:
    if not schema:
        return False
    t = schema.get("type")
    if isinstance(t, str):
        return t in _NUMERIC
    if isinstance(t, list):
        return any(x in _NUMERIC for x in t)
    return False


def _canon(value: Any, schema: dict[str, Any] | None) -> Any:
    """A hashable, type-tagged form of a JSON value, numbers unified only where ``schema`` is numeric.

    The definition of ToolMatch equality; :func:`tool_match` computes the same relation faster."""
    tv = type(value)
    if tv is str:
        return ("s", value)
    if tv is bool:
        return ("b", value)
    if tv is int or tv is float:
        if schema is not None and _is_numeric(schema):
            return ("n", float(value))
        return ("i", value) if tv is int else ("f", value)
    if tv is list:
        items = schema.get("items") if schema else None
        return ("l", tuple(_canon(x, items) for x in value))
    if tv is dict:
        props = (schema.get("properties") or {}) if schema else {}
        return ("d", frozenset((k, _canon(v, props.get(k))) for k, v in value.items()))
    if value is None:
        return ("z",)
    return ("?", repr(value))


def _call_key(name: str, arguments: dict[str, Any], index: dict[str, dict[str, Any]]) -> Any:
    tool = index.get(name)
    props = ((tool.get("parameters") or {}).get("properties") or {}) if tool else {}
    return (name, frozenset((k, _canon(v, props.get(k))) for k, v in arguments.items()))


def _as_pairs(calls: Any) -> list[tuple[str, dict[str, Any]]] | None:
    """(name, arguments) pairs from Parsed, Calls, label dicts or label JSON text; None = unparseable."""
    if calls is None:
        return None
    if isinstance(calls, Parsed):
        if calls.error is not None:
            return None
        return [(c.name, c.arguments) for c in calls.calls]
    if isinstance(calls, str):
        return _label_pairs(calls)
    out = []
    for c in calls:
        if isinstance(c, Call):
            out.append((c.name, c.arguments))
        else:
            out.append((c["name"], c.get("arguments") or {}))
    return out


@lru_cache(maxsize=65536)
def _label_pairs(text: str) -> list[tuple[str, dict[str, Any]]]:
    # GRPO scores each label num_generations times: parse its JSON once. Callers never mutate the result.
    return [(c["name"], c["arguments"]) for c in _json_loads(text)]


@lru_cache(maxsize=4096)
def _props_by_name(tools_json: str) -> dict[str, dict[str, Any]]:
    return _props_index(tool_index(tools_json))


def _props_index(index: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: ((t.get("parameters") or {}).get("properties") or {}) for name, t in index.items()}


def _props(tools: Any) -> dict[str, dict[str, Any]]:
    if tools is None:
        return {}
    if isinstance(tools, str):
        return _props_by_name(tools)
    return _props_index(tool_index(tools))


_NUM_TYPES = (int, float)

try:  # orjson decodes labels ~5x faster than json; same values (both give int/float/bool/None/str)
    import orjson

    _json_loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency
    _json_loads = json.loads


def _args_eq(pa: dict[str, Any], ga: dict[str, Any], props: dict[str, Any]) -> bool:
    # Python's == is looser than ours (1 == 1.0 == True), so != rejects at C speed; a candidate match is
    # then walked for the type rules.
    if pa != ga:
        return False
    for k, v in pa.items():
        tv = type(v)
        if tv is str:
            continue
        w = ga[k]
        if tv is type(w) and tv is not dict and tv is not list:
            continue  # same scalar type (int, float, bool, None) and ==: equal under the typed rules too
        if not _same_types(v, w, props.get(k)):
            return False
    return True


def _same_types(a: Any, b: Any, schema: dict[str, Any] | None) -> bool:
    """For values already equal under Python's ==: are they equal under ToolMatch's typed rules too?"""
    ta = type(a)
    if ta is str:
        return True  # a str only == a str
    tb = type(b)
    if ta is not tb:
        if ta in _NUM_TYPES and tb in _NUM_TYPES:
            return schema is not None and _is_numeric(schema)
        return False
    if ta is dict:
        props = schema.get("properties") if schema else None
        for k, v in a.items():
            if not _same_types(v, b[k], props.get(k) if props else None):
                return False
        return True
    if ta is list:
        items = schema.get("items") if schema else None
        for x, y in zip(a, b):
            if not _same_types(x, y, items):
                return False
    return True


def canonical_calls(calls: Any, tools: Any = None) -> Counter:
    """The multiset of canonical (hashable) calls; two call lists match iff these are equal."""
    index = tool_index(tools) if tools is not None else {}
    pairs = _as_pairs(calls) or []
    return Counter(_call_key(n, a, index) for n, a in pairs)


def tool_match(prediction: Any, label: Any, tools: Any = None) -> bool:
    """Binary ToolMatch reward: does the prediction make exactly the label's calls?

    ``prediction``: a :class:`~looptool.calls.Parsed` (a parse error never matches), a list of calls or
    label-form dicts. ``label``: list or JSON text. ``tools``: list or JSON text (for number typing).

    >>> tool_match([{"name": "f", "arguments": {"x": 1}}], [{"name": "f", "arguments": {"x": 1.0}}],
    ...            [{"name": "f", "parameters": {"properties": {"x": {"type": "number"}}}}])
    True
    >>> tool_match([{"name": "f", "arguments": {"x": "5"}}], [{"name": "f", "arguments": {"x": 5}}])
    False
    >>> tool_match([], [])
    True
    """
    pred = _as_pairs(prediction)
    if pred is None:
        return False
    gold = _as_pairs(label)
    if gold is None or len(pred) != len(gold):
        return False
    if not gold:
        return True
    props = _props(tools)
    if len(gold) == 1:
        (pn, pa), (gn, ga) = pred[0], gold[0]
        return pn == gn and _args_eq(pa, ga, props.get(gn, {}))
    # Greedy matching is exact here: equality of calls is an equivalence relation.
    unmatched = list(gold)
    for pn, pa in pred:
        p = props.get(pn, {})
        for i, (gn, ga) in enumerate(unmatched):
            if gn == pn and _args_eq(pa, ga, p):
                del unmatched[i]
                break
        else:
            return False
    return True
