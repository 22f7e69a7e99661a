"""GRPO learning signal per optimizer step, the paper's default against dynamic sampling (issue 25).

GRPO learns only from groups whose rewards differ. For each variant, and each ``--seeds`` seed, this runs
:func:`looptool.train.grpo.train_grpo` (the ``train@j`` stage's code) with the ``train`` section of ``--params``
(the demo's settings: LoRA, learning rate, group size, ``max_completion_length``, temperature, ToolMatch reward,
``rollouts: engine``), only ``max_steps``, ``seed`` and ``dynamic_sampling`` (with ``--max-resample``) replaced,
on the same model and data. Prints, per step, TRL's zero-advantage fraction (``frac_reward_zero_std``: the share
of the step's groups whose rewards were all equal, after any replacement), the reward mean, dynamic sampling's
counts (groups ``empty`` before resampling, prompts ``resampled``, groups ``replaced``, groups ``unreplaced``) and
the step's seconds; then per variant the share of optimizer steps with a learning signal (zero-advantage
fraction < 1), the mean zero-advantage fraction, the rollouts per step (the batch's completions plus
``num_generations`` per prompt tried) and the mean step seconds. Example (CPU, the demo's iteration 1)::

    python bench/grpo_signal.py --model models/iter_0 --data data/iter_1/train.parquet --steps 8 --seeds 1,2

The boundary variants train on ``--boundary-data``: the same iteration's D_{j+1} merged with ``loop.boundary:
true`` and ``probe.samples > 0`` (e.g. from a ``dvc exp run -S probe.samples=4 -S loop.boundary=true``), so
"paper default against boundary + dynamic sampling" is ``--variants default,boundary+dynamic``::

    python bench/grpo_signal.py --model models/iter_1 --data data/iter_2/train.parquet \
        --boundary-data BOUNDARY/data/iter_2/train.parquet --variants default,dynamic,boundary+dynamic

Steps with dynamic sampling decode more rollouts, so compare seconds only on a quiet machine; ``--out`` also
writes the figures as JSON.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

VARIANTS = ("default", "dynamic", "boundary", "boundary+dynamic")
"""``default``: ``--data`` as is; ``dynamic``: with dynamic sampling; ``boundary`` and ``boundary+dynamic``: the
same on ``--boundary-data`` (a D_{j+1} merged with ``loop.boundary: true``)."""


def run_variant(
    params: dict, model: str, data: str, steps: int, seed: int, dynamic: bool, max_resample: int
) -> dict[str, Any]:
    """One training run; its metrics (series and totals)."""
    from looptool.stage import deep_merge, section_config
    from looptool.train.config import TrainConfig
    from looptool.train.grpo import train_grpo

    over: dict[str, Any] = {"max_steps": steps, "seed": seed, "save_steps": 0, "resume": False}
    over.update({"dynamic_sampling": dynamic, "max_resample": max_resample})
    cfg = section_config(TrainConfig, "train", params={"train": deep_merge(params.get("train") or {}, over)})
    with tempfile.TemporaryDirectory() as tmp:
        return train_grpo(model=model, data=data, out=Path(tmp) / "out", cfg=cfg)


def summarize(m: dict[str, Any], batch: int, generations: int) -> dict[str, Any]:
    """The figures of one run: per-step series and the run's shares and means."""
    rows = []
    for r in m["series"]:
        resampled = r.get("resampled") or 0
        rows.append(
            {
                "step": r["step"],
                "zero_std_frac": r["zero_std_frac"],
                "reward": r["reward"],
                **{k: r.get(k) for k in ("empty", "resampled", "replaced", "unreplaced")},
                "rollouts": batch + resampled * generations,
                "step_time": None if r["step_time"] is None else round(r["step_time"], 2),
            }
        )
    zeros = [r["zero_std_frac"] for r in rows if r["zero_std_frac"] is not None]
    times = [r["step_time"] for r in rows if r["step_time"] is not None]

    def mean(xs: list[float]) -> float | None:
        return round(sum(xs) / len(xs), 3) if xs else None

    return {
        "steps": len(rows),
        "signal_steps": m["signal_steps"],
        "signal_step_share": round(m["signal_steps"] / len(zeros), 3) if zeros else None,
        "zero_std_frac_mean": mean(zeros),
        "rollouts_per_step": mean([r["rollouts"] for r in rows]),
        "step_time_s": mean(times),
        "dynamic_sampling": m["dynamic_sampling"],
        "series": rows,
    }


@click.command()
@click.option(
    "--params", "params_path", default="params.yaml", show_default=True, help="Its train section is used."
)
@click.option("--model", required=True, help="Checkpoint to train from (e.g. models/iter_0).")
@click.option("--data", required=True, help="A TRAIN-schema Parquet (e.g. data/iter_1/train.parquet).")
@click.option("--steps", type=int, default=8, show_default=True, help="Optimizer steps per run.")
@click.option("--seeds", default="1", show_default=True, help="Comma list of training seeds.")
@click.option(
    "--max-resample",
    type=int,
    default=None,
    help="train.max_resample of the dynamic runs (default: the params').",
)
@click.option(
    "--boundary-data",
    default=None,
    help="D_{j+1} merged with loop.boundary: true (the boundary variants' data).",
)
@click.option(
    "--variants",
    default="default,dynamic",
    show_default=True,
    help=f"Comma list of {', '.join(VARIANTS)}.",
)
@click.option("--out", "out_json", default=None, help="Also write the figures to this JSON file.")
def main(
    params_path: str,
    model: str,
    data: str,
    steps: int,
    seeds: str,
    max_resample: int | None,
    boundary_data: str | None,
    variants: str,
    out_json: str | None,
) -> None:
    from looptool.config import load_params
    from looptool.stage import section_config
    from looptool.train.config import TrainConfig

    chosen = [v.strip() for v in variants.split(",") if v.strip()]
    bad = [v for v in chosen if v not in VARIANTS]
    if bad:
        raise click.BadParameter(
            f"{bad}: each variant must be one of {list(VARIANTS)}", param_hint="--variants"
        )
    if any(v.startswith("boundary") for v in chosen) and not boundary_data:
        raise click.BadParameter("the boundary variants need --boundary-data", param_hint="--variants")
    params = load_params(params_path)
    base = section_config(TrainConfig, "train", params={"train": params.get("train") or {}})
    if base.rollouts != "engine":
        raise click.UsageError(
            f"{params_path}: train.rollouts is {base.rollouts}; dynamic sampling needs engine"
        )
    resample = max_resample if max_resample is not None else base.max_resample
    g = base.grpo_fields()
    batch = base.per_device_train_batch_size  # completions per optimizer step
    n = int(g["num_generations"])
    settings = {
        "model": model,
        "data": data,
        "boundary_data": boundary_data,
        "steps": steps,
        "num_generations": n,
        "completions_per_step": batch,
        "max_completion_length": g.get("max_completion_length"),
        "temperature": g.get("temperature"),
        "reward": base.reward,
        "max_resample": resample,
    }
    click.echo(f"settings: {settings}")
    figures: dict[str, Any] = {"settings": settings, "runs": {}}
    for seed in [int(s) for s in seeds.split(",") if s.strip()]:
        for variant in chosen:
            on = boundary_data if variant.startswith("boundary") else data
            m = run_variant(params, model, on, steps, seed, variant.endswith("dynamic"), resample)
            r = summarize(m, batch, n)
            figures["runs"][f"{variant} seed {seed}"] = r
            click.echo(f"\n{variant}, seed {seed}:")
            for s in r["series"]:
                click.echo(
                    f"  step {s['step']}: zero-advantage fraction {s['zero_std_frac']}, reward {s['reward']}, "
                    f"empty {s['empty']}, resampled {s['resampled']}, replaced {s['replaced']}, "
                    f"unreplaced {s['unreplaced']}, rollouts {s['rollouts']}, {s['step_time']} s"
                )
    click.echo(
        "\n| run | steps with signal | share | mean zero-advantage fraction | rollouts / step | s / step | "
        "replaced / unreplaced |"
    )
    click.echo("|---|---|---|---|---|---|---|")
    for name, r in figures["runs"].items():
        ds = r["dynamic_sampling"]
        counts = f"{ds['replaced']} / {ds['unreplaced']}" if ds else "-"
        click.echo(
            f"| {name} | {r['signal_steps']} of {r['steps']} | {r['signal_step_share']} | {r['zero_std_frac_mean']} "
            f"| {r['rollouts_per_step']} | {r['step_time_s']} | {counts} |"
        )
    if out_json:
        Path(out_json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
