"""GRPO step time: TRL's default rollouts (``model.generate`` per generation batch) against transformers'
continuous batching (``GRPOConfig.use_transformers_continuous_batching``), same settings, one run each.

Both runs go through :func:`looptool.train.grpo.train_grpo` (the stage's own code) on the same model and data,
with the same seed; the only difference is ``train.grpo.use_transformers_continuous_batching``. Prints the
mean seconds per optimizer step of each (TRL's logged ``step_time``, first step excluded as warm-up when there
are more than two) and the ratio. Example (CPU, SmolLM2-135M)::

    python bench/grpo_rollouts.py --model models/base --data data/iter_1/train.parquet --steps 3

On a shared machine the figures are only indicative: say so when you report them.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import click


@click.command()
@click.option("--model", required=True, help="Checkpoint to train from.")
@click.option("--data", required=True, help="A TRAIN-schema Parquet (e.g. data/iter_1/train.parquet).")
@click.option("--steps", type=int, default=3, show_default=True)
@click.option(
    "--generations", type=int, default=8, show_default=True, help="num_generations (1 prompt per step)."
)
@click.option("--max-completion-length", type=int, default=64, show_default=True)
@click.option("--out", "out_json", default=None, help="Also write the figures to this JSON file.")
def main(
    model: str, data: str, steps: int, generations: int, max_completion_length: int, out_json: str | None
) -> None:
    from looptool.train.config import TrainConfig
    from looptool.train.grpo import train_grpo

    figures = {}
    for name, extra in (
        ("default", {}),
        ("continuous_batching", {"use_transformers_continuous_batching": True}),
    ):
        cfg = TrainConfig(
            max_steps=steps,
            per_device_train_batch_size=generations,
            seed=0,
            grpo={"num_generations": generations, "max_completion_length": max_completion_length, **extra},
        )
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            m = train_grpo(cfg, model, data, Path(tmp) / "out")
            wall = time.perf_counter() - t0
        times = [r["step_time"] for r in m["series"] if r.get("step_time") is not None]
        used = times[1:] if len(times) > 2 else times
        figures[name] = {
            "step_time_s": round(sum(used) / len(used), 3) if used else None,
            "step_times_s": [round(t, 3) for t in times],
            "train_runtime_s": m["train_runtime_s"],
            "wall_s": round(wall, 1),
            "reward_mean": m["reward_mean"],
            "device": m["device"],
        }
        click.echo(f"{name}: {figures[name]}")
    a, b = figures["default"]["step_time_s"], figures["continuous_batching"]["step_time_s"]
    ratio = round(a / b, 3) if a and b else None
    figures["ratio_default_over_continuous_batching"] = ratio
    figures["settings"] = {
        "steps": steps,
        "num_generations": generations,
        "max_completion_length": max_completion_length,
        "model": model,
        "data": data,
    }
    click.echo(f"GRPO s/step: default {a}, continuous batching {b}, ratio default/continuous = {ratio}")
    if out_json:
        Path(out_json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
