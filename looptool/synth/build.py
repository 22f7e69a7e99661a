"""The ``seed`` stage: synthesize, verify, split, noise and decontaminate the seed corpus.

Outputs (``out_dir``): ``pool.parquet`` (verified POOL samples, ``seed.label_noise`` of them with a corrupted
label), ``heldout.parquet`` (samples of the held-out domains, clean, never in the pool), ``rejected.parquet``
(every candidate that failed, with its reason), ``noise_truth.parquet`` (clean and noisy label of every
corrupted pool row) and ``dev.parquet`` (samples of the dev domains, ``seed.dev_domains``: clean, never in the
pool nor in the test split; generated last, from its own seeded draws, so it changes none of the other files
beyond taking its domains out of the pool; empty when ``seed.dev_domains`` is 0). Everything is a deterministic function of the SeedConfig: the same seed writes the same
bytes.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.checks import verify_sample
from looptool.llm.base import Backend
from looptool.schema import NOISE_TRUTH, PATTERNS, REJECTED, SAMPLE, frame
from looptool.storage import write_parquet
from looptool.synth import agents
from looptool.synth.apis import build_catalog, leaves
from looptool.synth.config import (
    SeedConfig,
    dev_domain_names,
    heldout_domain_names,
    pool_domain_names,
    split_domains,
)
from looptool.synth.decontam import Decontaminator
from looptool.synth.judge import judge_rows
from looptool.synth.llm_agents import LLMAgents, Outcome
from looptool.synth.noise import apply_noise, schema_breaks
from looptool.synth.planner import Draft, PlanError, Planner
from looptool.synth.rows import to_row

log = logging.getLogger(__name__)


def split_rng(cfg: SeedConfig, name: str) -> random.Random:
    return random.Random(jsonutil.digest(["seed", cfg.random_seed, name], 32))


def planner_for(cfg: SeedConfig, domains: Sequence[str]) -> Planner:
    catalog = build_catalog(cfg.random_seed, cfg.apis_per_leaf, cfg.optional_keep)
    return Planner(catalog, domains, cfg.optional_arg_rate, cfg.max_tools, cfg.max_parallel)


def pattern_targets(weights: dict[str, float], n: int) -> dict[str, int]:
    """Split ``n`` samples over patterns by weight (largest remainder; ties in PATTERNS order)."""
    total = sum(weights.values())
    raw = {p: n * weights.get(p, 0.0) / total for p in PATTERNS}
    out = {p: int(math.floor(v)) for p, v in raw.items()}
    rest = n - sum(out.values())
    for p in sorted(PATTERNS, key=lambda p: (-(raw[p] - out[p]), PATTERNS.index(p)))[:rest]:
        out[p] += 1
    return {p: c for p, c in out.items() if c > 0}


def _interleave(deficit: dict[str, int]) -> list[str]:
    order, left = [], dict(deficit)
    while any(left.values()):
        for p in PATTERNS:
            if left.get(p, 0) > 0:
                order.append(p)
                left[p] -= 1
    return order


class Simulator:
    """Turns drafts into conversations with the procedural agents or the generator model."""

    def __init__(self, cfg: SeedConfig, generator: Backend | None = None):
        self.cfg = cfg
        self.llm: LLMAgents | None = None
        if cfg.mode == "llm":
            if generator is None:
                raise ValueError("seed.mode=llm needs a generator backend (set backends.generator)")
            self.llm = LLMAgents(generator, cfg.llm_temperature, cfg.llm_max_new_tokens)

    @property
    def name(self) -> str:
        return self.llm.name if self.llm else "procedural"

    @property
    def batch(self) -> int:
        return self.cfg.llm_batch if self.llm else 10**9

    def run(self, drafts: Sequence[Draft], rng: random.Random) -> list[Outcome]:
        if self.llm is not None:
            return self.llm.run(drafts, rng)
        for d in drafts:
            agents.realize(d, rng)
        return [Outcome(d) for d in drafts]


def rejected_row(row: dict[str, Any], reason: str, detail: str | None) -> dict[str, Any]:
    return {**row, "reason": reason, "detail": detail}


def _row_of(o: Outcome, generator: str) -> dict[str, Any]:
    d = o.draft
    if not o.ok:  # keep what the agents wrote, with the planned calls as the label
        if not d.messages:
            d.messages = [{"role": "user", "content": ""}]
        if not d.label:
            d.label = [c.label() for c in d.calls]
    return to_row(d, generator)


@dataclass
class SplitResult:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    plan_failures: Counter = field(default_factory=Counter)
    judged: Counter = field(default_factory=Counter)


def generate_split(
    cfg: SeedConfig,
    split: str,
    want: int,
    domains: Sequence[str],
    sim: Simulator,
    seen: set[str],
    decontam: Decontaminator | None = None,
    judge: Backend | None = None,
    progress: bool = True,
) -> SplitResult:
    """Verified samples of ``split`` until ``want`` are accepted (per the pattern mix) or the budget is spent."""
    from tqdm.auto import tqdm

    from looptool.llm.progress import current as current_bar

    res = SplitResult()
    if want <= 0:
        return res
    rng = split_rng(cfg, split)
    planner = planner_for(cfg, domains)
    targets = pattern_targets(cfg.patterns, want)
    got: Counter = Counter()
    budget = math.ceil(want * cfg.max_attempts)
    bar = None  # samples accepted; with LLM agents the stage's request bar shows them instead (one bar)
    while res.attempts < budget:
        deficit = {p: targets[p] - got[p] for p in targets if targets[p] > got[p]}
        if not deficit:
            break
        order = _interleave(deficit)[: min(sim.batch, budget - res.attempts)]
        drafts = []
        for pattern in order:
            res.attempts += 1
            try:
                drafts.append(planner.plan(pattern, rng, planner.free_structure(pattern, rng)))
            except PlanError:
                res.plan_failures[pattern] += 1
        candidates = []
        for o in sim.run(drafts, rng):
            row = _row_of(o, sim.name)
            if not o.ok:
                res.rejected.append(rejected_row(row, o.reason or "agent_output", o.detail))
                continue
            if decontam is not None:  # first: a copied benchmark question is the most important thing to say
                m = decontam.match_messages(row["messages"])
                if m is not None:
                    row["meta"]["decontam"] = m.to_json()
                    res.rejected.append(rejected_row(row, "contaminated", json.dumps(m.to_json())))
                    continue
            problems = verify_sample(row, split_domains(cfg), split)
            if problems:
                res.rejected.append(rejected_row(row, problems[0].split(":", 1)[0], "; ".join(problems)))
                continue
            if row["sample_id"] in seen:
                res.rejected.append(
                    rejected_row(row, "duplicate", "same tools and messages as an earlier sample")
                )
                continue
            seen.add(row["sample_id"])
            candidates.append(row)
        if judge is not None and candidates:
            verdicts = judge_rows(candidates, judge, cfg.judge_max_new_tokens, rng.randrange(2**31))
            kept = []
            for row, (ok, reason) in zip(candidates, verdicts, strict=True):
                res.judged["accept" if ok else "reject" if ok is False else "invalid"] += 1
                row["meta"]["judge"] = {
                    "verdict": "accept" if ok else "reject" if ok is False else "invalid",
                    "reason": reason,
                }
                if ok:
                    kept.append(row)
                else:
                    res.rejected.append(
                        rejected_row(row, "judge" if ok is False else "judge_invalid", reason)
                    )
            candidates = kept
        for row in candidates:
            got[row["meta"]["pattern"]] += 1
            res.accepted.append(row)
        stage = current_bar()
        if stage is not None and stage.started:
            stage.note(f"{split} {len(res.accepted)}/{want} samples")
        else:
            if bar is None:
                bar = tqdm(total=want, desc=f"seed {split}", disable=None if progress else True, leave=False)
            bar.update(len(candidates))
    if bar is not None:
        bar.close()
    return res


def _why_no_dev(cfg: SeedConfig, dev: SplitResult) -> str:
    if cfg.dev_domains == 0:
        return "seed.dev_domains is 0; set it (domains taken out of the pool) for a dev split"
    if cfg.dev_size == 0:
        return "seed.dev_size is 0"
    return f"no candidate of the dev domains passed verification in {dev.attempts} attempts"


def _counts(rows: Sequence[dict[str, Any]], key: str) -> dict[str, int]:
    return dict(sorted(Counter(r["meta"][key] for r in rows).items()))


def run_seed(
    *,
    out_dir: str | Path,
    cfg: SeedConfig,
    generator: Backend | None = None,
    judge: Backend | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Stage seed: write the seed corpus (pool, test and dev splits, rejected rows, noise truth) to ``out_dir``
    and return its metrics.

    ``generator`` (needed by ``seed.mode: llm``) and ``judge`` (None: no judge pass) are the caller's: the
    stage script opens the ones ``backends.generator`` / ``backends.judge`` configure and closes them.
    """
    if cfg.mode == "import":  # kept out of this module so the loop stages that import synth skip interchange
        raise ValueError("seed.mode=import: the pool is read by looptool.synth.imported.run_import_seed")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    sim = Simulator(cfg, generator)
    decontam = (
        Decontaminator(cfg.decontam_dirs, cfg.decontam_ngram, cfg.decontam_threshold)
        if cfg.decontam_dirs
        else None
    )
    seen: set[str] = set()
    pool = generate_split(
        cfg, "pool", cfg.pool_size, pool_domain_names(cfg), sim, seen, decontam, judge, progress
    )
    held = generate_split(
        cfg, "heldout", cfg.heldout_size, heldout_domain_names(cfg), sim, seen, decontam, judge, progress
    )
    dev_domains = dev_domain_names(cfg)  # last, so its draws change nothing above
    dev = generate_split(
        cfg, "dev", cfg.dev_size if dev_domains else 0, dev_domains, sim, seen, decontam, judge, progress
    )
    if not dev.accepted:
        log.warning("seed: %s/dev.parquet is empty (%s)", out_dir, _why_no_dev(cfg, dev))

    pool_rows = sorted(pool.accepted, key=lambda r: r["sample_id"])
    held_rows = sorted(held.accepted, key=lambda r: r["sample_id"])
    dev_rows = sorted(dev.accepted, key=lambda r: r["sample_id"])
    for split, res in (("pool", pool), ("heldout", held), ("dev", dev)):
        for r in res.rejected:
            r["meta"]["split"] = split
    rejected = sorted(
        pool.rejected + held.rejected + dev.rejected,
        key=lambda r: (r["reason"], r["sample_id"], jsonutil.dumps(r["label"])),
    )
    noisy_rows, truth = apply_noise(pool_rows, cfg.label_noise, cfg.noise_kinds, split_rng(cfg, "noise"))

    write_parquet(frame(noisy_rows, SAMPLE), out_dir / "pool.parquet", SAMPLE)
    write_parquet(frame(held_rows, SAMPLE), out_dir / "heldout.parquet", SAMPLE)
    write_parquet(frame(rejected, REJECTED), out_dir / "rejected.parquet", REJECTED)
    write_parquet(frame(truth, NOISE_TRUTH), out_dir / "noise_truth.parquet", NOISE_TRUTH)
    write_parquet(frame(dev_rows, SAMPLE), out_dir / "dev.parquet", SAMPLE)

    catalog = build_catalog(cfg.random_seed, cfg.apis_per_leaf, cfg.optional_keep)
    by_id = {r["sample_id"]: r for r in pool_rows}
    metrics = {
        "mode": cfg.mode,
        "generator": sim.name,
        "pool": {
            "size": len(pool_rows),
            "by_pattern": _counts(pool_rows, "pattern"),
            "by_domain": _counts(pool_rows, "domain"),
            "attempts": pool.attempts,
            "plan_failures": dict(pool.plan_failures),
        },
        "heldout": {
            "size": len(held_rows),
            "by_pattern": _counts(held_rows, "pattern"),
            "by_domain": _counts(held_rows, "domain"),
            "attempts": held.attempts,
            "plan_failures": dict(held.plan_failures),
            "domains": heldout_domain_names(cfg),
        },
        "dev": {
            "size": len(dev_rows),
            "by_pattern": _counts(dev_rows, "pattern"),
            "by_domain": _counts(dev_rows, "domain"),
            "attempts": dev.attempts,
            "plan_failures": dict(dev.plan_failures),
            "domains": dev_domains,
        },
        "rejected": {
            "total": len(rejected),
            "by_reason": dict(sorted(Counter(r["reason"] for r in rejected).items())),
            "pool": len(pool.rejected),
            "heldout": len(held.rejected),
            "dev": len(dev.rejected),
        },
        "noise": {
            "count": len(truth),
            "fraction": round(len(truth) / max(1, len(pool_rows)), 4),
            "by_kind": dict(sorted(Counter(t["kind"] for t in truth).items())),
            "schema_detectable": sum(
                schema_breaks(t["noisy_label"], by_id[t["sample_id"]]["tools"]) for t in truth
            ),
        },
        "decontam": {
            "enabled": decontam is not None,
            "questions": len(decontam) if decontam else 0,
            "contaminated": sum(r["reason"] == "contaminated" for r in rejected),
            "ngram": cfg.decontam_ngram,
            "threshold": cfg.decontam_threshold,
        },
        "judge": {"enabled": judge is not None, **dict(pool.judged + held.judged + dev.judged)},
        "catalog": {
            "domains": len({leaf.domain for leaf in leaves()}),
            "leaves": len(leaves()),
            "apis": len(catalog.apis),
        },
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    return metrics
