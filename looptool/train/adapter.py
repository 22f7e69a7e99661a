"""``train.save: adapter``: iteration checkpoints that hold only the LoRA adapter.

Adapters are cumulative over the base: iteration j starts from iteration j-1's adapter (loaded trainable on
the same base) and keeps training it, so ``models/iter_j`` = base + one adapter, whichever j. The base is
the adapter's ``base_model_name_or_path`` (``models/iter_0``, i.e. the warm-up's output or the base model).

Loading: :func:`looptool.model.resolve_model` turns an adapter folder into a merged checkpoint once
(:func:`looptool.model.merged_adapter`, in ``$LOOPTOOL_CACHE_DIR`` or ``.looptool-cache``, ``merged/<digest>``),
so every backend (transformers, vLLM) and the next stage's tokenizer load it like any checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from looptool.model import ADAPTER_CONFIG, adapter_base, is_adapter

__all__ = ["adapter_base", "is_adapter", "save_adapter", "trainable_start"]


def trainable_start(model_path: str | Path) -> Any:
    """The model iteration j trains in adapter mode: the previous adapter, trainable, on its base (None when
    ``model_path`` is a full checkpoint: a fresh LoRA is created then)."""
    if not is_adapter(model_path):
        return None
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from looptool.model import resolve_model

    base = AutoModelForCausalLM.from_pretrained(resolve_model(adapter_base(model_path)), dtype="float32")
    return PeftModel.from_pretrained(base, str(model_path), is_trainable=True)


def save_adapter(trainer: Any, model_path: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Write only the adapter (and the tokenizer) to ``out_dir``; every process calls it, the main one writes."""
    import time

    from transformers import AutoTokenizer

    from looptool.model import resolve_model
    from looptool.outputs import claim_dir, publish_dir
    from looptool.train.common import staging_dir

    started = time.perf_counter()
    out = Path(out_dir)
    staging = staging_dir(out)
    if trainer.accelerator.is_main_process:
        claim_dir(staging, "looptool train", "staging folder")
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(staging))
    trainer.accelerator.wait_for_everyone()
    if trainer.accelerator.is_main_process:
        src = model_path if is_adapter(model_path) else resolve_model(model_path)
        AutoTokenizer.from_pretrained(str(src)).save_pretrained(staging)
        publish_dir(staging, out, "looptool train")
    trainer.accelerator.wait_for_everyone()
    return {
        "save": "adapter",
        "adapter_base": adapter_base(out) if (out / ADAPTER_CONFIG).is_file() else None,
        "save_s": round(time.perf_counter() - started, 2),
    }
