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
    """A hashable, type-tagged form of a JSON value, numbers unified only where ``schema`` is numeric."""
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
        calls = json.loads(calls)
    out = []
    for c in calls:
        if isinstance(c, Call):
            out.append((c.name, c.arguments))
        else:
            out.append((c["name"], c.get("arguments") or {}))
    return out


def canonical_calls(calls: Any, tools: Any = None) -> Counter:
    """The multiset of canonical calls that ToolMatch compares."""
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
    if sorted(n for n, _ in pred) != sorted(n for n, _ in gold):
        return False
    index = tool_index(tools) if tools is not None else {}
    if len(gold) == 1:
        return _call_key(*pred[0], index) == _call_key(*gold[0], index)
    return Counter(_call_key(n, a, index) for n, a in pred) == Counter(
        _call_key(n, a, index) for n, a in gold
    )
