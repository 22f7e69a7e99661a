"""xLAM / APIGen function-calling records: ``{"id", "query", "tools", "answers"}``.

``tools`` and ``answers`` are JSON text (as in the xlam-function-calling-60k release) or lists. A tool's
``parameters`` map each parameter name to ``{"type", "description", "default"}`` with Python-style type
names (``str``, ``int``, ``float``, ``bool``, ``List[int]``, ``Dict[str, Any]``, ``str, optional``,
``Optional[int]``); they become a JSON Schema object whose ``required`` lists the parameters not marked
optional. Parameters already written as a JSON Schema object are kept. One decision point per record: the
user's ``query``, labelled with ``answers`` (``[]`` answers: a text answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool.interchange.normalize import infer_pattern, normalize_messages, normalize_tools
from looptool.interchange.records import FieldError, Item, checked_item, iter_records, json_field

_BASE = {
    "str": "string",
    "string": "string",
    "int": "integer",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "bool": "boolean",
    "boolean": "boolean",
    "dict": "object",
    "object": "object",
    "list": "array",
    "array": "array",
    "tuple": "array",
    "set": "array",
    "any": None,
}
_OPTIONAL = re.compile(r"^optional\[(.*)\]$", re.IGNORECASE)


def xlam_type(text: str) -> tuple[dict[str, Any], bool]:
    """(JSON Schema, optional) of an xLAM type string.

    >>> xlam_type("List[int], optional")
    ({'type': 'array', 'items': {'type': 'integer'}}, True)
    >>> xlam_type("Union[int, str]")
    ({}, False)
    """
    t = text.strip()
    optional = False
    if t.lower().endswith(", optional"):
        t, optional = t[: -len(", optional")].strip(), True
    m = _OPTIONAL.match(t)
    if m:
        t, optional = m.group(1).strip(), True
    base, _, inner = t.partition("[")
    kind = _BASE.get(base.strip().lower())
    if kind is None:
        return {}, optional
    schema: dict[str, Any] = {"type": kind}
    if kind == "array" and inner.endswith("]"):
        items, _ = xlam_type(inner[:-1]) if "," not in inner[:-1] else ({}, False)
        if items:
            schema["items"] = items
    return schema, optional


def xlam_parameters(params: Any, field: str) -> dict[str, Any]:
    """A JSON Schema object from xLAM's parameter map (module docstring)."""
    if params is None or params == {}:
        return {"type": "object", "properties": {}}
    if not isinstance(params, dict):
        raise FieldError(field, "must be an object of parameters", "invalid_tools")
    if params.get("type") == "object" and isinstance(params.get("properties"), dict):
        return params
    props: dict[str, Any] = {}
    required = []
    for name, spec in params.items():
        if not isinstance(spec, dict):
            raise FieldError(
                f"{field}.{name}", "must be an object {type, description, default}", "invalid_tools"
            )
        type_text = spec.get("type", "")
        if not isinstance(type_text, str):
            raise FieldError(f"{field}.{name}.type", "must be a type name", "invalid_tools")
        schema, optional = xlam_type(type_text)
        if isinstance(spec.get("description"), str):
            schema["description"] = spec["description"]
        if "default" in spec and spec["default"] not in (None, ""):
            schema["default"] = spec["default"]
        props[name] = schema
        if not optional:
            required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def xlam_items(rec: Any, where: str, base_meta: dict[str, Any], check_labels: bool = True) -> Iterator[Item]:
    """The decision point of one xLAM record."""
    raw = rec if isinstance(rec, dict) else {"value": rec}
    try:
        if not isinstance(rec, dict) or not {"query", "tools", "answers"} <= set(rec):
            raise FieldError("<line>", "expected an object with 'query', 'tools' and 'answers'")
        if not isinstance(rec["query"], str) or not rec["query"].strip():
            raise FieldError("query", "must be a non-empty string", "invalid_messages")
        tools = json_field(rec["tools"], "tools", "invalid_tools")
        if not isinstance(tools, list):
            raise FieldError("tools", "must be a list of tools", "invalid_tools")
        tools = normalize_tools(
            [
                {**t, "parameters": xlam_parameters(t.get("parameters"), f"tools[{i}].parameters")}
                if isinstance(t, dict)
                else t
                for i, t in enumerate(tools)
            ]
        )
        answers = json_field(rec["answers"], "answers", "invalid_label")
        if not isinstance(answers, list) or not all(
            isinstance(a, dict)
            and isinstance(a.get("name"), str)
            and isinstance(a.get("arguments", {}), dict)
            for a in answers
        ):
            raise FieldError("answers", "must be a list of {name, arguments}", "invalid_label")
        label = [{"name": a["name"], "arguments": a.get("arguments") or {}} for a in answers]
        messages = normalize_messages([{"role": "user", "content": rec["query"]}])
    except FieldError as e:
        yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=raw)
        return
    meta = {**base_meta, "pattern": infer_pattern(tools, messages, label), "pattern_inferred": True}
    if rec.get("id") is not None:
        meta["xlam_id"] = rec["id"]
    yield checked_item(where, "answers", tools, messages, label, meta, check_labels)


def read_xlam(path: str | Path, check_labels: bool = True) -> Iterator[Item]:
    """Decision points of an xLAM / APIGen file (JSON Lines or one JSON array)."""
    path = Path(path)
    for n, rec, bad in iter_records(path):
        if bad:
            yield bad
            continue
        yield from xlam_items(
            rec, f"{path}:{n}", {"source": str(path), "line": n, "format": "xlam"}, check_labels
        )
