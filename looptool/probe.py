"""Greedy Capability Probing (GCP): what model_j can and cannot do on its own training data.

Every sample of D_j is greedy-decoded once. ``mastered`` is ToolMatch against the label; the perplexity of the
output comes from the decode's own log-probabilities (no second forward pass). For a mastered sample the output
is the label, so a high PPL marks a sample the model gets right without confidence: the HPPL part of the merge.
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

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit={self.limit!r} must be >= 1 or null")
        from looptool.calls import CALL_FORMATS

        if self.call_format not in (*CALL_FORMATS, "template"):
            raise ValueError(f"call_format={self.call_format!r} is not one of {[*CALL_FORMATS, 'template']}")


def requests_for(df: pl.DataFrame) -> list[Request]:
    """One chat request per sample (tools + messages so far), keyed by sample_id."""
    return [
        Request.chat(json.loads(m), json.loads(t), key=sid)
        for sid, m, t in df.select("sample_id", "messages", "tools").iter_rows()
    ]


def probe(df: pl.DataFrame, backend: Backend, cfg: ProbeConfig, iteration: int) -> pl.DataFrame:
    """Greedy-decode every sample of ``df`` (TRAIN or SAMPLE schema); return PROBE rows."""
    if cfg.limit is not None:
        df = df.head(cfg.limit)
    sampling = Sampling(
        max_new_tokens=cfg.max_new_tokens, temperature=0.0, logprobs=True, stop=tuple(cfg.stop)
    )
    completions = backend.generate(requests_for(df), sampling)
    fmt = cfg.call_format
    if fmt == "template":
        fmt = call_format_of(getattr(backend, "tokenizer", None))
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
        "wall_s": round(seconds, 2),
        "cache": cache or {},
    }


def run_probe(
    *, data: str | Path, out: str | Path, cfg: ProbeConfig, iteration: int, backend: Backend
) -> dict[str, Any]:
    """Stage probe@j: greedy-decode D_j (``data``) with model_j (``backend``), write PROBE rows to ``out``;
    returns the metrics."""
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
