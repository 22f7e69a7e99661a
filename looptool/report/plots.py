"""The plot data: one JSON list of rows per plot, ``x = iteration``, read by ``plots:`` in dvc.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from looptool import storage
from looptool.report.figures import (
    ACCURACY_KEYS,
    HELDOUT_SPLIT_LABELS,
    _group,
    _heldout_ci,
    _split_figure,
    _summary,
)
from looptool.schema import LOOP_PARTS, PARTS, VERDICTS


def train_curve(loop: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per logged optimizer step of every iteration's training, at ``x = j - 1 + step / steps``."""
    out = []
    for row in loop["iterations"]:
        tr, j = row.get("train"), row["iteration"]
        if not tr or not tr.get("series"):
            continue
        steps = max(int(tr.get("steps") or 0), max(int(r.get("step") or 0) for r in tr["series"]), 1)
        for r in tr["series"]:
            out.append(
                {
                    "x": round(j - 1 + int(r.get("step") or 0) / steps, 4),
                    "iteration": j,
                    "step": r.get("step"),
                    "reward": r.get("reward"),
                    "zero_std_frac": r.get("zero_std_frac"),
                    "loss": r.get("loss"),
                }
            )
    return out


def plot_rows(loop: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows of the plot files (missing figures are null)."""
    accuracy, verdicts, mix = [], [], []
    for row in loop["iterations"]:
        j = row["iteration"]
        if "eval" in row:
            s = _summary(row["eval"])
            lo, hi, n = _heldout_ci(row["eval"])
            split: dict[str, Any] = {k: s.get(k) for k in HELDOUT_SPLIT_LABELS}
            for k in ("heldout_call", "heldout_no_call"):
                f = _split_figure(row["eval"], k)
                ci = f.get("ci95") or [None, None]
                split |= {f"{k}_ci95_lo": ci[0], f"{k}_ci95_hi": ci[1], f"{k}_n": f.get("n")}
            split["heldout_never_call_n"] = _split_figure(row["eval"], "heldout_never_call").get("n")
            accuracy.append(
                {
                    "iteration": j,
                    **{k: s.get(k) for k in ACCURACY_KEYS},
                    "heldout_ci95_lo": lo,
                    "heldout_ci95_hi": hi,
                    "heldout_n": n,
                    **split,
                    **{f"{k}_n": (_group(row["eval"], k) or {}).get("n") for k in ACCURACY_KEYS[1:]},
                }
            )
        if "verify" in row:
            counts = row["verify"].get("verdicts") or {}
            verdicts.append({"iteration": j, **{k: int(counts.get(k, 0)) for k in VERDICTS}})
        if "merge" in row:  # merge of iteration j builds D_{j+1}
            parts = row["merge"].get("parts") or {}
            names = LOOP_PARTS if "boundary" in parts else PARTS
            total = sum(int(parts.get(k, 0)) for k in names)
            mix.append(
                {
                    "iteration": j + 1,
                    **{k: round(int(parts.get(k, 0)) / total, 4) if total else None for k in names},
                    "rows": total,
                }
            )
    if mix and not any(r["iteration"] == 1 for r in mix):
        # D_1 is a sample of the seed pool: all Seed-new by construction (stage select).
        size = (loop.get("setup", {}).get("select") or {}).get("size")
        mix.insert(
            0,
            {
                "iteration": 1,
                "seed_new": 1.0,
                "error_seed": 0.0,
                "expansion": 0.0,
                "high_ppl": 0.0,
                "rows": size,
            },
        )
    return {"accuracy": accuracy, "verdicts": verdicts, "data_mix": mix, "train_curve": train_curve(loop)}


def write_plot_data(rows: dict[str, list[dict[str, Any]]], plots_dir: str | Path) -> dict[str, Path]:
    """One JSON file per plot (a list of row objects, as ``dvc plots`` reads them)."""
    out = {}
    for name, data in rows.items():
        path = Path(plots_dir) / f"{name}.json"
        storage.write_json(data, path)
        out[name] = path
    return out
