"""The optional SFT warm-up (model_0): TRL ``SFTTrainer`` on the seed pool, loss on the completion only.

GRPO needs a group whose rewards differ. SmolLM2-135M names the right tool in about 1 prompt of 10 and almost
never writes an exact call, so GRPO straight from the base sees reward 0 everywhere and learns nothing. A
short SFT on the pool's labels (rendered as the student will answer: ``<tool_call>`` blocks, then the end of
turn) teaches the format; GRPO then sharpens it. With ``warmup.enabled: false`` the base is hard-linked to
``models/iter_0`` unchanged (what the paper does: its Qwen3-8B already calls tools).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from looptool.model import link_or_copy_tree, load_tokenizer, resolve_model
from looptool.schema import SAMPLE, TRAIN
from looptool.storage import read_parquet
from looptool.train.config import TrainConfig, WarmupConfig
from looptool.train.data import prompt_style, read_samples, sft_rows, to_dataset

log = logging.getLogger(__name__)

SFT_SERIES = {
    "loss": "loss",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
    "token_accuracy": "mean_token_accuracy",
}


def sft_args(
    cfg: WarmupConfig | TrainConfig,
    output_dir: str | Path,
    seed: int,
    on_cpu: bool,
    where: str = "warmup",
) -> Any:
    """The ``SFTConfig`` for ``cfg`` (CPU flags set automatically without a GPU). ``cfg`` is the ``warmup``
    section, or the ``train`` section with ``method: sft`` (its SFT-only fields are in ``train.sft``)."""
    from trl import SFTConfig

    from looptool.train.common import common_args, trl_config

    fields: dict[str, Any] = {
        **common_args(cfg, output_dir, seed, on_cpu),
        "per_device_eval_batch_size": cfg.per_device_train_batch_size,
        "eval_strategy": "no",
    }
    if isinstance(cfg, TrainConfig):
        fields.update(
            cfg.sft_fields()
        )  # TRL's own SFTConfig fields, passed through (names checked with the config)
    else:
        fields.update(max_length=cfg.max_length, completion_only_loss=True)
    return trl_config(SFTConfig, where, fields, cfg.extra_args)


def run_warmup(
    *,
    model: str | Path,
    pool: str | Path,
    out: str | Path,
    heldout: str | Path | None = None,
    cfg: WarmupConfig,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Stage warmup: SFT ``model`` on the pool and save a full checkpoint to ``out`` (or, disabled, link the
    base); returns the metrics.

    With ``heldout`` (the pipeline gives the dev split, never the test split) and ``cfg.eval_samples`` > 0,
    the completion loss on that many of its rows (none when it is empty) is
    measured before and after (cheap: forward passes only), so the metrics show whether the warm-up helped
    beyond the rows it saw. ``callbacks``: more ``TrainerCallback``s (``bench/warmup_budget.py`` snapshots the
    adapter at chosen steps with one).
    """
    from looptool.train.common import check_outputs, claim_work

    started = time.perf_counter()
    out = Path(out)
    check_outputs(out, [model, pool])
    if not cfg.enabled:
        link_or_copy_tree(model, out, "looptool warmup")
        return {
            "enabled": False,
            "steps": 0,
            "series": [],
            "wall_s": round(time.perf_counter() - started, 2),
        }

    from trl import SFTTrainer

    from looptool.compat.trl import compact_logprobs
    from looptool.train.callbacks import StepSeries
    from looptool.train.common import count_params, metrics_tail, save_final
    from looptool.train.cpu import has_gpu

    seed = cfg.seed if cfg.seed is not None else 0
    on_cpu = not has_gpu() or bool(cfg.extra_args.get("use_cpu"))
    tokenizer = load_tokenizer(model)
    df = read_samples(pool, SAMPLE, cfg.max_samples, seed)
    dataset = to_dataset(sft_rows(df, tokenizer, str(pool), cfg.chat_template_kwargs))
    eval_dataset = None
    # an empty split (seed.dev_domains: 0; an import with import_heldout_fraction: 0) has no loss to measure
    if heldout is not None and cfg.eval_samples > 0 and read_parquet(heldout, SAMPLE, deep=False).height:
        held = read_samples(heldout, SAMPLE, cfg.eval_samples, seed)
        eval_dataset = to_dataset(sft_rows(held, tokenizer, str(heldout), cfg.chat_template_kwargs))
    elif heldout is not None and cfg.eval_samples > 0:
        log.warning("%s: the held-out split is empty; no held-out loss before/after the warm-up", heldout)
    work = out.with_name(out.name + ".work")
    claim_work(work)
    series = StepSeries(SFT_SERIES)
    trainer = SFTTrainer(
        model=resolve_model(model),
        args=sft_args(cfg, work, seed, on_cpu),
        train_dataset=dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=cfg.lora.peft_config(),
        callbacks=[series, *(callbacks or [])],
    )
    counts = count_params(trainer.model)
    with compact_logprobs(on_cpu and cfg.cpu_compact_logprobs) as compact:
        before = trainer.evaluate()["eval_loss"] if eval_dataset is not None else None
        trainer.train()
        after = trainer.evaluate()["eval_loss"] if eval_dataset is not None else None
    saved = save_final(trainer, model, out, cfg.save_dtype)
    if trainer.accelerator.is_main_process:
        shutil.rmtree(work, ignore_errors=True)
    metrics: dict[str, Any] = {
        "enabled": True,
        "samples": df.height,
        "prompt_style": prompt_style(tokenizer),
        "steps": int(trainer.state.global_step),
        "series": series.series,
        **series.summary("loss"),
        "heldout_samples": len(eval_dataset) if eval_dataset is not None else 0,
        "heldout_loss_before": before,
        "heldout_loss_after": after,
        **metrics_tail(
            cfg, series, saved, started=started, counts=counts, on_cpu=on_cpu, compact=compact, seed=seed
        ),
    }
    return metrics


def train_sft(
    *,
    model: str | Path,
    data: str | Path,
    out: str | Path,
    cfg: TrainConfig,
    iteration: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """``train.method: sft``: fine-tune ``model`` on D_j (TRAIN schema) with its labels as they are in D_j,
    i.e. after verification (merge applies LABEL_WRONG corrections), loss on the completion only; save the
    checkpoint to ``out``; returns the metrics. Same budget knobs as GRPO (``max_steps``,
    ``per_device_train_batch_size``, ``gradient_accumulation_steps``), so a loop run and a static run train
    equally long."""
    from trl import SFTTrainer

    from looptool.compat.trl import compact_logprobs
    from looptool.train.callbacks import StepSeries
    from looptool.train.common import check_outputs, count_params, metrics_tail, save_final
    from looptool.train.cpu import has_gpu
    from looptool.train.launch import complete_checkpoints, prepare_work

    started = time.perf_counter()
    check_outputs(out, [model, data])
    seed = cfg.seed if cfg.seed is not None else (seed if seed is not None else 0)
    on_cpu = not has_gpu() or bool(cfg.extra_args.get("use_cpu"))
    tokenizer = load_tokenizer(model)
    df = read_samples(data, TRAIN, cfg.max_samples, seed)
    dataset = to_dataset(sft_rows(df, tokenizer, str(data), cfg.chat_template_kwargs))
    out = Path(out)
    work = out.with_name(
        out.name + ".work"
    )  # emptied by prepare_work unless it resumes (check_outputs vetted it)
    series = StepSeries(SFT_SERIES)
    args = sft_args(cfg, work, seed, on_cpu, where="train")
    resume_from = prepare_work(cfg, model, data, seed, work)  # train.save_steps: as GRPO's
    trainer = SFTTrainer(
        model=resolve_model(model),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=cfg.lora.peft_config(),
        callbacks=[series],
    )
    counts = count_params(trainer.model)
    with compact_logprobs(on_cpu and cfg.cpu_compact_logprobs) as compact:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    checkpoints = [p.name for p in complete_checkpoints(work)]
    saved = save_final(trainer, model, out, cfg.save_dtype)
    if trainer.accelerator.is_main_process:
        shutil.rmtree(work, ignore_errors=True)
    parts = df.group_by("part").len().sort("part").iter_rows() if "part" in df.columns else []
    metrics: dict[str, Any] = {
        "iteration": iteration,
        "method": "sft",
        "samples": df.height,
        "parts": {p: int(n) for p, n in parts},
        "prompt_style": prompt_style(tokenizer),
        "steps": int(trainer.state.global_step),
        "series": series.series,
        **series.summary("loss"),
        "resumed_from": resume_from.name if resume_from else None,
        "checkpoints": checkpoints,
        **metrics_tail(
            cfg, series, saved, started=started, counts=counts, on_cpu=on_cpu, compact=compact, seed=seed
        ),
    }
    return metrics
