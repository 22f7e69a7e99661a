"""BFCL's file format, shared by the evaluation (:mod:`looptool.evaluate.bfcl`) and the importer
(:mod:`looptool.interchange.bfcl`): parameter types, category names of files, possible-answer files. A leaf
module, so neither side imports the other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from looptool import jsonutil

# The one BFCL type -> JSON Schema type map (BFCL's GORILLA_TO_OPENAPI, plus JavaScript's "Boolean"), used for
# the evaluation prompt (as bfcl-eval does) and for imported BFCL data alike. ``any`` is a string, as
# everywhere in BFCL: its checker demands a ``str`` for it (match.bfcl.PYTHON_TYPE_MAPPING). A type it does not
# know is a string too (bfcl-eval's default).
GORILLA_TO_OPENAPI = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "dict": "object",
    "object": "object",
    "tuple": "array",
    "any": "string",
    "byte": "integer",
    "short": "integer",
    "long": "integer",
    "double": "number",
    "char": "string",
    "ArrayList": "array",
    "Array": "array",
    "HashMap": "object",
    "Hashtable": "object",
    "Queue": "array",
    "Stack": "array",
    "Any": "string",
    "String": "string",
    "Bigint": "integer",
    "Boolean": "boolean",
}


def json_schema_type(bfcl_type: Any) -> str:
    """The JSON Schema type of a BFCL parameter type (unknown or missing: ``string``, as bfcl-eval does).

    >>> [json_schema_type(t) for t in ("dict", "float", "tuple", "any", "HashMap", None)]
    ['object', 'number', 'array', 'string', 'object', 'string']
    """
    return GORILLA_TO_OPENAPI.get(bfcl_type, "string") if isinstance(bfcl_type, str) else "string"


def category_of(path: str | Path) -> str:
    """``BFCL_v3_live_simple.json`` -> ``live_simple`` (the file stem otherwise)."""
    stem = Path(path).stem
    m = re.match(r"^BFCL_v\d+_(.+)$", stem)
    return m.group(1) if m else stem


def read_answers(path: str | Path) -> dict[str, Any]:
    """A possible-answer file: entry id -> ``ground_truth``; a bad line raises ValueError naming it."""
    path = Path(path)
    answers: dict[str, Any] = {}
    for n, rec in enumerate(jsonutil.read_jsonl(path), 1):
        if not isinstance(rec, dict) or "id" not in rec or "ground_truth" not in rec:
            raise ValueError(f"{path}:{n}: expected an object with 'id' and 'ground_truth'")
        answers[str(rec["id"])] = rec["ground_truth"]
    return answers
