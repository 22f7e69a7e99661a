"""``import_files``: files of any import format -> SAMPLE Parquet + rejected rows (file, line, field)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.interchange.bfcl import answers_path, read_bfcl
from looptool.interchange.dispatch import record_format
from looptool.interchange.hermes import read_hermes
from looptool.interchange.openai import read_openai
from looptool.interchange.records import FieldError, InterchangeError, Item, iter_records
from looptool.interchange.sharegpt import read_sharegpt
from looptool.interchange.tables import read_hf_dataset, read_parquet_rows
from looptool.interchange.writer import ChunkWriter
from looptool.interchange.xlam import read_xlam
from looptool.schema import REJECTED, SAMPLE, make_sample_id

IMPORT_FORMATS = ("auto", "openai", "bfcl", "sharegpt", "hermes", "xlam", "parquet", "datasets")
FILE_READERS = {
    "openai": read_openai,
    "sharegpt": read_sharegpt,
    "hermes": read_hermes,
    "xlam": read_xlam,
    "parquet": read_parquet_rows,
    "datasets": read_hf_dataset,
}


def detect_format(path: str | Path) -> str:
    """The import format of a file or folder: a folder is a ``datasets`` folder, ``.parquet`` is Parquet,
    otherwise the keys of the first JSON record decide (:func:`looptool.interchange.dispatch.record_format`)."""
    path = Path(path)
    if path.is_dir():
        return "datasets"
    if path.suffix == ".parquet":
        return "parquet"
    for n, rec, bad in iter_records(path):
        if bad is not None:
            raise InterchangeError(f"{bad.error}; cannot detect the format")
        try:
            return record_format(rec)
        except FieldError as e:
            raise InterchangeError(f"{path}:{n}: {e.message}") from None
    return "empty"


@dataclass
class ImportReport:
    out: Path
    rows: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejected_path: Path | None = None
    first_errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "rows": self.rows,
            "rejected": self.rejected,
            "reasons": self.reasons,
            "rejected_path": str(self.rejected_path) if self.rejected_path else None,
            "first_errors": self.first_errors,
        }


def rejected_path_for(out: str | Path) -> Path:
    """``x.parquet`` -> ``x_rejected.parquet`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}_rejected.parquet")


def _rejected_row(item: Item) -> dict[str, Any]:
    raw = item.raw
    tools, messages, label = (
        raw.get("tools", raw.get("function")),
        raw.get("messages", raw.get("question")),
        raw.get("label"),
    )
    meta = dict(raw.get("meta") or {})
    file, _, line = item.where.rpartition(":")
    meta.setdefault("source", file)
    meta.setdefault("line", int(line) if line.isdigit() else line)
    if "text" in raw:
        meta["text"] = raw["text"]
    try:
        sid = make_sample_id(tools, messages) if tools is not None and messages is not None else None
    except (TypeError, ValueError, RecursionError):
        sid = None
    if sid is None:
        try:
            sid = jsonutil.digest({"where": item.where, "raw": raw})
        except (TypeError, ValueError, RecursionError):  # a set, a lone surrogate: hash what it looks like
            sid = jsonutil.digest({"where": item.where, "raw": repr(raw)})
    return {
        "sample_id": sid,
        "tools": _json_or_text(tools if tools is not None else []),
        "messages": _json_or_text(messages if messages is not None else []),
        "label": _json_or_text(label if label is not None else []),
        "origin": "import",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
        "meta": _json_or_text(meta),
        "reason": item.reason or "invalid",
        "detail": item.error,
    }


def _json_or_text(value: Any) -> str:
    """JSON text of what could be read; its ``repr`` as a JSON string where that is no JSON the decoder
    accepts (NaN, a lone surrogate, a set), so the rejected file holds only JSON and only text."""
    try:
        text = jsonutil.dumps(value)
        jsonutil.loads(text)
        return text
    except (TypeError, ValueError, RecursionError):
        return jsonutil.dumps(repr(value))


def _items(
    paths: Iterable[str | Path], fmt: str, answers: str | Path | None, check_labels: bool
) -> Iterator[Item]:
    for p in paths:
        p = Path(p)
        if not p.is_file() and not (p.is_dir() and fmt in ("auto", "datasets")):
            raise InterchangeError(f"{p}: no such file")
        f = detect_format(p) if fmt == "auto" else fmt
        if f == "empty":  # no records (e.g. the export of an empty dataset): nothing to import
            continue
        if f == "bfcl":
            yield from read_bfcl(p, answers, check_labels)
        elif f in FILE_READERS:
            yield from FILE_READERS[f](p, check_labels)
        else:
            raise InterchangeError(f"unknown import format {fmt!r} (choose from {list(IMPORT_FORMATS)})")


def _answer_files(paths: list[Path], fmt: str, answers: str | Path | None) -> list[Path]:
    """The BFCL possible-answer files an import may read besides ``paths`` (given, or beside each file)."""
    if answers is None and fmt not in ("auto", "bfcl"):
        return []
    return [answers_path(p, answers) for p in paths if p.is_file()]


def import_files(
    paths: str | Path | Iterable[str | Path],
    out: str | Path,
    fmt: str = "auto",
    on_error: str = "skip",
    answers: str | Path | None = None,
    chunk_rows: int = 5000,
    progress: bool = False,
    check_labels: bool = True,
    overwrite: bool = False,
) -> ImportReport:
    """Import decision points from files of any :data:`IMPORT_FORMATS` into a SAMPLE Parquet file at ``out``.

    ``on_error="fail"`` raises :class:`InterchangeError` at the first bad row and writes nothing;
    ``"skip"`` writes bad rows with their reason to ``<out stem>_rejected.parquet`` (REJECTED schema; its
    JSON columns hold whatever could be read). The rejected file is written on every successful import,
    empty when nothing was refused, so a stale one from an earlier run never lingers. A repeated decision point (same sample_id) with the same
    label is kept once and its copies are flagged ``duplicate``; with a different label it is an error
    (``conflicting_duplicate``). ``check_labels=False`` keeps labels that break their tool's schema (e.g.
    re-importing a pool whose injected label noise JGLV is meant to find); everything else is still checked.

    ``out`` and the rejected file are never one of the files read (the ``answers`` file and a BFCL file's
    ``possible_answer/`` included) nor inside a folder read; one that exists is replaced only with
    ``overwrite`` (:func:`looptool.outputs.prepare_output`).
    """
    if fmt not in IMPORT_FORMATS:
        raise InterchangeError(f"unknown import format {fmt!r} (choose from {list(IMPORT_FORMATS)})")
    if on_error not in ("skip", "fail"):
        raise InterchangeError(f"on_error must be 'skip' or 'fail', got {on_error!r}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    from looptool.outputs import prepare_output

    paths = [Path(p) for p in paths]
    read = [*paths, *_answer_files(paths, fmt, answers)]
    out = prepare_output(out, read, overwrite=overwrite)
    prepare_output(rejected_path_for(out), read, "rejected file", overwrite=overwrite)
    report = ImportReport(out)
    reasons: Counter[str] = Counter()
    seen: dict[str, tuple[str, str]] = {}
    writer = ChunkWriter(out, SAMPLE, chunk_rows, deep=False)  # rows are checked one by one in _checked
    rejected_rows = ChunkWriter(rejected_path_for(out), REJECTED, chunk_rows, deep=False)
    items: Iterable[Item] = _items(paths, fmt, answers, check_labels)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="import", unit=" rows")
    try:
        for item in items:
            if item.row is not None:
                sid = item.row["sample_id"]
                prev = seen.get(sid)
                if prev is None:
                    seen[sid] = (item.where, item.label_digest or "")
                    writer.append(item.row)
                    continue
                if prev[1] == item.label_digest:
                    item = Item(
                        item.where,
                        reason="duplicate",
                        raw=_raw_of(item.row),
                        error=f"{item.where}: same decision point and label as {prev[0]} (kept once)",
                    )
                else:
                    item = Item(
                        item.where,
                        reason="conflicting_duplicate",
                        raw=_raw_of(item.row),
                        error=f"{item.where}: label: same decision point as {prev[0]} with a different label",
                    )
            if item.error:  # a message quoting a lone surrogate could be neither printed nor stored
                item.error = item.error.encode("utf-8", "backslashreplace").decode("utf-8")
            if on_error == "fail" and item.reason != "duplicate":
                raise InterchangeError(item.error or f"{item.where}: {item.reason}")
            reasons[item.reason or "invalid"] += 1
            if len(report.first_errors) < 10:
                report.first_errors.append(item.error or item.where)
            rejected_rows.append(_rejected_row(item))
        writer.close()
        report.rejected_path = rejected_rows.close()  # always written (maybe empty): no stale file survives
    except BaseException:
        writer.abort()
        rejected_rows.abort()
        raise
    report.rows = writer.rows
    report.rejected = sum(reasons.values())
    report.reasons = dict(reasons)
    return report


def _raw_of(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(row[k]) for k in ("tools", "messages", "label", "meta")}
