"""What the GRPO and SFT stages share: building the TRL config, and saving the result as a plain checkpoint.

Every ``models/iter_j`` is a full Hugging Face checkpoint (weights, config, tokenizer): a LoRA adapter is merged
before saving, so probe, evaluate and the inference backends load it like any model, and the next iteration
starts from it. Weights are saved in the dtype of the checkpoint training started from (``save_dtype: base``),
or the one asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from looptool.config import ConfigError, to_dict
from looptool.model import resolve_model
from looptool.outputs import claim_dir, prepare_dir, remove_own_dir, written_dir

log = logging.getLogger(__name__)

FINGERPRINT = "looptool_run.json"
"""A GRPO work area's run stamp (:mod:`looptool.train.launch`); it also marks the area as looptool's."""


def trl_config(cls: type, where: str, fields: dict[str, Any], extra: dict[str, Any]) -> Any:
    """``cls(**fields, **extra)`` with ``extra``'s names checked against ``cls`` (a TRL config dataclass)."""
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise ConfigError(f"{where}.extra_args: unknown {cls.__name__} argument(s) {unknown}")
    return cls(**{**fields, **extra})


def common_args(cfg: Any, output_dir: str | Path, seed: int, on_cpu: bool) -> dict[str, Any]:
    """The ``TrainingArguments`` fields GRPO and SFT both take from the shared config fields, plus the
    CPU flags (``use_cpu``, no bf16) when there is no GPU."""
    from looptool.train.cpu import cpu_args

    return {
        "output_dir": str(output_dir),
        "learning_rate": cfg.learning_rate,
        "lr_scheduler_type": cfg.lr_scheduler_type,
        "warmup_steps": cfg.warmup_steps,
        "weight_decay": cfg.weight_decay,
        "max_grad_norm": cfg.max_grad_norm,
        "max_steps": cfg.max_steps if cfg.max_steps is not None else -1,  # TRL's "use num_train_epochs"
        "num_train_epochs": cfg.num_train_epochs,
        "per_device_train_batch_size": cfg.per_device_train_batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "seed": seed,
        "model_init_kwargs": {"dtype": cfg.dtype},
        # None = automatic: off on CPU (small models, faster), on with a GPU
        "gradient_checkpointing": (not on_cpu)
        if cfg.gradient_checkpointing is None
        else cfg.gradient_checkpointing,
        "logging_steps": 1,
        **checkpoint_args(cfg),
        "report_to": "none",
        **cpu_args(on_cpu),
    }


def checkpoint_args(cfg: Any) -> dict[str, Any]:
    """``train.save_steps``: trainer checkpoints every N steps in the working area (GRPO and SFT alike;
    resumed by :func:`looptool.train.launch.prepare_work`). The warm-up has no checkpoints."""
    steps = getattr(cfg, "save_steps", 0)
    if not steps:
        return {"save_strategy": "no"}
    return {"save_strategy": "steps", "save_steps": steps, "save_total_limit": cfg.save_total_limit}


def base_dtype(model_path: str | Path) -> str:
    """The weights dtype recorded in a checkpoint's config (float32 when it records none)."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(resolve_model(model_path))
    dt = getattr(cfg, "dtype", None) or getattr(cfg, "torch_dtype", None)
    name = str(dt).replace("torch.", "") if dt is not None else "float32"
    return name if name in ("float32", "bfloat16", "float16") else "float32"


def count_params(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def staging_dir(out: str | Path) -> Path:
    """Where the trainers save before the checkpoint is finished and moved to ``out`` (hidden, beside it)."""
    out = Path(out)
    return out.parent / f".{out.name}.trained"


def check_outputs(out: str | Path, inputs: Sequence[str | Path]) -> None:
    """Before any training: ``out``, its staging folder and its work area (``<out>.work``) must be absent or
    looptool's own (:mod:`looptool.outputs`), so a long run never ends by refusing to save, or by replacing a
    folder it did not write."""
    out = Path(out)
    prepare_dir(out, inputs)
    prepare_dir(staging_dir(out), what="staging folder")
    prepare_dir(out.with_name(out.name + ".work"), what="work area", also=(FINGERPRINT,))


def claim_work(work: str | Path) -> None:
    """An SFT run's working area (the trainer's ``output_dir``): emptied and marked by the main process
    (refused when looptool did not write it), the other processes wait."""
    from accelerate import PartialState

    state = PartialState()
    if state.is_main_process:
        claim_dir(work, "looptool train", "work area", also=(FINGERPRINT,))
    state.wait_for_everyone()


def save_final(trainer: Any, model_path: str | Path, out_dir: str | Path, save_dtype: str) -> dict[str, Any]:
    """Save the trained model to ``out_dir`` as a full checkpoint in ``save_dtype`` (``base`` = the dtype of
    ``model_path``), with ``model_path``'s tokenizer files as they were (the trainers set padding options on
    their tokenizer object). Called on every process; only the main one writes.

    ``trainer.save_model`` first (it gathers ZeRO-3 shards and writes only the adapter for a peft model), then
    on the main process: merge the adapter into a fresh copy of the start checkpoint, cast, save.
    """
    import torch
    from accelerate.utils import is_peft_model

    out = Path(out_dir)
    started = time.perf_counter()
    is_peft = is_peft_model(trainer.accelerator.unwrap_model(trainer.model))
    dtype_name = base_dtype(model_path) if save_dtype == "base" else save_dtype
    dtype = getattr(torch, dtype_name)
    staging = staging_dir(out)
    if trainer.accelerator.is_main_process:
        claim_dir(staging, "looptool train", "staging folder")
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(staging))
    trainer.accelerator.wait_for_everyone()
    if trainer.accelerator.is_main_process:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if is_peft:
            from peft import PeftModel

            base = AutoModelForCausalLM.from_pretrained(resolve_model(model_path), dtype=torch.float32)
            model = PeftModel.from_pretrained(base, str(staging)).merge_and_unload()
        else:
            model = AutoModelForCausalLM.from_pretrained(str(staging), dtype=torch.float32)
        model = model.to(dtype)
        with written_dir(out, "looptool train") as tmp:
            model.save_pretrained(tmp)
            AutoTokenizer.from_pretrained(resolve_model(model_path)).save_pretrained(tmp)
        remove_own_dir(staging, "staging folder")
    trainer.accelerator.wait_for_everyone()
    return {
        "save_dtype": dtype_name,
        "merged_lora": is_peft,
        "save_s": round(time.perf_counter() - started, 2),
    }


def metrics_tail(
    cfg: Any,
    series: Any,
    saved: dict[str, Any],
    *,
    started: float,
    counts: tuple[int, int],
    on_cpu: bool,
    compact: bool,
    seed: int,
) -> dict[str, Any]:
    """The fields every trainer's metrics end with (GRPO, SFT, the warm-up): the final loss and runtime TRL
    logged (``series``: a :class:`~looptool.train.callbacks.StepSeries`), the wall time since ``started``, the
    trainable and total parameter counts, the device, whether compact log-prob scoring ran, the seed, what
    saving the model reported (``saved``) and the config."""
    trainable, total = counts
    return {
        "loss": series.final.get("train_loss"),
        "train_runtime_s": series.final.get("train_runtime"),
        "wall_s": round(time.perf_counter() - started, 2),
        "trainable_params": trainable,
        "total_params": total,
        "device": "cpu" if on_cpu else "gpu",
        "cpu_compact_logprobs": compact,
        "seed": seed,
        **saved,
        "config": to_dict(cfg),
    }


def load_trained(path: str | Path, dtype: str = "float32") -> Any:
    """Load a saved ``models/iter_j`` (tests, benchmarks)."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(resolve_model(path), dtype=getattr(torch, dtype))
