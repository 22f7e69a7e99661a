"""``export_dataset``: a dataset (D_j, the pool, a path) -> a file another trainer reads."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool.interchange.openai import to_openai
from looptool.interchange.records import InterchangeError
from looptool.interchange.sharegpt import dataset_info, to_sharegpt
from looptool.interchange.trl import DEFAULT_TOKENIZER, load_target_tokenizer, to_trl, trl_dataset
from looptool.interchange.verl import to_verl
from looptool.storage import temp_path

EXPORT_FORMATS = ("openai", "sharegpt", "trl", "verl")


@dataclass
class ExportReport:
    out: Path
    dataset: str
    rows: int = 0
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    extra_files: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "dataset": self.dataset,
            "rows": self.rows,
            "skipped": self.skipped,
            "skipped_examples": self.skipped_examples,
            "extra_files": [str(p) for p in self.extra_files],
        }


def export_dataset(
    ref: str,
    out: str | Path,
    fmt: str = "openai",
    data_dir: str | Path = "data",
    repo: str | Path | None = None,
    chunk_rows: int = 2000,
    tokenizer: Any = None,
    template: str | None = None,
) -> ExportReport:
    """Write a dataset (``iter_J``, ``pool``, a path or ``REV:PATH``) for another trainer.

    ``openai``: JSONL, one decision point a line (:func:`to_openai`), call ids paired. ``sharegpt``:
    LLaMA-Factory records (:func:`to_sharegpt`), JSONL, or one JSON array when ``out`` ends in ``.json``,
    plus ``dataset_info.json`` (its entry named after ``out``'s stem, merged into an existing file) and
    ``<stem>.llamafactory.yaml`` with the data arguments to train on it (``mask_history: true``: the loss
    falls on the last turn, the decision point, not on the context's turns). ``trl``: a ``datasets`` folder
    (``save_to_disk``) of prompt-completion rows rendered for ``tokenizer`` (a tokenizer, checkpoint folder or
    hub id; default: the pipeline's student, ``models/base``) (:mod:`looptool.interchange.trl`); ``template``
    is the LLaMA-Factory template the ``sharegpt`` yaml names. ``verl``: verl's RL
    parquet (:mod:`looptool.interchange.verl`). Rows that cannot be written in the format are skipped and
    listed in the report (sharegpt only).
    """
    if fmt not in EXPORT_FORMATS:
        raise InterchangeError(f"unknown export format {fmt!r} (choose from {list(EXPORT_FORMATS)})")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from looptool.outputs import prepare_output

    if fmt != "trl":  # trl writes a folder
        prepare_output(out, [Path(ref)] if Path(ref).exists() else [])
    if fmt in ("openai", "sharegpt"):
        return _export_lines(ref, out, fmt, data_dir, repo, chunk_rows, template)
    tok = load_target_tokenizer(tokenizer or DEFAULT_TOKENIZER) if fmt == "trl" else None
    return _export_table(ref, out, fmt, data_dir, repo, chunk_rows, tok)


def _rows(ref: str, data_dir, repo, chunk_rows: int):
    """(dataset name, iterator of SAMPLE-like rows) read in record batches from DuckDB."""
    from contextlib import contextmanager

    from looptool.lineage import _check_columns, open_dataset
    from looptool.storage import connect, parquet_source

    @contextmanager
    def opened():
        with open_dataset(ref, data_dir, repo) as ds:
            con = connect()
            try:
                cols = _check_columns(con, ds, ("sample_id", "tools", "messages", "label"))
                meta = "meta" if "meta" in cols else "NULL::VARCHAR AS meta"
                rel = con.sql(
                    f"SELECT sample_id, tools, messages, label, {meta} FROM {parquet_source(ds.path)}"
                )
                # DuckDB >= 2 names it to_arrow_reader; 1.x fetch_record_batch.
                batches = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch

                def gen():
                    for batch in batches(chunk_rows):
                        yield from batch.to_pylist()

                yield ds.name, gen()
            finally:
                con.close()

    return opened()


def _export_lines(
    ref, out: Path, fmt: str, data_dir, repo, chunk_rows: int, template: str | None = None
) -> ExportReport:
    convert = to_openai if fmt == "openai" else to_sharegpt
    as_array = fmt == "sharegpt" and out.suffix == ".json"
    with _rows(ref, data_dir, repo, chunk_rows) as (name, rows):
        report = ExportReport(out, name)
        tmp = temp_path(out)
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                if as_array:
                    f.write("[\n")
                for row in rows:
                    try:
                        rec = convert(row)
                        text = json.dumps(rec, ensure_ascii=False, allow_nan=False)  # no NaN/Infinity
                    except (ValueError, KeyError, TypeError, RecursionError) as e:
                        report.skipped += 1
                        if len(report.skipped_examples) < 10:
                            report.skipped_examples.append(f"{row['sample_id']}: {e}")
                        continue
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
    if fmt == "sharegpt":
        report.extra_files = _llamafactory_files(out, template)
    return report


def _llamafactory_files(out: Path, template: str | None = None) -> list[Path]:
    """``dataset_info.json`` (entry merged in) and ``<stem>.llamafactory.yaml`` beside ``out``, naming
    LLaMA-Factory's chat ``template`` (the one the model is trained with)."""
    import yaml

    from looptool.storage import write_json, write_text

    info_path = out.parent / "dataset_info.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    if not isinstance(info, dict):
        raise InterchangeError(f"{info_path}: not a JSON object; cannot add the dataset entry")
    info.update(dataset_info(out.stem, out.name))
    write_json(info, info_path)
    args = out.parent / f"{out.stem}.llamafactory.yaml"
    data = {"dataset": out.stem, "dataset_dir": str(out.parent), "mask_history": True}
    if template:
        data["template"] = template
    text = (
        "# LLaMA-Factory data arguments for this export (merge into your training YAML).\n"
        "# mask_history: every record's last turn is the decision point; earlier turns are context only.\n"
        + (
            f"# template: LLaMA-Factory's chat template of the model trained on it ({template}).\n"
            if template
            else "# template: unknown for this model; add LLaMA-Factory's name of its chat template "
            "(`looptool export --template NAME`).\n"
        )
        + yaml.safe_dump(data, sort_keys=False)
    )
    write_text(text, args)
    return [info_path, args]


def _export_table(ref, out: Path, fmt: str, data_dir, repo, chunk_rows: int, tok=None) -> ExportReport:
    import shutil

    with _rows(ref, data_dir, repo, chunk_rows) as (name, rows):
        report = ExportReport(out, name)
        recs = [to_trl(r, tok) if fmt == "trl" else to_verl(r, i) for i, r in enumerate(rows)]
    report.rows = len(recs)
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    tmp.unlink(missing_ok=True)
    try:
        if fmt == "trl":
            trl_dataset(recs).save_to_disk(str(tmp))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(recs), tmp)
        if out.is_dir():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
    return report
