"""Expansion fidelity with and without ``expand.carry``, on the model and data of finished runs.

For each run folder (a pipeline root or an efficacy run: ``params.yaml``, ``data/seed``, ``data/iter_j``,
``models/iter_j``) and iteration j, this makes D_j's expansions twice from the same verified failures, as
structured EDDE does today (``carry: false``) and keeping the candidate that sets again the seed's traps
(``carry: true``, :mod:`looptool.errorprofile`), then greedy-decodes both sets with model_j and the probe's
settings. Printed: model_j's failure rate on each set, beside the failure of the seeds they came from
(expansion fidelity: an expansion as hard as its seed fails as often), per error kind of the seed, and the
paired difference carry - plain over seeds (each seed's mean failure over its expansions).

No test-split row is read or scored: the expansions come from D_j and are de-duplicated against the pool,
held-out and dev splits like the stage's. ``samples.csv`` in ``--out`` holds every decoded expansion.

    python bench/expansion_fidelity.py RUN [RUN ...] --iterations 1,2 --out DIR
"""

from __future__ import annotations

import csv
import json
import logging
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import click
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from looptool import storage  # noqa: E402
from looptool.errorprofile import seed_profile, trap_max, trap_score  # noqa: E402
from looptool.expand import ExpandConfig, error_seeds, expand  # noqa: E402
from looptool.llm import BackendConfig  # noqa: E402
from looptool.llm.factory import opened_backend  # noqa: E402
from looptool.mechanisms import seed_failed, share  # noqa: E402
from looptool.probe import ProbeConfig, probe  # noqa: E402
from looptool.schema import PROBE, SAMPLE, TRAIN, VERDICT  # noqa: E402
from looptool.stage import section_config  # noqa: E402
from looptool.stats import paired_bootstrap  # noqa: E402
from looptool.synth.config import SeedConfig  # noqa: E402

log = logging.getLogger("expansion_fidelity")
ARMS = ("plain", "carry")


def _known(run: Path, data: pl.DataFrame) -> set[str]:
    ids = set(data["sample_id"].to_list())
    for name in ("pool", "heldout", "dev"):
        f = run / "data" / "seed" / f"{name}.parquet"
        if f.exists():
            ids |= set(pl.read_parquet(f, columns=["sample_id"])["sample_id"].to_list())
    return ids


def one(run: Path, j: int, k: int, candidates: int) -> list[dict]:
    """Decoded expansions of both arms for run ``run`` at iteration ``j`` (one dict per expansion and arm)."""
    params_path = str(run / "params.yaml")
    it = run / "data" / f"iter_{j}"
    data = storage.read_parquet(it / "train.parquet", TRAIN)
    probed = storage.read_parquet(it / "probe.parquet", PROBE)
    verdicts = storage.read_parquet(it / "verdicts.parquet", VERDICT)
    synth_cfg = section_config(SeedConfig, "seed", params_path)
    base = section_config(ExpandConfig, "expand", params_path, key=j)
    if base.mode != "structured":
        raise click.UsageError(
            f"{params_path}: expand.mode is {base.mode!r}; carry is for structured expansions"
        )
    known = _known(run, data)
    made = {}
    for arm in ARMS:
        cfg = replace(base, k=k, max_samples=None, carry=arm == "carry", candidates=candidates)
        made[arm], _, m = expand(data, probed, verdicts, known, cfg, j, synth_cfg)
        log.info(
            "%s iter %d %s: %d seeds -> %d expansions", run.resolve().name, j, arm, m["seeds"], m["made"]
        )
    seeds = {s.row["sample_id"]: s for s in error_seeds(data, probed, verdicts, base.verdicts)}
    profiles = {sid: seed_profile(s) for sid, s in seeds.items()}
    failed_seed = seed_failed(data, probed, verdicts)
    rows = pl.concat([made[a] for a in ARMS]).unique("sample_id", keep="first", maintain_order=True)
    cfg_probe = replace(section_config(ProbeConfig, "probe", params_path, key=j), samples=0, limit=None)
    student = section_config(BackendConfig, "backends.student", params_path, key=j)
    t0 = time.perf_counter()
    with opened_backend(student, model=str(run / "models" / f"iter_{j}")) as backend:
        answers = probe(rows.select(SAMPLE.names), backend, cfg_probe, j)
    log.info(
        "%s iter %d: %d expansions decoded in %.0f s",
        run.resolve().name,
        j,
        rows.height,
        time.perf_counter() - t0,
    )
    verdict = dict(answers.filter(pl.col("error").is_null()).select("sample_id", "mastered").iter_rows())
    if len(verdict) < rows.height:  # a backend error: the row is left out of the figures, and said so
        log.warning("%s iter %d: %d expansions got no answer and are left out", run.resolve().name, j,
                    rows.height - len(verdict))  # fmt: skip
    out = []
    for arm in ARMS:
        for r in made[arm].iter_rows(named=True):
            if r["sample_id"] not in verdict:
                continue
            p = profiles[r["parent_id"]]
            trap = (json.loads(r["meta"]).get("expansion") or {}).get("trap")
            if trap is None:  # plain: score the same way
                row = {c: json.loads(r[c]) for c in ("tools", "messages", "label", "meta")}
                trap = {"score": trap_score(p, row), "max": trap_max(p)}
            out.append(
                {
                    "run": run.resolve().name,
                    "iteration": j,
                    "arm": arm,
                    "sample_id": r["sample_id"],
                    "parent_id": r["parent_id"],
                    "error": p.kind,
                    "trap": trap["score"],
                    "trap_max": trap["max"],
                    "failed": int(not verdict[r["sample_id"]]),
                    "seed_failed": int(failed_seed.get(r["parent_id"], True)),
                }
            )
    return out


def summarize(rows: list[dict]) -> dict:
    """Failure per arm (overall and per error kind), the seeds' failure, and carry - plain paired over seeds."""
    by_parent: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_parent[r["arm"]][(r["run"], r["iteration"], r["parent_id"])].append(r["failed"])
    both = sorted(set(by_parent["plain"]) & set(by_parent["carry"]))
    mean = {a: [sum(by_parent[a][p]) / len(by_parent[a][p]) for p in both] for a in ARMS}
    seed_fail = {(r["run"], r["iteration"], r["parent_id"]): r["seed_failed"] for r in rows}

    def fig(sub: list[dict]) -> dict:
        return {
            a: {
                **share(sum(r["failed"] for r in sub if r["arm"] == a), sum(r["arm"] == a for r in sub)),
                "trap_share": round(
                    sum(r["trap"] for r in sub if r["arm"] == a)
                    / max(1, sum(r["trap_max"] for r in sub if r["arm"] == a)),
                    4,
                ),
            }
            for a in ARMS
        }

    parents = {(r["run"], r["iteration"], r["parent_id"]) for r in rows}
    return {
        "overall": fig(rows),
        "seeds": share(sum(seed_fail[p] for p in parents), len(parents)),
        "by_error": {
            e: fig([r for r in rows if r["error"] == e]) for e in sorted({r["error"] for r in rows})
        },
        "carry_minus_plain": {
            "over_seeds": len(both),
            **paired_bootstrap(mean["carry"], mean["plain"], resamples=10_000),
        },
    }


def _line(f: dict) -> str:
    return f"{f['k']}/{f['n']} = {f['rate']:.3f} [{f['ci95'][0]:.3f}, {f['ci95'][1]:.3f}]"


@click.command()
@click.argument(
    "runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--iterations", default="1", show_default=True, help="Comma-separated j (needs models/iter_j).")
@click.option("--k", default=4, show_default=True, help="Expansions per seed (no cap).")
@click.option("--candidates", default=8, show_default=True, help="expand.candidates of the carry arm.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def main(runs: tuple[Path, ...], iterations: str, k: int, candidates: int, out: Path) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for run in runs:
        for j in (int(x) for x in iterations.split(",")):
            rows += one(run, j, k, candidates)
            with open(out / "samples.csv", "w", newline="") as f:  # as it grows
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
    s = summarize(rows)
    (out / "summary.json").write_text(json.dumps(s, indent=2) + "\n")
    print(f"seeds (model_j's greedy answer): fail {_line(s['seeds'])}")
    for a in ARMS:
        print(
            f"{a:5s} expansions fail {_line(s['overall'][a])}  trap share {s['overall'][a]['trap_share']:.3f}"
        )
    d = s["carry_minus_plain"]
    print(
        f"carry - plain (per-seed mean failure, {d['over_seeds']} seeds): {d['diff']:+.3f} "
        f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"
    )
    for e, f in s["by_error"].items():
        print(f"  {e:15s} " + "  ".join(f"{a} {_line(f[a])} trap {f[a]['trap_share']:.2f}" for a in ARMS))


if __name__ == "__main__":
    main()
