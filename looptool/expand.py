"""Error-Driven Data Expansion (EDDE): each verified failure seeds k new, different samples of the same
difficulty.

Seeds are the failed samples JGLV verified: PRED_WRONG (the model is wrong, the label right) and LABEL_WRONG
(the label was wrong and is now corrected). Two modes:

* ``structured`` (embedded default): the API synthesizer re-instantiates the seed's difficulty signature
  (pattern, call count, parallelism, argument kinds, distractors, missing-argument behaviour) in another domain
  with new goals and values (:func:`looptool.synth.instantiate`);
* ``llm``: the generator model sees tools, context, the wrong and the right call, the judge's analysis and one
  variation axis, and writes a new sample (:mod:`looptool.prompts.generator`).

Every new sample passes the seed verification, is de-duplicated against the pool, the held-out split, D_j and
its siblings, and records ``parent_id``. Failures are written to the rejected file with their reason.

Opt-in (``expand.from_parts: [error_seed, boundary]``, with ``probe.samples > 0``): boundary samples (greedy
right, sampled pass rate below 1) seed expansions too, with a rejected sampled answer as the wrong one.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from looptool import jsonutil, storage
from looptool.checks import signature_of, verify_sample
from looptool.config import ConfigError, check_choice
from looptool.consistency import check_probe, check_verdicts
from looptool.errorprofile import Profile, seed_profile, trap_max, trap_score
from looptool.llm.base import Backend, Request, Sampling
from looptool.prompts.generator import AXES, generator_messages, parse_generated
from looptool.schema import PROBE, REJECTED, SAMPLE, TRAIN, VERDICT, frame, make_sample_id

SEED_PARTS = ("error_seed", "boundary")
"""Parts of D_j that may seed expansions (``expand.from_parts``)."""


@dataclass
class ExpandConfig:
    """``expand`` section."""

    k: int = 4
    """New samples per verified failure (paper: 4)."""
    mode: str = "structured"
    """``structured`` (API synthesizer, no model) or ``llm`` (``backends.generator``)."""
    max_samples: int | None = 64
    """Cap on new samples per iteration (merge keeps at most ``merge.dataset_size`` anyway); None = no cap."""
    verdicts: list[str] = field(default_factory=lambda: ["PRED_WRONG", "LABEL_WRONG"])
    """Which verified failures seed expansions."""
    tries: int = 3
    """Attempts per requested sample before it counts as rejected."""
    axes: list[str] = field(default_factory=lambda: list(AXES))
    """``llm`` mode: variation axes, used in turn across a seed's k samples."""
    temperature: float = 0.8
    """``llm`` mode: generator sampling temperature."""
    max_new_tokens: int = 1024
    """``llm`` mode: room for a generated sample."""
    seed: int = 0
    """Random seed (the iteration number is added) of the capped request sample, the structured draws and the
    generator's sampling. Not the seed corpus (``synth_cfg``), not an error seed (:class:`ErrorSeed`)."""
    from_parts: list[str] = field(default_factory=lambda: ["error_seed"])
    """Which samples of D_j seed expansions: ``error_seed`` (the verified failures, as in the paper) and/or
    ``boundary`` (greedy-mastered with a sampled pass rate below 1; needs ``probe.samples > 0``)."""
    carry: bool = False
    """``structured`` mode: keep, of ``candidates`` instantiations of the seed's signature, the one that sets
    again most of the traps the model fell into on the seed (:mod:`looptool.errorprofile`)."""
    candidates: int = 8
    """``carry``: instantiations drawn per new sample."""

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ("structured", "llm"))
        if self.k < 0 or self.tries < 1 or self.candidates < 1:
            raise ValueError("k must be >= 0, tries >= 1 and candidates >= 1")
        if (
            (self.max_samples is not None and self.max_samples < 0)
            or self.temperature < 0
            or self.max_new_tokens < 1
        ):
            raise ValueError("max_samples must be >= 0 or null, temperature >= 0 and max_new_tokens >= 1")
        from looptool.schema import VERDICTS

        bad_v = [v for v in self.verdicts if v not in VERDICTS]
        if bad_v:
            raise ValueError(f"verdicts: unknown verdict(s) {bad_v}; known: {list(VERDICTS)}")
        if not self.from_parts or len(set(self.from_parts)) != len(self.from_parts):
            raise ValueError(
                f"from_parts={self.from_parts!r} must name error_seed and/or boundary, once each"
            )
        bad_p = [p for p in self.from_parts if p not in SEED_PARTS]
        if bad_p:
            raise ValueError(f"from_parts: unknown part(s) {bad_p}; known: {list(SEED_PARTS)}")
        bad = [a for a in self.axes if a not in AXES]
        if bad:
            raise ValueError(f"axes: unknown {bad}; known {list(AXES)}")


@dataclass
class ErrorSeed:
    """A verified failure of D_j that new samples are made from (the parent of its expansions)."""

    row: dict[str, Any]
    verdict: str
    right: list[dict[str, Any]]
    wrong: list[dict[str, Any]] | None
    wrong_text: str
    analysis: str

    @property
    def meta(self) -> dict[str, Any]:
        return json.loads(self.row["meta"]) if self.row["meta"] else {}


def error_seeds(
    data: pl.DataFrame, probed: pl.DataFrame, verdicts: pl.DataFrame, kinds: list[str]
) -> list[ErrorSeed]:
    """The verified failures, with the right call (the corrected label for LABEL_WRONG)."""
    v = verdicts.filter(pl.col("verdict").is_in(kinds))
    j = v.join(data, on="sample_id").join(probed.select("sample_id", "prediction", "calls"), on="sample_id")
    seeds = []
    for r in j.sort("sample_id").iter_rows(named=True):
        right = (
            json.loads(r["new_label"])
            if r["verdict"] == "LABEL_WRONG" and r["new_label"]
            else json.loads(r["label"])
        )
        seeds.append(
            ErrorSeed(
                row=r,
                verdict=r["verdict"],
                right=right,
                wrong=json.loads(r["calls"]) if r["calls"] else None,
                wrong_text=r["prediction"] or "",
                analysis=r["rationale"] or "",
            )
        )
    return seeds


def boundary_seeds(data: pl.DataFrame, probed: pl.DataFrame) -> list[ErrorSeed]:
    """The boundary samples (greedy-mastered, pass rate < 1) as seeds: the label is right, and a rejected
    sampled answer stands for the wrong one (verdict ``BOUNDARY``)."""
    if "pass_rate" not in probed.columns:
        raise ConfigError(
            "expand.from_parts: boundary needs the probe's pass rates (probe.samples > 0); the probe file has none"
        )
    b = probed.filter(pl.col("mastered") & pl.col("pass_rate").is_not_null() & (pl.col("pass_rate") < 1))
    j = b.select("sample_id", "pass_rate", "n_samples", "failed_sample").join(data, on="sample_id")
    seeds = []
    for r in j.sort("sample_id").iter_rows(named=True):
        seeds.append(
            ErrorSeed(
                row=r,
                verdict="BOUNDARY",
                right=json.loads(r["label"]),
                wrong=None,
                wrong_text=r["failed_sample"] or "",
                analysis=(
                    f"The model's greedy answer is right, but only {r['pass_rate']:.0%} of its "
                    f"{r['n_samples']} sampled answers are; the wrong answer shown is one of the others."
                ),
            )
        )
    return seeds


def _finish(
    new: dict[str, Any], parent: ErrorSeed, iteration: int, extra_meta: dict[str, Any]
) -> dict[str, Any]:
    tools, messages = new["tools"], new["messages"]
    if isinstance(tools, str):
        tools = json.loads(tools)
    if isinstance(messages, str):
        messages = json.loads(messages)
    meta = new.get("meta") or {}
    if isinstance(meta, str):
        meta = json.loads(meta)
    meta = {**meta, "expansion": {"parent": parent.row["sample_id"], "verdict": parent.verdict, **extra_meta}}
    label = new["label"] if not isinstance(new["label"], str) else json.loads(new["label"])
    return {
        "sample_id": make_sample_id(tools, messages),
        "tools": tools,
        "messages": messages,
        "label": label,
        "origin": "expansion",
        "parent_id": parent.row["sample_id"],
        "iteration": iteration,
        "label_rev": 0,
        "meta": meta,
    }


def _rejected(
    parent: ErrorSeed, reason: str, detail: str, candidate: dict[str, Any] | None, iteration: int
) -> dict[str, Any]:
    """A rejected expansion, kept with its reason (the candidate if there was one, else the seed's content)."""
    base = candidate or {
        "sample_id": f"{parent.row['sample_id']}~{jsonutil.digest(detail, 8)}",
        "tools": parent.row["tools"],
        "messages": parent.row["messages"],
        "label": [],
        "meta": {},
    }
    row = {
        "sample_id": base["sample_id"],
        "tools": base["tools"],
        "messages": base["messages"],
        "label": base.get("label") if isinstance(base.get("label"), (list, str)) else [],
        "origin": "expansion",
        "parent_id": parent.row["sample_id"],
        "iteration": iteration,
        "label_rev": 0,
        "meta": base.get("meta") or {},
        "reason": reason,
        "detail": detail[:2000],
    }
    return row


def expand(
    data: pl.DataFrame,
    probed: pl.DataFrame,
    verdicts: pl.DataFrame,
    known_ids: set[str],
    cfg: ExpandConfig,
    iteration: int,
    synth_cfg: Any,
    generator: Backend | None = None,
    enabled: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """New samples (SAMPLE rows), rejected candidates (REJECTED rows) and metrics."""
    seeds: list[ErrorSeed] = []
    if enabled and "error_seed" in cfg.from_parts:
        seeds += error_seeds(data, probed, verdicts, cfg.verdicts)
    if enabled and "boundary" in cfg.from_parts:
        seeds += boundary_seeds(data, probed)
    carry = cfg.carry and cfg.mode == "structured"
    profiles = {s.row["sample_id"]: seed_profile(s) for s in seeds} if carry else {}
    wanted = [(s, i) for s in seeds for i in range(cfg.k)]
    if cfg.max_samples is not None and len(wanted) > cfg.max_samples:
        rng = random.Random(cfg.seed + iteration)
        wanted = sorted(rng.sample(wanted, cfg.max_samples), key=lambda x: (x[0].row["sample_id"], x[1]))
    seen = set(known_ids)
    made: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    if cfg.mode == "structured":
        _structured(wanted, seen, made, rejected, cfg, iteration, synth_cfg, profiles)
    elif wanted:
        if generator is None:
            raise ValueError("expand.mode=llm needs backends.generator (backend is 'none')")
        _llm(wanted, seen, made, rejected, cfg, iteration, synth_cfg, generator)
    reasons = Counter(r["reason"] for r in rejected)
    traps = [((r["meta"] or {}).get("expansion") or {}).get("trap") for r in made]
    metrics = {
        "enabled": enabled,
        "mode": cfg.mode,
        "seeds": len(seeds),
        "seeds_by_verdict": dict(Counter(s.verdict for s in seeds)),
        "requested": len(wanted),
        "made": len(made),
        "rejected": len(rejected),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "made_by_pattern": dict(sorted(Counter((r["meta"] or {}).get("pattern", "?") for r in made).items())),
    }
    if carry:
        metrics["carry"] = {
            "seeds_by_error": dict(sorted(Counter(p.kind for p in profiles.values()).items())),
            "trap_share": round(sum(t["score"] for t in traps) / max(1, sum(t["max"] for t in traps)), 4),
            "full_trap": sum(t["score"] == t["max"] > 0 for t in traps),
            "with_trap": sum(t["max"] > 0 for t in traps),
        }
    return (
        (frame(made, SAMPLE) if made else SAMPLE.empty()),
        (frame(rejected, REJECTED) if rejected else REJECTED.empty()),
        metrics,
    )


def _problem(row: dict[str, Any], seen: set[str], synth_cfg: Any) -> str | None:
    """Why a candidate cannot be kept (failed verification, duplicate), or None."""
    from looptool.synth.config import split_domains  # expansions are instantiated by the synthesizer anyway

    problems = verify_sample(row, split_domains(synth_cfg) if synth_cfg is not None else None)
    if problems:
        return "failed_verification: " + "; ".join(problems[:3])
    if row["sample_id"] in seen:
        return "duplicate"
    return None


def _accept(
    row: dict[str, Any], parent: ErrorSeed, seen: set[str], synth_cfg: Any, made: list, iteration: int
) -> str | None:
    """Verify and de-duplicate a candidate; returns the rejection reason or None (accepted)."""
    reason = _problem(row, seen, synth_cfg)
    if reason is not None:
        return reason
    seen.add(row["sample_id"])
    made.append(row)
    return None


def _structured(
    wanted,
    seen,
    made,
    rejected,
    cfg: ExpandConfig,
    iteration: int,
    synth_cfg: Any,
    profiles: dict[str, Profile],
) -> None:
    """``profiles``: each seed's :class:`Profile` when ``cfg.carry`` (else empty)."""
    from looptool.synth.instantiate import instantiate

    for parent, i in wanted:
        meta = parent.meta
        signature = meta.get("signature")
        if not signature:
            rejected.append(
                _rejected(
                    parent, "no_signature", "seed has no meta.signature (imported sample?)", None, iteration
                )
            )
            continue
        avoid = {d for d in (meta.get("domain"),) if d}
        reason, candidate = "no_instantiation", None
        if cfg.carry:
            reason, candidate = _carried(
                parent,
                i,
                profiles[parent.row["sample_id"]],
                signature,
                avoid,
                seen,
                cfg,
                iteration,
                synth_cfg,
            )
            if reason is None:
                _accept(candidate, parent, seen, synth_cfg, made, iteration)
            else:
                rejected.append(_rejected(parent, reason.split(":")[0], reason, candidate, iteration))
            continue
        for attempt in range(cfg.tries):
            rng = random.Random(f"{cfg.seed + iteration}:{parent.row['sample_id']}:{i}:{attempt}")
            new = instantiate(signature, rng, synth_cfg, avoid_domains=avoid)
            if new is None:
                reason = "no_instantiation"
                continue
            candidate = _finish(new, parent, iteration, {"mode": "structured", "axis": "domain"})
            reason = _accept(candidate, parent, seen, synth_cfg, made, iteration)
            if reason is None:
                break
        if reason is not None:
            rejected.append(_rejected(parent, reason.split(":")[0], reason, candidate, iteration))


def _carried(
    parent: ErrorSeed,
    i: int,
    profile: Profile,
    signature: dict[str, Any],
    avoid: set[str],
    seen: set[str],
    cfg: ExpandConfig,
    iteration: int,
    synth_cfg: Any,
) -> tuple[str | None, dict[str, Any] | None]:
    """``expand.carry``: of ``cfg.candidates`` instantiations (``cfg.tries`` rounds while none is usable), the
    one with the highest :func:`trap_score` (the first drawn on ties); (reason, candidate) as in _accept."""
    from looptool.synth.instantiate import instantiate

    reason, last = "no_instantiation", None
    top = trap_max(profile)
    for attempt in range(cfg.tries):
        best: tuple[int, dict[str, Any]] | None = None
        for c in range(cfg.candidates):
            rng = random.Random(f"{cfg.seed + iteration}:{parent.row['sample_id']}:{i}:{attempt}:{c}")
            new = instantiate(signature, rng, synth_cfg, avoid_domains=avoid)
            if new is None:
                continue
            score = trap_score(profile, new)
            if best is not None and score <= best[0]:
                continue  # cannot win: not verified
            last = _finish(
                new,
                parent,
                iteration,
                {
                    "mode": "structured",
                    "axis": "domain",
                    "error": profile.as_meta(),
                    "trap": {"score": score, "max": top},
                },
            )
            reason = _problem(last, seen, synth_cfg)
            if reason is None:
                best = (score, last)
                if score == top:
                    break
        if best is not None:
            return None, best[1]
    return reason, last


def _llm(
    wanted, seen, made, rejected, cfg: ExpandConfig, iteration: int, synth_cfg: Any, generator: Backend
) -> None:
    todo = list(wanted)
    for attempt in range(cfg.tries):
        if not todo:
            break
        reqs = []
        for parent, i in todo:
            axis = cfg.axes[i % len(cfg.axes)]
            msgs = generator_messages(
                json.loads(parent.row["tools"]),
                json.loads(parent.row["messages"]),
                parent.wrong,
                parent.wrong_text,
                parent.right,
                parent.analysis,
                parent.meta.get("signature") or {"pattern": parent.meta.get("pattern")},
                axis,
            )
            reqs.append(Request.chat(msgs, key=f"{parent.row['sample_id']}:{i}:{attempt}"))
        sampling = Sampling(
            max_new_tokens=cfg.max_new_tokens,
            temperature=cfg.temperature,
            seed=cfg.seed + iteration * 1000 + attempt,
        )
        comps = generator.generate(reqs, sampling)
        retry = []
        for (parent, i), comp in zip(todo, comps):
            axis = cfg.axes[i % len(cfg.axes)]
            if not comp.ok:
                reason, candidate, detail = "generator_error", None, comp.error or ""
            else:
                obj, err = parse_generated(comp.text)
                if err:
                    reason, candidate, detail = "unparseable", None, f"{err}: {comp.text[:300]}"
                else:
                    meta = _llm_meta(obj, parent, getattr(generator, "model", "llm"), axis)
                    candidate = _finish(
                        {**obj, "meta": meta}, parent, iteration, {"mode": "llm", "axis": axis}
                    )
                    reason = _accept(candidate, parent, seen, synth_cfg, made, iteration)
                    detail = reason or ""
            if reason is not None:
                if attempt + 1 < cfg.tries:
                    retry.append((parent, i))
                else:
                    rejected.append(_rejected(parent, reason.split(":")[0], detail, candidate, iteration))
        todo = retry


def _llm_meta(obj: dict[str, Any], origin: ErrorSeed, generator: str, axis: str) -> dict[str, Any]:
    """The meta contract for a generated sample: the parent's pattern (the generator was asked to keep it),
    a signature computed from the new sample, the domain kept only on axes that keep it."""
    parent = origin.meta
    psig = parent.get("signature") or {}
    pattern = parent.get("pattern") or psig.get("pattern") or "single"
    same_domain = axis in ("values", "phrasing")
    label, tools = obj["label"], obj["tools"]
    meta = {
        "pattern": pattern,
        "domain": parent.get("domain") if same_domain else "generated",
        "subdomain": parent.get("subdomain") if same_domain else "generated",
        "capability": parent.get("capability") if same_domain else "generated",
        "generator": generator,
        "reply": obj.get("reply") if not label else None,
        "signature": signature_of(
            pattern, label, tools, int(psig.get("n_distractors", 0)), int(psig.get("turns", 1))
        ),
    }
    for key in ("missing", "requested"):
        if isinstance(obj.get(key), dict):
            meta[key] = obj[key]
    return meta


@dataclass
class ExpandInputs:
    """The files expand@j reads (paths from dvc.yaml)."""

    data: Path
    """D_j."""
    probe: Path
    """probe@j's answers to D_j."""
    verdicts: Path
    """verify@j's verdicts."""
    pool: Path
    """The seed pool (read for de-duplication)."""
    heldout: Path
    """The held-out split (read for de-duplication)."""


def run_expand(
    *,
    inputs: ExpandInputs,
    out: str | Path,
    rejected: str | Path,
    cfg: ExpandConfig,
    synth_cfg: Any,
    iteration: int,
    enabled: bool,
    generator: Backend | None,
) -> dict[str, Any]:
    """Stage expand@j: new samples (``out``) and rejected candidates (``rejected``) from the verified failures
    of D_j; returns the metrics. ``synth_cfg`` is the seed corpus's SeedConfig (the synthesizer's catalog and
    held-out domains), ``enabled`` is ``loop.edde``."""
    t0 = time.perf_counter()
    data, probe, verdicts, pool, heldout = (
        inputs.data, inputs.probe, inputs.verdicts, inputs.pool, inputs.heldout
    )  # fmt: skip
    rows = storage.read_parquet(data, TRAIN)
    probed = storage.read_parquet(probe, PROBE)
    verdict_rows = storage.read_parquet(verdicts, VERDICT)
    check_probe(probed, rows, str(probe), str(data))
    check_verdicts(verdict_rows, probed, str(verdicts), str(probe))
    ids = storage.query(
        f"SELECT sample_id FROM {storage.parquet_source([pool, heldout])} UNION SELECT sample_id FROM {storage.parquet_source(data)}"
    )
    made, rejected_rows, metrics = expand(
        rows,
        probed,
        verdict_rows,
        set(ids["sample_id"].to_list()),
        cfg,
        iteration,
        synth_cfg,
        generator,
        enabled,
    )
    storage.write_parquet(made, out, SAMPLE)
    storage.write_parquet(rejected_rows, rejected, REJECTED)
    if generator is not None and generator.stats() is not None:
        metrics["cache"] = generator.stats()
    metrics["wall_s"] = round(time.perf_counter() - t0, 2)
    return {"iteration": iteration, **metrics}
