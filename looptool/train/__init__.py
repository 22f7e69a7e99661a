"""Training (LoopTool step a, and the optional warm-up): GRPO with TRL, SFT warm-up, LoRA via peft.

Modules: :mod:`~looptool.train.config` (``TrainConfig``, ``WarmupConfig``, ``LoraSettings``),
:mod:`~looptool.train.rewards` (ToolMatch and partial-credit rewards in TRL's reward-function convention),
:mod:`~looptool.train.data` (samples as TRL datasets), :mod:`~looptool.train.run` (``run_train``, the
train@j stage: GRPO or SFT), :mod:`~looptool.train.grpo` (``train_grpo``), :mod:`~looptool.train.sft`
(``train_sft``, and ``run_warmup``, the warmup stage), :mod:`~looptool.train.cpu` (CPU settings; why the
compact log-prob switch of :mod:`looptool.compat.trl`), :mod:`~looptool.train.callbacks` (per-step series),
:mod:`~looptool.train.common` (saving).

Names are imported on first use (PEP 562), so ``import looptool.train.sft`` does not load the GRPO or reward
modules (DVC stages declare the files they import) and nothing here imports torch, transformers or trl.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LoraSettings": "looptool.train.config",
    "TrainConfig": "looptool.train.config",
    "WarmupConfig": "looptool.train.config",
    "tool_match_reward": "looptool.train.rewards",
    "partial_reward": "looptool.train.rewards",
    "completion_length_reward": "looptool.train.rewards",
    "completion_text": "looptool.train.rewards",
    "run_train": "looptool.train.run",
    "run_warmup": "looptool.train.sft",
    "train_grpo": "looptool.train.grpo",
    "train_sft": "looptool.train.sft",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'looptool.train' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
