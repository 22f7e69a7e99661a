"""Private interfaces of TRL (``trl``) that looptool needs: underscore methods, a patch matched by source, the
experimental ``rollout_func`` hook and behaviour relied on beyond TRL's docs. Every use was checked against the
TRL versions in :data:`looptool.compat.CHECKED` (1.16.0) and calls :func:`looptool.compat.check` first."""

from __future__ import annotations

import contextlib
import inspect
import logging
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from looptool.compat import check

log = logging.getLogger(__name__)


def tokenize_prompts(trainer: Any, prompts: Sequence[Any]) -> list[list[int]]:
    """The prompt token ids ``GRPOTrainer`` would feed its own generation for ``prompts`` (chat template, the
    trainer's tools and ``chat_template_kwargs`` applied), one list of ints per prompt.

    Private: ``GRPOTrainer._tokenize_prompts(prompts) -> (prompt_ids, images, multimodal_fields)``, checked
    against TRL 1.16.0. Why no public interface serves: a ``rollout_func`` receives the raw dataset prompts and
    must return their token ids, and TRL exposes no public function that renders them exactly as the trainer
    does (``processing_class.apply_chat_template`` alone misses the trainer's tools and template kwargs).
    """
    check("trl")
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

    check("trl")
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
    check("trl")
    output.update(columns)
    return output


# --- the experimental rollout_func hook ---------------------------------------------------------------------


def rollout_func_kwargs(hook: Any) -> dict[str, Any]:
    """The ``GRPOTrainer`` arguments that make ``hook`` generate every rollout: ``{"rollout_func": hook}``.

    Experimental: TRL 1.16.0 marks ``rollout_func`` "an experimental feature [that] may change or be removed at
    any time" (a ``UserWarning`` at construction, silenced by :func:`rollout_func_warning_silenced`). Why no
    public interface serves: it is TRL's only way to generate with another engine than its own ``generate`` /
    vLLM (the engine rollouts and dynamic sampling of ``looptool.train.rollouts`` / ``resample``), and its
    contract (one prompt entry per completion, ``prompt_ids`` / ``completion_ids`` / ``logprobs`` back, extra
    fields to the rewards) is checked at each call there and by ``tests/test_grpo_rollouts.py``.
    """
    check("trl")
    return {"rollout_func": hook}


@contextlib.contextmanager
def rollout_func_warning_silenced() -> Iterator[None]:
    """Within the block, TRL's "You are using 'rollout_func', which is an experimental feature" warning is not
    shown (the hook is documented in :mod:`looptool.train.rollouts`); other warnings are. Checked against TRL
    1.16.0's message (``GRPOTrainer.__init__``); the ``TRL_EXPERIMENTAL_SILENCE`` variable would also silence
    the warnings of other experimental features."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are using 'rollout_func'", category=UserWarning)
        yield


# --- the zero-advantage skip ---------------------------------------------------------------------------------

# Loss types whose every term is the advantage times something (TRL 1.16.0 ``GRPOTrainer._compute_loss``): with
# all advantages 0, no KL term, no entropy bonus and no auxiliary loss, the loss and every gradient are exactly 0.
_ADVANTAGE_LOSSES = frozenset({"grpo", "bnpo", "dr_grpo", "dapo", "luspo", "cispo", "sapo", "vespo"})


def zero_advantage_trainer(base: type) -> type:
    """``base`` (TRL's ``GRPOTrainer``) with the policy forward and backward skipped for micro-batches whose
    advantages are all exactly 0 (every group's completions got the same reward).

    Such a micro-batch contributes a loss of exactly 0 and zero gradients, and TRL still pays a forward and a
    backward over every prompt and completion token to find that out (half the time of a CPU GRPO step).
    Skipping returns ``0 * sum(trainable parameters)`` instead: its backward gives the same all-zero gradients,
    so the optimizer step (AdamW moment decay included), the gradient norm, the loss and the saved weights are
    the same numbers as without the skip (``tests/test_train.py`` checks the weights). What is lost: TRL's
    entropy and clip-ratio logs of the skipped micro-batch. Only in one process (several ranks would have to
    agree before skipping) and only when the loss has no term without the advantage (``beta`` 0, no entropy
    bonus, no auxiliary loss, a known ``loss_type``); otherwise TRL's loss runs unchanged.

    Overrides the public ``Trainer.compute_loss`` (TRL 1.16.0's ``GRPOTrainer.compute_loss`` only refuses
    ``return_outputs`` and calls its private ``_compute_loss``) and reads public ``GRPOConfig`` fields. Beyond
    TRL's docs, checked against TRL 1.16.0: the batch's ``advantages`` tensor, and that the loss types in
    ``_ADVANTAGE_LOSSES`` have no term without the advantage (``_compute_loss``). Why no public interface
    serves: TRL has no option to skip a micro-batch.
    """
    check("trl")

    class ZeroAdvantageSkip(base):
        zero_advantage_skipped = 0

        def _skippable(self, inputs: dict[str, Any]) -> bool:
            args = self.args
            return (
                self.model.training
                and self.accelerator.num_processes == 1
                and getattr(self, "beta", None) == 0.0
                and getattr(self, "loss_type", None) in _ADVANTAGE_LOSSES
                and getattr(args, "entropy_coef", None) == 0.0  # TRL's entropy bonus: off
                and getattr(args, "use_adaptive_entropy", True) is False
                and getattr(self, "aux_loss_enabled", True) is False
                and "advantages" in inputs
                and bool((inputs["advantages"] == 0).all())
            )

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            if return_outputs or not self._skippable(inputs):
                return super().compute_loss(
                    model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch
                )
            self.zero_advantage_skipped += 1
            trainable = [p for p in model.parameters() if p.requires_grad]
            return sum(p.sum() for p in trainable) * 0.0

    ZeroAdvantageSkip.__name__ = f"ZeroAdvantageSkip{base.__name__}"
    return ZeroAdvantageSkip


# --- compact log-prob scoring on CPU ------------------------------------------------------------------------

_SWITCH = "compact = _use_triton(hidden_states.device)"
"""The line of ``trl.trainer.utils.add_fused_lm_head`` (TRL 1.16.0) that :func:`compact_logprobs` relies on."""


def compact_switch_available() -> bool:
    """Whether the installed TRL decides compact scoring through ``trl.trainer.utils._use_triton``."""
    try:
        import trl.trainer.utils as tu
    except ImportError:
        return False
    fn = getattr(tu, "add_fused_lm_head", None)
    if fn is None or not callable(getattr(tu, "_use_triton", None)):
        return False
    try:
        return _SWITCH in inspect.getsource(fn)
    except (OSError, TypeError):
        return False


@contextlib.contextmanager
def compact_logprobs(enabled: bool = True) -> Iterator[bool]:
    """Within the block, TRL's fused LM head scores only completion positions on CPU too (why: the module
    docstring of :mod:`looptool.train.cpu`).

    Yields whether the switch is active. Does nothing (yields False) when ``enabled`` is False or the
    installed TRL does not have the expected switch.

    Private, a patch matched by source: TRL 1.16.0's ``trl.trainer.utils.add_fused_lm_head`` decides with
    ``compact = _use_triton(hidden_states.device)`` (:data:`_SWITCH`) whether only the positions with a label
    go through the LM head; for the duration of the block the name ``_use_triton`` *as seen by*
    ``trl.trainer.utils`` also answers True for CPU devices. The kernels read their own
    ``trl.kernels.chunked_logprob._use_triton`` (untouched), so they keep their torch fallback; only the
    compact/full decision flips. Applied only if ``add_fused_lm_head``'s source still contains that line, so a
    TRL release that renames or removes the switch runs unpatched (slower, still correct) with a warning; the
    original function is restored on exit, also on errors. Why no public interface serves: TRL has no option
    for compact scoring on CPU. ``tests/test_train.py`` checks that rewards, losses, grad norms and weights
    agree with and without it.
    """
    if not enabled:
        yield False
        return
    check("trl")
    if not compact_switch_available():
        import trl

        log.warning(
            "trl %s: the fused LM head's compact switch was not found; CPU training scores every prompt position "
            "(correct, but slower). looptool.compat.trl needs an update for this TRL version.",
            trl.__version__,
        )
        yield False
        return
    import trl.trainer.utils as tu

    original = tu._use_triton

    def use_compact(device) -> bool:
        return device.type == "cpu" or original(device)

    tu._use_triton = use_compact
    try:
        yield True
    finally:
        tu._use_triton = original
