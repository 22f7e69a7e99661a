"""bench/prefill_batching.py: its batched variant (right padding, causal attention, no mask) gives every row the
same next-token logits as the engine's one-row prefill, so the bench compares equal work."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("prefill_batching", ROOT / "bench/prefill_batching.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_batched_prefill_matches_one_row_prefill(tiny_model_dir):
    import torch

    from looptool.compat.transformers import new_cache
    from looptool.llm.hf import HFBackend

    b = HFBackend(str(tiny_model_dir))
    gen = torch.Generator().manual_seed(0)
    prompts = [torch.randint(10, 1000, (n,), generator=gen).tolist() for n in (37, 30, 30, 12, 5)]
    bench = _bench()
    with torch.inference_mode():
        ref = bench._single(b.lm, prompts, new_cache)
        got, computed = bench._batched(b.lm, prompts, 3, b.pad_id, new_cache)
    assert computed == 3 * 37 + 2 * 12  # groups [37, 30, 30] and [12, 5], each padded to its longest
    assert len(got) == len(prompts)
    for a, c in zip(ref, got, strict=True):
        assert torch.allclose(a, c, atol=1e-4), float((a - c).abs().max())
    # a wrong row/position pairing would not match: compare against a shifted pairing
    assert not torch.allclose(ref[0], got[1], atol=1e-4)
