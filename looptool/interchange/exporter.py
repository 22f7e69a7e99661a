"""``export_dataset``: a dataset (D_j, the pool, a path) -> a file another trainer reads."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool.interchange.openai import to_openai
from looptool.interchange.records import InterchangeError
from looptool.interchange.sharegpt import to_sharegpt

EXPORT_FORMATS = ("openai", "sharegpt")


@dataclass
class ExportReport:
    out: Path
    dataset: str
    rows: int = 0
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "dataset": self.dataset,
            "rows": self.rows,
            "skipped": self.skipped,
            "skipped_examples": self.skipped_examples,
        }


def export_dataset(
    ref: str,
    out: str | Path,
    fmt: str = "openai",
    data_dir: str | Path = "data",
    repo: str | Path | None = None,
    chunk_rows: int = 2000,
) -> ExportReport:
    """Write a dataset (``iter_J``, ``pool``, a path or ``REV:PATH``) for another trainer.

    ``openai``: JSONL, one decision point a line (:func:`to_openai`). ``sharegpt``: LLaMA-Factory records
    (:func:`to_sharegpt`), JSONL, or one JSON array when ``out`` ends in ``.json``. Rows that cannot be
    written in the format are skipped and listed in the report (sharegpt only).
    """
    from looptool.io import connect, parquet_source
    from looptool.lineage import _check_columns, open_dataset

    if fmt not in EXPORT_FORMATS:
        raise InterchangeError(f"unknown export format {fmt!r} (choose from {list(EXPORT_FORMATS)})")
    convert = to_openai if fmt == "openai" else to_sharegpt
    as_array = fmt == "sharegpt" and Path(out).suffix == ".json"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_dataset(ref, data_dir, repo) as ds:
        report = ExportReport(out, ds.name)
        con = connect()
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        try:
            cols = _check_columns(con, ds, ("sample_id", "tools", "messages", "label"))
            meta = "meta" if "meta" in cols else "NULL::VARCHAR AS meta"
            rel = con.sql(f"SELECT sample_id, tools, messages, label, {meta} FROM {parquet_source(ds.path)}")
            # DuckDB >= 2 names it to_arrow_reader; 1.x fetch_record_batch.
            batches = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch
            reader = batches(chunk_rows)
            with open(tmp, "w", encoding="utf-8") as f:
                if as_array:
                    f.write("[\n")
                for batch in reader:
                    for row in batch.to_pylist():
                        try:
                            rec = convert(row)
                        except (ValueError, KeyError, TypeError) as e:
                            report.skipped += 1
                            if len(report.skipped_examples) < 10:
                                report.skipped_examples.append(f"{row['sample_id']}: {e}")
                            continue
                        text = json.dumps(rec, ensure_ascii=False)
                        if as_array:
                            text = ("  " if report.rows == 0 else ",\n  ") + text
                        else:
                            text += "\n"
                        f.write(text)
                        report.rows += 1
                if as_array:
                    f.write("\n]\n")
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            con.close()
    return report
