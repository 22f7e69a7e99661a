"""``looptool diff``, ``lineage``, ``stats``, ``import``, ``export``: look into and move the loop's datasets.

The queries live in :mod:`looptool.lineage` and :mod:`looptool.interchange`; this module parses options and
renders the results (rich tables, or JSON for scripts).
"""

from __future__ import annotations

import json
from typing import Any

import click

_DATA_DIR = click.option(
    "--data-dir", default="data", show_default=True, help="Folder holding seed/ and iter_j/ (DVC outputs)."
)
_REPO = click.option(
    "--repo", default=None, help="git/DVC repository for REV:PATH references (default: the current one)."
)


def _fail(e: Exception) -> click.ClickException:
    return click.ClickException(str(e))


def _console():
    """A rich console; when writing to a pipe or file, wide enough that tables are never cut to 80 columns."""
    import sys

    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _show(value: Any) -> str:
    return "(none)" if value is None else str(value)


_OVERWRITE = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace output files that already exist (never an input; without it an existing file is refused).",
)


# --- diff -------------------------------------------------------------------------------------------------


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--examples", default=5, show_default=True, help="Example sample ids per status.")
@_DATA_DIR
@_REPO
def diff_cmd(a: str, b: str, fmt: str, examples: int, data_dir: str, repo: str | None) -> None:
    """Compare dataset B with dataset A: added, removed, relabeled, unchanged samples.

    A and B: iter_J or J (D_J), seed/pool, a .parquet path, or REV:PATH (a file at a git revision, e.g.
    HEAD~1:data/iter_2/train.parquet or HEAD~1:iter_2). Counts are broken down by part and origin (B's for
    samples in B, A's for removed ones); relabeled examples show the old and the new label.

    Example: looptool diff iter_1 iter_2 --examples 3
    """
    from looptool.lineage import STATUSES, DatasetError, diff, format_label

    try:
        res = diff(a, b, data_dir=data_dir, examples=examples, repo=repo)
    except DatasetError as e:
        raise _fail(e) from None
    if fmt == "json":
        _echo_json(res.to_dict())
        return
    from rich.table import Table

    from looptool.schema import LOOP_PARTS, ORIGINS

    con = _console()
    con.print(f"[bold]diff[/] {res.a} ({res.rows_a} rows) -> {res.b} ({res.rows_b} rows)")
    for key, known, rows in (("part", LOOP_PARTS, res.by_part), ("origin", ORIGINS, res.by_origin)):
        values = [v for v in known if any(r[key] == v for r in rows)]
        values += sorted({r[key] for r in rows if r[key] not in known}, key=_show)
        table = Table(title=f"by {key}", title_justify="left")
        table.add_column("status")
        table.add_column("total", justify="right")
        for v in values:
            table.add_column(_show(v), justify="right")
        for status in STATUSES:
            cells = {r[key]: r["n"] for r in rows if r["status"] == status}
            table.add_row(status, str(res.counts[status]), *(str(cells.get(v, 0)) for v in values))
        con.print(table)
    if res.transitions:
        table = Table(title="kept samples that changed part", title_justify="left")
        for c in ("part in A", "part in B", "n"):
            table.add_column(c, justify="right" if c == "n" else "left")
        for t in res.transitions:
            table.add_row(_show(t["part_a"]), _show(t["part_b"]), str(t["n"]))
        con.print(table)
    if any(res.duplicates.values()):
        con.print(
            f"[yellow]duplicate sample ids[/]: {res.duplicates['a']} in A, {res.duplicates['b']} in B "
            "(each counted once)"
        )
    for status, items in res.examples.items():  # plain lines: ids and labels must not be wrapped
        if not items:
            continue
        click.echo(f"{status} (first {len(items)} of {res.counts[status]}):")
        for it in items:
            where = f"{_show(it['part'])}, {it['origin']}"
            if status == "relabeled":
                click.echo(
                    f"  {it['sample_id']} ({where}): {format_label(it['old_label'])} -> "
                    f"{format_label(it['new_label'])}"
                )
            else:
                click.echo(f"  {it['sample_id']} ({where})")


# --- lineage ----------------------------------------------------------------------------------------------


@click.command("lineage")
@click.argument("sample_id")
@_DATA_DIR
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def lineage_cmd(sample_id: str, data_dir: str, fmt: str) -> None:
    """Every event of one sample across iterations (SAMPLE_ID may be a unique prefix).

    Example: looptool lineage 3f9a2c
    """
    from looptool.lineage import DatasetError, format_label, lineage

    try:
        lin = lineage(sample_id, data_dir)
    except DatasetError as e:
        raise _fail(e) from None
    from looptool.secrets import scrub  # data written before credentials were scrubbed at the source

    if fmt == "json":
        click.echo(scrub(json.dumps(lin.to_dict(), indent=2, ensure_ascii=False, default=str)))
        return
    origin = lin.origin or "?"
    if lin.parent_id:
        origin = f"{origin} of {lin.parent_id}"
    click.echo(f"sample {lin.sample_id} (origin: {origin})")
    if lin.datasets:
        click.echo("in datasets:")
        for d in lin.datasets:
            part = f" as {d['part']}" if d.get("part") else ""
            click.echo(f"  {d['dataset']}{part}, label_rev {d['label_rev']}: {format_label(d['label'])}")
    click.echo("events:" if lin.events else "no events recorded")
    for e in lin.events:
        click.echo(scrub(f"  iteration {e['iteration']}: {e['text']}"))


# --- stats ------------------------------------------------------------------------------------------------


@click.command("stats")
@click.argument("dataset", required=False)
@_DATA_DIR
@_REPO
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def stats_cmd(dataset: str | None, data_dir: str, repo: str | None, fmt: str) -> None:
    """Composition of a dataset by part, origin, pattern, domain and label_rev.

    Without DATASET: one line per dataset found (pool, D_1, D_2, ...), and a warning when they come from
    different runs (a D_j+1 holding samples that neither D_j nor the pool explains, e.g. an imported D_1 beside
    the demo's later iterations). DATASET: iter_J or J, seed/pool, a .parquet path, or REV:PATH.

    Example: looptool stats iter_2 --format json
    """
    from rich.table import Table

    from looptool.lineage import DatasetError, mixed_runs, mixed_runs_line, stats, stats_all

    try:
        result = stats(dataset, data_dir, repo) if dataset else stats_all(data_dir)
    except DatasetError as e:
        raise _fail(e) from None
    warning = None if dataset else mixed_runs_line(mixed_runs(data_dir))
    if warning:  # on stderr: the JSON on stdout stays parseable
        click.echo(warning, err=True)
    if fmt == "json":
        _echo_json(result)
        return
    con = _console()
    if dataset:
        con.print(
            f"[bold]{result['dataset']}[/]: {result['rows']} rows, {result['distinct_ids']} distinct ids"
        )
        table = Table(show_lines=False)
        for c, j in (("dimension", "left"), ("value", "left"), ("n", "right"), ("share", "right")):
            table.add_column(c, justify=j)
        for dim, rows in result["by"].items():
            for k, r in enumerate(rows):
                table.add_row(dim if k == 0 else "", _show(r["value"]), str(r["n"]), f"{r['share']:.1%}")
            table.add_section()
        con.print(table)
        return
    if not result:
        raise click.ClickException(
            f"no datasets under {data_dir} (expected seed/pool.parquet, iter_j/train.parquet)"
        )
    cols = [c for c in result[0] if c != "path"]
    table = Table()
    for c in cols:
        table.add_column(c.replace("origin_", "origin:"), justify="left" if c == "dataset" else "right")
    for row in result:
        table.add_row(*(str(row[c]) for c in cols))
    con.print(table)


# --- import / export --------------------------------------------------------------------------------------


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--out", required=True, help="Output Parquet file (SAMPLE rows, origin import).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "openai", "bfcl", "sharegpt", "hermes", "xlam", "parquet", "datasets"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--on-error",
    type=click.Choice(["skip", "fail"]),
    default="skip",
    show_default=True,
    help="skip: write bad rows with reasons to <out>_rejected.parquet; fail: stop at the first one.",
)
@click.option(
    "--answers", default=None, help="BFCL possible-answer file (default: possible_answer/<name> beside FILE)."
)
@click.option(
    "--check-labels/--no-check-labels",
    default=True,
    show_default=True,
    help="Reject labels that break their tool's JSON Schema (off: keep them, e.g. a pool with injected noise).",
)
@_OVERWRITE
def import_cmd(
    files: tuple[str, ...],
    out: str,
    fmt: str,
    on_error: str,
    answers: str | None,
    check_labels: bool,
    overwrite: bool,
) -> None:
    """Import decision points into a Parquet dataset from OpenAI messages+tools JSONL, BFCL, ShareGPT /
    LLaMA-Factory, Hermes function-calling, xLAM / APIGen files, Parquet (ours, verl) or a datasets folder.

    Each assistant turn with tool calls is a decision point (label = its calls); an assistant text turn
    right after a user turn (or marked "weight": 1) is one with label [] ; turns with "weight": 0 are not.

    Example: looptool import chats.jsonl --out data/imported.parquet
    """
    from looptool.interchange import InterchangeError, import_files
    from looptool.llm.progress import bars_enabled

    if answers and len(files) > 1:
        raise click.UsageError("--answers applies to a single BFCL file")
    try:
        rep = import_files(
            list(files),
            out,
            fmt=fmt,
            on_error=on_error,
            answers=answers,
            progress=bars_enabled(),  # no bar drawn into a pipe or a log file
            check_labels=check_labels,
            overwrite=overwrite,
        )
    except InterchangeError as e:
        raise _fail(e) from None
    click.echo(f"{rep.out}: {rep.rows} decision points; {rep.rejected_path}: {rep.rejected} rejected")
    if rep.rejected:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(rep.reasons.items()))
        click.echo(f"rejected: {reasons}")
        for e in rep.first_errors[:5]:
            click.echo(f"  {e}")


@click.command("export")
@click.argument("dataset")
@click.option("--format", "fmt", type=click.Choice(["openai", "sharegpt", "trl", "verl"]), required=True)
@click.option(
    "--out",
    required=True,
    help="Output: .jsonl (openai, sharegpt; sharegpt .json: one JSON array), a folder (trl), .parquet (verl).",
)
@click.option(
    "--tokenizer",
    default="models/base",
    show_default=True,
    help="trl: the model the rows are rendered for (checkpoint folder or hub id; default: the pipeline's student).",
)
@click.option(
    "--template",
    default=None,
    help="sharegpt: LLaMA-Factory's chat template name for the yaml (default: from params.yaml model.source).",
)
@click.option("--params", "params_path", default="params.yaml", show_default=True, hidden=True)
@_DATA_DIR
@_REPO
@_OVERWRITE
def export_cmd(
    dataset: str,
    fmt: str,
    out: str,
    tokenizer: str,
    template: str | None,
    params_path: str,
    data_dir: str,
    repo: str | None,
    overwrite: bool,
) -> None:
    """Export a dataset for other trainers: OpenAI fine-tuning JSONL, LLaMA-Factory ShareGPT (plus
    dataset_info.json and a yaml naming the chat template), a TRL datasets folder rendered for the target
    model's chat template (--tokenizer), or verl RL parquet (reward: looptool.interchange.verl.compute_score).

    DATASET: iter_J or J, seed/pool, a .parquet path, or REV:PATH. An existing output file is replaced only
    with --overwrite; a trl folder only when an earlier export wrote it.

    Example: looptool export iter_2 --format trl --out d2_trl --tokenizer models/iter_2
    """
    from pathlib import Path

    from looptool.interchange import InterchangeError, export_dataset
    from looptool.interchange.sharegpt import llamafactory_template
    from looptool.lineage import DatasetError

    if fmt == "sharegpt" and template is None and Path(params_path).is_file():
        from looptool.config import load_params
        from looptool.model import EMBEDDED

        source = (load_params(params_path).get("model") or {}).get("source") or EMBEDDED
        template = llamafactory_template(source)
    try:
        rep = export_dataset(
            dataset,
            out,
            fmt=fmt,
            data_dir=data_dir,
            repo=repo,
            overwrite=overwrite,
            tokenizer=tokenizer,
            template=template,
        )
    except (DatasetError, InterchangeError) as e:
        raise _fail(e) from None
    click.echo(f"{rep.out}: {rep.rows} records from {rep.dataset} ({fmt})")
    for extra in rep.extra_files:
        click.echo(f"  wrote {extra}")
    if rep.skipped:
        click.echo(f"skipped {rep.skipped} rows that {fmt} cannot represent:")
        for s in rep.skipped_examples:
            click.echo(f"  {s}")
