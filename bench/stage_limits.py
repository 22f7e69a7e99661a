"""Every model stage against this machine's compute limit (issue 28): the FLOPs each must do, the rate this machine
reaches at those shapes, the share achieved, and where the rest goes. One run per command::

    python bench/stage_limits.py warmup [--steps 24] [--json-out F]
    python bench/stage_limits.py grpo [--model models/iter_1] [--data data/iter_2/train.parquet] [--steps 4]
    python bench/stage_limits.py decode --what evaluate|probe [--model models/iter_0] [--json-out F]

``warmup`` and ``grpo`` run the stages' own code (:func:`looptool.train.sft.run_warmup` with params.yaml's
``warmup`` section on the stage's inputs; :func:`looptool.train.grpo.train_grpo` with its ``train`` section), only
``max_steps`` replaced, into a temporary folder. ``decode`` runs the probe's engine
(:class:`looptool.llm.hf.HFBackend`) on the requests of ``probe@1`` (D_1, greedy, ``probe.max_new_tokens``) or of
``evaluate``'s held-out part (``eval.heldout_limit`` rows, ``eval.max_new_tokens``). Model loading, saving and
process start are outside the timed part and reported beside it.

**FLOPs a training step must do.** A forward hook on the trained model records, for every forward with gradients,
the batch's rows, padded length, real tokens and supervised positions (the tokens whose next-token label is not
-100: TRL's fused LM head scores only those, through :func:`looptool.compat.trl.compact_logprobs`). The FLOPs of a
forward + backward of one row of L tokens with c supervised positions are ``a * L + b * L^2 + g * c``: the
coefficients are counted, not derived, by :class:`torch.utils.flop_counter.FlopCounterMode` on the stage's own
model (LoRA and fused head included) at three small shapes, and checked at a fourth (printed). FlopCounterMode
counts matrix products (``mm``, ``addmm``, ``bmm``) and attention; attention is counted dense (torch's
convention; a causal kernel skips about half of it), and the CPU flash-attention kernels, which torch's counter
does not know, get the same formulas as the GPU ones. "Useful" FLOPs count each row at its own length; "done"
FLOPs at the batch's padded length, so their ratio is the padding cost.

**Rollouts and decoding** are counted as in ``bench/probe_engines.py`` (:func:`workload_flops`): prefill of every
distinct prompt (a GRPO group's prompt once: the engine prefills it once for its 4 completions), one decode step per
further token of every completion, plus the unmerged LoRA's ``2 r (in + out)`` per adapted linear and token where
the decoded model carries adapters.

**Rate at those shapes.** fp32, torch's threads: for training, every linear of the model as ``[M, in] x [in,
out]`` (forward) and ``[M, out] x [out, in]`` (the input gradient) at M = the median row length; for decoding, as
``probe_engines`` measures (M = the median prompt length for prefill; 8, 16, 64 rows for decode steps). The limit
is the FLOPs at the best of those rates; ``share = limit seconds / measured seconds``.

**Where the rest goes.** ``--profile-steps`` steps (after the first two) run under :mod:`torch.profiler`; each
op's self time is put in one of: matrix products, attention, other kernels (element-wise, reductions, optimizer,
copies: memory-bound), and the remainder of the steps' wall time (Python, autograd bookkeeping, TRL/transformers
glue). The profiled steps are not in the measured seconds' share figure (profiling slows them): their split is
reported as shares of their own time.

Time on a quiet machine: other load lowers the achieved rate and the measured GEMM rate by different amounts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("matmul", "attention", "other kernels", "python and glue")


def _probe_engines() -> Any:
    """bench/probe_engines.py as a module (its FLOP and GEMM-rate accounting is the one used here)."""
    spec = importlib.util.spec_from_file_location("probe_engines", ROOT / "bench" / "probe_engines.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- counting -------------------------------------------------------------------------------------------------


def _cpu_attention_formulas() -> dict[Any, Callable[..., int]]:
    """FlopCounterMode formulas for the CPU flash-attention ops (the GPU ops' formulas; torch has none for these)."""
    import torch
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

    aten = torch.ops.aten

    def fwd(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, **kwargs: Any) -> int:
        return sdpa_flop_count(query_shape, key_shape, value_shape)

    def bwd(
        grad_out_shape: Any, query_shape: Any, key_shape: Any, value_shape: Any, *a: Any, **k: Any
    ) -> int:
        return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)

    out: dict[Any, Callable[..., int]] = {}
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu"):
        out[aten._scaled_dot_product_flash_attention_for_cpu] = fwd
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu_backward"):
        out[aten._scaled_dot_product_flash_attention_for_cpu_backward] = bwd
    return out


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of ``fn()`` (matrix products and attention) as :class:`FlopCounterMode` counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False, custom_mapping=_cpu_attention_formulas()) as counter:
        fn()
    return int(counter.get_total_flops())


def fit_coefficients(points: list[tuple[int, int, int]]) -> tuple[float, float, float]:
    """(a, b, g) of ``flops = a L + b L^2 + g c`` through three (L, c, flops) points (exact solve).

    >>> fit_coefficients([(10, 2, 10 * 3 + 100 * 2 + 2 * 7), (20, 2, 20 * 3 + 400 * 2 + 2 * 7),
    ...                   (20, 5, 20 * 3 + 400 * 2 + 5 * 7)])
    (3.0, 2.0, 7.0)
    """
    import numpy as np

    a = np.array([[L, L * L, c] for L, c, _ in points], dtype=float)
    y = np.array([f for _, _, f in points], dtype=float)
    sol = np.linalg.solve(a, y)
    return tuple(round(float(x), 6) for x in sol)  # type: ignore[return-value]


def train_step_flops(coef: tuple[float, float, float], rows: list[dict[str, Any]]) -> dict[str, float]:
    """Useful and done FLOPs of the recorded forwards (each with ``lengths`` of its rows, ``padded`` length and
    ``supervised`` positions).

    >>> train_step_flops((1.0, 0.5, 10.0), [{"lengths": [4, 2], "padded": 4, "supervised": 3}])
    {'useful': 46.0, 'done': 54.0}
    """
    a, b, g = coef
    useful = done = 0.0
    for r in rows:
        useful += sum(a * L + b * L * L for L in r["lengths"]) + g * r["supervised"]
        done += len(r["lengths"]) * (a * r["padded"] + b * r["padded"] ** 2) + g * r["supervised"]
    return {"useful": useful, "done": done}


def lora_flops_per_token(model: Any) -> float:
    """``2 r (in + out)`` summed over the LoRA-adapted linears of ``model`` (0 without adapters)."""
    total = 0.0
    for m in model.modules():
        a, b = getattr(m, "lora_A", None), getattr(m, "lora_B", None)
        if a is None or b is None or not hasattr(a, "values"):
            continue
        for name, la in a.items():
            lb = b[name]
            total += 2.0 * (la.in_features * la.out_features + lb.in_features * lb.out_features)
    return total


def base_dims(model: Any) -> dict[str, Any]:
    """:func:`probe_engines.model_dims` of a (peft) model without its LoRA layers: the base linears and
    parameters only (the adapters' FLOPs are counted apart, :func:`lora_flops_per_token`)."""
    import torch

    dims = _probe_engines().model_dims(model)
    lora = [m for n, m in model.named_modules() if ".lora_A." in f"{n}." or ".lora_B." in f"{n}."]
    lora_linears = [(m.in_features, m.out_features) for m in lora if isinstance(m, torch.nn.Linear)]
    linears = list(dims["linears"])
    for shape in lora_linears:
        linears.remove(shape)
    lora_params = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
    return {
        **dims,
        "linears": linears,
        "p_ne": dims["p_ne"] - lora_params,
        "params": dims["params"] - lora_params,
    }


def train_gemm_rate(dims: dict[str, Any], m: int, reps: int = 3) -> float:
    """FLOP/s over the model's linear shapes at M = ``m`` rows, forward (``x W^T``) and input gradient (``dy W``),
    each distinct shape weighted by its count."""
    import collections

    import torch

    total_s = total_f = 0.0
    for (i, o), c in collections.Counter(dims["linears"]).items():
        w = torch.randn(o, i)
        for x, op in ((torch.randn(m, i), lambda x, w: x @ w.t()), (torch.randn(m, o), lambda x, w: x @ w)):
            op(x, w)
            best = float("inf")
            for _ in range(reps):
                t = time.perf_counter()
                for _ in range(max(1, min(c, 8))):
                    op(x, w)
                best = min(best, (time.perf_counter() - t) / max(1, min(c, 8)))
            total_s += best * c
            total_f += 2.0 * m * i * o * c
    return total_f / total_s


# --- recording ------------------------------------------------------------------------------------------------


class ForwardLog:
    """Forward pre-hook (with kwargs) recording the shapes of every forward run with gradients."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.handle: Any = None

    def attach(self, model: Any) -> None:
        if self.handle is None:
            self.handle = model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def detach(self) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None

    def _hook(self, module: Any, args: tuple, kwargs: dict) -> None:
        import torch

        if not torch.is_grad_enabled():
            return
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            return
        mask = kwargs.get("attention_mask")
        labels = kwargs.get("labels")
        lengths = mask.sum(-1).tolist() if mask is not None else [int(ids.shape[1])] * int(ids.shape[0])
        supervised = int((labels[:, 1:] != -100).sum()) if labels is not None else 0
        self.rows.append({"lengths": lengths, "padded": int(ids.shape[1]), "supervised": supervised})


def _category(name: str) -> str:
    if "scaled_dot_product" in name or "flash_attention" in name:
        return "attention"
    if name in ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_addmm_activation"):
        return "matmul"
    return "other kernels" if name.startswith("aten::") else "python and glue"


def profile_split(prof: Any, wall_s: float) -> dict[str, float]:
    """Shares of ``wall_s`` per category of :data:`CATEGORIES` (self time of aten ops; the rest of the wall time
    is Python and glue)."""
    secs = dict.fromkeys(CATEGORIES, 0.0)
    for ev in prof.key_averages():
        cat = _category(ev.key)
        if cat != "python and glue":
            secs[cat] += ev.self_cpu_time_total / 1e6
    kernels = sum(secs.values())
    secs["python and glue"] = max(0.0, wall_s - kernels)
    return {k: round(v / wall_s, 3) for k, v in secs.items()}


def top_ops(prof: Any, wall_s: float, n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` aten ops with the most self time in the profiled steps: name, category, share of ``wall_s``, calls."""
    evs = sorted(
        (ev for ev in prof.key_averages() if ev.key.startswith("aten::")),
        key=lambda ev: -ev.self_cpu_time_total,
    )
    return [
        {
            "op": ev.key,
            "category": _category(ev.key),
            "share": round(ev.self_cpu_time_total / 1e6 / wall_s, 3),
            "calls": int(ev.count),
        }
        for ev in evs[:n]
    ]


def step_callback(log: ForwardLog, profile_steps: int) -> Any:
    """TrainerCallback: attaches ``log`` to the model, times each optimizer step, and profiles steps 3 ..
    2 + ``profile_steps`` (their times are kept apart)."""
    from transformers import TrainerCallback

    class Steps(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.profiled: list[float] = []
            self.forwards_per_step: list[int] = []
            self.prof: Any = None
            self.t = 0.0
            self.n = 0

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            log.attach(model)

        def on_step_begin(self, args, state, control, **kwargs):
            step = state.global_step + 1
            if profile_steps and step == 3:
                from torch.profiler import ProfilerActivity, profile

                self.prof = profile(activities=[ProfilerActivity.CPU])
                self.prof.__enter__()
            self.n = len(log.rows)
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            dt = time.perf_counter() - self.t
            step = state.global_step
            self.forwards_per_step.append(len(log.rows) - self.n)
            if self.prof is not None and 3 <= step < 3 + profile_steps:
                self.profiled.append(dt)
                if step == 2 + profile_steps:
                    self.prof.__exit__(None, None, None)
                    self.split = profile_split(self.prof, sum(self.profiled))
                    self.top = top_ops(self.prof, sum(self.profiled))
                    self.prof = None
            else:
                self.times.append(dt)

        def on_train_end(self, args, state, control, model=None, **kwargs):
            log.detach()

    return Steps()


def calibrate(model: Any, vocab: int) -> dict[str, Any]:
    """FLOP coefficients of one training row (forward with the fused head, backward) on ``model`` as trained."""
    import torch

    def run(L: int, c: int) -> int:
        ids = torch.randint(0, vocab, (1, L))
        labels = torch.full((1, L), -100)
        labels[0, L - c :] = ids[0, L - c :]

        def step() -> None:
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, fused_lm_head=True)
            out.loss.backward()

        flops = count_flops(step)
        model.zero_grad(set_to_none=True)
        return flops

    was = model.training
    model.train()
    try:
        shapes = [(24, 4), (48, 4), (48, 12)]
        coef = fit_coefficients([(L, c, run(L, c)) for L, c in shapes])
        check_L, check_c = 64, 9
        measured = run(check_L, check_c)
    finally:
        model.train(was)
        model.zero_grad(set_to_none=True)
    predicted = train_step_flops(coef, [{"lengths": [check_L], "padded": check_L, "supervised": check_c}])
    return {"coef": coef, "check": {"L": check_L, "measured": measured, "predicted": predicted["useful"]}}


# --- output ---------------------------------------------------------------------------------------------------


def row(
    name: str, flops: float, secs: float, rate: float, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    limit = flops / rate
    return {
        "part": name,
        "tflop": round(flops / 1e12, 3),
        "seconds": round(secs, 2),
        "achieved_gflops": round(flops / secs / 1e9, 1) if secs else None,
        "rate_gflops": round(rate / 1e9, 1),
        "limit_s": round(limit, 2),
        "share": round(limit / secs, 3) if secs else None,
        **(extra or {}),
    }


def show(rows: list[dict[str, Any]], notes: list[str], json_out: str | None, extra: dict[str, Any]) -> None:
    click.echo("")
    click.echo(
        f"{'part':<34} {'TFLOP':>7} {'seconds':>8} {'GFLOP/s':>8} {'rate':>6} {'limit s':>8} {'share':>6}"
    )
    for r in rows:
        click.echo(
            f"{r['part']:<34} {r['tflop']:>7.3f} {r['seconds']:>8.1f} {r['achieved_gflops'] or 0:>8.1f} "
            f"{r['rate_gflops']:>6.0f} {r['limit_s']:>8.1f} {r['share'] or 0:>6.2f}"
        )
    for n in notes:
        click.echo(n)
    click.echo(f"load average at end: {os.getloadavg()}")
    if json_out:
        Path(json_out).write_text(json.dumps({"rows": rows, "notes": notes, **extra}, indent=1) + "\n")


def _params(path: str) -> dict[str, Any]:
    from looptool.config import load_params

    return load_params(path)


def calibrate_callback(holder: dict[str, Any]) -> Any:
    """TrainerCallback: at the end of training, on the trained model (LoRA and fused head in place), puts the FLOP
    coefficients (:func:`calibrate`) and the base model's dimensions (:func:`base_dims`) into ``holder``."""
    from transformers import TrainerCallback

    class Calibrate(TrainerCallback):
        def on_train_end(self, args, state, control, model=None, **kwargs):
            holder["cal"] = calibrate(model, model.get_input_embeddings().weight.shape[0])
            holder["dims"] = base_dims(model)

    return Calibrate()


@click.group()
def cli() -> None:
    """Per-stage FLOPs, rate at the stage's shapes, share of the limit, and where the rest goes."""


@cli.command()
@click.option("--model", default="models/base", show_default=True)
@click.option("--pool", default="data/seed/pool.parquet", show_default=True)
@click.option(
    "--heldout", default="data/seed/dev.parquet", show_default=True, help="As the stage: dev split."
)
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--steps", type=int, default=None, help="warmup.max_steps (default: the params').")
@click.option("--profile-steps", type=int, default=2, show_default=True)
@click.option("--json-out", default=None)
def warmup(model, pool, heldout, params_path, steps, profile_steps, json_out) -> None:
    """The warm-up (SFT with LoRA) against its limit."""
    import torch

    from looptool.stage import deep_merge, section_config
    from looptool.train.config import WarmupConfig
    from looptool.train.sft import run_warmup

    click.echo(f"load average at start: {os.getloadavg()}; torch threads {torch.get_num_threads()}")
    params = _params(params_path)
    over = {"max_steps": steps} if steps else {}
    cfg = section_config(
        WarmupConfig, "warmup", params={"warmup": deep_merge(params.get("warmup") or {}, over)}
    )
    log = ForwardLog()
    cb = step_callback(log, profile_steps)
    holder: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="stage-limits-") as tmp:
        t = time.perf_counter()
        m = run_warmup(
            model=model,
            pool=pool,
            heldout=heldout,
            out=Path(tmp) / "iter_0",
            cfg=cfg,
            callbacks=[cb, calibrate_callback(holder)],
        )
        stage_s = time.perf_counter() - t
    _report_training("warm-up", m, log, cb, holder, stage_s, json_out, profile_steps)


def _report_training(
    name: str,
    m: dict[str, Any],
    log: ForwardLog,
    cb: Any,
    holder: dict[str, Any],
    stage_s: float,
    json_out: str | None,
    profile_steps: int,
    rollouts: dict[str, Any] | None = None,
) -> None:
    cal, dims = holder["cal"], holder["dims"]
    per_step = cb.forwards_per_step
    unprofiled = [i for i, _ in enumerate(per_step) if not (profile_steps and 3 <= i + 1 < 3 + profile_steps)]
    rows_by_step: list[list[dict[str, Any]]] = []
    k = 0
    for n in per_step:
        rows_by_step.append(log.rows[k : k + n])
        k += n
    kept = [r for i in unprofiled for r in rows_by_step[i]]
    fl = train_step_flops(cal["coef"], kept)
    lengths = [L for r in log.rows for L in r["lengths"]]
    # GRPO skips the loss of a step whose groups all had equal rewards: such a step records no forward
    med = int(statistics.median(lengths or (rollouts or {}).get("prompt_lengths") or [1]))
    rate = train_gemm_rate(dims, med)
    loop_s = sum(cb.times)
    secs_loss = loop_s - (rollouts["seconds"] if rollouts else 0.0)
    rows = [
        row(
            f"{name}: forward + backward (done)",
            fl["done"],
            secs_loss,
            rate,
            {
                "useful_tflop": round(fl["useful"] / 1e12, 3),
                "padding_share": round(1 - fl["useful"] / fl["done"], 3) if fl["done"] else None,
            },
        )
    ]
    if rollouts:
        rows.append(
            row(f"{name}: rollouts (decode)", rollouts["flops"], rollouts["seconds"], rollouts["rate"])
        )
        whole = fl["done"] + rollouts["flops"]
        limit_s = fl["done"] / rate + rollouts["flops"] / rollouts["rate"]
        rows.append(row(f"{name}: whole steps", whole, loop_s, whole / limit_s))
    notes = [
        f"steps with a loss forward: {sum(1 for n in per_step if n)} of {len(per_step)}",
        f"steps timed: {len(cb.times)} ({loop_s:.1f} s; {statistics.mean(cb.times):.2f} s/step); profiled: "
        f"{len(cb.profiled)} ({sum(cb.profiled):.1f} s)",
        f"rows: {len(lengths)}, tokens: {sum(lengths)}, median length {med}, padded tokens "
        f"{sum(len(r['lengths']) * r['padded'] for r in log.rows)}, supervised positions "
        f"{sum(r['supervised'] for r in log.rows)}",
        f"FLOPs per row = {cal['coef'][0]:.4g} L + {cal['coef'][1]:.4g} L^2 + {cal['coef'][2]:.4g} c "
        f"(FlopCounterMode; at L={cal['check']['L']}: counted {cal['check']['measured']:.4g}, formula "
        f"{cal['check']['predicted']:.4g})",
        f"rate at M={med} (forward and input-gradient GEMMs of every linear): {rate / 1e9:.0f} GFLOP/s",
        f"stage call {stage_s:.1f} s, of which the timed steps {loop_s + sum(cb.profiled):.1f} s; the rest is "
        "model loading, dataset preparation, the before/after loss, merging and saving",
    ]
    if getattr(cb, "split", None):
        notes.append(
            "profiled steps, share of their time: " + ", ".join(f"{k} {v:.0%}" for k, v in cb.split.items())
        )
        notes.append(
            "top ops (self time, share of the profiled steps): "
            + "; ".join(f"{o['op']} {o['share']:.0%} ({o['calls']} calls)" for o in cb.top)
        )
    extra = {"profile_split": getattr(cb, "split", None), "top_ops": getattr(cb, "top", None)}
    show(rows, notes, json_out, {**extra, "metrics_wall_s": m.get("wall_s")})


@cli.command()
@click.option(
    "--model", default="models/iter_1", show_default=True, help="GRPO@2's start (GRPO@1 has no signal)."
)
@click.option("--data", default="data/iter_2/train.parquet", show_default=True)
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--steps", type=int, default=None, help="train.max_steps (default: the params').")
@click.option("--seed", type=int, default=2, show_default=True, help="GRPO@2's training seed.")
@click.option("--profile-steps", type=int, default=0, show_default=True)
@click.option("--json-out", default=None)
def grpo(model, data, params_path, steps, seed, profile_steps, json_out) -> None:
    """GRPO steps (rollouts, loss, backward, update) against their limit."""
    import torch

    import looptool.train.rollouts as rollouts_mod
    from looptool.stage import deep_merge, section_config
    from looptool.train.config import TrainConfig
    from looptool.train.grpo import train_grpo

    pe = _probe_engines()
    click.echo(f"load average at start: {os.getloadavg()}; torch threads {torch.get_num_threads()}")
    params = _params(params_path)
    over: dict[str, Any] = {"seed": seed, "save_steps": 0, "resume": False}
    if steps:
        over["max_steps"] = steps
    cfg = section_config(TrainConfig, "train", params={"train": deep_merge(params.get("train") or {}, over)})
    if cfg.method != "grpo" or cfg.rollouts != "engine":
        raise click.UsageError(f"{params_path}: train.method grpo with rollouts engine needed")
    log = ForwardLog()
    cb = step_callback(log, profile_steps)
    decoded: dict[str, Any] = {"calls": [], "lora": 0.0}
    original = rollouts_mod.rollout_kwargs

    def timed_kwargs(rollouts: str, hook: Any = None) -> dict[str, Any]:
        kw = original(rollouts, hook)
        inner = kw["rollout_func"]

        def func(prompts: Any, trainer: Any) -> Any:
            t = time.perf_counter()
            out = inner(prompts, trainer)
            decoded["calls"].append(
                {
                    "step": int(trainer.state.global_step) + 1,
                    "seconds": time.perf_counter() - t,
                    "prompt": [len(p) for p in out["prompt_ids"]],
                    # a group's prompt needs one prefill (the engine does one): count distinct prompts once
                    "unique": [len(p) for p in {tuple(p): None for p in out["prompt_ids"]}],
                    "gen": [len(c) for c in out["completion_ids"]],
                }
            )
            decoded["lora"] = lora_flops_per_token(trainer.model)
            return out

        return {**kw, "rollout_func": func}

    holder: dict[str, Any] = {}
    rollouts_mod.rollout_kwargs = timed_kwargs
    try:
        with tempfile.TemporaryDirectory(prefix="stage-limits-") as tmp:
            t = time.perf_counter()
            m = train_grpo(
                model=model,
                data=data,
                out=Path(tmp) / "out",
                cfg=cfg,
                callbacks=[cb, calibrate_callback(holder)],
            )
            stage_s = time.perf_counter() - t
    finally:
        rollouts_mod.rollout_kwargs = original
    dims = holder["dims"]
    profiled = set(range(3, 3 + profile_steps)) if profile_steps else set()
    calls = [c for c in decoded["calls"] if c["step"] not in profiled]
    prompt = [x for c in calls for x in c["prompt"]]
    gen = [x for c in calls for x in c["gen"]]
    unique = [x for c in calls for x in c["unique"]]
    # prefill: each distinct prompt once; decode: every completion's further tokens at its own context
    fl = {
        **pe.workload_flops(dims, prompt, gen),
        **{
            k: v
            for k, v in pe.workload_flops(dims, unique, [1] * len(unique)).items()
            if k.startswith("prefill")
        },
    }
    lora = decoded["lora"] * (sum(unique) + sum(gen))
    med = int(statistics.median(prompt))
    flops = sum(fl.values()) + lora
    limit = pe.decode_limit(dims, fl, med, (4, 8, 16), extra_decode=lora)["limit_s"]
    ro = {
        "seconds": sum(c["seconds"] for c in calls),
        "flops": flops,
        "rate": flops / limit,
        "prompt_lengths": prompt,
    }
    click.echo(
        f"rollouts (timed steps): {len(gen)} completions of {len(unique)} distinct prompts (prefilled once each), "
        f"{sum(gen)} tokens, prompts median {med}; "
        f"{ro['seconds']:.1f} s; LoRA {decoded['lora'] / 1e6:.2f} MFLOP per token"
    )
    _report_training("GRPO", m, log, cb, holder, stage_s, json_out, profile_steps, rollouts=ro)


@cli.command()
@click.option("--what", type=click.Choice(["evaluate", "probe"]), default="evaluate", show_default=True)
@click.option("--model", default="models/iter_0", show_default=True)
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option(
    "--data", default=None, help="probe: D_1 (data/iter_1/train.parquet); evaluate: the test split."
)
@click.option("--json-out", default=None)
def decode(what, model, params_path, data, json_out) -> None:
    """Evaluate's held-out decoding, or probe@1's, against its limit (the probe's engine, as the stage runs it)."""
    import polars as pl
    import torch

    from looptool.llm import BackendConfig, Sampling
    from looptool.llm.hf import HFBackend
    from looptool.model import resolve_model
    from looptool.stage import section_config

    pe = _probe_engines()
    click.echo(f"load average at start: {os.getloadavg()}; torch threads {torch.get_num_threads()}")
    student = section_config(BackendConfig, "backends.student", params_path)
    if what == "probe":  # the stages' own configs (their defaults) and request builders
        from looptool.probe import ProbeConfig, requests_for

        data = data or "data/iter_1/train.parquet"
        requests = requests_for(pl.read_parquet(data))
        max_new = section_config(ProbeConfig, "probe", params_path).max_new_tokens
    else:
        from looptool.evaluate import heldout
        from looptool.evaluate.run import EvalConfig

        data = data or "data/seed/heldout.parquet"
        ev = section_config(EvalConfig, "eval", params_path)
        requests = heldout.requests_for(heldout.load(data, ev.heldout_limit))
        max_new = ev.max_new_tokens
    t = time.perf_counter()
    backend = HFBackend(resolve_model(model), BackendConfig(batch_size=student.batch_size, cache=False))
    load_s = time.perf_counter() - t
    prompts = [backend.prompt_ids(r) for r in requests]
    parts = pe.timed_parts(backend)
    t = time.perf_counter()
    got = backend.generate(
        requests, Sampling(max_new_tokens=max_new, temperature=0.0, logprobs=what == "probe")
    )
    secs = time.perf_counter() - t
    bad = [c.error for c in got if not c.ok]
    if bad:  # a failed request decodes nothing: its FLOPs would be missing from the figure
        raise click.ClickException(f"{what}: {len(bad)} of {len(got)} requests failed, first: {bad[0]}")
    dims = pe.model_dims(backend.lm)
    lens = [len(p) for p in prompts]
    gen = [min(len(pe.strip_eos(c.token_ids, backend.eos_ids)) + 1, max_new) for c in got]
    fl = pe.workload_flops(dims, lens, gen)
    med = int(statistics.median(lens))
    lim = pe.decode_limit(dims, fl, med, (8, 16, 64))
    flops = sum(fl.values())
    pre, dec = lim["prefill_rate"], lim["decode_rate"]
    rows = [row(f"{what}: decode ({len(requests)} requests)", flops, secs, flops / lim["limit_s"])]
    notes = [
        f"data {data}; {len(requests)} requests, prompt tokens {sum(lens)} (median {med}), generated {sum(gen)}, "
        f"max_new_tokens {max_new}; model loading {load_s:.1f} s (not in the table)",
        "engine phases: " + ", ".join(f"{k} {v[0]:.1f} s ({v[1]} calls)" for k, v in parts.items()),
        f"rates: prefill M={med} {pre / 1e9:.0f} GFLOP/s, decode best {dec / 1e9:.0f} GFLOP/s",
    ]
    show(rows, notes, json_out, {"flops": fl})


if __name__ == "__main__":
    sys.exit(cli())
