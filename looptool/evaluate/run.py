"""The evaluation run: collect every benchmark's prompts, generate, score, aggregate (see the package's
docstring)."""

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
from looptool.evaluate import acebench_agent as ace_agent
from looptool.evaluate import bfcl
from looptool.evaluate import bfcl_multi as bfcl_mt
from looptool.evaluate import heldout as held
from looptool.evaluate.summary import summary_of
from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.match import acebench as ace_checker
from looptool.schema import Column, Schema, frame
from looptool.stats import add_ci

log = logging.getLogger(__name__)

__all__ = ["EvalConfig", "EVAL_RESULT", "evaluate", "run_evaluate"]

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

    bfcl_dir: str | None = "auto"
    """BFCL data folder: ``auto`` = the installed ``bfcl-eval`` package's ``bfcl_eval/data`` (``BFCL_v4_*.json``,
    single- and multi-turn), or a folder such as gorilla's ``berkeley-function-call-leaderboard/data``
    (``BFCL_v3_*.json``), with ``possible_answer/``. None: BFCL is skipped (the reason is in the metrics and the
    report's headline). A named folder that does not exist is an error."""
    acebench_dir: str | None = "auto"
    """ACEBench English data folder (ACEBench's ``data_all/data_en``, with ``possible_answer/``): ``auto`` = the
    checkout ``make acebench`` clones (``third_party/ACEBench``, relative to the working directory) when it is
    there, else ACEBench is skipped with the command that gets it; a folder (must exist); None: skipped."""
    bfcl_categories: list[str] = field(default_factory=lambda: list(bfcl.DEFAULT_CATEGORIES))
    """BFCL categories (v3 names; ``java`` and ``javascript`` are optional extras; the multi-turn ones
    ``multi_turn_base``, ``multi_turn_miss_func``, ``multi_turn_miss_param``, ``multi_turn_long_context``, or
    ``multi_turn`` for all four, are conversations of several model calls each)."""
    acebench_categories: list[str] = field(default_factory=lambda: list(ace.DEFAULT_CATEGORIES))
    """ACEBench categories (default: normal and special). ``agent_multi_step`` and ``agent_multi_turn`` run with
    an ACEBench checkout (``acebench_code_dir``); ``agent_multi_turn`` also needs a simulated user
    (``backends.user``); without them they are reported as skipped."""
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
    acebench_code_dir: str | None = None
    """An ACEBench checkout (github.com/ACEBench/ACEBench, the layout with ``model_inference/multi_turn/``) for
    the agent categories: its scenario classes and prompts are read from it. None: the checkout holding
    ``acebench_dir`` when that is its ``data_all/data_en``; else the agent categories are skipped."""
    acebench_max_messages: int = 40
    """ACEBench agent conversations end after this many messages (ACEBench's ``max_dialog_turns``, 40)."""
    acebench_scoring: str = "official"
    """How ACEBench normal answers are decoded: ``official`` (as ACEBench's ``eval_main``: whitespace removed,
    the python list ``[f(a=1)]`` of its prompt, or the calls of a function-calling reply) or ``looptool`` (the
    project's parser: any of its formats, a bare ``f(a=1)`` too, spaces inside values kept)."""

    def __post_init__(self) -> None:
        self.bfcl_categories = bfcl.iter_categories(self.bfcl_categories)
        for c in self.acebench_categories:
            if c not in ace.ALL_CATEGORIES:
                raise ValueError(f"unknown ACEBench category {c!r}; known: {list(ace.ALL_CATEGORIES)}")
        for name in ("limit", "heldout_limit"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1 or null (all)")
        if self.max_new_tokens < 1 or self.chunk_size < 1 or self.acebench_max_messages < 2:
            raise ValueError("max_new_tokens and chunk_size must be >= 1, acebench_max_messages >= 2")
        if self.acebench_scoring not in ace_checker.SCORING_MODES:
            raise ValueError(f"acebench_scoring must be one of {list(ace_checker.SCORING_MODES)}")


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
    """The benchmark's data folder, or (None, why it is skipped). A folder named but missing is an error."""
    if not path:
        return None, f"no {what} data folder configured (eval.{what}_dir is null)"
    if path == "auto" and what == "acebench":
        from looptool.evaluate import acebench_checkout

        try:
            return acebench_checkout.resolve_auto()
        except FileNotFoundError as e:
            raise FileNotFoundError(f"eval.acebench_dir: auto: {e}") from None
    if path == "auto" and what == "bfcl":
        p = bfcl_mt.package_data_dir()
        if p is None:
            return (
                None,
                "eval.bfcl_dir is auto but the bfcl-eval package is not installed (make install adds it)",
            )
        return p, None
    p = Path(path)
    if not p.is_dir():
        raise FileNotFoundError(f"eval.{what}_dir: data folder {path} not found")
    return p, None


def _collect(
    cfg: EvalConfig, heldout_path: str | None, has_user: bool = False
) -> tuple[list[_Item], dict[str, Any], pl.DataFrame | None, dict[str, list[Any]]]:
    """Every request to run, the conversation entries (BFCL multi-turn, ACEBench agent) by category, and per
    benchmark what was loaded or why it was skipped."""
    items: list[_Item] = []
    multi: dict[str, list[Any]] = {}
    info: dict[str, Any] = {"heldout": {}, "bfcl": {"categories": {}}, "acebench": {"categories": {}}}
    heldout_df = None

    if not (heldout_path and Path(heldout_path).exists()):
        info["heldout"] = {"skipped": f"held-out split {heldout_path or '(none given)'} not found"}
    elif (heldout_df := held.load(heldout_path, cfg.heldout_limit)).height == 0:
        # seed.mode: import with import_heldout_fraction: 0 and no import_heldout_files
        info["heldout"] = {"skipped": f"held-out split {heldout_path} is empty"}
        heldout_df = None
    else:
        for row, req in zip(heldout_df.iter_rows(named=True), held.requests_for(heldout_df), strict=True):
            items.append(
                _Item("heldout", "heldout", row["sample_id"], req, label=row["label"], tools=row["tools"])
            )
        info["heldout"] = {"path": heldout_path}

    root, why = _dir_status(cfg.bfcl_dir, "bfcl")
    if root is None:
        info["bfcl"]["skipped"] = why
    else:
        info["bfcl"]["data_dir"] = _data_label(cfg.bfcl_dir, root, "bfcl")
        for cat in cfg.bfcl_categories:
            if cat in bfcl.MULTI_TURN:
                try:
                    mt_entries, n_total = bfcl_mt.load_category(root, cat)
                except (FileNotFoundError, RuntimeError) as e:
                    info["bfcl"]["categories"][cat] = {"skipped": str(e)}
                    continue
                multi[cat] = mt_entries[: cfg.limit] if cfg.limit else mt_entries
                info["bfcl"]["categories"][cat] = {
                    "n_total": n_total,
                    "file": bfcl.category_file(root, cat).name,
                }
                continue
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
        info["acebench"]["data_dir"] = _data_label(cfg.acebench_dir, root, "acebench")
        code_dir = ace_agent.find_code_dir(cfg.acebench_code_dir, root)
        for cat in cfg.acebench_categories:
            if cat in ace.AGENT:
                if code_dir is None:
                    info["acebench"]["categories"][cat] = {"skipped": AGENT_SKIPPED}
                    continue
                if cat == "agent_multi_turn" and not has_user:
                    info["acebench"]["categories"][cat] = {"skipped": NO_USER}
                    continue
                try:
                    ag_entries, n_total = ace_agent.load_category(root, cat)
                except FileNotFoundError as e:
                    info["acebench"]["categories"][cat] = {"skipped": str(e)}
                    continue
                multi[cat] = ag_entries[: cfg.limit] if cfg.limit else ag_entries
                info["acebench"]["categories"][cat] = {"n_total": n_total}
                info["acebench"]["code_dir"] = str(code_dir)
                continue
            try:
                entries, n_total = ace.load_category(root, cat)
            except FileNotFoundError as e:
                info["acebench"]["categories"][cat] = {"skipped": str(e)}
                continue
            chosen = ace.limit_entries(entries, cfg.limit)
            info["acebench"]["categories"][cat] = {"n_total": n_total}
            items += [_Item("acebench", cat, e.id, ace.request_for(e), entry=e) for e in chosen]
    return items, info, heldout_df, multi


def _data_label(configured: str | None, root: Path, what: str) -> str:
    """Where a benchmark's data came from, as tracked metrics may hold it: the folder as the user named it
    (params or option), or the package and version behind ``auto`` — never this machine's absolute path."""
    if configured == "auto" and what == "acebench":
        from looptool.evaluate import acebench_checkout

        return acebench_checkout.data_label(root)
    if configured == "auto":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"auto (bfcl-eval {version('bfcl-eval')} package data)"
        except PackageNotFoundError:
            return "auto (bfcl-eval package data)"
    return str(configured) if configured else root.name


AGENT_SKIPPED = (
    "agent categories need an ACEBench checkout for its scenario classes and prompts (eval.acebench_code_dir, "
    "or eval.acebench_dir: auto after `make acebench`; ACEBench ships no package)"
)
NO_USER = "agent_multi_turn needs a simulated user: configure backends.user (any OpenAI-compatible server)"


def _generate(backend: Backend, requests: list[Request], sampling: Sampling, chunk: int) -> list[Completion]:
    out: list[Completion] = []
    for start in range(0, len(requests), chunk):  # the caller's stage bar counts each request
        part = requests[start : start + chunk]
        got = backend.generate(part, sampling)
        if len(got) != len(part):
            raise RuntimeError(
                f"backend {backend.name} returned {len(got)} completions for {len(part)} requests"
            )
        out += got
    return out


def _agent_row(r: ace_agent.Result) -> dict[str, Any]:
    return {
        "benchmark": "acebench",
        "category": r.category,
        "id": r.id,
        "prediction": json.dumps(r.transcript, ensure_ascii=False, default=str)[:20000],
        "calls": json.dumps(r.calls, ensure_ascii=False)[:20000],
        "parse_error": None,
        "valid": bool(r.valid),
        "error_type": r.error_type,
        "error": r.error,
        "n_tokens": r.n_tokens,
        "backend_error": r.error if r.error_type == "agent:backend_error" else None,
    }


def _multi_turn_row(r: bfcl_mt.Result) -> dict[str, Any]:
    failed_early = r.error_type in ("multi_turn:context_overflow", "multi_turn:backend_error")
    return {
        "benchmark": "bfcl",
        "category": r.category,
        "id": r.id,
        "prediction": json.dumps(r.transcript, ensure_ascii=False)[:20000],
        "calls": json.dumps(r.calls, ensure_ascii=False)[:20000],
        "parse_error": None,
        "valid": bool(r.valid),
        "error_type": r.error_type,
        "error": r.error,
        "n_tokens": r.n_tokens,
        "backend_error": r.error if failed_early else None,
    }


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
            res = ace.score(item.entry, text, parsed, cfg.acebench_scoring)
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
    return {
        (b, c): {"n": int(n), "correct": int(k), "accuracy": int(k) / int(n)} for b, c, n, k in df.iter_rows()
    }


def _metrics(
    results: pl.DataFrame,
    info: dict[str, Any],
    heldout_df: pl.DataFrame | None,
    process: dict[str, float] | None = None,
) -> dict[str, Any]:
    process = process or {}
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
            # call rows (primary: a model that never calls scores 0 there) / no-call rows
            **held.by_kind(held.per_row(heldout_df, results).values()),
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
                cats[cat] = {
                    **meta,
                    "n": r["n"],
                    "correct": r["correct"],
                    "accuracy": round(r["accuracy"], 4),
                }
                if cat in bfcl.MULTI_TURN:
                    sub = results.filter((pl.col("benchmark") == "bfcl") & (pl.col("category") == cat))
                    cats[cat]["context_overflow"] = int(
                        (sub["error_type"] == "multi_turn:context_overflow").sum()
                    )
                    cats[cat]["force_terminated"] = int(
                        (sub["error_type"] == "multi_turn:force_terminated").sum()
                    )
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
            if cat in ace.AGENT:
                entry["process_accuracy"] = round(process.get(cat, 0.0), 4)
            if ace_checker.category_kind(cat) == "normal_multi_turn":
                sub = results.filter((pl.col("benchmark") == "acebench") & (pl.col("category") == cat))
                end, process = ace_checker.multi_turn_accuracy(sub["id"].to_list(), sub["valid"].to_list())
                entry.update(
                    {"turn_accuracy": entry["accuracy"], "accuracy": end, "process_accuracy": process}
                )
            cats[cat] = entry
        scored = {c: v for c, v in cats.items() if "accuracy" in v}
        skipped_agent = [cats[c]["skipped"] for c in ace.AGENT if c in cats and "skipped" in cats[c]]
        agent_note = (
            (
                skipped_agent[0]
                if skipped_agent
                else "agent categories not requested (eval.acebench_categories)"
            )
            if skipped_agent or not all(c in scored for c in ace.AGENT)
            else None
        )
        out["acebench"] = {"data_dir": a["data_dir"], "categories": cats, **ace.aggregate(scored, agent_note)}
    out["summary"] = summary_of(out)
    return out


def evaluate(
    backend: Backend, cfg: EvalConfig, heldout_path: str | None = None, user: Backend | None = None
) -> tuple[dict[str, Any], pl.DataFrame]:
    """Evaluate ``backend``'s model; return (metrics, one :data:`EVAL_RESULT` row per answer).

    ``user``: the simulated user of ACEBench's agent_multi_turn (the ``backends.user`` role)."""
    from looptool.llm.progress import stage_progress

    t0 = time.perf_counter()
    items, info, heldout_df, multi = _collect(cfg, heldout_path, has_user=user is not None)
    n_multi = sum(len(v) for v in multi.values())
    log.info("evaluate: %d prompts, %d multi-turn conversations", len(items), n_multi)
    sampling = Sampling(max_new_tokens=cfg.max_new_tokens, temperature=0.0)
    # one bar over the stage: each backend request counts itself on it (multi-turn conversations add theirs as
    # they are sent, since their number of turns is not known in advance)
    with stage_progress("evaluate", total=len(items)):
        completions = (
            _generate(backend, [i.request for i in items], sampling, cfg.chunk_size) if items else []
        )
        rows = [_score(item, comp, cfg) for item, comp in zip(items, completions, strict=True)]
        code = (
            ace_agent.AceCode.load(info["acebench"]["code_dir"]) if "code_dir" in info["acebench"] else None
        )
        process: dict[str, float] = {}
        for cat, entries in multi.items():
            if cat in bfcl.MULTI_TURN:
                rows += [_multi_turn_row(r) for r in bfcl_mt.run(backend, entries, sampling)]
            else:
                got = ace_agent.run(
                    backend, user, code, entries, sampling, max_messages=cfg.acebench_max_messages
                )
                process[cat] = sum(r.process for r in got) / len(got) if got else 0.0
                rows += [_agent_row(r) for r in got]
    results = frame(rows, EVAL_RESULT) if rows else EVAL_RESULT.empty()
    metrics = _metrics(results, info, heldout_df, process)
    metrics["wall_s"] = round(time.perf_counter() - t0, 2)
    metrics["run"] = {
        "prompts": len(items),
        "conversations": n_multi,
        "tokens_generated": int(results["n_tokens"].sum()) if rows else 0,
        "backend_errors": int(results["backend_error"].is_not_null().sum()) if rows else 0,
        "acebench_scoring": cfg.acebench_scoring,
        "parse_errors": int(results["parse_error"].is_not_null().sum()) if rows else 0,
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
    user: Backend | None = None,
) -> dict[str, Any]:
    """Stage evaluate@j (and ``looptool eval``): score checkpoint ``model`` (served by ``backend``) on the
    benchmarks and the held-out split; write one row per answer to ``results`` (if given); return the
    metrics. ``user``: the simulated user of ACEBench's agent_multi_turn (the ``backends.user`` role)."""
    metrics, rows = evaluate(backend, cfg, heldout, user=user)
    # every {accuracy, correct, n} carries its Wilson 95% interval (looptool.stats)
    metrics = add_ci({"model": str(model), "iteration": iteration, **metrics})
    if results is not None:
        storage.write_parquet(rows, results, EVAL_RESULT)
    return metrics
