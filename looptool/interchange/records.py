"""What every reader and writer shares: errors, the candidate :class:`Item`, line reading, row building."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.calls import validate_calls
from looptool.schema import SAMPLE, make_sample_id


class InterchangeError(ValueError):
    """Bad input for import/export; the message names file, line and field."""


class FieldError(ValueError):
    """A problem with one field of one record (``field`` is a path like ``messages[2].tool_calls[0]``)."""

    def __init__(self, field: str, message: str, reason: str = "invalid_record"):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.reason = reason


@dataclass
class Item:
    """One candidate row from an input file: a SAMPLE row (JSON columns as text) or why it was refused."""

    where: str
    row: dict[str, Any] | None = None
    reason: str | None = None
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # what could be read, for the rejected file
    label_digest: str | None = None


def json_field(value: Any, field: str, reason: str) -> Any:
    """A field that holds JSON text (xLAM ``answers``, ``tools`` columns, a ShareGPT ``function_call``...)
    decoded by :func:`looptool.jsonutil.loads`, or FieldError; a value that is not text is returned as is
    (:func:`checked_item` checks every value a row ends up with)."""
    if not isinstance(value, str):
        return value
    try:
        return jsonutil.loads(value)
    except ValueError as e:
        raise FieldError(field, jsonutil.problem(e), reason) from None


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; bytes are decoded per line so an encoding error names
    its line."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:  # one rejected row, not a failed import
                yield (
                    n,
                    BadLine(
                        f"not UTF-8 text ({e.reason} at byte {e.start})",
                        raw[:2000].decode("utf-8", "replace"),
                    ),
                )
                continue
            if line.strip():
                yield n, line


class BadLine(str):
    """A line that is not text (``read_lines`` yields it in place of the line; its value is the reason)."""

    def __new__(cls, reason: str, text: str = ""):
        obj = super().__new__(cls, reason)
        obj.text = text
        return obj


def parse_line(path: Path, n: int, line: str) -> tuple[Any, Item | None]:
    where = f"{path}:{n}"
    if isinstance(line, BadLine):
        return None, Item(where, reason="invalid_text", error=f"{where}: {line}", raw={"text": line.text})
    try:
        return jsonutil.loads(line), None
    except ValueError as e:
        return None, Item(
            where, reason="invalid_json", error=f"{where}: {jsonutil.problem(e)}", raw={"text": line[:2000]}
        )


def checked_item(where: str, field: str, tools, prefix, label, meta, check_labels: bool = True) -> Item:
    """A candidate row, its label validated against its tools."""
    problems = validate_calls(label, tools) if check_labels else []
    raw = {"tools": tools, "messages": prefix, "label": label, "meta": meta}
    if problems:
        return Item(
            where, reason="invalid_label", error=f"{where}: {field} (label): {'; '.join(problems)}", raw=raw
        )
    texts: dict[str, str] = {}
    for col in SAMPLE.columns:  # the same checks the schema runs when a stage reads the file
        if col.json is None:
            continue
        # Values that did not come as JSON text (Parquet cells, Python literals) meet the decoder here: a
        # NaN, 1e999 or lone surrogate in them is refused as in a JSON line.
        try:
            texts[col.name] = jsonutil.dumps(raw[col.name])
            msg = col.json(jsonutil.loads(texts[col.name]))
        except (TypeError, ValueError, RecursionError) as e:
            msg = jsonutil.problem(e) if isinstance(e, ValueError) else f"not a JSON value ({e})"
            return Item(where, reason="invalid_json", error=f"{where}: {field}: {col.name}: {msg}", raw=raw)
        if msg:
            return Item(where, reason="schema", error=f"{where}: {field}: {col.name}: {msg}", raw=raw)
    row = {
        "sample_id": make_sample_id(tools, prefix),
        **texts,
        "origin": "import",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
    }
    return Item(where, row=row, label_digest=jsonutil.digest(label))


def parsed_row(row: dict[str, Any]) -> tuple[list, list, list, dict]:
    meta = json.loads(row["meta"]) if row.get("meta") else {}
    return json.loads(row["tools"]), json.loads(row["messages"]), json.loads(row["label"]), meta or {}


def tool_order(tool: dict[str, Any]) -> dict[str, Any]:
    first = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
    return {**first, **{k: v for k, v in tool.items() if k not in first}}


def _starts_with_array(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def iter_records(path: Path) -> Iterator[tuple[int, Any, Item | None]]:
    """(line, record, None) for each record of a JSON Lines file or of a JSON array file (LLaMA-Factory and
    the xLAM release ship arrays), or (line, None, Item) for a record that is not valid JSON or that
    :func:`looptool.jsonutil.loads` refuses. In an array the line is where the element starts, so an error
    still names file and line, and reading goes on after a refused element."""
    path = Path(path)
    if not _starts_with_array(path):
        for n, line in read_lines(path):
            rec, bad = parse_line(path, n, line)
            yield n, rec, bad
        return
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InterchangeError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    pos = text.index("[") + 1
    line = text.count("\n", 0, pos) + 1
    last = pos
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise InterchangeError(f"{path}:{line}: JSON array not closed")
        if text[pos] == "]":
            return
        line += text.count("\n", last, pos)
        last = pos
        where = f"{path}:{line}"
        try:
            rec, end = jsonutil.raw_decode(text, pos)
        except json.JSONDecodeError as e:  # the rest of an array cannot be resynchronised
            raise InterchangeError(
                f"{path}:{text.count(chr(10), 0, e.pos) + 1}: not valid JSON ({e.msg}); the array cannot be read on"
            ) from None
        except jsonutil.RefusedJSON as e:  # one rejected record, then on after it where its end is known
            if e.end is None:
                raise InterchangeError(f"{where}: {e}; the array cannot be read on") from None
            bad = Item(
                where, reason="invalid_json", error=f"{where}: {e}", raw={"text": text[pos : pos + 2000]}
            )
            yield line, None, bad
            pos = e.end
            continue
        yield line, rec, None
        pos = end
