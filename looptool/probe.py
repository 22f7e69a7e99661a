"""Greedy Capability Probing (GCP): what model_j can and cannot do on its own training data.

Every sample of D_j is greedy-decoded once. ``mastered`` is ToolMatch against the label; the perplexity of the
output comes from the decode's own log-probabilities (no second forward pass). For a mastered sample the output
is the label, so a high PPL marks a sample the model gets right without confidence: the HPPL part of the merge.

Opt-in (``probe.samples: k > 0``): k sampled decodes per sample beside the greedy one give a pass rate (the
share ToolMatch accepts). A greedy-mastered sample with a pass rate below 1 sits on the model's capability
boundary (the merge part ``boundary``, ``loop.boundary``); ``mastered`` stays the greedy verdict.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from looptool import storage
from looptool.calls import call_format_of, parse_as
from looptool.config import ConfigError
from looptool.consistency import unique_ids
from looptool.llm.base import Backend, Request, Sampling
from looptool.match import tool_match
from looptool.schema import PROBE, TRAIN, frame


@dataclass
class ProbeConfig:
    """``probe`` section."""

    max_new_tokens: int = 96
    """Longest answer decoded; a tool call of the demo's APIs takes 30-80 tokens."""
    limit: int | None = None
    """Probe only the first N samples (debugging); None = all of D_j."""
    stop: list[str] = field(default_factory=list)
    """Extra stop strings (the tokenizer's end of turn always stops)."""
    call_format: str = "auto"
    """Tool-call format of the student's answers (:data:`looptool.calls.CALL_FORMATS`: ``auto`` reads every
    family's; ``template``: the one the student's chat template shows; or ``hermes``, ``llama3``,
    ``mistral``, ``json``, ``python``)."""
    samples: int = 0
    """k sampled decodes per sample beside the greedy one, for the pass rate (columns ``pass_rate``,
    ``n_samples``, ``failed_sample`` of probe.parquet); 0: the paper's greedy probe only (no such columns)."""
    temperature: float = 1.0
    """Sampling temperature of the k decodes (1.0: the GRPO rollouts' default, ``train.temperature``)."""
    top_p: float = 1.0
    """Nucleus sampling of the k decodes."""
    seed: int = 0
    """Seed of the k decodes (the iteration number is added); each draw is seeded from its own request, so
    the pass rate does not depend on batching."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit={self.limit!r} must be >= 1 or null")
        from looptool.calls import CALL_FORMATS

        if self.call_format not in (*CALL_FORMATS, "template"):
            raise ValueError(f"call_format={self.call_format!r} is not one of {[*CALL_FORMATS, 'template']}")
        if self.samples < 0:
            raise ValueError(f"samples={self.samples!r} must be >= 0 (0: the greedy probe only)")
        if self.samples and self.temperature <= 0:
            raise ValueError(
                f"temperature={self.temperature!r} must be > 0 when samples > 0 (greedy draws are all the same)"
            )
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p={self.top_p!r} must be in (0, 1]")


def requests_for(df: pl.DataFrame) -> list[Request]:
    """One chat request per sample (tools + messages so far), keyed by sample_id."""
    return [
        Request.chat(json.loads(m), json.loads(t), key=sid)
        for sid, m, t in df.select("sample_id", "messages", "tools").iter_rows()
    ]


def sampled_requests(df: pl.DataFrame, k: int) -> list[Request]:
    """k chat requests per sample, next to each other (so an engine that prefills a repeated prompt once, as
    :class:`~looptool.llm.hf.HFBackend` does for a GRPO group, sees them together); draw i of a sample is keyed
    ``<sample_id>#<i>``: a draw of its own, independent of its neighbours and of the greedy request."""
    return [
        Request.chat(json.loads(m), json.loads(t), key=f"{sid}#{i}")
        for sid, m, t in df.select("sample_id", "messages", "tools").iter_rows()
        for i in range(k)
    ]


def pass_rates(
    df: pl.DataFrame, backend: Backend, cfg: ProbeConfig, iteration: int, fmt: str
) -> pl.DataFrame:
    """``probe.samples`` sampled decodes of every sample of ``df``, in one batched call: per sample the
    pass rate (share of the answered draws that ToolMatch accepts; null when none answered), how many
    answered, and the first rejected answer's text."""
    k = cfg.samples
    sampling = Sampling(
        max_new_tokens=cfg.max_new_tokens,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        seed=cfg.seed + iteration,
        stop=tuple(cfg.stop),
    )
    completions = backend.generate(sampled_requests(df, k), sampling)
    out = []
    for n, (sid, tools, label) in enumerate(df.select("sample_id", "tools", "label").iter_rows()):
        answered = passed = 0
        failed: str | None = None
        for comp in completions[n * k : (n + 1) * k]:
            if not comp.ok:
                continue
            answered += 1
            if tool_match(parse_as(comp.text, fmt), label, tools):
                passed += 1
            elif failed is None:
                failed = comp.text
        out.append(
            {
                "sample_id": sid,
                "pass_rate": passed / answered if answered else None,
                "n_samples": answered,
                "failed_sample": failed,
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "sample_id": pl.String,
            "pass_rate": pl.Float64,
            "n_samples": pl.Int64,
            "failed_sample": pl.String,
        },
    )


def probe(df: pl.DataFrame, backend: Backend, cfg: ProbeConfig, iteration: int) -> pl.DataFrame:
    """Greedy-decode every sample of ``df`` (TRAIN or SAMPLE schema); return PROBE rows (with the pass-rate
    columns when ``cfg.samples > 0``)."""
    if cfg.limit is not None:
        df = df.head(cfg.limit)
    sampling = Sampling(
        max_new_tokens=cfg.max_new_tokens, temperature=0.0, logprobs=True, stop=tuple(cfg.stop)
    )
    completions = backend.generate(requests_for(df), sampling)
    fmt = cfg.call_format
    if fmt == "template":
        fmt = call_format_of(getattr(backend, "tokenizer", None))
    greedy = _greedy_rows(df, completions, fmt, iteration)
    if not cfg.samples:
        return greedy
    rates = pass_rates(df, backend, cfg, iteration, fmt)
    return greedy.hstack(rates.drop("sample_id"))  # same rows, same order


def _greedy_rows(df: pl.DataFrame, completions: list, fmt: str, iteration: int) -> pl.DataFrame:
    rows = []
    for (sid, tools, label), comp in zip(df.select("sample_id", "tools", "label").iter_rows(), completions):
        parsed = (
            parse_as(comp.text, fmt) if comp.ok else None
        )  # a backend error is no answer: neither mastered nor failed
        rows.append(
            {
                "sample_id": sid,
                "iteration": iteration,
                "prediction": comp.text if comp.ok else "",
                "calls": parsed.label() if parsed is not None else None,
                "parse_error": parsed.error if parsed is not None else None,
                "mastered": bool(parsed is not None and tool_match(parsed, label, tools)),
                "ppl": comp.ppl,
                "n_tokens": len(comp.token_ids),
                "error": comp.error,
            }
        )
    return frame(rows, PROBE)


def probe_metrics(
    probed: pl.DataFrame, data: pl.DataFrame, seconds: float, cache: dict[str, Any] | None
) -> dict[str, Any]:
    """Mastery overall and per pattern, parse errors, PPL of mastered outputs, backend errors."""
    joined = probed.join(
        data.select(
            "sample_id",
            pl.col("meta").str.json_path_match("$.pattern").fill_null("?").alias("pattern"),
            "part",
        ),
        on="sample_id",
    )
    per_pattern = {
        p: round(float(m), 4)
        for p, m in joined.group_by("pattern").agg(pl.col("mastered").mean()).sort("pattern").iter_rows()
    }
    per_part = {
        p: round(float(m), 4)
        for p, m in joined.group_by("part").agg(pl.col("mastered").mean()).sort("part").iter_rows()
    }
    mastered = probed.filter(pl.col("mastered"))
    return {
        "n": probed.height,
        "mastered": int(probed["mastered"].sum()),
        "mastered_rate": round(float(probed["mastered"].mean() or 0.0), 4),
        "mastered_by_pattern": per_pattern,
        "mastered_by_part": per_part,
        "parse_errors": int(probed["parse_error"].is_not_null().sum()),
        "unprobed": int(probed["error"].is_not_null().sum()),
        "backend_errors": int(probed["error"].is_not_null().sum()),
        "ppl_mastered_mean": round(float(mastered["ppl"].mean()), 4)
        if mastered.height and mastered["ppl"].null_count() < mastered.height
        else None,
        "ppl_mastered_max": round(float(mastered["ppl"].max()), 4)
        if mastered.height and mastered["ppl"].null_count() < mastered.height
        else None,
        "tokens_mean": round(float(probed["n_tokens"].mean() or 0.0), 2),
        **({"sampled": sampled_metrics(probed)} if "pass_rate" in probed.columns else {}),
        "wall_s": round(seconds, 2),
        "cache": cache or {},
    }


def sampled_metrics(probed: pl.DataFrame) -> dict[str, Any]:
    """Pass-rate figures of a sampling probe: mean pass rate, the boundary (greedy-mastered, pass rate < 1)
    and the failed samples some draw still solves (pass rate > 0)."""
    rated = probed.filter(pl.col("pass_rate").is_not_null())
    mastered = rated.filter(pl.col("mastered"))
    failed = rated.filter(~pl.col("mastered") & pl.col("error").is_null())
    return {
        "rated": rated.height,
        "pass_rate_mean": round(float(rated["pass_rate"].mean()), 4) if rated.height else None,
        "pass_rate_mean_mastered": round(float(mastered["pass_rate"].mean()), 4) if mastered.height else None,
        "pass_rate_mean_failed": round(float(failed["pass_rate"].mean()), 4) if failed.height else None,
        "boundary": int((mastered["pass_rate"] < 1).sum()),
        "failed_solvable": int((failed["pass_rate"] > 0).sum()),
        "draws_answered": int(probed["n_samples"].sum()),
    }


def run_probe(
    *, data: str | Path, out: str | Path, cfg: ProbeConfig, iteration: int, backend: Backend
) -> dict[str, Any]:
    """Stage probe@j: greedy-decode D_j (``data``) with model_j (``backend``) (and ``cfg.samples`` sampled
    decodes of each sample when asked), write PROBE rows to ``out``; returns the metrics."""
    t0 = time.perf_counter()
    if cfg.limit is not None:  # the next stages need every sample of D_j probed
        raise ConfigError(
            f"probe.limit: got {cfg.limit!r}, expected null in a pipeline run (verify and merge need every sample "
            "of D_j probed; use looptool.probe.probe() with a limit for debugging)"
        )
    rows = storage.read_parquet(data, TRAIN)
    unique_ids(rows, str(data))
    probed = probe(rows, backend, cfg, iteration)
    storage.write_parquet(probed, out, PROBE)
    return {"iteration": iteration, **probe_metrics(probed, rows, time.perf_counter() - t0, backend.stats())}
