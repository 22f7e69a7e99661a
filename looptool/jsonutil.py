"""Canonical JSON (the one text form used for JSON columns, hashing and comparisons) and the one bounded,
strict decoder of JSON that comes from outside (:func:`loads`)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
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

    end: int | None = None  # set by :func:`raw_decode`: where the refused value ends


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


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        raise RefusedJSON(f"duplicate key(s) {sorted({k for k in keys if keys.count(k) > 1})} in one object")
    return obj


def _no_constant(name: str) -> Any:
    raise RefusedJSON(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise RefusedJSON(f"number {text[:40]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
_UNIQUE_DECODER = json.JSONDecoder(
    parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_unique_pairs
)
_LOOSE = json.JSONDecoder()
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def _refused(e: ValueError) -> RefusedJSON:
    """A ValueError that is not a JSONDecodeError as RefusedJSON (the one other: Python's limit on the
    digits of an integer it converts, ``sys.get_int_max_str_digits()``)."""
    if isinstance(e, RefusedJSON):
        return e
    if "integer string conversion" in str(e):
        return RefusedJSON(f"an integer longer than {sys.get_int_max_str_digits()} digits")
    return RefusedJSON(str(e).split(";")[0])


def _check_text(text: str, value: Any) -> None:
    if _SURROGATE_ESCAPE.search(text) or not text.isascii() and _SURROGATE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RefusedJSON("a string holds a lone surrogate (e.g. \\ud800), which is not text") from None


def loads(text: str, max_depth: int = MAX_DEPTH, unique_keys: bool = False) -> Any:
    """The one decoder of JSON text that looptool did not write itself (imported files and the JSON inside
    their string fields, model output, benchmark files, the stage inputs the record schema checks):
    ``json.loads`` that refuses text nested deeper than ``max_depth``, numbers that are not finite (``NaN``,
    ``Infinity``, ``1e400``) or too long, and strings holding a lone surrogate (``"\\ud800"`` cannot be
    written as UTF-8, so Parquet could not hold it). ``unique_keys`` also refuses an object with a duplicate
    key (which of two verdicts would count?) rather than keeping the last value. Valid JSON decodes exactly
    as ``json.loads`` decodes it.

    Raises :class:`RefusedJSON` or ``json.JSONDecodeError`` (both ValueErrors; :func:`problem` words either).

    >>> loads('{"a": 1.5}')
    {'a': 1.5}
    >>> loads('[NaN]')  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RefusedJSON: NaN is not a JSON number
    """
    if text.startswith("\ufeff"):  # as json.loads words it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    check_depth(text, max_depth)
    try:
        value = (_UNIQUE_DECODER if unique_keys else _DECODER).decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError as e:
        raise _refused(e) from None
    _check_text(text, value)
    return value


def raw_decode(text: str, pos: int = 0, max_depth: int = MAX_DEPTH) -> tuple[Any, int]:
    """:func:`loads` for the JSON value that starts at ``text[pos]`` (a JSON array file read element by
    element, objects one after another): ``(value, end)``. A refused value raises :class:`RefusedJSON` whose
    ``end`` is where that value ends, so a reader can go on after it (None when that cannot be told)."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        e = DepthError(f"nested deeper than {max_depth} levels")
        e.end = _value_end(text, pos)
        raise e from None
    except ValueError as e:
        refused = _refused(e)
        refused.end = _value_end(text, pos)
        raise refused from None
    try:
        item = text[pos:end]
        check_depth(item, max_depth)
        _check_text(item, value)
    except RefusedJSON as e:
        e.end = end
        raise
    return value, end


def _value_end(text: str, pos: int) -> int | None:
    """Where the JSON value starting at ``text[pos]`` ends, read without decoding it (brackets outside
    strings); None when it does not end."""
    if text[pos] not in "[{":
        try:
            return _LOOSE.raw_decode(text, pos)[1]
        except ValueError:
            return None
    depth = 0
    for m in _TOKEN.finditer(text, pos):
        t = m.group()
        if t in ("[", "{"):
            depth += 1
        elif t in ("]", "}"):
            depth -= 1
            if depth == 0:
                return m.end()
    return None


def problem(e: ValueError) -> str:
    """One line saying why :func:`loads` refused a text."""
    if isinstance(e, json.JSONDecodeError):
        return f"not valid JSON ({e.msg} at char {e.pos})"
    return str(e)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines file (blank lines skipped), each decoded by :func:`loads`; a line that is not
    valid JSON, or that :func:`loads` refuses, raises ``ValueError`` naming the file and line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:  # question and answer files may be the user's (``import --format bfcl --answers``)
            rows.append(loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        except RefusedJSON as e:
            raise ValueError(f"{path}:{n}: {e}") from None
    return rows
