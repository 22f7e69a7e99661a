"""Does batching prompts into one prefill pay on a CPU? The engine's one-row prefill against batched prefill.

:mod:`looptool.llm.hf` prefills each new row alone (no padding, attention on its causal fast path) and merges
the rows into the running batch afterwards. The obvious alternative is one forward pass over several prompts.
This bench measures both on the same prompts, in one run:

* ``single``: each prompt alone, ``[1, L]``, as the engine does;
* ``batched@B``: groups of B prompts (sorted by length, longest first, as the engine orders its work), right-
  padded to the group's longest and run as one ``[B, W]`` forward pass with plain causal attention and no
  mask. Right padding keeps it exact for the real tokens: a causal row never looks at the pads after it, and
  positions start at 0 for every row. (Left padding would need an explicit mask, which takes attention off
  its fast path.) Only the last real position of each row goes through the LM head.

It prints seconds (best of ``--repeats``), the real and the computed (padded) prompt tokens, milliseconds per
real and per computed token, the ratio to ``single``, and whether every row's next-token logits agree (largest
absolute difference; same argmax). Model loading is not timed. Asserts nothing about speed::

    python bench/prefill_batching.py --model models/base --data data/iter_1/train.parquet -n 48 --batches 4,8,16
"""

from __future__ import annotations

import os
import time
from typing import Any

import click


def _single(lm: Any, prompts: list[list[int]], new_cache: Any) -> list[Any]:
    import torch

    out = []
    for p in prompts:
        o = lm(input_ids=torch.tensor([p]), use_cache=True, cache=new_cache(lm.config), logits_to_keep=1)
        out.append(o.logits[0, -1])
    return out


def _batched(lm: Any, prompts: list[list[int]], bs: int, pad: int, new_cache: Any) -> tuple[list[Any], int]:
    import torch

    out, computed = [], 0
    for g in range(0, len(prompts), bs):
        group = prompts[g : g + bs]
        width = max(len(p) for p in group)
        computed += width * len(group)
        x = torch.full((len(group), width), pad, dtype=torch.long)
        for r, p in enumerate(group):
            x[r, : len(p)] = torch.tensor(p, dtype=torch.long)
        last = torch.tensor([len(p) - 1 for p in group])
        keep = torch.unique(last)  # sorted; the LM head runs only at these positions
        o = lm(input_ids=x, use_cache=True, cache=new_cache(lm.config), logits_to_keep=keep)
        col = torch.searchsorted(keep, last)
        out.extend(o.logits[r, col[r]] for r in range(len(group)))
    return out, computed


@click.command()
@click.option("--model", default="models/base", show_default=True, help="Checkpoint folder.")
@click.option("--data", default=None, help="SAMPLE/TRAIN Parquet (default data/iter_1/train.parquet).")
@click.option("-n", "n", default=48, show_default=True, help="Samples (the first n).")
@click.option("--batches", default="4,8,16", show_default=True, help="Batch sizes B, comma-separated.")
@click.option("--repeats", default=2, show_default=True, help="Timed repeats per variant (best is kept).")
def main(model: str, data: str | None, n: int, batches: str, repeats: int) -> None:
    import torch
    from probe_engines import load_requests  # same workload as bench/probe_engines.py (bench/ on sys.path)

    from looptool.compat.transformers import new_cache
    from looptool.llm import BackendConfig
    from looptool.llm.hf import HFBackend
    from looptool.model import resolve_model

    click.echo(f"load average at start: {os.getloadavg()}; torch threads {torch.get_num_threads()}")
    requests, source = load_requests(data, n)
    backend = HFBackend(resolve_model(model), BackendConfig(cache=False, dtype="float32"))
    lm = backend.lm
    if backend._cache_arg != "cache" or not backend._keeps_logits:
        raise click.ClickException("this transformers version lacks forward(cache=..., logits_to_keep=...)")
    prompts = sorted((backend.prompt_ids(r) for r in requests), key=len, reverse=True)
    real = sum(len(p) for p in prompts)
    click.echo(
        f"{len(prompts)} prompts from {source}: {real} tokens, {min(map(len, prompts))}-{len(prompts[0])}"
    )

    def best(fn: Any) -> tuple[float, Any]:
        secs, res = float("inf"), None
        for _ in range(repeats):
            t = time.perf_counter()
            res = fn()
            secs = min(secs, time.perf_counter() - t)
        return secs, res

    with torch.inference_mode():
        _single(lm, prompts[-1:], new_cache)  # warm-up
        ref_s, ref = best(lambda: _single(lm, prompts, new_cache))
        click.echo(
            "variant     seconds  ratio  real tok  computed tok  ms/real tok  ms/computed tok  logits equal"
        )
        click.echo(
            f"{'single':<11} {ref_s:7.2f}  {1.0:5.2f}  {real:8d}  {real:12d}  {1e3 * ref_s / real:11.3f}  "
            f"{1e3 * ref_s / real:15.3f}  (reference)"
        )
        for bs in (int(b) for b in batches.split(",")):
            secs, (got, computed) = best(lambda bs=bs: _batched(lm, prompts, bs, backend.pad_id, new_cache))
            diff = max(float((a - b).abs().max()) for a, b in zip(ref, got, strict=True))
            same = all(int(a.argmax()) == int(b.argmax()) for a, b in zip(ref, got, strict=True))
            click.echo(
                f"{'batched@' + str(bs):<11} {secs:7.2f}  {secs / ref_s:5.2f}  {real:8d}  {computed:12d}  "
                f"{1e3 * secs / real:11.3f}  {1e3 * secs / computed:15.3f}  "
                f"{'yes' if same else 'NO'} (max |diff| {diff:.1e})"
            )
    click.echo(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
