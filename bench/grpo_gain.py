"""Held-out ToolMatch against GRPO steps: one GRPO run with checkpoints on a grid chosen in advance, each
evaluated greedily on the same held-out rows (issue 13; grid and settings in docs/efficacy/GRPO_GAIN.md).

Three commands, meant to run at the same time (evaluation picks up each checkpoint as soon as it is saved, so a
run cut short still yields the points it reached)::

    python bench/grpo_gain.py train --model models/iter_0 --data data/iter_1/train.parquet --work W
    python bench/grpo_gain.py evaluate --model models/iter_0 --heldout data/seed/heldout.parquet --work W
    python bench/grpo_gain.py report --work W --out docs/efficacy/grpo_gain.json

``train`` runs :func:`looptool.train.grpo.train_grpo` (the ``train@j`` stage's code) with the ``train`` section
of ``--params`` and only ``max_steps`` replaced, and saves the LoRA adapter at every step of ``--grid`` under
``W/step_<N>/adapter`` (a peft folder over the start model, which the project's backends load merged), plus one
JSON line per logged step (reward, zero-advantage fraction, step time) in ``W/series.jsonl`` and the process's
wall and CPU seconds at each save. ``evaluate`` decodes step 0 (the start model) and then each saved adapter,
writing ``W/eval_step_<N>.json`` with per-row ToolMatch, function names and argument F1. ``report`` turns them into
accuracy with Wilson 95% intervals and differences to step 0 with paired bootstrap 95% intervals
(:mod:`looptool.stats`), overall and split into call rows (the primary figure) and no-call rows, with the score a
model that never calls would get.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import click

SELECT_SALT = "grpo_gain:"
SERIES = {
    "reward": "reward",
    "zero_std_frac": "frac_reward_zero_std",
    "step_time": "step_time",
    "completion_length": "completions/mean_length",
}


def _cpu_s() -> float:
    """CPU seconds of this process (all threads) and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 1)


NO_CALL_PATTERNS = ("irrelevant", "missing_arg")
"""Patterns whose right answer is a text reply, not a call (as ``docs/efficacy/analyze.py`` splits them): how
evaluation files written before rows carried ``call_row`` (label non-empty) are split."""


def _is_call_row(r: dict[str, Any]) -> bool:
    return bool(r["call_row"]) if "call_row" in r else r["pattern"] not in NO_CALL_PATTERNS


def _by_kind(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Evaluation rows split into those whose answer is a call and those whose answer is text."""
    return {
        "call": [r for r in rows if _is_call_row(r)],
        "no_call": [r for r in rows if not _is_call_row(r)],
    }


def _kind_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Call rows (primary; function names and argument F1 where the rows carry them) and no-call rows, each with
    n and a 95% interval, and the never-call score (:func:`looptool.evaluate.heldout.by_kind`)."""
    from looptool.evaluate.heldout import by_kind

    full = all("names" in r and "arg_f1" in r for r in rows)
    figs = by_kind(
        {
            "call_row": _is_call_row(r),
            "correct": r["correct"],
            "names": r.get("names", False),
            "arg_f1": r.get("arg_f1", 0.0),
        }
        for r in rows
    )
    if not full:  # an evaluation file from before the rows carried them
        figs["call_rows"] = {k: v for k, v in figs["call_rows"].items() if k not in ("names", "arg_f1")}
    return figs


def _grid(text: str) -> list[int]:
    steps = sorted({int(x) for x in text.split(",") if x.strip()})
    if not steps or steps[0] < 1:
        raise click.BadParameter("grid: positive step numbers, e.g. 4,8,16,32", param_hint="--grid")
    return steps


def select_rows(heldout_path: str | Path, per_pattern: int, exclude_limit: int | None) -> Any:
    """The evaluation rows: the held-out file minus ``evaluate``'s default subset (``heldout.load(path,
    exclude_limit)``), then per ``meta.pattern`` the first ``per_pattern`` rows by md5(SELECT_SALT + sample_id).
    A pattern with fewer rows gives all it has. Deterministic: independent of file order."""
    import polars as pl

    from looptool import storage
    from looptool.evaluate import heldout

    df = heldout.load(heldout_path)
    if exclude_limit:
        default = set(heldout.load(heldout_path, exclude_limit)["sample_id"].to_list())
        df = df.filter(~pl.col("sample_id").is_in(default))
    con = storage.connect()
    try:
        con.register("h", df.select("sample_id", "meta").to_arrow())
        keep = storage.query(
            """
            SELECT sample_id, pattern FROM (
                SELECT sample_id,
                       coalesce(try(json_extract_string(meta, '$.pattern')), '?') AS pattern,
                       row_number() OVER (
                           PARTITION BY coalesce(try(json_extract_string(meta, '$.pattern')), '?')
                           ORDER BY md5($salt || sample_id)
                       ) AS r
                FROM h
            ) WHERE r <= $k ORDER BY pattern, sample_id
            """,
            {"salt": SELECT_SALT, "k": int(per_pattern)},
            con=con,
        )
    finally:
        con.close()
    order = keep["sample_id"].to_list()
    rows = {sid: r for sid, r in zip(df["sample_id"].to_list(), df.iter_rows(named=True), strict=True)}
    return [rows[sid] | {"pattern": p} for sid, p in zip(order, keep["pattern"].to_list(), strict=True)]


def evaluate_model(
    model: str, rows: list[dict[str, Any]], batch_size: int, max_new_tokens: int
) -> list[dict]:
    """Greedy decoding through the project's transformers backend (no call cache), ToolMatch per row."""
    from looptool.calls import parse
    from looptool.evaluate import heldout
    from looptool.llm import get_backend
    from looptool.llm.base import Request, Sampling
    from looptool.llm.config import BackendConfig

    requests = [
        Request.chat(json.loads(r["messages"]), json.loads(r["tools"]), key=f"heldout/{r['sample_id']}")
        for r in rows
    ]
    cfg = BackendConfig(backend="transformers", batch_size=batch_size, device="cpu", cache=False)
    with get_backend(cfg, model=model) as b:
        comps = b.generate(requests, Sampling(max_new_tokens=max_new_tokens))
    out = []
    for r, c in zip(rows, comps, strict=True):
        parsed = parse(c.text)
        ok = bool(heldout.score(parsed, r["label"], r["tools"]))
        fig = heldout.row_figures(r["label"], r["tools"], parsed, ok)
        out.append({"sample_id": r["sample_id"], "pattern": r["pattern"], **fig, "text": c.text})
    return out


def rollouts_total(metrics: dict[str, Any], cfg: Any) -> int:
    """Completions decoded over a run: each step's batch, plus ``num_generations`` for every prompt dynamic
    sampling drew as a replacement (``bench/grpo_signal.py`` counts a step's rollouts the same way).

    >>> from types import SimpleNamespace as NS
    >>> cfg = NS(per_device_train_batch_size=4, gradient_accumulation_steps=1)
    >>> cfg.grpo_fields = lambda: {"num_generations": 4}
    >>> rollouts_total({"steps": 3, "dynamic_sampling": {"resampled": 2}}, cfg)
    20
    >>> rollouts_total({"steps": 3, "dynamic_sampling": None}, cfg)
    12
    """
    batch = int(cfg.per_device_train_batch_size) * int(cfg.gradient_accumulation_steps or 1)
    resampled = int((metrics.get("dynamic_sampling") or {}).get("resampled") or 0)
    return int(metrics["steps"]) * batch + resampled * int(cfg.grpo_fields()["num_generations"])


@click.group()
def cli() -> None:
    """GRPO gain against GRPO steps (docs/efficacy/GRPO_GAIN.md)."""


@cli.command()
@click.option("--model", required=True, help="Start checkpoint (the warm-up model, models/iter_0).")
@click.option("--data", required=True, help="D_1 (TRAIN schema).")
@click.option("--work", required=True, help="Output folder (adapters, series).")
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--grid", default="4,8,16,32", show_default=True, help="Steps whose adapter is saved.")
@click.option("--seed", type=int, default=1, show_default=True, help="Training seed (iteration 1's).")
def train(model: str, data: str, work: str, params_path: str, grid: str, seed: int) -> None:
    """One GRPO run of max(grid) steps, saving the adapter at each grid step."""
    import logging

    from transformers import TrainerCallback

    from looptool.config import load_params
    from looptool.stage import deep_merge, section_config
    from looptool.train.config import TrainConfig
    from looptool.train.grpo import train_grpo

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    steps = _grid(grid)
    w = Path(work)
    w.mkdir(parents=True, exist_ok=True)
    model = str(Path(model).resolve())
    started = time.perf_counter()
    series_path = w / "series.jsonl"
    series_path.write_text("")

    class Checkpoints(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            step = int(state.global_step)
            if step not in steps or model is None:
                return
            target = w / f"step_{step}" / "adapter"
            tmp = target.with_name("adapter.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            getattr(model, "module", model).save_pretrained(tmp)
            os.replace(tmp, target)
            info = {"step": step, "wall_s": round(time.perf_counter() - started, 1), "cpu_s": _cpu_s()}
            (w / f"step_{step}" / "saved.json").write_text(json.dumps(info) + "\n")
            click.echo(f"saved step {step}: {info}", err=True)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and any(v in logs for v in SERIES.values()):
                rec = {"step": int(state.global_step), **{k: logs.get(v) for k, v in SERIES.items()}}
                rec |= {"wall_s": round(time.perf_counter() - started, 1), "cpu_s": _cpu_s()}
                with series_path.open("a") as f:
                    f.write(json.dumps(rec) + "\n")

    params = load_params(params_path)
    over = {"max_steps": steps[-1], "seed": seed, "save_steps": 0, "resume": False}
    cfg = section_config(TrainConfig, "train", params={"train": deep_merge(params.get("train") or {}, over)})
    settings = {"model": model, "data": data, "grid": steps, "seed": seed, "train": cfg.__dict__ | {}}
    (w / "train_settings.json").write_text(json.dumps(settings, indent=2, default=str) + "\n")
    m = train_grpo(model=model, data=data, out=w / "final", cfg=cfg, callbacks=[Checkpoints()])
    keep = ("steps", "reward_mean", "zero_std_frac_mean", "wall_s", "no_signal")
    more = ("signal_steps", "dynamic_sampling", "series")  # dynamic sampling's counts per step and in total
    out = {k: m.get(k) for k in (*keep, *more)} | {"rollouts_total": rollouts_total(m, cfg)}
    (w / "train_metrics.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    shutil.rmtree(w / "final", ignore_errors=True)  # the grid's adapters are what is evaluated
    click.echo(f"train done: {[m.get(k) for k in keep]}, cpu {_cpu_s()} s")


@cli.command()
@click.option("--model", required=True, help="Start checkpoint (step 0).")
@click.option("--heldout", required=True, help="Held-out SAMPLE Parquet.")
@click.option("--work", required=True)
@click.option("--grid", default="4,8,16,32", show_default=True)
@click.option("--per-pattern", default=10, show_default=True)
@click.option("--exclude-default", default=36, show_default=True, help="evaluate's eval.heldout_limit.")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--max-new-tokens", default=96, show_default=True)
@click.option("--poll-s", default=20.0, show_default=True, help="Wait between looks for a new checkpoint.")
@click.option("--deadline", default=None, help="Stop waiting at this UTC time (HH:MM).")
def evaluate(
    model, heldout, work, grid, per_pattern, exclude_default, batch_size, max_new_tokens, poll_s, deadline
):
    """Evaluate step 0, then each grid checkpoint as soon as its adapter is saved."""
    w = Path(work)
    w.mkdir(parents=True, exist_ok=True)
    rows = select_rows(heldout, per_pattern, exclude_default)
    (w / "eval_rows.json").write_text(json.dumps([r["sample_id"] for r in rows]) + "\n")
    click.echo(f"{len(rows)} evaluation rows", err=True)
    todo: list[tuple[int, str]] = [(0, str(Path(model).resolve()))]
    todo += [(s, str(w / f"step_{s}" / "adapter")) for s in _grid(grid)]
    for step, path in todo:
        out = w / f"eval_step_{step}.json"
        if out.exists():
            continue
        while not Path(path).exists():
            if deadline and time.strftime("%H:%M", time.gmtime()) >= deadline:
                click.echo(f"deadline {deadline}: step {step} not reached", err=True)
                return
            time.sleep(poll_s)
        t, c = time.perf_counter(), _cpu_s()
        res = evaluate_model(path, rows, batch_size, max_new_tokens)
        k = sum(r["correct"] for r in res)
        fig = {
            "step": step,
            "model": path,
            "correct": k,
            "n": len(res),
            "max_new_tokens": max_new_tokens,
            "wall_s": round(time.perf_counter() - t, 1),
            "cpu_s": round(_cpu_s() - c, 1),
            "rows": res,
        }
        out.write_text(json.dumps(fig, indent=1) + "\n")
        click.echo(
            f"step {step}: ToolMatch {k}/{len(res)} ({fig['wall_s']} s wall, {fig['cpu_s']} s CPU)", err=True
        )


@cli.command()
@click.option("--work", required=True)
@click.option("--grid", default="4,8,16,32", show_default=True)
@click.option("--out", "out_json", default=None, help="Write the figures here (JSON).")
def report(work: str, grid: str, out_json: str | None) -> None:
    """The table: ToolMatch [Wilson 95%], difference to step 0 [paired bootstrap 95%], training signals."""
    from looptool.stats import paired_bootstrap, wilson

    w = Path(work)
    series = (
        [json.loads(x) for x in (w / "series.jsonl").read_text().splitlines()]
        if (w / "series.jsonl").exists()
        else []
    )
    evals = {}
    for s in [0, *_grid(grid)]:
        p = w / f"eval_step_{s}.json"
        evals[s] = json.loads(p.read_text()) if p.exists() else None
    base = evals[0]
    table = []
    for s, e in evals.items():
        rec: dict[str, Any] = {"step": s}
        if e is None:
            rec["status"] = "not reached by the deadline"
            table.append(rec)
            continue
        hits = {r["sample_id"]: r["correct"] for r in e["rows"]}
        rec |= {"correct": e["correct"], "n": e["n"], "toolmatch": round(e["correct"] / e["n"], 4)}
        rec["ci95"] = list(wilson(e["correct"], e["n"]))
        rec["by_kind"] = _kind_figures(e["rows"])
        rec["eval_wall_s"], rec["eval_cpu_s"] = e["wall_s"], e["cpu_s"]
        if base is not None and s:
            ids = [r["sample_id"] for r in base["rows"]]
            b = [bool(r["correct"]) for r in base["rows"]]
            rec["vs_step0"] = paired_bootstrap([hits[i] for i in ids], b)
            # the same split by the kind of answer: a gain on the no-call rows can be a model that stopped calling
            for kind, rows in _by_kind(base["rows"]).items():
                rec[f"vs_step0_{kind}"] = paired_bootstrap(
                    [hits[r["sample_id"]] for r in rows], [bool(r["correct"]) for r in rows]
                )
        pats: dict[str, list[int]] = {}
        for r in e["rows"]:
            pats.setdefault(r["pattern"], [0, 0])
            pats[r["pattern"]][0] += r["correct"]
            pats[r["pattern"]][1] += 1
        rec["by_pattern"] = {p: f"{k}/{n}" for p, (k, n) in sorted(pats.items())}
        upto = [x for x in series if x["step"] <= s]
        if s and upto:
            rew = [x["reward"] for x in upto if x["reward"] is not None]
            zero = [x["zero_std_frac"] for x in upto if x["zero_std_frac"] is not None]
            rec["reward_mean_steps_1_to_s"] = round(sum(rew) / len(rew), 4) if rew else None
            rec["zero_adv_frac_mean_steps_1_to_s"] = round(sum(zero) / len(zero), 4) if zero else None
        saved = w / f"step_{s}" / "saved.json"
        if saved.exists():
            rec["train_at_save"] = json.loads(saved.read_text())
        table.append(rec)
    figures = {"table": table, "series": series}
    for rec in table:
        if "status" in rec:
            click.echo(f"step {rec['step']:>3}: {rec['status']}")
            continue
        d = rec.get("vs_step0")
        diff = (
            f"  diff {d['diff']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] (+{d['a_only']}/-{d['b_only']})"
            if d
            else ""
        )
        sig = (
            f"  reward {rec['reward_mean_steps_1_to_s']}  zero-adv {rec['zero_adv_frac_mean_steps_1_to_s']}"
            if "reward_mean_steps_1_to_s" in rec
            else ""
        )
        click.echo(
            f"step {rec['step']:>3}: ToolMatch {rec['correct']}/{rec['n']} = {rec['toolmatch']:.3f} "
            f"[{rec['ci95'][0]:.3f}, {rec['ci95'][1]:.3f}]{diff}{sig}"
        )
        kinds = rec["by_kind"]
        call = kinds["call_rows"]
        extra = (
            f"  names {call['names']['accuracy']:.3f}  argument F1 {call['arg_f1']['mean']:.3f} "
            f"[{call['arg_f1']['ci95'][0]:.3f}, {call['arg_f1']['ci95'][1]:.3f}]"
            if call.get("arg_f1") and call["arg_f1"]["mean"] is not None
            else ""
        )
        click.echo(
            f"           call rows {call['correct']}/{call['n']} [{call['ci95'][0]:.3f}, {call['ci95'][1]:.3f}]"
            f"{extra}; no-call rows {kinds['no_call_rows']['correct']}/{kinds['no_call_rows']['n']}; "
            f"never-call score {kinds['never_call']['accuracy']}"
        )
        for kind in ("call", "no_call"):
            k = rec.get(f"vs_step0_{kind}")
            if k:
                click.echo(
                    f"           {kind} rows (n={k['n']}): diff {k['diff']:+.3f} "
                    f"[{k['ci95'][0]:+.3f}, {k['ci95'][1]:+.3f}] (+{k['a_only']}/-{k['b_only']})"
                )
    for x in series:
        click.echo(
            f"  GRPO step {x['step']:>3}: reward {x['reward']}  zero-adv {x['zero_std_frac']}  {x['step_time']} s"
        )
    if out_json:
        Path(out_json).parent.mkdir(parents=True, exist_ok=True)
        Path(out_json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    cli()
