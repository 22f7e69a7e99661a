"""Efficacy experiment: does the loop make the model better than training on the same data without it?

Runs the pipeline's own stage commands, read from dvc.yaml (the same command lines ``dvc repro`` runs, executed
in this process so torch and transformers are imported once), for two arms that differ in one switch:

* ``loop``: the LoopTool loop (probe -> verify -> expand -> merge -> D_{j+1});
* ``static``: ``loop.static: true`` (D_{j+1} = D_1 every iteration), the paper's static baseline,

with the same training budget per iteration (same params apart from ``loop.static``), for each training seed
(``iterations.<j>.train.seed``). Shared by both arms: the seed corpus, models/base, the warm-up model (models/iter_0)
and D_1. Two splits, two uses:

* **dev** (``data/seed/dev.parquet``, the seed's dev domains; ``seed.dev_domains`` > 0): every model (base,
  warm-up, iteration j of each arm and seed) is scored on it, and every choice (learning rate, steps, warm-up
  budget, merge options) is made on these figures (``dev`` in each model's entry, ``dev_comparisons``);
* **test** (``data/seed/heldout.parquet``, the held-out domains): scored only for the final models (each arm's
  last iteration) and the references they are compared with (base, warm-up): never used to choose a setting.

An empty dev split is skipped with a warning (the test figures still come). The figures carry Wilson 95%
intervals and the loop-minus-static differences paired bootstrap intervals (looptool.stats), each also split
into call rows (the label makes calls: the primary figure, with function-name accuracy and argument F1) and
no-call rows, beside the score a model that never calls would get.

The experiment's settings are an overlay of params.yaml (``--overlay``, e.g. bench/efficacy.yaml), written in
advance; ``-S key=value`` overrides one (YAML value), as ``dvc exp run -S`` does. Output (``--out``):
``results.json`` (every figure, per-stage wall and CPU seconds), ``results.md`` (tables), per-arm work folders
with the stages' metrics and data, and ``efficacy.log``. Example (CPU, a small run)::

    python bench/efficacy.py --out /tmp/eff --overlay bench/efficacy.yaml --seeds 0,1 --iterations 2 \\
        -S seed.heldout_size=100

``--budget-s``: no new (seed, arm) run starts after this many seconds; what ran is reported, what did not is
listed under ``skipped``.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import resource
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from looptool.config import load_yaml

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("efficacy")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Stages:
    """dvc.yaml's stage commands, run in-process (click commands of stages/*.py) inside a work folder."""

    def __init__(self, dvc_yaml: Path) -> None:
        self.spec = load_yaml(dvc_yaml.read_text(), str(dvc_yaml))["stages"]
        self.commands: dict[str, Any] = {}
        self.timings: list[dict[str, Any]] = []

    def _command(self, script: str) -> Any:
        if script not in self.commands:
            spec = importlib.util.spec_from_file_location(f"stage_{Path(script).stem}", ROOT / script)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            self.commands[script] = mod.main
        return self.commands[script]

    def argv(self, name: str, key: str | None = None, item: dict | None = None) -> list[str]:
        st = self.spec[name]
        body = st.get("do", st)
        cmd = " ".join(str(body["cmd"]).split())
        if key is not None:
            cmd = cmd.replace("${key}", key)
            for k, v in (item or {}).items():
                cmd = cmd.replace("${item." + k + "}", str(v))
        if "${" in cmd:
            raise ValueError(f"dvc.yaml stage {name}: unresolved template in {cmd!r}")
        return shlex.split(cmd)

    def run(self, workdir: Path, name: str, label: str, argv: list[str]) -> dict[str, Any]:
        """Run one stage command (``python stages/x.py ...``) with ``workdir`` as the current folder."""
        if argv[:1] != ["python"] or not argv[1].startswith("stages/"):
            raise ValueError(f"dvc.yaml stage {name}: expected 'python stages/...', got {argv[:2]}")
        main = self._command(argv[1])
        cwd = os.getcwd()
        t0, c0 = time.perf_counter(), _cpu_s()
        os.chdir(workdir)
        try:
            log.info("[%s] %s", label, " ".join(argv))
            main.main(args=argv[2:], prog_name=argv[1], standalone_mode=False)
        finally:
            os.chdir(cwd)
        rec = {
            "label": label,
            "stage": name,
            "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(_cpu_s() - c0, 2),
        }
        self.timings.append(rec)
        log.info("[%s] %s done: %.1f s wall, %.1f s CPU", label, name, rec["wall_s"], rec["cpu_s"])
        return rec


def _set(d: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = (
            _deep_merge(out[k], v)
            if isinstance(v, dict) and isinstance(out.get(k), dict)
            else copy.deepcopy(v)
        )
    return out


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        dst.symlink_to(src.resolve())


def _eval_rows(path: Path, heldout_path: Path) -> dict[str, dict[str, Any]]:
    """sample id -> {call_row, correct (ToolMatch), names, arg_f1}, from an evaluation's results file (held-out
    rows; :func:`looptool.evaluate.heldout.per_row`, as the evaluate stage's metrics)."""
    import polars as pl

    from looptool.evaluate import heldout

    return heldout.per_row(heldout.load(heldout_path), pl.read_parquet(path))


def _figure(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """ToolMatch over all rows (Wilson 95%), and ``by_kind``: call rows (primary; names, argument F1), no-call
    rows, and the never-call score (:func:`looptool.evaluate.heldout.by_kind`)."""
    from looptool.evaluate.heldout import by_kind
    from looptool.stats import wilson

    n, k = len(rows), sum(r["correct"] for r in rows.values())
    return {
        "accuracy": round(k / n, 4) if n else None,
        "correct": k,
        "n": n,
        "ci95": list(wilson(k, n)),
        "by_kind": by_kind(rows.values()),
    }


def _paired(
    a: dict[str, float], b: dict[str, float], seed: int = 0, only: set[str] | None = None
) -> dict[str, Any]:
    """Paired bootstrap of a - b over the rows both scored (``only``: and in this set)."""
    from looptool.stats import paired_bootstrap

    ids = sorted(set(a) & set(b) & (only if only is not None else set(a)))
    return paired_bootstrap([a[i] for i in ids], [b[i] for i in ids], seed=seed)


def _paired_by_kind(
    cmp: dict[str, Any], key: str, a: dict[str, float], b: dict[str, float], call_ids: set[str]
) -> None:
    """``cmp[key]`` over all rows, and ``key/call_rows`` (the primary figure) and ``key/no_call_rows``."""
    cmp[key] = _paired(a, b)
    cmp[f"{key}/call_rows"] = _paired(a, b, only=call_ids)
    cmp[f"{key}/no_call_rows"] = _paired(a, b, only=(set(a) | set(b)) - call_ids)


def _mean_scores(runs: list[dict[str, bool]]) -> dict[str, float]:
    ids = set.intersection(*(set(r) for r in runs))
    return {i: sum(float(r[i]) for r in runs) / len(runs) for i in ids}


@click.command()
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder (created)."
)
@click.option(
    "--overlay",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="YAML overlay of params.yaml.",
)
@click.option("-S", "sets", multiple=True, help="key=value override (YAML value), applied after the overlay.")
@click.option("--params", "params_path", default=str(ROOT / "params.yaml"), show_default=True)
@click.option(
    "--seeds", "seeds_csv", default="0", show_default=True, help="Training seeds, comma-separated (0,1,2)."
)
@click.option("--iterations", type=int, default=3, show_default=True)
@click.option("--arms", multiple=True, default=("loop", "static"), show_default=True)
@click.option(
    "--eval-base/--no-eval-base", default=True, show_default=True, help="Also evaluate models/base."
)
@click.option(
    "--budget-s", type=float, default=None, help="Start no new (seed, arm) run after this many seconds."
)
@click.option(
    "--dev-eval",
    type=click.Choice(["all", "final", "none"]),
    default="all",
    show_default=True,
    help="Which models the dev split scores: every one (for choices), the references and final models, or none "
    "(a study that makes no choice).",
)
@click.option(
    "--reuse-shared",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The shared/ folder of an earlier run with the same seed, model and warm-up settings: its base, seed "
    "corpus, D_1, warm-up model and their evaluations are used instead of being made again.",
)
def main(
    out_dir: Path,
    overlay: Path | None,
    sets: tuple[str, ...],
    params_path: str,
    seeds_csv: str,
    iterations: int,
    arms: tuple[str, ...],
    eval_base: bool,
    budget_s: float | None,
    reuse_shared: Path | None,
    dev_eval: str,
) -> None:
    """Loop vs static baseline, same budget, held-out ToolMatch with intervals."""
    try:
        seeds = tuple(int(x) for x in seeds_csv.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"--seeds {seeds_csv!r}: expected comma-separated integers") from None
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(sys.stdout), logging.FileHandler(out_dir / "efficacy.log")],
    )
    started, cpu0 = time.perf_counter(), _cpu_s()
    for a in arms:
        if a not in ("loop", "static"):
            raise click.BadParameter(f"unknown arm {a!r} (loop | static)")
    params = load_yaml(Path(params_path).read_text(), str(params_path))
    if overlay is not None:
        params = _deep_merge(params, load_yaml(overlay.read_text(), str(overlay)) or {})
    for s in sets:
        k, _, v = s.partition("=")
        if not _:
            raise click.BadParameter(f"-S {s!r}: expected key=value")
        val = load_yaml(v, f"-S {k}")
        if isinstance(
            val, str
        ):  # YAML 1.1 reads 2e-5 (no dot) as a string; dvc exp run -S takes it as a number
            try:
                val = float(val)
            except ValueError:
                pass
        _set(params, k, val)
    params["iterations"] = {
        str(j): {"prev": str(j - 1), "next": str(j + 1), **(params.get("iterations", {}).get(str(j)) or {})}
        for j in range(1, iterations + 1)
    }
    stages = Stages(ROOT / "dvc.yaml")
    results: dict[str, Any] = {
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "seeds": list(seeds),
        "iterations": iterations,
        "arms": list(arms),
        "overlay": str(overlay) if overlay else None,
        "sets": list(sets),
        "models": {},
        "skipped": [],
    }
    scores: dict[str, dict[str, bool]] = {}
    call_ids: set[str] = set()  # held-out rows whose label makes calls
    samples: list[dict[str, Any]] = []  # every scored row of every model: samples.csv

    def write_params(workdir: Path, p: dict) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
        _link(ROOT / "stages", workdir / "stages")

    def evaluate(
        workdir: Path, label: str, model: str, iteration: int, split: str, reuse: Path | None = None
    ) -> None:
        """Score ``model`` on ``split`` (dev or test): test figures at the top of the model's entry (the shape
        docs/efficacy/tables.py reads), dev figures under ``dev``; scores keyed ``label`` / ``dev:label``."""
        name = label.replace("/", "_") if split == "test" else "dev_" + label.replace("/", "_")
        data = "data/seed/heldout.parquet" if split == "test" else "data/seed/dev.parquet"
        key = label if split == "test" else f"dev:{label}"
        entry = results["models"].setdefault(label, {})
        if split == "dev" and dev_eval == "none":
            return
        if split == "dev" and not _has_rows(workdir / data):
            entry["dev"] = {"skipped": f"{data} is empty (seed.dev_domains: 0)"}
            log.warning("%s: dev split %s is empty; no dev figure", label, data)
            return

        def record(path: Path) -> dict[str, Any]:
            rows = _eval_rows(path, workdir / data)
            scores[key] = {i: r["correct"] for i, r in rows.items()}
            samples.extend(
                {
                    "model": label,
                    "split": split,
                    "sample_id": i,
                    "call_row": int(bool(r["call_row"])),
                    "correct": int(bool(r["correct"])),
                    "names": "" if r.get("names") is None else round(float(r["names"]), 4),
                    "arg_f1": "" if r.get("arg_f1") is None else round(float(r["arg_f1"]), 4),
                }
                for i, r in sorted(rows.items())
            )
            call_ids.update(i for i, r in rows.items() if r["call_row"])  # dev and test ids are disjoint
            return _figure(rows)

        if reuse is not None and (reuse / "data" / "eval" / f"{name}.parquet").exists():
            fig = {**record(reuse / "data" / "eval" / f"{name}.parquet"), "reused_from": str(reuse)}
            _record(entry, split, fig)
            log.info("%s: %s ToolMatch %s (reused)", label, split, _line(fig))
            return
        argv = [
            "python",
            "stages/evaluate.py",
            "--iteration",
            str(iteration),
            "--model",
            model,
            "--heldout",
            data,
            "--metrics",
            f"metrics/eval_{name}.json",
            "--results",
            f"data/eval/{name}.parquet",
        ]
        rec = stages.run(workdir, "evaluate", label, argv)
        fig = {
            **record(workdir / "data" / "eval" / f"{name}.parquet"),
            "eval_wall_s": rec["wall_s"],
            "eval_cpu_s": rec["cpu_s"],
        }
        _record(entry, split, fig)
        log.info("%s: %s ToolMatch %s", label, split, _line(fig))
        _save(out_dir, results, stages)
        _write_samples(out_dir / "samples.csv", samples)  # as it grows: a run cut short keeps its rows

    # shared: base model, seed corpus, D_1, warm-up
    if reuse_shared is not None:
        shared = reuse_shared.resolve()
        results["reused_shared"] = str(shared)
        for need in (
            "models/base",
            "models/iter_0",
            "data/seed/heldout.parquet",
            "data/iter_1/train.parquet",
        ):
            if not (shared / need).exists():
                raise click.BadParameter(f"--reuse-shared {shared}: {need} missing")
    else:
        shared = out_dir / "shared"
        write_params(shared, params)
        for name in ("prepare_model", "seed", "select", "warmup"):
            if name in stages.spec:
                stages.run(shared, name, "shared", stages.argv(name))
    for split in ("dev", "test"):  # the references of the final comparisons, and their dev figures
        if eval_base:
            evaluate(shared, "base", "models/base", 0, split, reuse=shared if reuse_shared else None)
        evaluate(shared, "warmup", "models/iter_0", 0, split, reuse=shared if reuse_shared else None)

    for seed in seeds:
        for arm in arms:
            label = f"{arm}/seed{seed}"
            if budget_s is not None and time.perf_counter() - started > budget_s:
                results["skipped"].append(label)
                log.warning("%s skipped: budget of %s s spent", label, budget_s)
                continue
            p = copy.deepcopy(params)
            _set(p, "loop.static", arm == "static")
            for j in range(
                1, iterations + 1
            ):  # the training seed of iteration j (params: iterations.<j>.train.seed)
                p["iterations"][str(j)].setdefault("train", {})["seed"] = 1000 * seed + j
            work = out_dir / f"{arm}_seed{seed}"
            write_params(work, p)
            for sub in ("models/base", "models/iter_0", "data/seed"):
                _link(shared / sub, work / sub)
            for f in (shared / "data" / "iter_1").iterdir():
                _link(f, work / "data" / "iter_1" / f.name)
            for j in range(1, iterations + 1):
                key, item = str(j), p["iterations"][str(j)]
                for name in ("train", "probe", "verify", "expand", "merge", "mechanisms"):
                    if name in ("merge", "mechanisms") and j == iterations:
                        continue  # D_{n+1} is not trained on (and the mechanisms of j need D_{j+1})
                    if name in stages.spec:
                        stages.run(work, name, f"{label}/iter_{j}", stages.argv(name, key, item))
                if dev_eval == "all" or j == iterations:
                    evaluate(work, f"{label}/iter_{j}", f"models/iter_{j}", j, "dev")
                if j == iterations:  # the final model: the only iteration the test split scores
                    evaluate(work, f"{label}/iter_{j}", f"models/iter_{j}", j, "test")
                _collect_iteration(work, j, label, results)

    results["comparisons"] = _comparisons(scores, seeds, arms, iterations, "", call_ids)
    results["dev_comparisons"] = _comparisons(scores, seeds, arms, iterations, "dev:", call_ids)
    _write_samples(out_dir / "samples.csv", samples)
    study = _analysis()
    rows = study.read_samples(out_dir / "samples.csv")
    results["study"] = {split: study.analyze(rows, split) for split in ("test", "dev")}
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["cpu_s"] = round(_cpu_s() - cpu0, 1)
    _save(out_dir, results, stages)
    click.echo((out_dir / "results.md").read_text())


SAMPLE_COLUMNS = ("model", "split", "sample_id", "call_row", "correct", "names", "arg_f1")


def _write_samples(path: Path, samples: list[dict[str, Any]]) -> None:
    """Every scored row of every model (the file bench/efficacy_analysis.py re-derives the study from)."""
    import csv

    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SAMPLE_COLUMNS)
        w.writeheader()
        w.writerows(samples)


def _analysis() -> Any:
    """bench/efficacy_analysis.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "efficacy_analysis", ROOT / "bench" / "efficacy_analysis.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _record(entry: dict[str, Any], split: str, fig: dict[str, Any]) -> None:
    if split == "test":
        entry.update(fig)
    else:
        entry["dev"] = fig


def _has_rows(path: Path) -> bool:
    import polars as pl

    return path.exists() and pl.scan_parquet(path).select(pl.len()).collect().item() > 0


def _comparisons(
    scores: dict[str, dict[str, bool]],
    seeds: tuple[int, ...],
    arms: tuple[str, ...],
    iterations: int,
    p: str,
    call_ids: set[str],
) -> dict[str, Any]:
    """Paired differences (loop - static, arm - warm-up) of every iteration scored on the split of prefix
    ``p`` (``""``: test, only the last iteration; ``"dev:"``: dev, every iteration), each over all rows and
    split into call rows (the primary figure) and no-call rows (:func:`_paired_by_kind`)."""
    cmp: dict[str, Any] = {}
    if f"{p}warmup" not in scores:
        return cmp
    for j in range(1, iterations + 1):
        for seed in seeds:
            lo, st = f"{p}loop/seed{seed}/iter_{j}", f"{p}static/seed{seed}/iter_{j}"
            if lo in scores and st in scores:
                _paired_by_kind(cmp, f"loop-static/seed{seed}/iter_{j}", scores[lo], scores[st], call_ids)
            for arm in arms:
                m = f"{p}{arm}/seed{seed}/iter_{j}"
                if m in scores:
                    _paired_by_kind(
                        cmp, f"{arm}-warmup/seed{seed}/iter_{j}", scores[m], scores[f"{p}warmup"], call_ids
                    )
        both = [
            s
            for s in seeds
            if f"{p}loop/seed{s}/iter_{j}" in scores and f"{p}static/seed{s}/iter_{j}" in scores
        ]
        if len(both) > 1:
            loop_mean = _mean_scores([scores[f"{p}loop/seed{s}/iter_{j}"] for s in both])
            static_mean = _mean_scores([scores[f"{p}static/seed{s}/iter_{j}"] for s in both])
            key = f"loop-static/mean_of_{len(both)}_seeds/iter_{j}"
            _paired_by_kind(cmp, key, loop_mean, static_mean, call_ids)
            for arm, m in (("loop", loop_mean), ("static", static_mean)):
                warm = {k: float(v) for k, v in scores[f"{p}warmup"].items()}
                _paired_by_kind(cmp, f"{arm}-warmup/mean_of_{len(both)}_seeds/iter_{j}", m, warm, call_ids)
    return cmp


def _collect_iteration(work: Path, j: int, label: str, results: dict) -> None:
    """Training and loop-stage figures of iteration j (what D_j held, what the probe and verify saw)."""

    def read(p: Path) -> dict:
        return json.loads(p.read_text()) if p.exists() else {}

    tr = read(work / "metrics" / "train" / f"iter_{j}.json")
    pr = read(work / "metrics" / "probe" / f"iter_{j}.json")
    ve = read(work / "metrics" / "verify" / f"iter_{j}.json")
    ex = read(work / "metrics" / "expand" / f"iter_{j}.json")
    me = read(work / "metrics" / "merge" / f"iter_{j}.json")
    mech = read(work / "metrics" / "mechanisms" / f"iter_{j}.json")
    keep = (
        "method",
        "samples",
        "parts",
        "steps",
        "loss_first",
        "loss_last",
        "reward_mean",
        "zero_std_frac_mean",
        "no_signal",
        "wall_s",
        "train_runtime_s",
    )
    results["models"].setdefault(f"{label}/iter_{j}", {})["train"] = {k: tr.get(k) for k in keep if k in tr}
    results["models"][f"{label}/iter_{j}"]["loop"] = {
        "probe_mastered": pr.get("mastered"),
        "probe_n": pr.get("n"),
        "verdicts": ve.get("verdicts"),
        "noise_recovery": ve.get("noise_recovery"),
        "expanded": ex.get("made"),
        "next_parts": me.get("parts"),
    }
    if mech:
        results["models"][f"{label}/iter_{j}"]["mechanisms"] = mech


def _cell(fig: dict[str, Any] | None) -> str:
    """``0.250 [0.046, 0.699] 1/4`` (a proportion) or ``0.250 [0.100, 0.400] n=4`` (a mean)."""
    if not fig or fig.get("mean", fig.get("accuracy")) is None:
        return "-"
    v, ci = fig.get("mean", fig.get("accuracy")), fig.get("ci95") or [None, None]
    tail = f"{fig['correct']}/{fig['n']}" if "correct" in fig else f"n={fig['n']}"
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] {tail}"


def _line(model: dict[str, Any]) -> str:
    k = model.get("by_kind") or {}
    return f"call rows {_cell(k.get('call_rows'))}, no-call rows {_cell(k.get('no_call_rows'))}, all {_cell(model)}"


def _save(out_dir: Path, results: dict, stages: Stages) -> None:
    results["timings"] = stages.timings
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    lines = [
        "ToolMatch [95% CI] correct/n per split. Call rows (the label makes calls) are the primary figure: a model "
        "that never calls scores the never-call share overall and 0 on call rows.",
        "",
        "| model | split | call rows: ToolMatch | call rows: function names | call rows: argument F1 (bootstrap) "
        "| no-call rows: ToolMatch | all rows: ToolMatch | never-call score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, v in results["models"].items():
        for split, f in (("dev", v.get("dev") or {}), ("test", v)):
            if "accuracy" in f:
                kind = f.get("by_kind") or {}
                call = kind.get("call_rows") or {}
                lines.append(
                    f"| {k} | {split} | {_cell(call)} | {_cell(call.get('names'))} | {_cell(call.get('arg_f1'))} "
                    f"| {_cell(kind.get('no_call_rows'))} | {_cell(f)} "
                    f"| {(kind.get('never_call') or {}).get('accuracy')} |"
                )
    for split, name in (("dev", "dev_comparisons"), ("test", "comparisons")):
        if results.get(name):
            lines += [
                "",
                f"| paired difference ({split}) | diff | 95% CI (paired bootstrap) | n | a only | b only |",
                "|---|---|---|---|---|---|",
            ]
            for k, v in results[name].items():
                lines.append(
                    f"| {k} | {v['diff']} | {v['ci95']} | {v['n']} | {v['a_only']} | {v['b_only']} |"
                )
    for split, a in (results.get("study") or {}).items():
        if "iteration" in a:
            lines += ["", f"### Study ({split} split)", "", _analysis().to_markdown(a)]
    if results.get("skipped"):
        lines += ["", f"skipped (budget): {', '.join(results['skipped'])}"]
    if "wall_s" in results:
        lines += [
            "",
            f"total wall {results['wall_s']} s, CPU {results['cpu_s']} s (this process, all threads)",
        ]
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
