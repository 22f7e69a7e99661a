"""Canonical JSON: the one text form used for JSON columns, hashing and comparisons."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def dumps(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, unicode kept (stable across runs and machines)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(obj: Any, length: int = 16) -> str:
    """Hex SHA-256 of the canonical JSON of ``obj``, cut to ``length`` characters."""
    return hashlib.sha256(dumps(obj).encode("utf-8")).hexdigest()[:length]


# Deepest nesting accepted in any JSON we read (data files, model replies, tool-call arguments). Real tool
# schemas and arguments are a few levels deep; ~1000 levels would exhaust Python's recursion in json, ast,
# jsonschema and our own walkers, so a hostile value is refused with a reason instead of killing the stage.
MAX_DEPTH = 100

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}()]")


class RefusedJSON(ValueError):
    """Untrusted JSON that parses but must not be used (too deep, duplicate keys, NaN, lone surrogates)."""


class DepthError(RefusedJSON):
    """A JSON (or Python-literal) text or value nested deeper than allowed."""


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`DepthError` when brackets outside string literals nest deeper than ``max_depth``.

    >>> check_depth('{"a": [1, {"b": "[[[["}]}', 3)
    >>> check_depth("[" * 5 + "]" * 5, 3)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    looptool.jsonutil.DepthError: nested deeper than 3 levels
    """
    if text.count("[") + text.count("{") + text.count("(") <= max_depth:
        return
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub('""', text)):
        if m.group() in "[{(":
            depth += 1
            if depth > max_depth:
                raise DepthError(f"nested deeper than {max_depth} levels")
        else:
            depth -= 1


def value_depth(obj: Any, max_depth: int = MAX_DEPTH) -> int:
    """Nesting depth of a parsed value, walked without recursion; :class:`DepthError` past ``max_depth``."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if d > max_depth:
            raise DepthError(f"nested deeper than {max_depth} levels")
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in children)
    return deepest


def safe_loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses text nested deeper than ``max_depth`` (:class:`DepthError`, a ValueError)."""
    check_depth(text, max_depth)
    return json.loads(text)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise RefusedJSON(f"duplicate key(s) {sorted({k for k in keys if keys.count(k) > 1})} in one object")
    return dict(pairs)


def strict_loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted model output: depth-bounded, and an object with a duplicate key is refused
    (:class:`DepthError`) rather than silently keeping the last value."""
    check_depth(text, max_depth)
    return json.loads(text, object_pairs_hook=_unique_pairs)


def _no_constant(name: str) -> Any:
    raise RefusedJSON(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise RefusedJSON(f"number {text[:40]} is out of range")
    return value


def untrusted_loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for records from files: depth-bounded, only finite numbers (no ``NaN``, ``Infinity``,
    ``1e400``), and text only (a lone surrogate such as ``"\\ud800"`` cannot be written as UTF-8). Raises
    :class:`RefusedJSON` (a ValueError) or ``json.JSONDecodeError``.

    >>> untrusted_loads('{"a": 1.5}')
    {'a': 1.5}
    >>> untrusted_loads('[NaN]')  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RefusedJSON: NaN is not a JSON number
    """
    check_depth(text, max_depth)
    value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    if _SURROGATE_ESCAPE.search(text) or not text.isascii() and _SURROGATE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RefusedJSON("a string holds a lone surrogate (e.g. \\ud800), which is not text") from None
    return value
