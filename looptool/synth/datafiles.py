"""The synthesizer's tables as data: ``looptool/synth/data/<name>.json``, each checked against its JSON Schema
``data/<name>.schema.json`` when first read and kept for the rest of the process.

* ``tree`` -- the context tree (domain -> subdomain -> capability), read by :mod:`looptool.synth.tree`;
* ``slots`` -- the constraint tree's hand-written slots, read by :mod:`looptool.synth.slots`.

JSON, not YAML: the stdlib parser reads both files in 15 ms, PyYAML's C loader the same data as YAML in 160 ms;
the schema check then takes about 0.3 s, once per process that synthesizes (one measurement each, 2 busy CPU
cores). Key order is kept (seeded draws walk the tree in file order) and numbers keep their JSON type (``5``
int, ``5.0`` float). A file that breaks its schema raises :class:`DataFileError`, one line naming the file and
the place in it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

DATA_FILES = ("data/tree.json", "data/tree.schema.json", "data/slots.json", "data/slots.schema.json")
"""Every file this module reads, relative to this folder (tests/test_dvc_wiring.py makes them deps of every stage
that imports this module; pyproject.toml ships them as package data)."""


class DataFileError(ValueError):
    """A data file that cannot be read, parsed or that breaks its schema (the message names file and place)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataFileError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise DataFileError(f"{path}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    except ValueError as e:  # a duplicate key: json would keep only the last one
        raise DataFileError(f"{path}: {e}") from None


def where(doc: Any, path: list[Any]) -> str:
    """``a/b/3/c`` for a place in ``doc``, with the slot's name when the place is in a slot of slots.json."""
    out = "/".join(str(p) for p in path) or "(top level)"
    if len(path) >= 4 and path[0] == "sections" and path[2] == "slots":
        try:
            out += f" (slot {doc['sections'][path[1]]['slots'][path[3]]['name']!r})"
        except (KeyError, IndexError, TypeError):
            pass
    return out


def _short(message: str, limit: int = 240) -> str:
    one = " ".join(message.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local ``{"$ref": "#/$defs/x"}`` replaced by the definitions (they do not recurse):
    jsonschema then validates the tree in half the time (no reference lookups)."""
    if isinstance(node, list):
        return [_inlined(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inlined(v, defs) for k, v in node.items() if k not in ("$ref", "$defs")}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        out = {**_inlined(defs[ref[8:]], defs), **out}
    elif ref is not None:
        out["$ref"] = ref
    return out


def read(path: Path, schema_path: Path) -> Any:
    """``path`` parsed and checked against the JSON Schema at ``schema_path`` (uncached: see :func:`load`)."""
    import jsonschema

    doc, schema = _parse(path), _parse(schema_path)
    validator = jsonschema.Draft202012Validator(_inlined(schema, schema.get("$defs", {})))
    err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if err is not None:
        raise DataFileError(f"{path}: at {where(doc, list(err.absolute_path))}: {_short(err.message)}")
    return doc


@cache
def load(name: str) -> Any:
    """Data file ``data/<name>.json``, read and checked once per process (callers must not mutate it)."""
    rel = f"data/{name}.json"
    if rel not in DATA_FILES:
        raise KeyError(f"{rel} is not among the data files of {__name__} (add it to DATA_FILES)")
    return read(HERE / rel, HERE / f"data/{name}.schema.json")
