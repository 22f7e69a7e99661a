"""Loop vs static from an efficacy run's per-sample file: every interval of the study re-derives from it.

Input: the ``samples.csv`` that ``bench/efficacy.py`` writes (one row per model and scored sample: ``model``
such as ``loop/seed0/iter_2``, ``static/seed1/iter_2``, ``warmup``, ``base``; ``split`` dev | test;
``sample_id``; ``call_row`` 1 when the label makes calls; ``correct`` ToolMatch 0/1; ``names``; ``arg_f1``).
Output: per split and row kind (call rows: the primary figure; no-call rows; all rows), at the last iteration
scored (or ``--iteration``):

* ``loop-static``: the two-level bootstrap (training seeds, then rows; :func:`looptool.stats.two_level_bootstrap`)
  over the seeds that have both arms, with each seed's difference and its paired row-bootstrap interval beside it;
* ``aa_static``: the A/A floor, static seed a - static seed b for every pair of static runs (they differ only in
  their training seed), each with its paired bootstrap, and the two-level bootstrap over the pairs' differences
  (pairs share runs, so that interval is indicative, not independent);
* ``<arm>-warmup``: each arm's gain over the warm-up model (two-level, over seeds).

The mechanism figures (``--results results.json``): per run, stage ``mechanisms@j``'s targeting (model_j's
failure rate on D_{j+1}'s expansions against a random pool draw), expansion fidelity (expansions against the
error seeds they came from) and label purity (share of noisy rows whose label is still wrong, D_j and D_{j+1}),
and the same pooled over the training seeds of each arm (counts added, Wilson interval).

Usage::

    python bench/efficacy_analysis.py docs/efficacy/cpu-2026-12-05/samples.csv --out analysis.json \
        --results docs/efficacy/cpu-2026-12-05/results.json
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from looptool.stats import paired_bootstrap, two_level_bootstrap, wilson  # noqa: E402

KINDS = ("call_rows", "no_call_rows", "all_rows")
_RUN = re.compile(r"^(loop|static)/seed(\d+)/iter_(\d+)$")


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The rows of ``samples.csv``, typed."""
    out = []
    with open(path, newline="") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            try:
                out.append(
                    {
                        "model": r["model"],
                        "split": r["split"],
                        "sample_id": r["sample_id"],
                        "call_row": bool(int(r["call_row"])),
                        "correct": int(r["correct"]),
                    }
                )
            except (KeyError, ValueError) as e:
                raise click.ClickException(f"{path}:{i}: bad row ({e})") from None
    return out


def _kind_ids(scores: dict[str, dict[str, int]], call: dict[str, bool], kind: str) -> list[str]:
    ids = set.intersection(*(set(s) for s in scores.values())) if scores else set()
    if kind == "call_rows":
        ids = {i for i in ids if call[i]}
    elif kind == "no_call_rows":
        ids = {i for i in ids if not call[i]}
    return sorted(ids)


def analyze(rows: list[dict[str, Any]], split: str = "test", iteration: int | None = None) -> dict[str, Any]:
    """The study's figures for one split (see the module docstring)."""
    scores: dict[str, dict[str, int]] = defaultdict(dict)
    call: dict[str, bool] = {}
    for r in rows:
        if r["split"] == split:
            scores[r["model"]][r["sample_id"]] = r["correct"]
            call[r["sample_id"]] = r["call_row"]
    runs = {m: _RUN.match(m) for m in scores}
    iters = sorted({int(m.group(3)) for m in runs.values() if m})
    if not iters:
        return {"split": split, "note": "no loop/static run scored on this split"}
    j = iteration if iteration is not None else iters[-1]
    arm_seed = {(m.group(1), int(m.group(2))): name for name, m in runs.items() if m and int(m.group(3)) == j}
    loop_seeds = sorted(s for a, s in arm_seed if a == "loop")
    static_seeds = sorted(s for a, s in arm_seed if a == "static")
    both = [s for s in loop_seeds if s in static_seeds]
    used = {name: scores[name] for name in arm_seed.values()}
    if "warmup" in scores:
        used["warmup"] = scores["warmup"]
    out: dict[str, Any] = {
        "split": split,
        "iteration": j,
        "seeds_both_arms": both,
        "static_seeds": static_seeds,
        "models": {},
    }
    for kind in KINDS:
        ids = _kind_ids(used, call, kind)
        fig: dict[str, Any] = {"n_rows": len(ids)}
        for name, s in sorted(used.items()):
            k = sum(s[i] for i in ids)
            out["models"].setdefault(name, {})[kind] = {
                "accuracy": round(k / len(ids), 4) if ids else None,
                "correct": k,
                "n": len(ids),
                "ci95": list(wilson(k, len(ids))),
            }

        def diffs(a: str, b: str, ids: list[str] = ids) -> list[float]:
            return [scores[a][i] - scores[b][i] for i in ids]

        if both:
            pairs = [(arm_seed[("loop", s)], arm_seed[("static", s)]) for s in both]
            fig["loop-static"] = {
                **two_level_bootstrap([diffs(a, b) for a, b in pairs]),
                "seeds": both,
                "per_seed_paired": {
                    f"seed{s}": paired_bootstrap([scores[a][i] for i in ids], [scores[b][i] for i in ids])
                    for s, (a, b) in zip(both, pairs, strict=True)
                },
            }
        if len(static_seeds) > 1:
            aa = list(itertools.combinations(static_seeds, 2))
            fig["aa_static"] = {
                **two_level_bootstrap(
                    [diffs(arm_seed[("static", a)], arm_seed[("static", b)]) for a, b in aa]
                ),
                "pairs": [f"seed{a}-seed{b}" for a, b in aa],
                "per_pair_paired": {
                    f"seed{a}-seed{b}": paired_bootstrap(
                        [scores[arm_seed[("static", a)]][i] for i in ids],
                        [scores[arm_seed[("static", b)]][i] for i in ids],
                    )
                    for a, b in aa
                },
            }
        if "warmup" in scores:
            for arm, seeds in (("loop", loop_seeds), ("static", static_seeds)):
                if seeds:
                    fig[f"{arm}-warmup"] = {
                        **two_level_bootstrap([diffs(arm_seed[(arm, s)], "warmup") for s in seeds]),
                        "seeds": seeds,
                    }
        out[kind] = fig
    return out


def _ci(v: dict[str, Any] | None) -> str:
    if not v or v.get("diff") is None:
        return "-"
    return f"{v['diff']:+.3f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]"


def to_markdown(a: dict[str, Any]) -> str:
    """The study table: one line per row kind (call rows first)."""
    if "iteration" not in a:
        return a.get("note", "")
    lines = [
        f"Split {a['split']}, iteration {a['iteration']}; seeds with both arms: {a['seeds_both_arms']}; "
        f"two-level bootstrap (seeds, then rows), 10,000 resamples, seed 0.",
        "",
        "| rows | n | loop - static [95% CI] | per seed (loop - static) | A/A: static - static [95% CI] "
        "| per static pair | loop - warm-up | static - warm-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        f = a[kind]
        ls, aa = f.get("loop-static") or {}, f.get("aa_static") or {}
        per_seed = ", ".join(f"{x:+.3f}" for x in ls.get("per_seed", [])) or "-"
        per_pair = ", ".join(f"{x:+.3f}" for x in aa.get("per_seed", [])) or "-"
        lines.append(
            f"| {kind.replace('_', ' ')} | {f['n_rows']} | {_ci(ls)} | {per_seed} | {_ci(aa)} | {per_pair} "
            f"| {_ci(f.get('loop-warmup'))} | {_ci(f.get('static-warmup'))} |"
        )
    lines += ["", "| model | call rows | no-call rows | all rows |", "|---|---|---|---|"]
    for name, m in a["models"].items():
        cells = [
            f"{m[k]['accuracy']:.3f} [{m[k]['ci95'][0]:.3f}, {m[k]['ci95'][1]:.3f}] {m[k]['correct']}/{m[k]['n']}"
            if m[k]["n"]
            else "-"
            for k in KINDS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


MECHANISMS = (
    ("targeting: expansions fail", ("targeting", "expansion")),
    ("targeting: random pool draw fails", ("targeting", "random")),
    ("fidelity: expansions fail", ("fidelity", "overall", "expansion")),
    ("fidelity: their error seeds fail", ("fidelity", "overall", "seed")),
    ("purity: noisy rows of D_j still wrong", ("purity", "d_j")),
    ("purity: noisy rows of D_j+1 still wrong", ("purity", "d_next")),
)


def _dig(d: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        d = (d or {}).get(k)
    return d


def mechanisms(results: dict[str, Any]) -> dict[str, Any]:
    """Per run and pooled per arm: the :data:`MECHANISMS` shares (k of n, Wilson) from results.json."""
    per_run: dict[str, dict[str, Any]] = {}
    pooled: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for model, entry in sorted(results.get("models", {}).items()):
        m = _RUN.match(model)
        mech = entry.get("mechanisms")
        if not m or not mech:
            continue
        per_run[model] = {}
        for name, path in MECHANISMS:
            f = _dig(mech, path) or {}
            k, n = f.get("k"), f.get("n")
            if k is None or n is None:
                continue
            per_run[model][name] = {"k": k, "n": n}
            pooled[f"{m.group(1)}/iter_{m.group(3)}"][name][0] += k
            pooled[f"{m.group(1)}/iter_{m.group(3)}"][name][1] += n
        for d in ("targeting", "fidelity"):
            key = "expansion_minus_random" if d == "targeting" else "expansion_minus_seed"
            diff = _dig(mech, (d, key)) if d == "targeting" else _dig(mech, (d, "overall", key))
            if diff:
                per_run[model][f"{d}: difference"] = {"diff": diff.get("diff"), "ci95": diff.get("ci95")}
    out = {"per_run": per_run, "pooled": {}}
    for arm, figs in pooled.items():
        out["pooled"][arm] = {
            name: {"k": k, "n": n, "rate": round(k / n, 4) if n else None, "ci95": list(wilson(k, n))}
            for name, (k, n) in figs.items()
        }
    return out


def mechanisms_markdown(m: dict[str, Any]) -> str:
    names = [n for n, _ in MECHANISMS]
    lines = ["| run | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for run, figs in m["per_run"].items():
        cells = [f"{figs[n]['k']}/{figs[n]['n']}" if n in figs and figs[n]["n"] else "-" for n in names]
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
    for arm, figs in m["pooled"].items():
        cells = [
            f"{figs[n]['rate']:.3f} [{figs[n]['ci95'][0]:.3f}, {figs[n]['ci95'][1]:.3f}] {figs[n]['k']}/{figs[n]['n']}"
            if n in figs and figs[n]["n"]
            else "-"
            for n in names
        ]
        lines.append(f"| **{arm}, pooled over seeds** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("samples", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--split", default="test", show_default=True, type=click.Choice(["test", "dev"]))
@click.option("--iteration", type=int, default=None, help="Default: the last iteration scored.")
@click.option(
    "--out", "out_path", type=click.Path(path_type=Path), default=None, help="Also write this JSON."
)
@click.option(
    "--results",
    "results_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="results.json of the runs (repeat for runs of several sessions): the mechanism figures.",
)
def main(
    samples: Path, split: str, iteration: int | None, out_path: Path | None, results_paths: tuple[Path, ...]
) -> None:
    """Re-derive the study's intervals from a samples.csv (and the mechanism figures from results.json)."""
    a = analyze(read_samples(samples), split, iteration)
    click.echo(to_markdown(a))
    if results_paths:
        models: dict[str, Any] = {}
        for p in results_paths:
            models.update(json.loads(p.read_text()).get("models", {}))
        a["mechanisms"] = mechanisms({"models": models})
        click.echo(mechanisms_markdown(a["mechanisms"]))
    if out_path is not None:
        out_path.write_text(json.dumps(a, indent=2) + "\n")


if __name__ == "__main__":
    main()
