"""Values as people write them, and the grounding check that reads them back.

A label holds canonical values (ISO dates, 24-hour times, currency codes); a user writes "March 3rd, 2025",
"3:30 pm" or "euros". :func:`write` picks one human form of a value for generated text and :func:`forms`
lists every form the grounding check accepts, from the same tables, so anything the procedural user writes can
be verified, and an LLM user that writes a value some other way is caught as ungrounded.

Kinds are read back from a parameter's JSON Schema alone (:func:`kind_of`): format ``date``/``email``, and a
small set of fixed ``pattern`` strings for times, ids, currency/country/language codes, phones and URLs. That
keeps tool schemas clean (no private keywords in what the student sees) and lets :func:`grounded` check rows
whose tools came from anywhere in the catalog.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from looptool.checks.vocab import COUNTRIES, CURRENCIES, LANGUAGES, MONTHS, NUMBER_WORDS

TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
CURRENCY_PATTERN = "^[A-Z]{3}$"
COUNTRY_PATTERN = "^[A-Z]{2}$"
LANGUAGE_PATTERN = "^[a-z]{2}$"
PHONE_PATTERN = "^\\+[1-9][0-9]{7,14}$"
URL_PATTERN = "^https?://\\S+$"
_ID_PATTERN = re.compile(r"^\^[A-Z]{2}-\[0-9\]\{5\}\$$")

KINDS = (
    "string",
    "string:date",
    "string:time",
    "string:email",
    "string:id",
    "string:currency",
    "string:country",
    "string:language",
    "string:phone",
    "string:url",
    "enum",
    "integer",
    "number",
    "boolean",
    "array",
    "object",
)
"""The leaves of the constraint tree: every parameter is one of these (``arg_types`` in signatures)."""

_PATTERN_KINDS = {
    TIME_PATTERN: "string:time",
    CURRENCY_PATTERN: "string:currency",
    COUNTRY_PATTERN: "string:country",
    LANGUAGE_PATTERN: "string:language",
    PHONE_PATTERN: "string:phone",
    URL_PATTERN: "string:url",
}


def id_pattern(prefix: str) -> str:
    """The JSON Schema pattern of an id with a two-letter prefix, e.g. ``FL-20394``."""
    return f"^{prefix}-[0-9]{{5}}$"


def kind_of(schema: dict[str, Any] | None) -> str:
    """The constraint-tree kind of a parameter schema (``"string"`` for anything unrecognised)."""
    if not schema:
        return "string"
    t = schema.get("type")
    if "enum" in schema:
        return "enum"
    if t in ("integer", "number", "boolean", "array", "object"):
        return t
    fmt = schema.get("format")
    if fmt == "date":
        return "string:date"
    if fmt == "email":
        return "string:email"
    pattern = schema.get("pattern")
    if pattern:
        if pattern in _PATTERN_KINDS:
            return _PATTERN_KINDS[pattern]
        if _ID_PATTERN.match(pattern):
            return "string:id"
    return "string"


# --- writing ---------------------------------------------------------------------------------------------


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _date_writings(value: str) -> list[str]:
    d = dt.date.fromisoformat(value)
    month = MONTHS[d.month - 1]
    return [
        f"{month} {d.day}, {d.year}",
        f"{d.day} {month} {d.year}",
        f"{month[:3]} {d.day}, {d.year}",
        f"{month} {_ordinal(d.day)}, {d.year}",
        f"the {_ordinal(d.day)} of {month} {d.year}",
        value,
    ]


def _time_writings(value: str) -> list[str]:
    h, m = (int(x) for x in value.split(":"))
    h12 = h % 12 or 12
    ampm = "am" if h < 12 else "pm"
    out = [value, f"{h12}:{m:02d} {ampm}", f"{h12}:{m:02d}{ampm}", f"{h12}:{m:02d} {ampm.upper()}"]
    if m == 0:
        out += [f"{h12} {ampm}", f"{h12}{ampm}"]
        if h == 12:
            out.append("noon")
    return out


def _number_text(v: float) -> list[str]:
    if float(v).is_integer():
        i = int(v)
        return [str(i), f"{i:,}", f"{i}.00"]
    return [repr(float(v)), f"{v:.2f}", f"{v:,.2f}"]


def write(kind: str, value: Any, rng: random.Random) -> str:
    """One human form of ``value`` for generated text (always one that :func:`forms` accepts)."""
    if kind == "string:date":
        return rng.choice(_date_writings(value))
    if kind == "string:time":
        return rng.choice(_time_writings(value))
    if kind == "string:currency":
        names = CURRENCIES.get(value, (value,))
        return rng.choice(names)
    if kind == "string:country":
        return rng.choice(COUNTRIES.get(value, (value,)))
    if kind == "string:language":
        return rng.choice(LANGUAGES.get(value, (value,)))
    if kind == "enum":
        return str(value).replace("_", " ")
    if kind == "integer":
        if 0 <= value < len(NUMBER_WORDS) and rng.random() < 0.35:
            return NUMBER_WORDS[value]
        return f"{value:,}" if value >= 10000 and rng.random() < 0.5 else str(value)
    if kind == "number":
        return rng.choice(_number_text(value))
    return str(value)


# --- reading back (grounding) ----------------------------------------------------------------------------

_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_SPACES = re.compile(r"\s+")
_STOP = frozenset(
    [
        "is",
        "has",
        "include",
        "includes",
        "only",
        "allow",
        "allows",
        "with",
        "enable",
        "use",
        "send",
        "get",
        "to",
        "by",
        "all",
        "the",
        "a",
        "an",
        "of",
        "for",
        "on",
        "in",
        "at",
        "be",
        "can",
        "should",
    ]
)


def normalize(text: str) -> str:
    """Lower case, ordinals as numbers (3rd -> 3), no commas, single spaces: the space grounding searches."""
    text = _ORDINAL_RE.sub(r"\1", text.lower())
    text = text.replace(",", "")
    return _SPACES.sub(" ", text)


def _norm_form(s: str) -> str:
    return normalize(s).strip()


def forms(kind: str, value: Any) -> list[str]:
    """Every normalized text form that counts as mentioning ``value`` of ``kind``."""
    if isinstance(value, bool) or value is None:
        return []
    if kind == "string:date":
        try:
            return [_norm_form(w) for w in _date_writings(value)]
        except (TypeError, ValueError):
            return [_norm_form(str(value))]
    if kind == "string:time":
        try:
            return [_norm_form(w) for w in _time_writings(value)]
        except (TypeError, ValueError):
            return [_norm_form(str(value))]
    if kind == "string:currency":
        names = CURRENCIES.get(value, ())
        extra = [n.rstrip("s") for n in names if n.endswith("s")]
        return [_norm_form(x) for x in (value, *names, *extra)]
    if kind == "string:country":
        return [_norm_form(x) for x in (value, *COUNTRIES.get(value, ()))] + [
            _norm_form(x[4:]) for x in COUNTRIES.get(value, ()) if x.startswith("the ")
        ]
    if kind == "string:language":
        return [_norm_form(x) for x in LANGUAGES.get(value, ())] or [_norm_form(str(value))]
    if kind == "enum":
        s = str(value)
        return sorted({_norm_form(s), _norm_form(s.replace("_", " ")), _norm_form(s.replace("_", "-"))})
    if kind == "integer" and isinstance(value, int):
        out = [str(value), f"{value:,}".replace(",", "")]
        if 0 <= value < len(NUMBER_WORDS):
            out.append(NUMBER_WORDS[value])
        return out
    if kind in ("number", "integer") and isinstance(value, (int, float)):
        return [_norm_form(x) for x in _number_text(float(value))]
    return [_norm_form(str(value))]


def _is_word(ch: str) -> bool:
    """``re``'s ``\\w`` for one character of a str pattern (Unicode alphanumerics and the underscore)."""
    return ch.isalnum() or ch == "_"


def _said(form: str, text: str) -> bool:
    """Whether ``form`` occurs in ``text`` with no word character right before or after it: the match of
    ``(?<![\\w])form(?![\\w])``, found with ``str.find`` (values are mostly unique, so a compiled pattern
    per value cost more than the search)."""
    end = len(form)
    i = text.find(form)
    while i != -1:
        if (i == 0 or not _is_word(text[i - 1])) and (i + end == len(text) or not _is_word(text[i + end])):
            return True
        i = text.find(form, i + 1)
    return False


def _mentioned(form_list: list[str], text: str) -> bool:
    return any(f and _said(f, text) for f in form_list)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ").lower()
    return [w for w in spaced.split() if w]


def boolean_cues(name: str) -> list[str]:
    """Word stems of a boolean parameter's name that a user must mention for its value to count as said.

    ``nonstop_only`` -> ``["nonst"]``; ``include_reviews`` -> ``["revie"]``. A boolean cannot be found as a
    value in text, so the check asks that the thing it switches is talked about.
    """
    words = _words(name)
    content = [w for w in words if w not in _STOP] or words
    return [w[:5] for w in content]


def grounded(value: Any, schema: dict[str, Any] | None, text: str, name: str = "") -> bool:
    """Whether ``value`` for a parameter with ``schema`` is said in ``text`` (already :func:`normalize`-d)
    or is the schema's default. Arrays and objects need every element / property value grounded."""
    schema = schema or {}
    if "default" in schema and schema["default"] == value and type(schema["default"]) is type(value):
        return True
    kind = kind_of(schema)
    if kind == "boolean" or isinstance(value, bool):
        return any(re.search(r"(?<![\w])" + re.escape(c), text) for c in boolean_cues(name))
    if isinstance(value, list):
        items = schema.get("items") or {}
        return bool(value) and all(grounded(v, items, text, name) for v in value)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return bool(value) and all(grounded(v, props.get(k), text, k) for k, v in value.items())
    return _mentioned(forms(kind, value), text)


def ungrounded(arguments: dict[str, Any], params: dict[str, Any], text: str) -> list[str]:
    """Names of the arguments in ``arguments`` whose value is not grounded in ``text``."""
    props = params.get("properties") or {}
    return [k for k, v in arguments.items() if not grounded(v, props.get(k), text, k)]
