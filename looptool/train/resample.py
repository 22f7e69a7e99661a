"""Dynamic sampling for GRPO (``train.dynamic_sampling``): no group without a learning signal, at a bounded cost.

GRPO learns only from groups whose completions got different rewards; a group whose rewards are all equal (all
0: the model cannot do it yet; all 1: already mastered) has zero advantage and contributes no gradient. DAPO
(arXiv 2503.14476) drops such groups and samples more prompts until the batch is full. Here, in each
generation batch: after the batch's rollouts are scored, every group whose rewards are all equal is replaced by
another prompt of D_j (drawn in a seeded random order, never one already in this process's batch) whose own
group does have differing rewards. Each prompt tried costs one more group of rollouts (``num_generations`` completions),
and at most ``train.max_resample`` prompts are tried per generation batch (one optimizer step with TRL's
default ``steps_per_generation``), so a step costs at most ``max_resample`` extra groups; a group still equal
when the budget or the data runs out stays as it was (it trains nothing, as without dynamic sampling).

**Where it runs.** Only ``train.rollouts: engine`` (:mod:`looptool.train.rollouts`): the replacement happens in
TRL's public, experimental ``rollout_func`` hook, which decodes the replacements with the same engine on the
same weights. TRL (1.16) has no public hook that lets its own ``model.generate`` or vLLM rollouts replace a
prompt, so ``rollouts: trl`` and ``continuous`` refuse the switch (:class:`~looptool.train.config.TrainConfig`).

**How TRL learns of a replacement (TRL 1.16).** The hook returns the replacement's prompt and completion token
ids (the loss is computed on those), and, as ``rollout_func``'s extra fields, every dataset column except
``prompt`` (``label``, ``tools``, ``sample_id``) per completion: TRL writes extra fields over each row's columns
before it calls the reward functions (:func:`looptool.compat.trl.set_row_columns`), so the rewards, the
advantages and TRL's ``frac_reward_zero_std`` are those of the replacement. TRL's completion log
(``log_completions``) still shows the original prompt text of a replaced group. The hook scores groups with the
trainer's own reward functions on completions decoded as TRL decodes them
(:func:`looptool.compat.trl.decode_completions`), weighted by ``reward_weights``; a group has a signal when the
weighted sums' standard deviation is not zero (TRL's test under its default ``multi_objective_aggregation:
sum_then_normalize``).

Counts (:attr:`ResamplingRollouts.records`, one per generation batch; in the train metrics' ``series`` and
totals): ``empty`` groups before resampling, prompts ``resampled`` (tried), groups ``replaced``, and groups
``unreplaced`` (still without a signal).
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from looptool.compat.trl import decode_completions, set_row_columns, tokenize_prompts
from looptool.train.rollouts import EngineRollouts

COUNTS = ("empty", "resampled", "replaced", "unreplaced")
"""Per-step counts of dynamic sampling, as named in the metrics."""


def prompt_key(prompt: Any) -> str:
    """A dataset prompt (text or chat messages) as one comparable string."""
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False, default=str)


def _noop(*_: Any, **__: Any) -> None:
    return None


class ResamplingRollouts(EngineRollouts):
    """``rollout_func`` of ``train.rollouts: engine`` with dynamic sampling (see the module docstring).

    ``dataset``: the trainer's train dataset (the pool of replacements, and the columns the rewards read).
    ``reward_funcs``: the trainer's reward callables (scored here to find groups without a signal).
    """

    def __init__(
        self,
        dataset: Any,
        reward_funcs: Sequence[Callable[..., list[float | None]]],
        max_resample: int,
        batch_size: int | None = None,
    ) -> None:
        super().__init__(batch_size)
        if max_resample < 1:
            raise ValueError(f"max_resample={max_resample} must be >= 1")
        self.max_resample = max_resample
        self.reward_funcs = list(reward_funcs)
        self.columns = [c for c in dataset.column_names if c != "prompt"]
        self.rows: list[dict[str, Any]] = []
        self.index: dict[str, int] = {}
        for i, row in enumerate(dataset):
            j = self.index.setdefault(prompt_key(row["prompt"]), i)
            if j != i:
                diff = [c for c in self.columns if self.rows[j][c] != row[c]]
                if diff:
                    raise ValueError(
                        f"train.dynamic_sampling: training rows {j} and {i} have the same prompt but different "
                        f"{diff[0]}; the rollout hook cannot tell them apart (deduplicate D_j or turn it off)"
                    )
            self.rows.append(row)
        self.records: list[dict[str, int]] = []
        """One record per training generation batch: ``step`` (the first optimizer step it feeds) and
        :data:`COUNTS`, summed over processes."""

    def _row_of(self, prompt: Any) -> int:
        i = self.index.get(prompt_key(prompt))
        if i is None:
            raise RuntimeError(
                "train.dynamic_sampling: TRL passed rollout_func a prompt that is not in the training data "
                "(this TRL's rollout_func contract differs from TRL 1.16's); set dynamic_sampling: false"
            )
        return i

    def has_signal(
        self,
        trainer: Any,
        row: int,
        prompts: list[Any],
        completions: list[Any],
        completion_ids: list[list[int]],
    ) -> bool:
        """Whether one group's completions got rewards that differ (TRL: a non-zero standard deviation of the
        weighted sum over reward functions; a completion every function scores None is left out)."""
        n = len(completions)
        columns = {c: [self.rows[row][c]] * n for c in self.columns}
        per_func = [
            f(
                prompts=prompts,
                completions=completions,
                completion_ids=completion_ids,
                trainer_state=trainer.state,
                log_extra=_noop,
                log_metric=_noop,
                **columns,
            )
            for f in self.reward_funcs
        ]
        weights = trainer.args.reward_weights or [1.0] * len(self.reward_funcs)
        totals = []
        for k in range(n):
            vals = [float(w) * float(r[k]) for r, w in zip(per_func, weights) if r[k] is not None]
            if vals:
                totals.append(sum(vals))
        return len(totals) > 1 and statistics.stdev(totals) > 1e-8

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, list]:
        out = super().__call__(prompts, trainer)
        if not trainer.model.training:  # evaluation batches are left as they are
            return out
        g = int(trainer.args.num_generations)
        n = len(prompts)
        starts = range(0, n, g)
        if n % g or any(len({prompt_key(p) for p in prompts[s : s + g]}) != 1 for s in starts):
            raise RuntimeError(
                f"train.dynamic_sampling: the generation batch of {n} prompts is not made of groups of "
                f"{g} equal consecutive prompts (TRL 1.16's rollout_func contract); set dynamic_sampling: false"
            )
        group_rows = [self._row_of(prompts[s]) for s in starts]
        completions = decode_completions(trainer, prompts, out["prompt_ids"], out["completion_ids"])
        pending = [
            gi
            for gi, s in enumerate(starts)
            if not self.has_signal(
                trainer,
                group_rows[gi],
                list(prompts[s : s + g]),
                completions[s : s + g],
                out["completion_ids"][s : s + g],
            )
        ]
        empty, tried, replaced = len(pending), 0, 0
        args, state = trainer.args, trainer.state
        order = sorted(set(self.index.values()) - set(group_rows))
        random.Random(f"{args.seed}:{state.global_step}:{trainer.accelerator.process_index}").shuffle(order)
        rnd = 0
        while pending and order and tried < self.max_resample:
            take = order[: min(len(pending), self.max_resample - tried)]
            order = order[len(take) :]
            tried, rnd = tried + len(take), rnd + 1
            cand = [self.rows[i]["prompt"] for i in take for _ in range(g)]
            ids = tokenize_prompts(trainer, cand)
            comp_ids, logprobs = self.decode(trainer, ids, [f"resample {rnd}.{k}" for k in range(len(ids))])
            comps = decode_completions(trainer, cand, ids, comp_ids)
            for c, i in enumerate(take):
                sl = slice(c * g, (c + 1) * g)
                if not self.has_signal(trainer, i, cand[sl], comps[sl], comp_ids[sl]):
                    continue
                gi = pending.pop(0)
                dst = slice(gi * g, (gi + 1) * g)
                out["prompt_ids"][dst], out["completion_ids"][dst] = ids[sl], comp_ids[sl]
                out["logprobs"][dst] = logprobs[sl]
                group_rows[gi] = i
                replaced += 1
        set_row_columns(out, {c: [self.rows[group_rows[k // g]][c] for k in range(n)] for c in self.columns})
        self.records.append(
            {
                "step": int(state.global_step) + 1,
                **self._summed(trainer, [empty, tried, replaced, len(pending)]),
            }
        )
        return out

    @staticmethod
    def _summed(trainer: Any, counts: list[int]) -> dict[str, int]:
        """The counts summed over processes (every process calls the hook once per generation batch)."""
        if trainer.accelerator.num_processes > 1:
            import torch

            t = torch.tensor(counts, device=trainer.accelerator.device)
            counts = [int(v) for v in trainer.accelerator.gather(t).view(-1, len(counts)).sum(dim=0).tolist()]
        return dict(zip(COUNTS, counts))

    def totals(self) -> dict[str, int]:
        """The counts over the whole run."""
        return {k: sum(r[k] for r in self.records) for k in COUNTS}
