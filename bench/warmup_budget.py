"""How many warm-up steps does the demo need? One SFT warm-up run, snapshots at chosen steps, each scored on a
dev split.

    python bench/warmup_budget.py --steps 24,32,40 [-n 48] [--json-out FILE]

Runs the ``warmup`` section of params.yaml (its ``max_steps`` replaced by the largest of ``--steps``) once,
saving the LoRA adapter at each smaller step; every snapshot is merged into the base and greedy-decoded on
``-n`` **dev** samples: a seeded subset of ``data/seed/dev.parquet`` (the seed's dev split, from domains that
are neither the pool's nor the test split's; ``seed.dev_domains`` > 0 makes it), so choosing the step count
never looks at the test split; the warm-up's before/after loss is measured on the dev split too. Prints per snapshot: ToolMatch (all, call samples, text samples), the share of samples answered
with a call, right functions, parse errors, and the training seconds up to that step (wall clock of this run:
compare them as ratios, or run it under the CPU lock for absolute figures).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import click


def dev_samples(dev_path: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` rows of the dev split (a seeded choice)."""
    from looptool.schema import SAMPLE, rows
    from looptool.storage import connect, query, read_parquet

    rest = read_parquet(dev_path, SAMPLE)
    if rest.height == 0:
        raise click.ClickException(
            f"{dev_path}: the dev split is empty; set seed.dev_domains > 0 and re-run the seed stage"
        )
    con = connect()
    try:
        con.register("r", rest)
        dev = query(
            "SELECT * FROM r ORDER BY md5(sample_id || ':dev:' || $seed) LIMIT $n",
            {"seed": str(seed), "n": n},
            con=con,
        )
    finally:
        con.close()
    out = rows(dev, ["tools", "messages", "label"])  # decoded from JSON; sample_id stays text
    return out


def decode(model_dir: str, samples: list[dict[str, Any]], batch_size: int, max_new_tokens: int) -> list[str]:
    """Greedy outputs through the project's transformers backend, call cache off (so the seconds are real)."""
    from looptool.llm import get_backend
    from looptool.llm.base import Request, Sampling
    from looptool.llm.config import BackendConfig

    requests = [Request.chat(s["messages"], s["tools"], key=s["sample_id"]) for s in samples]
    cfg = BackendConfig(backend="transformers", batch_size=batch_size, device="cpu", cache=False)
    with get_backend(cfg, model=model_dir) as b:
        return [c.text for c in b.generate(requests, Sampling(max_new_tokens=max_new_tokens))]


def _snapshot_callback(steps: set[int], where: Path, clock: dict[int, float]):
    from transformers import TrainerCallback

    class Snapshot(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            clock[0] = time.perf_counter()

        def on_step_end(self, args, state, control, model=None, **kwargs):
            clock[state.global_step] = time.perf_counter()
            if state.global_step in steps and model is not None:
                model.save_pretrained(str(where / f"step_{state.global_step}.adapter"))

    return Snapshot()


def _merge(base: str, adapter: Path, out: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from looptool.model import resolve_model

    model = AutoModelForCausalLM.from_pretrained(resolve_model(base), dtype=torch.float32)
    PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().save_pretrained(out)
    AutoTokenizer.from_pretrained(resolve_model(base)).save_pretrained(out)


@click.command()
@click.option("--steps", default="24,32,40", show_default=True, help="Snapshot steps (the largest is run).")
@click.option("--base", default="models/base", show_default=True)
@click.option("--pool", default="data/seed/pool.parquet", show_default=True)
@click.option("--dev", "dev_path", default="data/seed/dev.parquet", show_default=True, help="The dev split.")
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--work", default="/tmp/looptool-warmup-budget", show_default=True)
@click.option("-n", "n", default=48, show_default=True, help="Dev samples decoded per snapshot.")
@click.option("--batch-size", default=16, show_default=True)
@click.option("--max-new-tokens", default=96, show_default=True)
@click.option(
    "--compare-batch",
    type=int,
    default=None,
    help="Also decode the last snapshot at this batch size: seconds of both, and whether the outputs agree.",
)
@click.option("--with-base", is_flag=True, help="Also decode the base (step 0).")
@click.option("--json-out", default=None)
def main(
    steps,
    base,
    pool,
    dev_path,
    params_path,
    work,
    n,
    batch_size,
    max_new_tokens,
    compare_batch,
    with_base,
    json_out,
) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from train_gain import score

    from looptool.stage import section_config
    from looptool.train import WarmupConfig, run_warmup

    wanted = sorted({int(s) for s in steps.split(",") if s.strip()})
    if not wanted or wanted[0] < 1:
        raise click.BadParameter("give positive step counts, e.g. 24,32,40", param_hint="--steps")
    samples = dev_samples(dev_path, n)
    wcfg = section_config(WarmupConfig, "warmup", params_path)
    wcfg.max_steps = wanted[-1]
    work_dir = Path(work)
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    clock: dict[int, float] = {}
    cb = _snapshot_callback(set(wanted[:-1]), work_dir, clock)
    m = run_warmup(
        model=base, pool=pool, out=work_dir / f"step_{wanted[-1]}", heldout=dev_path, cfg=wcfg, callbacks=[cb]
    )
    results: dict[str, Any] = {
        "dev_n": len(samples),
        "dev_path": dev_path,
        "warmup": {
            k: m.get(k)
            for k in (
                "steps",
                "loss_first",
                "loss_last",
                "heldout_loss_before",
                "heldout_loss_after",
                "train_runtime_s",
                "wall_s",
            )
        },
        "snapshots": {},
    }
    targets = {0: base} if with_base else {}
    for s in wanted[:-1]:
        _merge(base, work_dir / f"step_{s}.adapter", work_dir / f"step_{s}")
        targets[s] = str(work_dir / f"step_{s}")
    targets[wanted[-1]] = str(work_dir / f"step_{wanted[-1]}")
    click.echo(f"dev: {len(samples)} rows of {dev_path}; warm-up {results['warmup']}")
    click.echo(
        f"{'steps':>5} {'train_s':>8} {'ToolMatch':>9} {'calls':>6} {'text':>6} {'calling':>8} "
        f"{'right_fn':>8} {'parse_err':>9}"
    )
    last_outputs: list[str] = []
    for s, path in targets.items():
        t = time.perf_counter()
        outputs = decode(path, samples, batch_size, max_new_tokens)
        decode_s = round(time.perf_counter() - t, 1)
        last_outputs = outputs
        f = score(samples, outputs)
        from looptool.calls import parse

        f["calling"] = sum(bool(parse(o).calls) for o in outputs) / len(outputs)
        f["train_s"] = round(clock[s] - clock[0], 1) if s in clock and 0 in clock and s else 0.0
        f["decode_s"] = decode_s
        results["snapshots"][s] = f
        fmt = lambda v: f"{v:.3f}" if v is not None else "-"  # noqa: E731
        click.echo(
            f"{s:>5} {f['train_s']:>8} {fmt(f['toolmatch']):>9} {fmt(f['toolmatch_calls']):>6} "
            f"{fmt(f['toolmatch_text']):>6} {fmt(f['calling']):>8} {fmt(f['right_functions']):>8} "
            f"{fmt(f['parse_errors']):>9}"
        )
    click.echo(
        f"(calls: ToolMatch on the {f['n_calls']} samples whose label calls; text: on the {f['n_text']} that "
        "should be answered in text; calling: share answered with a call)"
    )
    if compare_batch:
        t = time.perf_counter()
        other = decode(targets[wanted[-1]], samples, compare_batch, max_new_tokens)
        other_s = round(time.perf_counter() - t, 1)
        same = sum(a == b for a, b in zip(last_outputs, other, strict=True))
        results["compare_batch"] = {
            "batch_sizes": [batch_size, compare_batch],
            "decode_s": [results["snapshots"][wanted[-1]]["decode_s"], other_s],
            "same_outputs": same,
        }
        click.echo(
            f"step {wanted[-1]} model, {len(samples)} dev prompts: batch {batch_size} "
            f"{results['snapshots'][wanted[-1]]['decode_s']} s, batch {compare_batch} {other_s} s; "
            f"identical outputs {same}/{len(samples)}"
        )
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
