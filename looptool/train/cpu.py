"""CPU training: the settings TRL needs there, and the compact log-prob scoring switch.

**Why the switch.** TRL's GRPOTrainer and SFTTrainer (1.16) patch the model with a fused LM head
(``trl.trainer.utils.add_fused_lm_head``) that returns per-token log-probabilities without materialising the
logits. Inside it,

.. code-block:: python

    compact = _use_triton(hidden_states.device)   # True only on CUDA/XPU with Triton installed

decides whether only the positions with a label (the completion tokens) are projected onto the vocabulary
(``compact``) or every position, prompt included. The non-compact path exists for devices that recompile on
every new tensor shape (Neuron); on CPU nothing is compiled, so it only wastes work: a 500-token prompt with a
40-token completion projects 13x more rows onto the 49k-token vocabulary, and the same again for the
backward. GRPO scores only completion tokens and the SFT warm-up trains on the completion only, so both pay
for every prompt position for nothing: 1.2-10x slower steps on CPU.

**What we change.** For the duration of ``trainer.train()`` only, and only when training on CPU, the name
``_use_triton`` *as seen by* ``trl.trainer.utils`` answers True for CPU devices. The kernels themselves read
their own ``trl.kernels.chunked_logprob._use_triton`` (untouched), so they keep their torch fallback; only the
compact/full decision flips. The log-probs are the same numbers (the masked positions are zeroed either
way); ``tests/test_train.py`` checks that rewards, losses, grad norms and weights agree with and without it.

**Safety.** Applied only if ``add_fused_lm_head``'s source still contains the line above (checked with
:mod:`inspect`), so a TRL release that renames or removes the switch runs unpatched (slower, still correct)
with a warning, instead of being patched blindly. The original function is restored on exit, also on errors.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Iterator

log = logging.getLogger(__name__)

_SWITCH = "compact = _use_triton(hidden_states.device)"


def has_gpu() -> bool:
    import torch

    return bool(torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()))


def cpu_args(on_cpu: bool) -> dict[str, object]:
    """TrainingArguments TRL needs on CPU: ``use_cpu`` (else it asks for a GPU) and ``bf16=False`` (TRL
    defaults to bf16, which on a CPU without native bf16 is emulated: ~40% slower)."""
    return {"use_cpu": True, "bf16": False} if on_cpu else {}


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
    """Within the block, TRL's fused LM head scores only completion positions on CPU too.

    Yields whether the switch is active. Does nothing (yields False) when ``enabled`` is False or the
    installed TRL does not have the expected switch.
    """
    if not enabled:
        yield False
        return
    if not compact_switch_available():
        import trl

        log.warning(
            "trl %s: the fused LM head's compact switch was not found; CPU training scores every prompt position "
            "(correct, but slower). looptool.train.cpu needs an update for this TRL version.",
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
