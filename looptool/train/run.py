"""The train@j stage's function: ``train.method`` picks GRPO (:func:`~looptool.train.grpo.train_grpo`, the
paper's) or SFT on D_j's labels (:func:`~looptool.train.sft.train_sft`). The stage script decides whether to
re-run itself under ``accelerate launch`` (:mod:`looptool.train.launch`) before it calls this."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from looptool.train.config import TrainConfig


def run_train(
    *, model: str | Path, data: str | Path, out: str | Path, cfg: TrainConfig, iteration: int, seed: int
) -> dict[str, Any]:
    """Stage train@j: train ``model`` (model_{j-1}) on ``data`` (D_j) and save model_j to ``out``; returns the
    metrics. ``seed`` (the iteration's) is used when ``cfg.seed`` is None."""
    if cfg.method == "sft":
        from looptool.train.sft import train_sft

        return train_sft(model=model, data=data, out=out, cfg=cfg, iteration=iteration, seed=seed)
    from looptool.train.grpo import train_grpo

    return train_grpo(model=model, data=data, out=out, cfg=cfg, iteration=iteration, seed=seed)
