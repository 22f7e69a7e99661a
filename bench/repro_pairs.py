"""`make repro` of two commits on fresh clones, in pairs, on one machine: wall time per run and per stage.

    python bench/repro_pairs.py prepare --repo . --commit 11d6153 --dir RUNS/old-1   # clone + make install
    python bench/repro_pairs.py time RUNS/old-1 RUNS/new-1 RUNS/new-2 RUNS/old-2        # one after another
    python bench/repro_pairs.py table RUNS/old-1 RUNS/new-1 RUNS/new-2 RUNS/old-2 [--without mechanisms,headline]

``prepare`` clones the repository at the commit into a new folder and runs ``make install`` there (not timed).
``time`` runs ``make repro`` in each folder in the order given (a fresh clone each: its own DVC cache and call
cache, ``LOOPTOOL_CACHE_DIR`` unset), every output line stamped with the time it was printed
(``repro.log``), and writes ``repro.json``: start, end, wall seconds, exit status, load average before and after.
``table`` reads those: the wall time of each run and of each DVC stage (from one "Running stage" line to the
next, so a stage's time includes its process start, imports and DVC's bookkeeping), and the total without the
stages named by ``--without`` (name prefixes: work one tree has and the other does not).

Prints figures; asserts nothing about speed. Run nothing else meanwhile: the machine must be quiet.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click

STAGE = re.compile(r"^(\d+\.\d+) Running stage '([^']+)'")


@click.group()
def cli() -> None:
    pass


@cli.command()
@click.option("--repo", default=".", show_default=True, help="Repository to clone.")
@click.option("--commit", required=True, help="Commit to check out.")
@click.option("--dir", "out", required=True, help="New folder for the clone (must not exist).")
def prepare(repo: str, commit: str, out: str) -> None:
    """Clone REPO at COMMIT into DIR and make install there."""
    dest = Path(out)
    if dest.exists():
        raise click.ClickException(f"{dest} exists: prepare writes a fresh clone only")
    subprocess.run(["git", "clone", "-q", repo, str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "-q", "--detach", commit], check=True)
    subprocess.run(["make", "install"], cwd=dest, check=True)
    click.echo(f"{dest}: {commit} installed")


@cli.command("time")
@click.argument("dirs", nargs=-1, required=True)
def time_runs(dirs: tuple[str, ...]) -> None:
    """make repro in each DIR, one after another, each line time-stamped."""
    env = {k: v for k, v in os.environ.items() if k != "LOOPTOOL_CACHE_DIR"}
    for d in dirs:
        path = Path(d)
        if (path / "repro.json").exists():
            raise click.ClickException(f"{path}: already timed (repro.json): use a fresh clone")
        load0 = os.getloadavg()
        t0 = time.time()
        with open(path / "repro.log", "w") as log:
            proc = subprocess.Popen(
                ["make", "repro"],
                cwd=path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(f"{time.time():.2f} {line}")
                log.flush()
            rc = proc.wait()
        t1 = time.time()
        rec = {
            "dir": str(path),
            "commit": subprocess.run(
                ["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            ).stdout.strip(),
            "start": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t0)),
            "end": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t1)),
            "start_epoch": t0,
            "end_epoch": t1,
            "wall_s": round(t1 - t0, 1),
            "returncode": rc,
            "loadavg_before": load0,
            "loadavg_after": os.getloadavg(),
        }
        (path / "repro.json").write_text(json.dumps(rec, indent=1) + "\n")
        click.echo(json.dumps(rec))
        if rc != 0:
            sys.exit(f"{path}: make repro failed ({rc}); see {path / 'repro.log'}")


def stage_spans(path: Path) -> dict[str, float]:
    """Seconds from each stage's "Running stage" line to the next one (the last: to the run's end)."""
    rec = json.loads((path / "repro.json").read_text())
    marks = []
    for line in (path / "repro.log").read_text().splitlines():
        m = STAGE.match(line)
        if m:
            marks.append((float(m.group(1)), m.group(2)))
    spans: dict[str, float] = {}
    ends = [t for t, _ in marks[1:]] + [rec["end_epoch"]]
    for (t, name), end in zip(marks, ends):
        spans[name] = spans.get(name, 0.0) + end - t
    if marks:
        spans["(before the first stage)"] = marks[0][0] - rec["start_epoch"]
    return spans


@cli.command()
@click.argument("dirs", nargs=-1, required=True)
@click.option(
    "--without", default="", help="Comma-separated stage-name prefixes to leave out of a second total."
)
@click.option("--json-out", default=None, help="Also write the figures as JSON here.")
def table(dirs: tuple[str, ...], without: str, json_out: str | None) -> None:
    """Wall time of each run and of each stage."""
    drop = tuple(p for p in without.split(",") if p)
    runs = []
    for d in dirs:
        path = Path(d)
        rec = json.loads((path / "repro.json").read_text())
        spans = stage_spans(path)
        left_out = sum(s for n, s in spans.items() if drop and n.startswith(drop))
        runs.append(
            {
                **rec,
                "stages": spans,
                "without": list(drop),
                "wall_without_s": round(rec["wall_s"] - left_out, 1),
            }
        )
    names: list[str] = []
    for r in runs:
        names += [n for n in r["stages"] if n not in names]
    head = "stage".ljust(26) + "".join(f"{r['commit'] + ' ' + Path(r['dir']).name:>20}" for r in runs)
    click.echo(head)
    for n in names:
        click.echo(n.ljust(26) + "".join(f"{r['stages'].get(n, 0.0):>20.1f}" for r in runs))
    click.echo("total (make repro)".ljust(26) + "".join(f"{r['wall_s']:>20.1f}" for r in runs))
    if drop:
        click.echo(
            f"total without {','.join(drop)}".ljust(26)
            + "".join(f"{r['wall_without_s']:>20.1f}" for r in runs)
        )
    for r in runs:
        click.echo(
            f"{Path(r['dir']).name}: {r['start']} - {r['end']}, exit {r['returncode']}, load {r['loadavg_before']} -> {r['loadavg_after']}"
        )
    if json_out:
        Path(json_out).write_text(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    cli()
