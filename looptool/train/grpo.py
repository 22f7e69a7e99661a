"""GRPO on D_j (LoopTool step a): TRL ``GRPOTrainer`` from model_{j-1} with the binary ToolMatch reward
(``train.reward: partial``: partial credit on call labels instead).

One call = one iteration: a fresh trainer (so a fresh optimizer, as in the paper), the iteration's data,
and a full checkpoint at the end (LoRA merged). Runs on CPU (the embedded demo) or on GPUs; for several GPUs
or DeepSpeed, launch the stage script with ``accelerate launch --config_file configs/...`` (docs/gpu.md).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from looptool.model import load_tokenizer, resolve_model
from looptool.schema import TRAIN
from looptool.train.adapter import save_adapter, trainable_start
from looptool.train.config import TrainConfig
from looptool.train.data import grpo_rows, prompt_style, read_samples, to_dataset
from looptool.train.launch import (
    SeenIds,
    complete_checkpoints,
    prepare_work,
    rank_report,
)
from looptool.train.rewards import tool_match_reward_as

log = logging.getLogger(__name__)

# logged name -> short name in the metrics series
GRPO_SERIES = {
    "reward": "reward",
    "reward_std": "reward_std",
    "zero_std_frac": "frac_reward_zero_std",
    "loss": "loss",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
    "completion_length": "completions/mean_length",
    "clipped_frac": "completions/clipped_ratio",
    "entropy": "entropy",
    "step_time": "step_time",
}


def grpo_args(cfg: TrainConfig, output_dir: str | Path, seed: int, on_cpu: bool) -> Any:
    """The ``GRPOConfig`` for ``cfg``: the shared fields, then ``train.grpo`` over looptool's defaults, then
    ``extra_args`` (CPU flags set automatically without a GPU)."""
    from trl import GRPOConfig

    from looptool.train.common import common_args, trl_config

    fields: dict[str, Any] = {
        **common_args(cfg, output_dir, seed, on_cpu),
        "chat_template_kwargs": cfg.chat_template_kwargs or None,
        **cfg.grpo_fields(),  # TRL's own GRPOConfig fields, passed through (names checked with the config)
    }
    return trl_config(GRPOConfig, "train", fields, cfg.extra_args)


def _reward(cfg: TrainConfig, tokenizer: Any) -> Callable[..., list[float]]:
    from looptool.calls import call_format_of

    fmt = call_format_of(tokenizer) if cfg.call_format == "template" else cfg.call_format
    return tool_match_reward_as(fmt, cfg.reward)


def _add_counts(series: list[dict[str, Any]], records: list[dict[str, int]]) -> None:
    """Dynamic sampling's counts into the per-step series (on the step each generation batch fed first; None on
    the other steps of a batch spanning several)."""
    from looptool.train.resample import COUNTS

    by_step = {r["step"]: r for r in records}
    for rec in series:
        found = by_step.get(rec["step"])
        rec.update({k: found[k] if found else None for k in COUNTS})


def train_grpo(
    *,
    model: str | Path,
    data: str | Path,
    out: str | Path,
    cfg: TrainConfig,
    iteration: int | None = None,
    seed: int | None = None,
    reward_funcs: Sequence[Callable[..., list[float]]] | None = None,
    callbacks: Sequence[Any] = (),
) -> dict[str, Any]:
    """Train ``model`` with GRPO on ``data`` (TRAIN schema) and save the checkpoint to ``out``.

    ``seed``: used when ``cfg.seed`` is None (the stage passes the iteration's seed). ``reward_funcs``:
    replaces the ToolMatch reward (tests use a reward with variance). ``callbacks``: more ``TrainerCallback``
    objects (benchmarks). Returns the metrics (the stage writes them): per-step series
    ``[{step, reward, zero_std_frac, loss, ...}]`` (with ``train.dynamic_sampling`` also its per-step counts
    ``empty``, ``resampled``, ``replaced``, ``unreplaced``, and their totals under ``dynamic_sampling``), and
    summaries; ``signal_steps``: logged steps where some group's rewards differed.
    """
    from trl import GRPOTrainer

    from looptool.compat.trl import compact_logprobs, rollout_func_warning_silenced, zero_advantage_trainer
    from looptool.train.callbacks import StepSeries
    from looptool.train.common import check_outputs, count_params, metrics_tail, save_final
    from looptool.train.cpu import has_gpu
    from looptool.train.resample import ResamplingRollouts
    from looptool.train.rollouts import rollout_kwargs

    started = time.perf_counter()
    check_outputs(out, [model, data])
    seed = cfg.seed if cfg.seed is not None else (seed if seed is not None else 0)
    on_cpu = not has_gpu() or bool(cfg.extra_args.get("use_cpu"))
    tokenizer = load_tokenizer(model)
    df = read_samples(data, TRAIN, cfg.max_samples, seed)
    dataset = to_dataset(grpo_rows(df, tokenizer, str(data), cfg.chat_template_kwargs))
    out = Path(out)
    work = out.with_name(out.name + ".work")
    args = grpo_args(cfg, work, seed, on_cpu)
    series = StepSeries(GRPO_SERIES, no_signal_patience=cfg.no_signal_patience)
    resume_from = prepare_work(cfg, model, data, seed, work)
    funcs = list(reward_funcs) if reward_funcs else [_reward(cfg, tokenizer)]
    seen = SeenIds(funcs[0])
    start = trainable_start(model) if cfg.save == "adapter" else None
    resampler = ResamplingRollouts(dataset, funcs, cfg.max_resample) if cfg.dynamic_sampling else None
    # TRL warns that rollout_func is experimental: documented in looptool.train.rollouts
    with rollout_func_warning_silenced():
        trainer = zero_advantage_trainer(GRPOTrainer)(
            model=start if start is not None else resolve_model(model),
            reward_funcs=[seen, *funcs[1:]],
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=cfg.lora.peft_config() if start is None else None,
            callbacks=[series, *callbacks],
            **rollout_kwargs(cfg.rollouts, resampler),
        )
    counts = count_params(trainer.model)
    with compact_logprobs(on_cpu and cfg.cpu_compact_logprobs) as compact:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    ranks = rank_report(trainer.accelerator, seen)
    checkpoints = [p.name for p in complete_checkpoints(work)]
    if cfg.save == "adapter":
        saved = save_adapter(trainer, model, out)
    else:
        saved = save_final(trainer, model, out, cfg.save_dtype)
    if trainer.accelerator.is_main_process:
        shutil.rmtree(work, ignore_errors=True)
    if resampler is not None:
        _add_counts(series.series, resampler.records)
    zero = [r["zero_std_frac"] for r in series.series if r["zero_std_frac"] is not None]
    metrics: dict[str, Any] = {
        "iteration": iteration,
        "samples": df.height,
        "prompt_style": prompt_style(tokenizer),
        "steps": int(trainer.state.global_step),
        "series": series.series,
        **series.summary("reward"),
        **series.summary("zero_std_frac"),
        "no_signal": bool(zero) and all(z >= 1.0 - 1e-9 for z in zero),
        "no_signal_longest_streak": series.longest_streak,
        "signal_steps": sum(z < 1.0 - 1e-9 for z in zero),
        "dynamic_sampling": resampler.totals() if resampler is not None else None,
        "rollouts": cfg.rollouts,
        "zero_advantage_skipped": trainer.zero_advantage_skipped,
        "resumed_from": resume_from.name if resume_from else None,
        "checkpoints": checkpoints,
        "ranks": ranks,
        **metrics_tail(
            cfg, series, saved, started=started, counts=counts, on_cpu=on_cpu, compact=compact, seed=seed
        ),
    }
    if metrics["no_signal"]:
        log.warning(
            "GRPO iteration %s: every step had zero-advantage groups only; model_%s equals its start point (no "
            "gradient). See metrics 'no_signal'.",
            iteration,
            iteration,
        )
    return metrics
