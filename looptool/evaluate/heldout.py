"""The held-out synthetic split: ToolMatch accuracy of the student on samples it never trains on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from looptool import storage
from looptool.llm.base import Request
from looptool.match import tool_match
from looptool.schema import SAMPLE


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
