"""Does training help? ToolMatch accuracy of greedy decoding on held-out samples, before and after training.

Default run (the embedded SmolLM2-135M on CPU): SFT warm-up on the pool -> model_0, GRPO on D_1 -> model_1,
with the ``warmup`` / ``train`` sections of params.yaml (steps overridable), then greedy decoding of the same
N held-out samples with base, model_0 and model_1. Prints accuracy (exact calls), right-function rate and
parse-error rate per model. Heavy: run it under the heavy lock on shared machines::

    flock /tmp/looptool-heavy.lock python bench/train_gain.py --base models/base \\
        --pool data/seed/pool.parquet --train data/iter_1/train.parquet --heldout data/seed/heldout.parquet

or compare checkpoints that exist: ``--models base=models/base after=models/iter_2``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click


def _decode_transformers(
    model_dir: str, samples: list[dict[str, Any]], batch_size: int, max_new_tokens: int
) -> list[str]:
    """Greedy, batched (left padding) decoding with transformers ``generate``."""
    import torch

    from looptool.model import load_causal_lm, load_tokenizer
    from looptool.prompts import render_prompt

    tok = load_tokenizer(model_dir, padding_side="left")
    model = load_causal_lm(model_dir, device="cpu")
    texts = [render_prompt(tok, s["tools"], s["messages"]) for s in samples]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[str] = [""] * len(texts)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tok([texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            gen = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
        for i, row in zip(idx, gen[:, enc["input_ids"].shape[1] :], strict=True):
            out[i] = tok.decode(row, skip_special_tokens=True)
    return out


def decode(model_dir: str, samples: list[dict[str, Any]], batch_size: int, max_new_tokens: int) -> list[str]:
    """Greedy outputs, through ``looptool.llm.get_backend`` (transformers backend) when it is available."""
    try:
        from looptool.llm import get_backend
    except ImportError:
        return _decode_transformers(model_dir, samples, batch_size, max_new_tokens)
    from looptool.llm.base import Request, Sampling
    from looptool.llm.config import BackendConfig

    requests = [Request.chat(s["messages"], s["tools"], key=s["sample_id"]) for s in samples]
    with get_backend(
        BackendConfig(backend="transformers", batch_size=batch_size, device="cpu"), model=model_dir
    ) as b:
        comps = b.generate(requests, Sampling(max_new_tokens=max_new_tokens))
    return [c.text for c in comps]


def score(samples: list[dict[str, Any]], outputs: list[str]) -> dict[str, Any]:
    """ToolMatch accuracy over all samples, and separately over samples whose label makes calls and samples
    that should be answered in text (a model that never calls scores on the latter only); ``by_kind``: the same
    split with n and 95% intervals, function-name accuracy and argument F1 on the call rows, and the never-call
    score (:func:`looptool.evaluate.heldout.by_kind`)."""
    from looptool.calls import parse
    from looptool.evaluate.heldout import by_kind, row_figures
    from looptool.match import tool_match

    rows = []
    errors = 0
    for s, text in zip(samples, outputs, strict=True):
        p = parse(text)
        rows.append(row_figures(s["label"], s["tools"], p, tool_match(p, s["label"], s["tools"])))
        errors += p.error is not None
    n = len(samples)
    kinds = by_kind(rows)
    call, text = kinds["call_rows"], kinds["no_call_rows"]
    return {
        "toolmatch": sum(r["correct"] for r in rows) / n,
        "toolmatch_calls": call["accuracy"],
        "toolmatch_text": text["accuracy"],
        "n_calls": call["n"],
        "n_text": text["n"],
        "right_functions": sum(r["names"] for r in rows) / n,
        "parse_errors": errors / n,
        "by_kind": kinds,
    }


def _fmt(fig: dict[str, Any]) -> str:
    v = fig.get("mean", fig.get("accuracy"))
    if v is None:
        return f"- (n={fig['n']})"
    return f"{v:.3f} [{fig['ci95'][0]:.3f}, {fig['ci95'][1]:.3f}] (n={fig['n']})"


@click.command()
@click.option("--base", default="models/base", show_default=True, help="Base checkpoint.")
@click.option("--pool", default="data/seed/pool.parquet", show_default=True)
@click.option("--train", "train_path", default="data/iter_1/train.parquet", show_default=True, help="D_1.")
@click.option("--heldout", default="data/seed/heldout.parquet", show_default=True)
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--work", default="/tmp/looptool-train-gain", show_default=True, help="Where the models go.")
@click.option("-n", "n", default=64, show_default=True, help="Held-out samples decoded per model.")
@click.option("--warmup-steps", type=int, default=None, help="Override warmup.max_steps.")
@click.option("--grpo-steps", type=int, default=None, help="Override train.max_steps.")
@click.option(
    "--models", "models", multiple=True, help="NAME=PATH: only evaluate these checkpoints (no training)."
)
@click.option("--batch-size", default=8, show_default=True)
@click.option("--max-new-tokens", default=96, show_default=True)
@click.option("--json-out", default=None, help="Also write the figures to this JSON file.")
def main(
    base,
    pool,
    train_path,
    heldout,
    params_path,
    work,
    n,
    warmup_steps,
    grpo_steps,
    models,
    batch_size,
    max_new_tokens,
    json_out,
) -> None:
    from looptool.schema import SAMPLE, rows
    from looptool.stage import section_config, write_metrics
    from looptool.train import TrainConfig, WarmupConfig, run_warmup, train_grpo
    from looptool.train.data import read_samples

    held = read_samples(heldout, SAMPLE, max_samples=n, seed=0)  # a seeded random subset
    samples = rows(held, ["tools", "messages", "label"])
    results: dict[str, Any] = {"heldout": heldout, "n": len(samples), "models": {}, "train": {}}
    if models:
        targets = dict(m.split("=", 1) for m in models)
    else:
        work_dir = Path(work)
        wcfg = section_config(WarmupConfig, "warmup", params_path)
        tcfg = section_config(TrainConfig, "train", params_path, key="1")
        if warmup_steps is not None:
            wcfg.max_steps = warmup_steps
        if grpo_steps is not None:
            tcfg.max_steps = grpo_steps
        wm = run_warmup(model=base, pool=pool, out=work_dir / "iter_0", heldout=heldout, cfg=wcfg)
        write_metrics(wm, work_dir / "warmup.json")
        tm = train_grpo(
            model=work_dir / "iter_0", data=train_path, out=work_dir / "iter_1", cfg=tcfg, iteration=1, seed=1
        )
        write_metrics(tm, work_dir / "train_1.json")
        results["train"] = {
            "warmup": {
                k: wm.get(k)
                for k in (
                    "steps",
                    "loss_first",
                    "loss_last",
                    "heldout_loss_before",
                    "heldout_loss_after",
                    "wall_s",
                )
            },
            "grpo": {
                k: tm.get(k)
                for k in (
                    "steps",
                    "reward_first",
                    "reward_last",
                    "reward_mean",
                    "zero_std_frac_mean",
                    "wall_s",
                )
            },
            "grpo_series": tm.get("series"),
        }
        click.echo(f"warm-up: {results['train']['warmup']}")
        click.echo(f"GRPO:    {results['train']['grpo']}")
        targets = {"base": base, "warmup": str(work_dir / "iter_0"), "warmup+grpo": str(work_dir / "iter_1")}
    for name, path in targets.items():
        t = time.perf_counter()
        outputs = decode(str(path), samples, batch_size, max_new_tokens)
        figures = score(samples, outputs)
        figures["decode_s"] = round(time.perf_counter() - t, 1)
        results["models"][name] = figures
        call = figures["by_kind"]["call_rows"]
        f1 = call["arg_f1"]
        click.echo(
            f"{name:>12}: call rows ToolMatch {_fmt(call)}  names {_fmt(call['names'])}  argument F1 "
            f"{_fmt(f1)}; no-call rows {_fmt(figures['by_kind']['no_call_rows'])}; all {figures['toolmatch']:.3f} "
            f"(never-call score {figures['by_kind']['never_call']['accuracy']})  right functions "
            f"{figures['right_functions']:.3f}  parse errors {figures['parse_errors']:.3f}  ({figures['decode_s']} s)"
        )
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
