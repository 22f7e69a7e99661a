"""GRPO step time by rollout backend (``train.rollouts``): TRL's default ``model.generate``, transformers'
continuous batching, and looptool's own batched decoder through TRL's ``rollout_func`` (``engine``).

Every mode runs :func:`looptool.train.grpo.train_grpo` (the stage's own code) with the ``train`` section of
``--params`` (LoRA, learning rate, group size, ``max_completion_length``, temperature: the demo's settings),
on the same model, data and seed, so the prompts of each step are the same in every mode; only
``train.rollouts`` differs. The first ``--warm-steps`` optimizer steps are excluded from the mean (allocator
and kernel warm-up). Prints, per mode, the seconds of every step (TRL's ``step_time``: rollouts, rewards,
loss, backward and optimizer step), the mean over the timed steps and its ratio to TRL's default, plus each
step's reward mean and zero-advantage fraction (different rollouts draw different samples, so these differ
between modes too), and the load average before and after. Each mode runs in its own process, killed after
``--budget-s`` (the steps it finished are still reported). Example (CPU, SmolLM2-135M)::

    python bench/grpo_rollouts.py --model models/base --data data/iter_1/train.parquet --steps 2

Time it alone on the machine (``flock`` a lock shared with other timed runs); report the load average.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

MODES = ("trl", "engine", "continuous")
SERIES = {
    "step_time": "step_time",
    "reward": "reward",
    "zero_std_frac": "frac_reward_zero_std",
    "completion_length": "completions/mean_length",
}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_mode(
    mode: str, params: dict, model: str, data: str, steps: int, seed: int, progress: Path, cb_cache: dict
) -> None:
    """One mode's training, each logged step appended to ``progress`` (JSON lines) as it ends."""
    from transformers import TrainerCallback

    from looptool.stage import deep_merge, section_config
    from looptool.train.config import TrainConfig
    from looptool.train.grpo import train_grpo

    class Progress(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "step_time" in logs:
                rec = {"step": state.global_step, **{k: logs.get(v) for k, v in SERIES.items()}}
                with progress.open("a") as f:
                    f.write(json.dumps(rec) + "\n")

    over: dict = {"rollouts": mode, "max_steps": steps, "seed": seed, "save_steps": 0, "resume": False}
    if mode == "continuous" and cb_cache:
        over["grpo"] = {"transformers_continuous_batching_config": cb_cache}
    cfg = section_config(TrainConfig, "train", params={"train": deep_merge(params.get("train") or {}, over)})
    with tempfile.TemporaryDirectory() as tmp:
        train_grpo(model=model, data=data, out=Path(tmp) / "out", cfg=cfg, callbacks=[Progress()])


def measure(mode: str, argv: list[str], budget_s: float) -> dict:
    """Run one mode in a child process (a fresh interpreter per mode, killed after ``budget_s``)."""
    with tempfile.TemporaryDirectory() as tmp:
        progress = Path(tmp) / "progress.jsonl"
        cmd = [sys.executable, __file__, *argv, "--only", mode, "--progress", str(progress)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, timeout=budget_s, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            timed_out, rc, err = False, proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            timed_out, rc = True, None
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        wall = time.perf_counter() - t0
        series = [json.loads(line) for line in progress.read_text().splitlines()] if progress.exists() else []
    out = {
        "wall_s": round(wall, 1),
        "series": series,
        "steps_done": len(series),
        "timed_out": timed_out,
        "rc": rc,
    }
    if rc not in (0, None):
        out["error"] = err.strip().splitlines()[-1] if err.strip() else f"exit {rc}"
    return out


@click.command()
@click.option(
    "--params", "params_path", default="params.yaml", show_default=True, help="Its train section is used."
)
@click.option("--model", required=True, help="Checkpoint to train from (e.g. models/base).")
@click.option("--data", required=True, help="A TRAIN-schema Parquet (e.g. data/iter_1/train.parquet).")
@click.option("--steps", type=int, default=2, show_default=True, help="Timed optimizer steps per mode.")
@click.option("--warm-steps", type=int, default=1, show_default=True, help="Untimed steps before them.")
@click.option("--prompts-per-step", type=int, default=1, show_default=True)
@click.option("--generations", type=int, default=None, help="num_generations (default: the params').")
@click.option("--max-completion-length", type=int, default=None, help="Default: the params'.")
@click.option(
    "--modes", default=",".join(MODES), show_default=True, help="Comma list of train.rollouts values."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--cb-num-blocks",
    type=int,
    default=16,
    show_default=True,
    help="continuous: KV cache size in blocks of 256 tokens (0: TRL's default, half the free memory).",
)
@click.option(
    "--cb-max-batch-tokens",
    type=int,
    default=1024,
    show_default=True,
    help="continuous: tokens per forward pass (0: transformers' default, 8192).",
)
@click.option(
    "--budget-s", type=float, default=300, show_default=True, help="Wall limit per mode (then killed)."
)
@click.option("--out", "out_json", default=None, help="Also write the figures to this JSON file.")
@click.option("--only", hidden=True, default=None)
@click.option("--progress", hidden=True, default=None)
def main(
    params_path: str,
    model: str,
    data: str,
    steps: int,
    warm_steps: int,
    prompts_per_step: int,
    generations: int | None,
    max_completion_length: int | None,
    modes: str,
    seed: int,
    cb_num_blocks: int,
    cb_max_batch_tokens: int,
    budget_s: float,
    out_json: str | None,
    only: str | None,
    progress: str | None,
) -> None:
    from looptool.config import load_params
    from looptool.stage import deep_merge

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in chosen if m not in MODES]
    if bad:
        raise click.BadParameter(f"{bad}: each mode must be one of {list(MODES)}", param_hint="--modes")
    params = load_params(params_path)
    train = params.get("train") or {}
    grpo = dict(train.get("grpo") or {})
    if generations is not None:
        grpo["num_generations"] = generations
    if max_completion_length is not None:
        grpo["max_completion_length"] = max_completion_length
    n = int(grpo.get("num_generations", 4))
    params = {"train": deep_merge(train, {"grpo": grpo, "per_device_train_batch_size": prompts_per_step * n})}
    cb_cache = {
        k: v for k, v in (("num_blocks", cb_num_blocks), ("max_batch_tokens", cb_max_batch_tokens)) if v
    }
    if only:  # the child process of one mode
        run_mode(only, params, model, data, warm_steps + steps, seed, Path(progress), cb_cache)
        return
    argv = [
        f"--params={params_path}", f"--model={model}", f"--data={data}", f"--steps={steps}",
        f"--warm-steps={warm_steps}", f"--prompts-per-step={prompts_per_step}", f"--generations={n}",
        f"--max-completion-length={grpo.get('max_completion_length')}", f"--seed={seed}",
        f"--cb-num-blocks={cb_num_blocks}", f"--cb-max-batch-tokens={cb_max_batch_tokens}",
    ]  # fmt: skip
    settings = {
        "model": model,
        "data": data,
        "prompts_per_step": prompts_per_step,
        "num_generations": n,
        "max_completion_length": grpo.get("max_completion_length"),
        "temperature": grpo.get("temperature"),
        "warm_steps": warm_steps,
        "timed_steps": steps,
        "seed": seed,
        "continuous_batching_cache": cb_cache or "TRL default (half the free memory)",
    }
    import torch

    settings["torch_threads"] = torch.get_num_threads()
    figures: dict = {"settings": settings, "load_avg_start": _load(), "modes": {}}
    click.echo(f"settings: {settings}")
    click.echo(f"load average (1, 5, 15 min) at start: {figures['load_avg_start']}")
    for mode in chosen:
        r = measure(mode, argv, budget_s)
        times = [s["step_time"] for s in r["series"]]
        timed = [t for t in times[warm_steps:] if t is not None]
        r["step_time_s"] = round(sum(timed) / len(timed), 2) if timed else None
        r["timed_steps"] = len(timed)
        r["load_avg_after"] = _load()
        figures["modes"][mode] = r
        note = f"; KILLED after {budget_s:.0f} s" if r["timed_out"] else ""
        note += f"; ERROR {r['error']}" if r.get("error") else ""
        click.echo(
            f"{mode}: mean {r['step_time_s']} s/step over {len(timed)} timed step(s) after {warm_steps} warm; "
            f"wall {r['wall_s']} s (process: imports, load, steps, save){note}"
        )
        for s in r["series"]:
            click.echo(
                f"  step {s['step']}: {s['step_time']:.2f} s, reward mean {s['reward']}, zero-advantage fraction "
                f"{s['zero_std_frac']}, completion length {s['completion_length']}"
            )
    base = figures["modes"].get("trl", {}).get("step_time_s")
    click.echo(
        "\n| mode | s/step (timed steps) | speed-up vs trl | completion tokens (timed steps) "
        "| rewards per step | zero-advantage per step |"
    )
    click.echo("|---|---|---|---|---|---|")
    for mode, r in figures["modes"].items():
        ratio = round(base / r["step_time_s"], 2) if base and r["step_time_s"] else None
        r["speedup_vs_trl"] = ratio
        rewards = [s["reward"] for s in r["series"]]
        zeros = [s["zero_std_frac"] for s in r["series"]]
        lengths = [s["completion_length"] for s in r["series"][warm_steps:] if s["completion_length"]]
        r["completion_length_mean"] = round(sum(lengths) / len(lengths), 1) if lengths else None
        click.echo(
            f"| {mode} | {r['step_time_s']} ({r['timed_steps']}) | {ratio} | {r['completion_length_mean']} "
            f"| {rewards} | {zeros} |"
        )
    figures["load_avg_end"] = _load()
    click.echo(
        f"load average at end: {figures['load_avg_end']}  (speed-up = trl s/step / mode s/step: > 1 is faster)"
    )
    if out_json:
        Path(out_json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
