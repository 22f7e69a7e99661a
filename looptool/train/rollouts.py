"""GRPO rollouts through looptool's own batched decoder (``train.rollouts: engine``).

``train.rollouts`` picks who samples the GRPO groups:

* ``trl``: ``GRPOTrainer``'s own rollouts: ``model.generate`` over the generation batch (padded, every row
  decodes until the longest one ends), or TRL's vLLM when ``train.grpo.use_vllm`` is set (GPU).
* ``continuous``: transformers' continuous batching (``GRPOConfig.use_transformers_continuous_batching``).
* ``engine``: TRL's experimental ``rollout_func`` hook fed by :class:`EngineRollouts`, which decodes the policy
  being trained with the decode loop of :class:`looptool.llm.hf.HFBackend` (the probe's engine: finished rows
  leave the batch, the KV cache grows in place, log-probs come from the same pass).

**When TRL calls the hook (TRL 1.16, ``GRPOTrainer._generate``).** Whenever ``rollout_func`` is set, with or
without vLLM, once per generation batch (every ``steps_per_generation x num_iterations`` optimizer steps),
as ``rollout_func(prompts, trainer)``. ``prompts`` are the dataset's ``prompt`` values of the per-process
generation batch, one entry per completion (the ``RepeatSampler`` already repeated each prompt
``num_generations`` times, consecutively), so the hook returns one completion per entry. It must return
``prompt_ids``, ``completion_ids`` and ``logprobs`` (per completion token); TRL then decodes the
completions, computes the rewards on them and the loss exactly as for its own rollouts. Without vLLM the
returned log-probs are not used by the loss (TRL recomputes the policy's log-probs, and the rollouts are
on-policy); they are the sampled tokens' log-probs under the unscaled logits.

**Current weights.** The hook decodes ``trainer.model`` itself (the peft model's base module, whose LoRA
layers are live), in eval mode, at every call: nothing is copied or cached, so each generation batch samples
from the weights of that step. ``tests/test_grpo_rollouts.py`` checks that changing the adapter weights changes
the rollouts, and that the returned log-probs equal the trained model's own log-probs of those tokens.

**Same prompts, same sampling as TRL.** Prompt token ids come from the trainer's own tokenisation
(``GRPOTrainer._tokenize_prompts`` through :mod:`looptool.compat.trl`, chat template, tools and ``chat_template_kwargs`` included), so the
tokens sampled are conditioned on exactly what TRL would feed ``generate``. Sampling uses the trainer's
``temperature``, ``top_p`` and ``max_completion_length``; a row stops at an end-of-turn token, which stays in
its completion ids (as with ``generate``). ``top_k``, ``min_p``, ``repetition_penalty`` and
``generation_kwargs`` are not implemented by the engine, so :class:`~looptool.train.config.TrainConfig`
refuses them with ``rollouts: engine``. Each row draws from its own generator seeded by (trainer seed,
optimizer step, row), so group members are independent draws and a resumed run repeats its draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from looptool.compat.trl import rollout_func_kwargs, tokenize_prompts
from looptool.llm.base import Request, Sampling
from looptool.llm.config import BackendConfig
from looptool.llm.hf import HFBackend


class _PolicyBackend(HFBackend):
    """The HF decode loop over a live model, fed token ids the trainer made (no rendering here)."""

    def __init__(self, lm: Any, tokenizer: Any, prompt_ids: dict[str, list[int]], batch_size: int) -> None:
        super().__init__("policy", BackendConfig(batch_size=batch_size), tokenizer=tokenizer, lm=lm)
        self._ids = prompt_ids

    def prompt_ids(self, request: Request) -> list[int]:
        return list(self._ids[request.key])


def _policy_module(trainer: Any) -> Any:
    """The module to decode: the unwrapped policy; for a peft model its base module with the LoRA layers in
    place (same weights, and the model class's own ``forward`` with ``logits_to_keep``)."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    base = getattr(model, "get_base_model", None)
    return base() if callable(base) else model


class EngineRollouts:
    """``rollout_func`` for TRL's ``GRPOTrainer``: samples each generation batch from the current policy with
    :class:`looptool.llm.hf.HFBackend`'s decode loop (see the module docstring for the contract)."""

    def __init__(self, batch_size: int | None = None) -> None:
        self.batch_size = batch_size
        """Rows decoded at once (None: the whole generation batch)."""

    def sampling(self, trainer: Any) -> Sampling:
        args = trainer.args
        return Sampling(
            max_new_tokens=int(args.max_completion_length),
            temperature=float(args.temperature),
            top_p=float(args.top_p),
            seed=int(args.seed) * 1_000_003 + int(trainer.state.global_step),
            logprobs=True,
        )

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, list]:
        if trainer.model.training:
            args = trainer.args
            expected = args.per_device_train_batch_size * args.steps_per_generation
            if len(prompts) != expected:
                raise RuntimeError(
                    f"train.rollouts engine: TRL passed {len(prompts)} prompts for a generation batch of "
                    f"{expected} completions; this TRL's rollout_func contract differs from the one looptool "
                    "implements (TRL 1.16: one prompt entry per completion). Use train.rollouts: trl."
                )
        ids = tokenize_prompts(trainer, prompts)
        completion_ids, logprobs = self.decode(trainer, ids, [str(i) for i in range(len(ids))])
        return {"prompt_ids": ids, "completion_ids": completion_ids, "logprobs": logprobs}

    def decode(
        self, trainer: Any, ids: list[list[int]], keys: list[str]
    ) -> tuple[list[list[int]], list[list[float]]]:
        """One sampled completion (token ids, log-probs) per prompt of ``ids`` from the current policy. ``keys``
        (distinct) name the rows: with the step, they choose each row's random draw."""
        sampling = self.sampling(trainer)
        model = trainer.accelerator.unwrap_model(trainer.model)
        lm = _policy_module(trainer)
        backend = _PolicyBackend(
            lm, trainer.processing_class, dict(zip(keys, ids)), self.batch_size or max(1, len(ids))
        )
        was_training = model.training
        model.eval()
        try:
            outs = backend.generate([Request.text(f"row {k}", key=k) for k in keys], sampling)
        finally:
            model.train(was_training)
        bad = [(k, c.error) for k, c in zip(keys, outs) if not c.ok]
        if bad:
            k, err = bad[0]
            raise RuntimeError(f"train.rollouts engine: {len(bad)} rollout(s) failed; row {k}: {err}")
        return [list(c.token_ids) for c in outs], [list(c.logprobs or []) for c in outs]


def rollout_kwargs(rollouts: str, hook: EngineRollouts | None = None) -> dict[str, Any]:
    """Extra ``GRPOTrainer`` arguments for ``train.rollouts`` (``continuous`` is a GRPOConfig field instead).
    ``hook``: the engine rollout_func to use (e.g. :class:`looptool.train.resample.ResamplingRollouts`)."""
    if rollouts == "engine":
        return rollout_func_kwargs(hook or EngineRollouts())
    return {}
