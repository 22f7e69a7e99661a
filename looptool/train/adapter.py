"""``train.save: adapter``: iteration checkpoints that hold only the LoRA adapter.

Adapters are cumulative over the base: iteration j starts from iteration j-1's adapter (loaded trainable on
the same base) and keeps training it, so ``models/iter_j`` = base + one adapter, whichever j. The base is
the adapter's ``base_model_name_or_path`` (``models/iter_0``, i.e. the warm-up's output or the base model).

Loading: :func:`looptool.model.resolve_model` turns an adapter folder into a merged checkpoint once, in the
call cache folder (``$LOOPTOOL_CACHE_DIR`` or ``.looptool-cache``, ``merged/<digest>``), so every backend
(transformers, vLLM) and the next stage's tokenizer load it like any checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from looptool import jsonutil

ADAPTER_CONFIG = "adapter_config.json"


def is_adapter(path: str | Path) -> bool:
    p = Path(path)
    return (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file()


def adapter_base(path: str | Path) -> str:
    """The base checkpoint an adapter folder was trained on."""
    base = json.loads((Path(path) / ADAPTER_CONFIG).read_text()).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{path}/{ADAPTER_CONFIG}: no base_model_name_or_path")
    return base


def merged_path(path: str | Path) -> str:
    """A full checkpoint equal to base + adapter (merged once into the cache, reused after)."""
    p = Path(path)
    files = sorted([f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in p.iterdir() if f.is_file())
    cache = (
        Path(os.environ.get("LOOPTOOL_CACHE_DIR", ".looptool-cache"))
        / "merged"
        / jsonutil.digest([str(p.resolve()), files], 24)
    )
    if (cache / "config.json").is_file():
        return str(cache)
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from looptool.model import resolve_model

    base = resolve_model(adapter_base(p))
    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
    model = PeftModel.from_pretrained(model, str(p)).merge_and_unload()
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(
        str(p) if (p / "tokenizer_config.json").is_file() else base
    ).save_pretrained(tmp)
    if cache.exists():
        shutil.rmtree(cache)
    os.replace(tmp, cache)
    return str(cache)


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

    started = time.perf_counter()
    out = Path(out_dir)
    if trainer.accelerator.is_main_process and out.exists():
        shutil.rmtree(out)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(out))
    if trainer.accelerator.is_main_process:
        src = model_path if is_adapter(model_path) else resolve_model(model_path)
        AutoTokenizer.from_pretrained(str(src)).save_pretrained(out)
    trainer.accelerator.wait_for_everyone()
    return {
        "save": "adapter",
        "adapter_base": adapter_base(out) if (out / ADAPTER_CONFIG).is_file() else None,
        "save_s": round(time.perf_counter() - started, 2),
    }
