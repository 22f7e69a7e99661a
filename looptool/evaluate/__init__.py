"""Evaluation of a checkpoint: the held-out synthetic split, BFCL-v3 single-turn and ACEBench (English).

Every prompt of every benchmark goes through the student backend in one batched, greedy pass
(:meth:`looptool.llm.base.Backend.generate`); the answers are parsed once with :func:`looptool.calls.parse` and
scored with each benchmark's own rules (:mod:`looptool.match.bfcl`, :mod:`looptool.match.acebench`, ToolMatch
for the held-out split). A benchmark whose data folder is not configured or not there is skipped with the
reason in the metrics, so the pipeline runs for someone without the benchmark files.

Outputs: a small metrics JSON (per-category accuracies, the benchmarks' own aggregates, a flat ``summary`` for
``dvc metrics`` and the report) and, optionally, one Parquet row per answer (:data:`EVAL_RESULT`) to read the
failures.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from looptool import storage
from looptool.calls import parse
from looptool.evaluate import acebench as ace
from looptool.evaluate import bfcl
from looptool.evaluate import heldout as held
from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.match import acebench as ace_checker
from looptool.schema import Column, Schema, frame

log = logging.getLogger(__name__)

__all__ = ["EvalConfig", "EVAL_RESULT", "evaluate", "run_evaluate", "summary_of"]

EVAL_RESULT = Schema(
    "eval_result",
    (
        Column("benchmark", pl.String, choices=("heldout", "bfcl", "acebench")),
        Column("category", pl.String),
        Column("id", pl.String),
        Column("prediction", pl.String),
        Column("calls", pl.String, nullable=True),
        Column("parse_error", pl.String, nullable=True),
        Column("valid", pl.Boolean),
        Column("error_type", pl.String, nullable=True),
        Column("error", pl.String, nullable=True),
        Column("n_tokens", pl.Int64),
        Column("backend_error", pl.String, nullable=True),
    ),
)
"""One row per evaluated answer: what the model said and the benchmark's verdict."""


@dataclass
class EvalConfig:
    """``eval`` section: what to evaluate and how much of it."""

    bfcl_dir: str | None = None
    """BFCL single-turn data folder: gorilla's ``berkeley-function-call-leaderboard/data`` (``BFCL_v3_*.json``)
    or the ``bfcl-eval`` package's ``bfcl_eval/data`` (``BFCL_v4_*.json``), with ``possible_answer/``. None or a
    missing folder: BFCL is skipped, with the reason in the metrics."""
    acebench_dir: str | None = None
    """ACEBench English data folder (ACEBench's ``data_all/data_en``, with ``possible_answer/``). None or
    missing: skipped."""
    bfcl_categories: list[str] = field(default_factory=lambda: list(bfcl.DEFAULT_CATEGORIES))
    """BFCL categories (v3 names; ``java`` and ``javascript`` are optional extras)."""
    acebench_categories: list[str] = field(default_factory=lambda: list(ace.DEFAULT_CATEGORIES))
    """ACEBench normal and special categories. The agent categories need a simulated user: listed ones are
    reported as skipped."""
    limit: int | None = 20
    """Entries per benchmark category (the first N of each file; multi-turn ACEBench: N conversations);
    None = all. Small on CPU, None for full runs on a GPU."""
    heldout_limit: int | None = None
    """Held-out samples evaluated (a fixed pseudo-random subset of N, the same every iteration); None = all."""
    max_new_tokens: int = 256
    """Longest answer decoded (greedy)."""
    enforce_order: bool = False
    """BFCL parallel categories: require the calls in the answer's order (BFCL itself does not)."""
    chunk_size: int = 64
    """Requests handed to the backend per call (progress and resume granularity; the backend batches within)."""

    def __post_init__(self) -> None:
        self.bfcl_categories = bfcl.iter_categories(self.bfcl_categories)
        for c in self.acebench_categories:
            if c not in ace.ALL_CATEGORIES:
                raise ValueError(f"unknown ACEBench category {c!r}; known: {list(ace.ALL_CATEGORIES)}")
        for name in ("limit", "heldout_limit"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1 or null (all)")
        if self.max_new_tokens < 1 or self.chunk_size < 1:
            raise ValueError("max_new_tokens and chunk_size must be >= 1")


@dataclass
class _Item:
    benchmark: str
    category: str
    id: str
    request: Request
    entry: Any = None
    label: str | None = None
    tools: str | None = None


def _dir_status(path: str | None, what: str) -> tuple[Path | None, str | None]:
    if not path:
        return None, f"no {what} data folder configured (eval.{what}_dir)"
    p = Path(path)
    if not p.is_dir():
        return None, f"{what} data folder {path} not found"
    return p, None


def _collect(cfg: EvalConfig, heldout_path: str | None) -> tuple[list[_Item], dict[str, Any], pl.DataFrame | None]:
    """Every request to run, and per benchmark what was loaded or why it was skipped."""
    items: list[_Item] = []
    info: dict[str, Any] = {"heldout": {}, "bfcl": {"categories": {}}, "acebench": {"categories": {}}}
    heldout_df = None

    if heldout_path and Path(heldout_path).exists():
        heldout_df = held.load(heldout_path, cfg.heldout_limit)
        for row, req in zip(heldout_df.iter_rows(named=True), held.requests_for(heldout_df), strict=True):
            items.append(_Item("heldout", "heldout", row["sample_id"], req, label=row["label"], tools=row["tools"]))
        info["heldout"] = {"path": heldout_path}
    else:
        info["heldout"] = {"skipped": f"held-out split {heldout_path or '(none given)'} not found"}

    root, why = _dir_status(cfg.bfcl_dir, "bfcl")
    if root is None:
        info["bfcl"]["skipped"] = why
    else:
        info["bfcl"]["data_dir"] = str(root)
        for cat in cfg.bfcl_categories:
            try:
                entries, n_total = bfcl.load_category(root, cat)
            except FileNotFoundError as e:
                info["bfcl"]["categories"][cat] = {"skipped": str(e)}
                continue
            chosen = entries[: cfg.limit] if cfg.limit else entries
            info["bfcl"]["categories"][cat] = {"n_total": n_total, "file": bfcl.category_file(root, cat).name}
            items += [_Item("bfcl", cat, e.id, bfcl.request_for(e), entry=e) for e in chosen]

    root, why = _dir_status(cfg.acebench_dir, "acebench")
    if root is None:
        info["acebench"]["skipped"] = why
    else:
        info["acebench"]["data_dir"] = str(root)
        for cat in cfg.acebench_categories:
            if cat in ace.AGENT:
                info["acebench"]["categories"][cat] = {
                    "skipped": "agent categories need a simulated user and executable scenarios (not implemented)"
                }
                continue
            try:
                entries, n_total = ace.load_category(root, cat)
            except FileNotFoundError as e:
                info["acebench"]["categories"][cat] = {"skipped": str(e)}
                continue
            chosen = ace.limit_entries(entries, cfg.limit)
            info["acebench"]["categories"][cat] = {"n_total": n_total}
            items += [_Item("acebench", cat, e.id, ace.request_for(e), entry=e) for e in chosen]
    return items, info, heldout_df


def _generate(backend: Backend, requests: list[Request], sampling: Sampling, chunk: int) -> list[Completion]:
    from tqdm.auto import tqdm

    out: list[Completion] = []
    with tqdm(total=len(requests), desc="evaluate", unit="prompt", mininterval=5) as bar:
        for start in range(0, len(requests), chunk):
            part = requests[start : start + chunk]
            got = backend.generate(part, sampling)
            if len(got) != len(part):
                raise RuntimeError(f"backend {backend.name} returned {len(got)} completions for {len(part)} requests")
            out += got
            bar.update(len(part))
    return out


def _score(item: _Item, comp: Completion, cfg: EvalConfig) -> dict[str, Any]:
    text = comp.text if comp.ok else ""
    parsed = parse(text) if comp.ok else None
    if comp.ok:
        if item.benchmark == "heldout":
            valid, error_type, error = held.score(parsed, item.label or "[]", item.tools or "[]"), None, None
            if not valid:
                error_type = "parse_error" if parsed.error else "no_match"
        elif item.benchmark == "bfcl":
            res = bfcl.score(item.entry, parsed, enforce_order=cfg.enforce_order)
            valid, error_type, error = res.valid, res.error_type, res.error
        else:
            res = ace.score(item.entry, text, parsed)
            valid, error_type, error = res.valid, res.error_type, res.error
    else:
        valid, error_type, error = False, "backend_error", [comp.error]
    return {
        "benchmark": item.benchmark,
        "category": item.category,
        "id": item.id,
        "prediction": text,
        "calls": json.dumps(parsed.label(), ensure_ascii=False) if parsed is not None and parsed.ok else None,
        "parse_error": parsed.error if parsed is not None else comp.error,
        "valid": bool(valid),
        "error_type": None if valid else error_type,
        "error": None if valid or not error else json.dumps(error, ensure_ascii=False, default=str)[:2000],
        "n_tokens": len(comp.token_ids),
        "backend_error": comp.error,
    }


def _per_category(results: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Accuracy per (benchmark, category), in DuckDB."""
    con = storage.connect()
    try:
        con.register("r", results.select("benchmark", "category", "valid").to_arrow())
        df = storage.query(
            """
            SELECT benchmark, category, count(*)::BIGINT AS n, sum(CASE WHEN valid THEN 1 ELSE 0 END)::BIGINT AS correct
            FROM r GROUP BY benchmark, category ORDER BY benchmark, category
            """,
            con=con,
        )
    finally:
        con.close()
    return {(b, c): {"n": int(n), "correct": int(k), "accuracy": int(k) / int(n)} for b, c, n, k in df.iter_rows()}


def _metrics(results: pl.DataFrame, info: dict[str, Any], heldout_df: pl.DataFrame | None) -> dict[str, Any]:
    per_cat = _per_category(results)
    out: dict[str, Any] = {}

    # held-out
    if (h := per_cat.get(("heldout", "heldout"))) is not None and heldout_df is not None:
        out["heldout"] = {
            **info["heldout"],
            "accuracy": round(h["accuracy"], 4),
            "n": h["n"],
            "correct": h["correct"],
            "by_pattern": held.by_pattern(heldout_df, results),
        }
    else:
        out["heldout"] = info["heldout"] if "skipped" in info["heldout"] else {**info["heldout"], "n": 0}

    # BFCL
    b = info["bfcl"]
    if "skipped" in b:
        out["bfcl"] = b
    else:
        cats: dict[str, Any] = {}
        for cat, meta in b["categories"].items():
            if "skipped" in meta:
                cats[cat] = meta
                continue
            r = per_cat.get(("bfcl", cat))
            if r is not None:
                cats[cat] = {**meta, "n": r["n"], "correct": r["correct"], "accuracy": round(r["accuracy"], 4)}
        scored = {c: v for c, v in cats.items() if "accuracy" in v}
        out["bfcl"] = {"data_dir": b["data_dir"], "categories": cats, **bfcl.aggregate(scored)}

    # ACEBench
    a = info["acebench"]
    if "skipped" in a:
        out["acebench"] = a
    else:
        cats = {}
        for cat, meta in a["categories"].items():
            if "skipped" in meta:
                cats[cat] = meta
                continue
            r = per_cat.get(("acebench", cat))
            if r is None:
                continue
            entry = {**meta, "n": r["n"], "correct": r["correct"], "accuracy": round(r["accuracy"], 4)}
            if ace_checker.category_kind(cat) == "normal_multi_turn":
                sub = results.filter((pl.col("benchmark") == "acebench") & (pl.col("category") == cat))
                end, process = ace_checker.multi_turn_accuracy(sub["id"].to_list(), sub["valid"].to_list())
                entry.update({"turn_accuracy": entry["accuracy"], "accuracy": end, "process_accuracy": process})
            cats[cat] = entry
        scored = {c: v for c, v in cats.items() if "accuracy" in v}
        skipped_agent = [c for c in ace.AGENT if c in cats and "skipped" in cats[c]]
        agent_note = (
            "agent categories need a simulated user and executable scenarios (not implemented)"
            if skipped_agent or not any(c in scored for c in ace.AGENT)
            else None
        )
        out["acebench"] = {"data_dir": a["data_dir"], "categories": cats, **ace.aggregate(scored, agent_note)}
    out["summary"] = summary_of(out)
    return out


def summary_of(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The flat headline figures of an evaluation (for ``dvc metrics``, the loop report and plots)."""
    h, b, a = metrics.get("heldout", {}), metrics.get("bfcl", {}), metrics.get("acebench", {})
    return {
        "heldout": h.get("accuracy"),
        "bfcl_overall": b.get("overall_single_turn"),
        "bfcl_non_live": (b.get("non_live") or {}).get("overall"),
        "bfcl_live": (b.get("live") or {}).get("overall"),
        "acebench_normal": a.get("normal_summary"),
        "acebench_special": a.get("special_summary"),
    }


def evaluate(
    backend: Backend, cfg: EvalConfig, heldout_path: str | None = None
) -> tuple[dict[str, Any], pl.DataFrame]:
    """Evaluate ``backend``'s model; return (metrics, one :data:`EVAL_RESULT` row per answer)."""
    t0 = time.perf_counter()
    items, info, heldout_df = _collect(cfg, heldout_path)
    log.info("evaluate: %d prompts (%s)", len(items), ", ".join(sorted({f"{i.benchmark}" for i in items})) or "none")
    sampling = Sampling(max_new_tokens=cfg.max_new_tokens, temperature=0.0)
    completions = _generate(backend, [i.request for i in items], sampling, cfg.chunk_size) if items else []
    rows = [_score(item, comp, cfg) for item, comp in zip(items, completions, strict=True)]
    results = frame(rows, EVAL_RESULT) if rows else EVAL_RESULT.empty()
    metrics = _metrics(results, info, heldout_df)
    metrics["run"] = {
        "prompts": len(items),
        "tokens_generated": int(results["n_tokens"].sum()) if rows else 0,
        "backend_errors": int(results["backend_error"].is_not_null().sum()) if rows else 0,
        "parse_errors": int(results["parse_error"].is_not_null().sum()) if rows else 0,
        "seconds": round(time.perf_counter() - t0, 2),
        "limit": cfg.limit,
        "max_new_tokens": cfg.max_new_tokens,
        "backend": backend.identity(),
    }
    return metrics, results


def run_evaluate(
    *,
    model: str | Path,
    heldout: str | Path | None,
    results: str | Path | None = None,
    cfg: EvalConfig,
    iteration: int | None = None,
    backend: Backend,
) -> dict[str, Any]:
    """Stage evaluate@j (and ``looptool eval``): score checkpoint ``model`` (served by ``backend``) on the
    benchmarks and the held-out split; write one row per answer to ``results`` (if given); return the
    metrics."""
    metrics, rows = evaluate(backend, cfg, heldout)
    metrics = {"model": str(model), "iteration": iteration, **metrics}
    if results is not None:
        storage.write_parquet(rows, results, EVAL_RESULT)
    return metrics
