"""``looptool times``: where a run's time went, one row per stage and iteration (from the stage metrics)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("times")
@click.argument("run", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--time-log",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="GNU `time -v` output of the whole run (`/usr/bin/time -v dvc repro 2> LOG`): gives the total and an "
    "`other` row (process starts, imports, DVC).",
)
@click.option("--total", type=float, default=None, help="The whole run's seconds (instead of --time-log).")
def times_cmd(run: Path, time_log: Path | None, total: float | None) -> None:
    """Per-stage time table of RUN (a project folder holding metrics/, or the metrics/ folder itself; default:
    here), from the `wall_s` every stage records, with each stage's share and a sum per stage name.

    Example: /usr/bin/time -v dvc repro 2> time.log && looptool times . --time-log time.log
    """
    from looptool.stagetimes import collect, gnu_time_total, table

    metrics = run / "metrics" if (run / "metrics").is_dir() else run
    if time_log is not None:
        total = gnu_time_total(time_log.read_text(errors="replace"))
        if total is None:
            raise click.ClickException(
                f"{time_log}: no 'Elapsed (wall clock) time' line (GNU time -v output?)"
            )
    try:
        rows = collect(metrics)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if not rows:
        raise click.ClickException(f"{metrics}: no stage metrics found (run `dvc repro` first?)")
    click.echo(f"run: {run}")
    click.echo(table(rows, total))
