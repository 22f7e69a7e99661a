"""``export_dataset``: a dataset (D_j, the pool, a path) -> a file another trainer reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool.interchange.openai import to_openai
from looptool.interchange.records import InterchangeError
from looptool.interchange.sharegpt import dataset_info, to_sharegpt
from looptool.interchange.trl import DEFAULT_TOKENIZER, load_target_tokenizer, to_trl, trl_dataset
from looptool.interchange.verl import to_verl
from looptool.outputs import prepare_dir, prepare_output, written_dir
from looptool.storage import atomic_path

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
    overwrite: bool = False,
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

    What stands at ``out`` is replaced only when looptool wrote it (a ``trl`` folder with its marker) or with
    ``overwrite`` (a file); the dataset read is never replaced; a ``dataset_info.json`` entry of the same name
    that no export wrote is replaced only with ``overwrite``. Everything is checked before anything is written
    (:mod:`looptool.outputs`).
    """
    if fmt not in EXPORT_FORMATS:
        raise InterchangeError(f"unknown export format {fmt!r} (choose from {list(EXPORT_FORMATS)})")
    out = Path(out)
    tok = load_target_tokenizer(tokenizer or DEFAULT_TOKENIZER) if fmt == "trl" else None
    with _rows(ref, data_dir, repo, chunk_rows) as (ds, rows):
        if fmt == "trl":  # a folder
            prepare_dir(out, [ds.path])
        else:
            prepare_output(out, [ds.path], overwrite=overwrite)
        sidecars = _llamafactory_plan(out, overwrite) if fmt == "sharegpt" else None
        report = ExportReport(out, ds.name)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt in ("openai", "sharegpt"):
            _export_lines(rows, out, fmt, report)
        else:
            _export_table(rows, out, fmt, report, tok)
    if sidecars is not None:
        report.extra_files = _write_llamafactory(out, *sidecars, template)
    return report


def _rows(ref: str, data_dir, repo, chunk_rows: int):
    """(the resolved dataset, iterator of SAMPLE-like rows) read in record batches from DuckDB."""
    from contextlib import contextmanager

    from looptool.lineage.datasets import _check_columns, open_dataset
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

                yield ds, gen()
            finally:
                con.close()

    return opened()


def _export_lines(rows, out: Path, fmt: str, report: ExportReport) -> None:
    convert = to_openai if fmt == "openai" else to_sharegpt
    as_array = fmt == "sharegpt" and out.suffix == ".json"
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
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


ARGS_HEADER = "# LLaMA-Factory data arguments for this export (merge into your training YAML).\n"


def _own_args_file(path: Path) -> bool:
    """Whether ``path`` is a ``<stem>.llamafactory.yaml`` an earlier export wrote (it starts with our header)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(len(ARGS_HEADER)) == ARGS_HEADER
    except (OSError, UnicodeDecodeError):
        return False


def _llamafactory_plan(out: Path, overwrite: bool) -> tuple[dict[str, Any], Path]:
    """Check the sharegpt export's side files before anything is written: ``dataset_info.json`` (a JSON object;
    an entry of the same name is replaced when an export wrote it, otherwise only with ``overwrite``) and the
    arguments file (ours from an earlier export, or ``overwrite``). Returns (the merged dataset_info, the arguments file's path)."""
    from looptool import jsonutil

    info_path = out.parent / "dataset_info.json"
    if out.name == info_path.name:
        raise InterchangeError(
            f"--out {out}: is LLaMA-Factory's dataset list; give the data file another name"
        )
    info: Any = {}
    if info_path.exists():
        try:
            info = jsonutil.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as e:  # UnicodeDecodeError and JSONDecodeError included
            raise InterchangeError(
                f"{info_path}: not valid JSON ({' '.join(str(e).split())}); fix or move it, then export again"
            ) from None
        if not isinstance(info, dict):
            raise InterchangeError(f"{info_path}: not a JSON object; cannot add the dataset entry")
    entry = dataset_info(out.stem, out.name)
    old = info.get(out.stem)
    ours = isinstance(old, dict) and old == dataset_info(out.stem, old.get("file_name"))[out.stem]
    if old is not None and not ours and not overwrite:
        raise InterchangeError(
            f"{info_path}: already names a dataset {out.stem!r} that no export wrote; pass --overwrite "
            "to replace that entry, or choose another file name"
        )
    args = out.parent / f"{out.stem}.llamafactory.yaml"
    prepare_output(args, what="arguments file", overwrite=overwrite, ours=_own_args_file)
    return {**info, **entry}, args


def _write_llamafactory(
    out: Path, info: dict[str, Any], args: Path, template: str | None = None
) -> list[Path]:
    """``dataset_info.json`` (entry merged in) and ``<stem>.llamafactory.yaml`` beside ``out``, naming
    LLaMA-Factory's chat ``template`` (the one the model is trained with)."""
    import yaml

    from looptool.storage import write_json, write_text

    info_path = write_json(info, out.parent / "dataset_info.json")
    data = {"dataset": out.stem, "dataset_dir": str(out.parent), "mask_history": True}
    if template:
        data["template"] = template
    text = (
        ARGS_HEADER
        + "# mask_history: every record's last turn is the decision point; earlier turns are context only.\n"
        + (
            f"# template: LLaMA-Factory's chat template of the model trained on it ({template}).\n"
            if template
            else "# template: unknown for this model; add LLaMA-Factory's name of its chat template "
            "(`looptool export --template NAME`).\n"
        )
        + yaml.safe_dump(data, sort_keys=False)
    )
    return [info_path, write_text(text, args)]


def _export_table(rows, out: Path, fmt: str, report: ExportReport, tok=None) -> None:
    recs = [to_trl(r, tok) if fmt == "trl" else to_verl(r, i) for i, r in enumerate(rows)]
    report.rows = len(recs)
    if fmt == "trl":
        with written_dir(out, "looptool export --format trl") as tmp:
            trl_dataset(recs).save_to_disk(str(tmp))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(out) as tmp:
        pq.write_table(pa.Table.from_pylist(recs), tmp)
