"""The held-out synthetic split: ToolMatch accuracy of the student on samples it never trains on.

Every figure is also split by the kind of answer the label asks for (:func:`by_kind`): *call rows* (the label
makes calls) and *no-call rows* (label ``[]``: answer in text). ToolMatch gives full marks to any reply without
a call on a no-call row, so a model that never calls scores the share of no-call rows overall (``never_call``)
and 0 on call rows: call-row ToolMatch is the primary figure, with function-name accuracy and argument F1
(:func:`looptool.match.partial.credit`) beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from looptool import storage
from looptool.llm.base import Request
from looptool.match import tool_match
from looptool.match.partial import credit
from looptool.schema import SAMPLE
from looptool.stats import bootstrap_mean, wilson


def load(path: str | Path, limit: int | None = None) -> pl.DataFrame:
    """The held-out rows (SAMPLE schema); with ``limit``, a fixed pseudo-random subset of that size, balanced
    over ``meta.pattern``.

    Rows are ranked by the md5 of their sample_id within their pattern, and the subset takes rank 1 of every
    pattern, then rank 2, and so on (ties between patterns by md5), until ``limit`` rows. So each pattern gets
    an equal share (a pattern with fewer rows gives its slots to the others), the per-pattern accuracies have
    comparable n, and the subset depends neither on the file's order nor on the iteration. Rows without a
    pattern (imported data) form one group: plain md5 order.
    """
    df = storage.read_parquet(path, SAMPLE)
    if limit is None or limit >= df.height:
        return df
    con = storage.connect()
    try:
        con.register("h", df.select("sample_id", "meta").to_arrow())
        keep = storage.query(
            """
            SELECT sample_id FROM (
                SELECT sample_id, md5(sample_id) AS h,
                       row_number() OVER (
                           PARTITION BY coalesce(try(json_extract_string(meta, '$.pattern')), '?')
                           ORDER BY md5(sample_id)
                       ) AS rank_in_pattern
                FROM h
            ) ORDER BY rank_in_pattern, h LIMIT $n
            """,
            {"n": int(limit)},
            con=con,
        )
    finally:
        con.close()
    chosen = set(keep["sample_id"].to_list())
    return df.filter(pl.col("sample_id").is_in(chosen))


def requests_for(df: pl.DataFrame) -> list[Request]:
    return [
        Request.chat(json.loads(m), json.loads(t), key=f"heldout/{sid}")
        for sid, m, t in df.select("sample_id", "messages", "tools").iter_rows()
    ]


def score(parsed: Any, label: str, tools: str) -> bool:
    """ToolMatch, the training reward: the same calls as the label (a parse error never matches)."""
    return tool_match(parsed, label, tools)


def by_pattern(heldout: pl.DataFrame, results: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Accuracy per ``meta.pattern`` (DuckDB over the held-out rows joined with their results)."""
    con = storage.connect()
    try:
        con.register("h", heldout.select("sample_id", "meta").to_arrow())
        con.register("r", results.filter(pl.col("benchmark") == "heldout").select("id", "valid").to_arrow())
        df = storage.query(
            """
            SELECT coalesce(json_extract_string(h.meta, '$.pattern'), '?') AS pattern,
                   count(*)::BIGINT AS n, sum(CASE WHEN r.valid THEN 1 ELSE 0 END)::BIGINT AS correct
            FROM h JOIN r ON r.id = h.sample_id
            GROUP BY pattern ORDER BY pattern
            """,
            con=con,
        )
    finally:
        con.close()
    return {
        p: {"accuracy": round(int(c) / int(n), 4) if n else None, "n": int(n), "correct": int(c)}
        for p, n, c in df.iter_rows()
    }


def row_figures(label: Any, tools: Any, prediction: Any, correct: bool) -> dict[str, Any]:
    """One scored answer as :func:`by_kind` reads it: ``call_row`` (the label makes calls), ``correct``
    (ToolMatch), ``names`` and ``arg_f1`` (:func:`looptool.match.partial.credit`). ``prediction``: the answer's
    calls (a Parsed, a list of calls, or None when it could not be read)."""
    gold = json.loads(label) if isinstance(label, str) else list(label)
    c = credit(prediction, gold, tools)
    return {"call_row": bool(gold), "correct": bool(correct), "names": c.names, "arg_f1": c.arg_f1}


def per_row(heldout: pl.DataFrame, results: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """sample_id -> :func:`row_figures` for every held-out row with a result (an ``EVAL_RESULT`` frame: the
    ``calls`` column holds the parsed calls, null when the answer could not be read)."""
    rows = results.filter(pl.col("benchmark") == "heldout").select("id", "calls", "valid")
    known = {sid: (lab, t) for sid, lab, t in heldout.select("sample_id", "label", "tools").iter_rows()}
    out = {}
    for sid, calls, valid in rows.iter_rows():
        if sid not in known:
            continue
        label, tools = known[sid]
        out[sid] = row_figures(label, tools, None if calls is None else json.loads(calls), valid)
    return out


def _proportion(k: int, n: int) -> dict[str, Any]:
    return {"accuracy": round(k / n, 4) if n else None, "correct": k, "n": n, "ci95": list(wilson(k, n))}


def by_kind(rows: Iterable[Mapping[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Held-out figures split by the kind of answer (module docstring), each with its n and 95% interval.

    ``rows``: :func:`row_figures` dicts. ``call_rows``: ToolMatch (Wilson), ``names`` (function-name accuracy,
    Wilson) and ``arg_f1`` (mean argument F1 with a seeded bootstrap interval); ``no_call_rows``: ToolMatch
    (Wilson); ``never_call``: the score a model that never calls would get on the whole split.

    >>> rows = [{"call_row": True, "correct": False, "names": True, "arg_f1": 0.5}] * 3 + [
    ...     {"call_row": False, "correct": True, "names": True, "arg_f1": 1.0}]
    >>> k = by_kind(rows)
    >>> k["call_rows"]["accuracy"], k["call_rows"]["names"]["accuracy"], k["call_rows"]["arg_f1"]["mean"]
    (0.0, 1.0, 0.5)
    >>> k["no_call_rows"]["n"], k["never_call"]
    (1, {'accuracy': 0.25, 'no_call_rows': 1, 'n': 4})
    """
    rows = list(rows)
    call = [r for r in rows if r["call_row"]]
    no_call = [r for r in rows if not r["call_row"]]
    n = len(call) + len(no_call)
    return {
        "call_rows": {
            **_proportion(sum(bool(r["correct"]) for r in call), len(call)),
            "names": _proportion(sum(bool(r["names"]) for r in call), len(call)),
            "arg_f1": bootstrap_mean([r["arg_f1"] for r in call], seed=seed),
        },
        "no_call_rows": _proportion(sum(bool(r["correct"]) for r in no_call), len(no_call)),
        # not a measurement of the model: what answering every row in text would score here (no interval)
        "never_call": {
            "accuracy": round(len(no_call) / n, 4) if n else None,
            "no_call_rows": len(no_call),
            "n": n,
        },
    }
