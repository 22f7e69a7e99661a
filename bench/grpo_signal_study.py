"""The held-out figures of the boundary-aware GRPO study (issue 25; plan: docs/efficacy/grpo-signal/PLAN.md),
from the folders ``docs/efficacy/grpo-signal/run.sh`` writes::

    python bench/grpo_signal_study.py --work OUT [--out docs/efficacy/grpo-signal]

Reads each arm's scored checkpoints (``OUT/s<seed>-<arm>/eval_step_<N>.json``, written by ``bench/grpo_gain.py
evaluate``), its training record (``train_metrics.json``, ``step_<N>/saved.json``) and the equal-rollouts choice
(``OUT/s<seed>-equal-rollouts.json``); writes ``samples.csv`` (one row per scored test row and checkpoint: model,
sample_id, call_row, correct, names, arg_f1; every interval re-derives from it) and ``results.json``, and prints
the tables. Comparisons (``looptool.stats``): arm - default on the same rows, per training seed a paired row
bootstrap and over seeds the two-level bootstrap (seeds, then rows; 10,000 resamples, seed 0), at equal optimizer
steps (step 12 against step 12) and at equal rollouts (step 12 against the default's checkpoint at the grid step
nearest the boundary + dynamic arm's rollouts, from below).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

ARMS = {"default": "paper default", "bd": "boundary + dynamic", "bdp": "boundary + dynamic + partial"}
STEP = 12
KINDS = ("call", "no_call", "all")


def _load(p: Path) -> Any:
    return json.loads(p.read_text())


def scored(work: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """model label -> sample_id -> row figures, for model_1 and every scored checkpoint under ``work``."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    out["model_1"] = {r["sample_id"]: r for r in _load(work / "model1" / "eval_step_0.json")["rows"]}
    for d in sorted(work.glob("s*-*")):
        if not d.is_dir():
            continue
        seed, arm = d.name[1:].split("-", 1)
        for f in sorted(d.glob("eval_step_*.json")):
            step = int(f.stem.rsplit("_", 1)[1])
            if step == 0:
                continue
            out[f"{arm}/seed{seed}/step{step}"] = {r["sample_id"]: r for r in _load(f)["rows"]}
    return out


def write_samples(path: Path, models: dict[str, dict[str, dict[str, Any]]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "sample_id", "call_row", "correct", "names", "arg_f1"])
        for name, rows in models.items():
            for sid in sorted(rows):
                r = rows[sid]
                w.writerow(
                    [name, sid, int(bool(r["call_row"])), int(bool(r["correct"])), r["names"], r["arg_f1"]]
                )


def _ids(models: dict[str, dict[str, dict[str, Any]]], kind: str) -> list[str]:
    ref = models["model_1"]
    if kind == "all":
        return sorted(ref)
    return sorted(s for s, r in ref.items() if bool(r["call_row"]) == (kind == "call"))


def compare(
    models: dict[str, dict[str, dict[str, Any]]],
    pairs: list[tuple[str, str]],
    kind: str,
    field: str = "correct",
) -> dict[str, Any]:
    """``pairs``: per training seed (arm checkpoint, reference checkpoint); the paired figures of arm - reference
    on the rows of ``kind``."""
    from looptool.stats import paired_bootstrap, two_level_bootstrap

    ids = _ids(models, kind)
    diffs, per_seed = [], []
    for a, b in pairs:
        xa = [float(models[a][s][field]) for s in ids]
        xb = [float(models[b][s][field]) for s in ids]
        diffs.append([x - y for x, y in zip(xa, xb, strict=True)])
        pb = paired_bootstrap(xa, xb)
        per_seed.append({"arm": a, "reference": b, "diff": pb["diff"], "ci95": pb["ci95"]})
    tl = two_level_bootstrap(diffs)
    return {
        "kind": kind,
        "field": field,
        "n_rows": len(ids),
        "diff": tl["diff"],
        "ci95": tl["ci95"],
        "per_seed": per_seed,
    }


def accuracy(
    models: dict[str, dict[str, dict[str, Any]]], name: str, kind: str, field: str = "correct"
) -> float:
    ids = _ids(models, kind)
    return round(sum(float(models[name][s][field]) for s in ids) / len(ids), 4)


def training(work: Path, seed: str, arm: str) -> dict[str, Any]:
    d = work / f"s{seed}-{arm}"
    m = _load(d / "train_metrics.json") if (d / "train_metrics.json").exists() else {}
    saved = {int(p.parent.name.split("_")[1]): _load(p) for p in d.glob("step_*/saved.json")}
    series = m.get("series") or []
    t = _load(d / "train_settings.json")["train"] if (d / "train_settings.json").exists() else {}
    batch = int(t.get("per_device_train_batch_size", 4)) * int(t.get("gradient_accumulation_steps") or 1)
    group = int((t.get("grpo") or {}).get("num_generations", 4))
    # each step's completions, plus a group for every prompt dynamic sampling drew (grpo_gain.rollouts_total)
    per_step = [batch + group * int(r.get("resampled") or 0) for r in series]
    zero = [r.get("zero_std_frac") for r in series if r.get("zero_std_frac") is not None]
    return {
        "steps": m.get("steps"),
        "signal_steps": m.get("signal_steps"),
        "signal_steps_to_12": sum(z < 1 - 1e-9 for z in zero[:STEP]),
        "zero_std_frac_per_step": zero,
        "rollouts_total": m.get("rollouts_total"),
        "rollouts_to_12": sum(per_step[:STEP]),
        "dynamic_sampling": m.get("dynamic_sampling"),
        "saved": {s: saved[s] for s in sorted(saved)},
    }


def _seeds(c: dict[str, Any]) -> str:
    return ", ".join(f"{p['diff']:+.3f}" for p in c["per_seed"])


def _ci(c: dict[str, Any]) -> str:
    lo, hi = c["ci95"]
    return f"{c['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


@click.command()
@click.option("--work", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", default=None, type=click.Path(file_okay=False, path_type=Path))
def main(work: Path, out: Path | None) -> None:
    """Samples, comparisons and training figures of the study."""
    models = scored(work)
    seeds = sorted({k.split("/")[1][4:] for k in models if k != "model_1"}, key=int)
    eq = {
        s: _load(work / f"s{s}-equal-rollouts.json")
        for s in seeds
        if (work / f"s{s}-equal-rollouts.json").exists()
    }
    res: dict[str, Any] = {
        "seeds": seeds,
        "equal_rollouts": eq,
        "comparisons": {},
        "accuracy": {},
        "training": {},
    }
    for name in models:
        res["accuracy"][name] = {k: accuracy(models, name, k) for k in KINDS} | {
            "call_names": accuracy(models, name, "call", "names"),
            "call_arg_f1": accuracy(models, name, "call", "arg_f1"),
        }
    for arm in ("bd", "bdp"):
        ok = [
            s
            for s in seeds
            if f"{arm}/seed{s}/step{STEP}" in models and f"default/seed{s}/step{STEP}" in models
        ]
        if not ok:
            continue
        steps = [(f"{arm}/seed{s}/step{STEP}", f"default/seed{s}/step{STEP}") for s in ok]
        rolls = [
            (f"{arm}/seed{s}/step{STEP}", f"default/seed{s}/step{eq[s]['default_step']}")
            for s in ok
            if s in eq and f"default/seed{s}/step{eq[s]['default_step']}" in models
        ]
        c: dict[str, Any] = {}
        for kind in KINDS:
            c[f"equal_steps/{kind}"] = compare(models, steps, kind)
            if rolls:
                c[f"equal_rollouts/{kind}"] = compare(models, rolls, kind)
        for field in ("names", "arg_f1"):
            c[f"equal_steps/call/{field}"] = compare(models, steps, "call", field)
        res["comparisons"][arm] = c
    for s in seeds:
        for arm in ARMS:
            if (work / f"s{s}-{arm}").exists():
                res["training"][f"{arm}/seed{s}"] = training(work, s, arm)
    # model_1 -> each step-12 checkpoint on call rows (context: did GRPO move the model at all)
    res["gain_over_model_1"] = {
        arm: compare(
            models,
            [
                (f"{arm}/seed{s}/step{STEP}", "model_1")
                for s in seeds
                if f"{arm}/seed{s}/step{STEP}" in models
            ],
            "call",
        )
        for arm in ARMS
        if any(f"{arm}/seed{s}/step{STEP}" in models for s in seeds)
    }

    click.echo(
        f"seeds: {seeds}; rows: call {len(_ids(models, 'call'))}, no-call {len(_ids(models, 'no_call'))}"
    )
    click.echo("\n| checkpoint | call rows | no-call rows | all rows | call: names | call: arg F1 |")
    click.echo("|---|---|---|---|---|---|")
    for name, a in res["accuracy"].items():
        click.echo(
            f"| {name} | {a['call']:.3f} | {a['no_call']:.3f} | {a['all']:.3f} | {a['call_names']:.3f} | "
            f"{a['call_arg_f1']:.3f} |"
        )
    click.echo("\n| arm - default | rows | equal steps (12 vs 12) | per seed | equal rollouts | per seed |")
    click.echo("|---|---|---|---|---|---|")
    for arm, c in res["comparisons"].items():
        for kind in KINDS:
            st = c[f"equal_steps/{kind}"]
            ro = c.get(f"equal_rollouts/{kind}")
            click.echo(
                f"| {ARMS[arm]} | {kind} | {_ci(st)} | {_seeds(st)} | "
                + (f"{_ci(ro)} | {_seeds(ro)} |" if ro else "- | - |")
            )
        for field in ("names", "arg_f1"):
            st = c[f"equal_steps/call/{field}"]
            click.echo(f"| {ARMS[arm]} | call: {field} | {_ci(st)} | {_seeds(st)} | | |")
    click.echo(
        "\n| run | signal steps (of the first 12) | zero-advantage fraction per step | rollouts to step 12 | CPU s at step 12 | wall s at step 12 |"
    )
    click.echo("|---|---|---|---|---|---|")
    for name, t in res["training"].items():
        s12 = t["saved"].get(STEP) or {}
        zeros = " ".join(f"{z:g}" for z in t["zero_std_frac_per_step"][:STEP])
        click.echo(
            f"| {name} | {t['signal_steps_to_12']} of {min(STEP, len(t['zero_std_frac_per_step']))} | {zeros} | {t['rollouts_to_12']} | "
            f"{s12.get('cpu_s', '-')} | {s12.get('wall_s', '-')} |"
        )
    for arm, g in res["gain_over_model_1"].items():
        click.echo(f"{ARMS[arm]} step {STEP} - model_1, call rows: {_ci(g)}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_samples(out / "samples.csv", models)
        (out / "results.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
        click.echo(f"wrote {out / 'samples.csv'} and {out / 'results.json'}")


if __name__ == "__main__":
    sys.exit(main())
