"""Per-stage time table of a run, from its stage metrics (``wall_s`` in every metrics JSON).

    python bench/stage_times.py RUN_OR_METRICS_DIR [--time-log FILE] [--total SECONDS]

RUN_OR_METRICS_DIR: a run folder holding ``metrics/`` (e.g. a clone after ``make repro``) or the ``metrics/``
folder itself. ``--time-log``: a file holding GNU ``time -v`` output (its "Elapsed (wall clock)" line gives the
total, and the table gets an ``other`` row: process starts, imports, DVC). Runs made before the time key was
unified are read too (each row names the key its figure came from).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from looptool.stagetimes import collect, gnu_time_total, table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run folder (with metrics/) or its metrics/ folder")
    ap.add_argument("--time-log", help="GNU time -v output of the whole run (gives the total)")
    ap.add_argument("--total", type=float, help="the whole run's seconds (instead of --time-log)")
    args = ap.parse_args(argv)
    root = Path(args.run)
    metrics = root / "metrics" if (root / "metrics").is_dir() else root
    total = args.total
    if args.time_log:
        total = gnu_time_total(Path(args.time_log).read_text(errors="replace"))
        if total is None:
            print(
                f"{args.time_log}: no 'Elapsed (wall clock) time' line (GNU time -v output?)", file=sys.stderr
            )
            return 1
    try:
        rows = collect(metrics)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    if not rows:
        print(f"{metrics}: no stage metrics found", file=sys.stderr)
        return 1
    print(f"run: {root}")
    print(table(rows, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
