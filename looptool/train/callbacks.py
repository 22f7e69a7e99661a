"""Per-step series for the metrics files, and the "no learning signal" warning of GRPO.

GRPO learns only from groups whose rewards differ: when every completion of a prompt gets the same reward
(all 0: the model cannot do it yet; all 1: already mastered), the group's advantages are 0 and it contributes no
gradient. TRL logs the fraction of such completions as ``frac_reward_zero_std`` (groups are equal-sized, so it is
also the fraction of groups; with ``scale_rewards: batch`` TRL measures the batch's std instead). A run where it
stays 1.0 trains nothing; :class:`StepSeries` warns about it while training and records it in the metrics.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from transformers import TrainerCallback

log = logging.getLogger(__name__)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


class StepSeries(TrainerCallback):
    """Collects one record per logged optimizer step (``logging_steps=1``): the fields of ``keys`` under their
    short names, all present in every record (None when not logged) so DVC plots read them as one table."""

    def __init__(self, keys: dict[str, str], no_signal_patience: int | None = None) -> None:
        self.keys = keys
        self.patience = no_signal_patience
        self.series: list[dict[str, Any]] = []
        self.final: dict[str, Any] = {}
        self.streak = 0
        self.longest_streak = 0
        self.warned = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "train_runtime" in logs:  # the summary at the end of train()
            self.final = {k: _num(v) for k, v in logs.items()}
            return
        if not any(src in logs for src in self.keys.values()):
            return
        rec: dict[str, Any] = {"step": int(state.global_step)}
        rec.update({short: _num(logs.get(src)) for short, src in self.keys.items()})
        self.series.append(rec)
        zero = rec.get("zero_std_frac")
        if self.patience is not None and zero is not None:
            self.streak = self.streak + 1 if zero >= 1.0 - 1e-9 else 0
            self.longest_streak = max(self.longest_streak, self.streak)
            if self.streak >= self.patience and not self.warned:
                self.warned = True
                log.warning(
                    "GRPO: for %d steps in a row every group's completions got the same reward (zero advantage), "
                    "so these steps trained nothing. Typical causes: the model never produces a correct call "
                    "(enable or lengthen the SFT warm-up), or it already solves every prompt (harder data), or "
                    "num_generations is too small.",
                    self.streak,
                )

    def summary(self, key: str) -> dict[str, Any]:
        """first / last / mean of one series field."""
        vals = [r[key] for r in self.series if r.get(key) is not None]
        if not vals:
            return {f"{key}_first": None, f"{key}_last": None, f"{key}_mean": None}
        return {f"{key}_first": vals[0], f"{key}_last": vals[-1], f"{key}_mean": sum(vals) / len(vals)}
