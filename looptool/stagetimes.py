"""Where a run's time went: one row per stage (and iteration) from the stage metrics' ``wall_s``.

Every stage writes its own time as ``wall_s`` (seconds of wall clock inside the stage's function: data, model
load where the stage loads one, generation, training, saving). Runs made before the key was unified wrote
``seconds`` (select, probe, verify, expand, merge), ``run.seconds`` (evaluate: generation only) or nothing
(prepare_model); they are read too, and each row says which key it came from.

What the table cannot see: each stage's Python start and imports (a few seconds a stage) and DVC's own work
(hashing, caching). Given the run's total (``--total`` or GNU ``time -v`` output), the rest is shown as one
``other`` row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Stages in pipeline order: (name in dvc.yaml, metrics file or folder under metrics/)
SETUP = (("prepare_model", "prepare_model.json"), ("seed", "seed.json"), ("select", "select.json"))
WARMUP = ("warmup", "warmup.json")
PER_ITERATION = (
    ("train", "train"),
    ("probe", "probe"),
    ("verify", "verify"),
    ("expand", "expand"),
    ("merge", "merge"),
    ("mechanisms", "mechanisms"),
    ("evaluate", "eval"),
)
TIME_KEYS = (("wall_s",), ("seconds",), ("run", "seconds"))
"""Looked up in this order; the first present wins (older runs: ``seconds``, ``run.seconds``)."""


@dataclass
class Row:
    stage: str
    iteration: int | None
    seconds: float | None
    key: str | None


def stage_seconds(metrics: dict[str, Any]) -> tuple[float | None, str | None]:
    """The stage's wall time and the key it came from (None, None when the metrics hold none)."""
    for path in TIME_KEYS:
        v: Any = metrics
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v), ".".join(path)
    return None, None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def _iteration(path: Path) -> int:
    m = re.fullmatch(r"iter_(\d+)\.json", path.name)
    if not m:
        raise ValueError(f"{path}: expected a name iter_<j>.json")
    return int(m.group(1))


def collect(metrics_dir: str | Path) -> list[Row]:
    """One row per stage run found under ``metrics_dir`` (a run's ``metrics/`` folder), in pipeline order."""
    root = Path(metrics_dir)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder (give a run's metrics/ folder or the run folder)")
    rows: list[Row] = []

    def add(stage: str, iteration: int | None, path: Path) -> None:
        if path.is_file():
            rows.append(Row(stage, iteration, *stage_seconds(_read(path))))

    for stage, name in SETUP:
        add(stage, None, root / name)
    add(*WARMUP[:1], None, root / WARMUP[1])
    per: dict[int, list[tuple[str, Path]]] = {}
    for stage, folder in PER_ITERATION:
        for p in sorted((root / folder).glob("iter_*.json")):
            j = _iteration(p)
            per.setdefault(j, []).append(("evaluate_base" if j == 0 else stage, p))
    for j in sorted(per):
        for stage, p in per[j]:
            add(stage, j, p)
    return rows


def gnu_time_total(text: str) -> float | None:
    """Elapsed seconds from GNU ``time -v`` output (``Elapsed (wall clock) time (h:mm:ss or m:ss): 27:03.51``)."""
    m = re.search(r"Elapsed \(wall clock\) time(?: \([^)]*\))?:\s*([\d:.]+)", text)
    if not m:
        return None
    secs = 0.0
    for part in m.group(1).split(":"):
        secs = secs * 60 + float(part)
    return secs


def table(rows: list[Row], total: float | None = None) -> str:
    """A plain-text table: stage, iteration, seconds, share of the total (of the stages' sum without one)."""
    timed = sum(r.seconds for r in rows if r.seconds is not None)
    whole = total if total is not None else timed
    lines = [f"{'stage':<15} {'iter':>4} {'seconds':>9} {'share':>7}  key"]

    def line(stage: str, it: str, s: float | None, key: str) -> str:
        share = f"{100 * s / whole:6.1f}%" if s is not None and whole > 0 else "      -"
        secs = f"{s:9.1f}" if s is not None else "        -"
        return f"{stage:<15} {it:>4} {secs} {share}  {key}"

    for r in rows:
        it = "" if r.iteration is None else str(r.iteration)
        lines.append(line(r.stage, it, r.seconds, r.key or "(no time recorded)"))
    lines.append(line("stages, summed", "", timed, ""))
    if total is not None:
        lines.append(line("other", "", total - timed, "process start, imports, DVC"))
        lines.append(line("total", "", total, "given"))
    # the stages that cost most, summed over iterations
    by: dict[str, float] = {}
    for r in rows:
        if r.seconds is not None:
            base = "evaluate" if r.stage == "evaluate_base" else r.stage
            by[base] = by.get(base, 0.0) + r.seconds
    lines.append("")
    lines.append(
        "by stage, all iterations: "
        + ", ".join(
            f"{k} {v:.0f} s ({100 * v / whole:.0f}%)"
            for k, v in sorted(by.items(), key=lambda kv: -kv[1])
            if whole > 0
        )
    )
    return "\n".join(lines)
