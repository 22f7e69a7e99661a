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

**What we change.** :func:`looptool.compat.trl.compact_logprobs` (a patch of a private TRL function matched
by its source, so it lives with looptool's other private uses of TRL): for the duration of ``trainer.train()``
only, and only when training on CPU, the compact path is taken on CPU too. The log-probs are the same numbers
(the masked positions are zeroed either way); ``tests/test_train.py`` checks that rewards, losses, grad norms
and weights agree with and without it.
"""

from __future__ import annotations


def has_gpu() -> bool:
    import torch

    return bool(torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()))


def cpu_args(on_cpu: bool) -> dict[str, object]:
    """TrainingArguments TRL needs on CPU: ``use_cpu`` (else it asks for a GPU) and ``bf16=False`` (TRL
    defaults to bf16, which on a CPU without native bf16 is emulated: ~40% slower)."""
    return {"use_cpu": True, "bf16": False} if on_cpu else {}
