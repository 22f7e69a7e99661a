"""Probe throughput: the batched transformers backend vs the naive loop, on the same samples.

The naive loop is what a first implementation of Greedy Capability Probing does: one ``model.generate`` per
sample, then a separate forward pass over prompt + output for its perplexity. The backend decodes the
samples in continuous batches and takes the log-probs from the decode itself. Both must agree: same greedy
tokens, same PPL.

    flock /tmp/looptool-heavy.lock python bench/probe_throughput.py --model models/base
    flock /tmp/looptool-heavy.lock python bench/probe_throughput.py --model models/base \\
        --bfcl-dir path/to/bfcl_v3 --batch-sizes 8,16,32

Samples: ``--data`` (a Parquet in the SAMPLE/TRAIN schema; default ``data/iter_1/train.parquet``, else
``data/seed/pool.parquet``) or ``--bfcl-dir`` (the first N BFCL-v3 "simple" questions). Prints figures; it is
not a test and asserts nothing about speed.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import click


def bfcl_requests(bfcl_dir: str, n: int) -> list[Any]:
    """The first ``n`` BFCL simple entries as chat requests, tools as the evaluation prompts them."""
    from looptool.evaluate.bfcl import load_category, to_tools
    from looptool.llm import Request

    entries, _ = load_category(bfcl_dir, "simple")
    return [Request.chat(e.messages, to_tools(e.functions, e.category), key=e.id) for e in entries[:n]]


def parquet_requests(path: str, n: int) -> list[Any]:
    import polars as pl

    from looptool.llm import Request

    df = pl.read_parquet(path, columns=["sample_id", "tools", "messages"]).head(n)
    return [Request.chat(json.loads(m), json.loads(t) or None, key=s) for s, t, m in df.iter_rows()]


def naive(
    backend: Any, requests: list[Any], max_new_tokens: int
) -> tuple[list[list[int]], list[float | None], float]:
    """One ``generate`` per sample, then a full forward for the PPL of its output."""
    import torch

    lm, tok = backend.lm, backend.tokenizer
    outs, ppls = [], []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for r in requests:
            ids = backend.prompt_ids(r)
            x = torch.tensor([ids])
            gen = lm.generate(
                x,
                attention_mask=torch.ones_like(x),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=sorted(backend.eos_ids),
                pad_token_id=tok.pad_token_id,
            )[0, len(ids) :].tolist()
            outs.append(gen)
            logits = lm(torch.tensor([ids + gen])).logits[0].float()
            logp = torch.log_softmax(logits[len(ids) - 1 : -1], -1)
            lps = logp.gather(-1, torch.tensor(gen)[:, None])[:, 0]
            ppls.append(math.exp(-lps.mean().item()) if gen else None)
    return outs, ppls, time.perf_counter() - t0


@click.command()
@click.option("--model", default="models/base", show_default=True, help="Checkpoint (or pointer dir).")
@click.option("--data", default=None, help="SAMPLE/TRAIN Parquet (default data/iter_1/train.parquet).")
@click.option("--bfcl-dir", default=None, help="BFCL-v3 folder: use its first N 'simple' questions.")
@click.option("-n", "n", default=64, show_default=True, help="Samples.")
@click.option("--max-new-tokens", default=96, show_default=True, help="As probe.max_new_tokens.")
@click.option("--batch-sizes", default="16", show_default=True, help="Comma-separated batch sizes to time.")
@click.option("--skip-naive", is_flag=True, help="Time only the backend (e.g. to sweep batch sizes).")
def main(
    model: str,
    data: str | None,
    bfcl_dir: str | None,
    n: int,
    max_new_tokens: int,
    batch_sizes: str,
    skip_naive: bool,
) -> None:
    import torch

    from looptool.llm import BackendConfig, Sampling
    from looptool.llm.hf import HFBackend
    from looptool.model import resolve_model

    if bfcl_dir:
        requests, source = bfcl_requests(bfcl_dir, n), f"BFCL-v3 simple (first {n}) from {bfcl_dir}"
    else:
        if data is None:
            data = next(
                (p for p in ("data/iter_1/train.parquet", "data/seed/pool.parquet") if Path(p).exists()), None
            )
            if data is None:
                raise click.UsageError(
                    "no --data given and no data/iter_1/train.parquet: pass --data or --bfcl-dir"
                )
        requests, source = parquet_requests(data, n), data
    sizes = [int(s) for s in batch_sizes.split(",")]
    t0 = time.perf_counter()
    backend = HFBackend(resolve_model(model), BackendConfig(batch_size=sizes[0], cache=False))
    load_s = time.perf_counter() - t0
    prompt_lens = [len(backend.prompt_ids(r)) for r in requests]
    click.echo(f"samples: {len(requests)} from {source}")
    click.echo(
        f"model: {model} ({sum(p.numel() for p in backend.lm.parameters()) / 1e6:.1f}M params, loaded in {load_s:.1f} s)"
    )
    click.echo(f"torch threads: {torch.get_num_threads()}; max_new_tokens: {max_new_tokens}")
    click.echo(
        f"prompt tokens: mean {statistics.mean(prompt_lens):.0f}, min {min(prompt_lens)}, max {max(prompt_lens)}, total {sum(prompt_lens)}"
    )
    sampling = Sampling(max_new_tokens=max_new_tokens, temperature=0.0, logprobs=True)
    results = {}
    for bs in sizes:
        backend.batch_size = bs
        t = time.perf_counter()
        got = backend.generate(requests, sampling)
        results[bs] = (got, time.perf_counter() - t)
        gen_tokens = sum(len(c.token_ids) for c in got)
        click.echo(
            f"backend batch_size={bs}: {results[bs][1]:.1f} s, {gen_tokens} generated tokens "
            f"({gen_tokens / results[bs][1]:.1f} tok/s), errors {sum(not c.ok for c in got)}"
        )
    if skip_naive:
        _peak()
        return
    outs, ppls, naive_s = naive(backend, requests, max_new_tokens)
    gen_tokens = sum(len(o) for o in outs)
    click.echo(
        f"naive loop (generate per sample + PPL forward): {naive_s:.1f} s, {gen_tokens} generated tokens"
    )
    for bs, (got, secs) in results.items():
        same = sum(c.token_ids == o for c, o in zip(got, outs))
        rel = [
            abs(c.ppl - p) / p
            for c, o, p in zip(got, outs, ppls)
            if c.token_ids == o and p is not None and c.ppl is not None
        ]
        click.echo(
            f"batch_size={bs}: speed-up {naive_s / secs:.2f}x; identical greedy outputs {same}/{len(outs)}; "
            f"PPL max relative difference {max(rel) if rel else float('nan'):.2e}"
        )

    _peak()


def _peak() -> None:
    import resource

    click.echo(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
