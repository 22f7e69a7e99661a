"""Private interfaces of TRL (``trl``) that looptool needs, each checked against the version named beside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def tokenize_prompts(trainer: Any, prompts: Sequence[Any]) -> list[list[int]]:
    """The prompt token ids ``GRPOTrainer`` would feed its own generation for ``prompts`` (chat template, the
    trainer's tools and ``chat_template_kwargs`` applied), one list of ints per prompt.

    Private: ``GRPOTrainer._tokenize_prompts(prompts) -> (prompt_ids, images, multimodal_fields)``, checked
    against TRL 1.16.0. Why no public interface serves: a ``rollout_func`` receives the raw dataset prompts and
    must return their token ids, and TRL exposes no public function that renders them exactly as the trainer
    does (``processing_class.apply_chat_template`` alone misses the trainer's tools and template kwargs).
    """
    ids, _, _ = trainer._tokenize_prompts(list(prompts))
    return [list(map(int, p)) for p in ids]


def decode_completions(
    trainer: Any, prompts: Sequence[Any], prompt_ids: Sequence[list[int]], completion_ids: Sequence[list[int]]
) -> list[Any]:
    """The completions of ``completion_ids`` as ``GRPOTrainer`` hands them to its reward functions: text for
    text prompts, a one-message list for conversational ones (parsed by the tokenizer's response schema when it
    has one), so a ``rollout_func`` can score its rollouts exactly as the trainer will.

    Private: replicates the decoding step of ``GRPOTrainer._generate`` (TRL 1.16.0, transformers 5.x), which
    has no public entry point; ``trl.chat_template_utils.parse_response`` and ``trl.data_utils.is_conversational``
    are TRL's own helpers. ``tests/test_grpo_rollouts.py`` checks the result against the completions TRL passes
    to a reward function.
    """
    import transformers
    from packaging.version import Version
    from trl.chat_template_utils import parse_response
    from trl.data_utils import is_conversational

    tok = trainer.processing_class
    tok = getattr(tok, "tokenizer", tok)  # a processor's tokenizer
    if not prompts or not is_conversational({"prompt": prompts[0]}):
        return tok.batch_decode(list(completion_ids), skip_special_tokens=True)
    if Version(transformers.__version__) >= Version("5.0.0") and (
        getattr(tok, "response_template", None) is not None
        or getattr(tok, "response_schema", None) is not None
    ):
        tools = getattr(trainer, "tools", None)
        return [
            [parse_response(tok, ids, prefix=prompt_ids[i], tools=tools)]
            for i, ids in enumerate(completion_ids)
        ]
    contents = tok.batch_decode(list(completion_ids), skip_special_tokens=True)
    return [[{"role": "assistant", "content": c}] for c in contents]


def set_row_columns(output: dict[str, list], columns: dict[str, list]) -> dict[str, list]:
    """Add per-completion values of dataset columns (``label``, ``tools``, ...) to a ``rollout_func``'s output,
    so the reward functions read these values instead of the row's own: how a rollout hook that replaced a
    group's prompt makes TRL score the replacement.

    Public: a ``rollout_func``'s extra fields are forwarded to the reward functions (TRL's docs). Relied on beyond
    the docs, checked against TRL 1.16.0 (``GRPOTrainer._generate_and_score_completions``): a field named like a
    dataset column overwrites that column's value for each row (a list field: element i for completion i).
    Why no public interface serves: ``rollout_func`` has no documented way to say which dataset row a completion
    belongs to. ``tests/test_grpo_rollouts.py::test_dynamic_sampling_replaces_groups_without_signal`` fails if
    TRL stops doing so (TRL's zero-std fraction would then count the original prompts' equal rewards).
    """
    output.update(columns)
    return output
