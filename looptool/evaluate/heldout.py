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
    """The held-out rows (SAMPLE schema); with ``limit``, a fixed pseudo-random subset of that size.

    The subset is the ``limit`` rows with the smallest md5 of their sample_id, so it does not depend on the
    file's order (a file sorted by pattern or domain would otherwise give a one-sided subset) and is the same
    for every iteration's evaluation.
    """
    df = storage.read_parquet(path, SAMPLE)
    if limit is None or limit >= df.height:
        return df
    con = storage.connect()
    try:
        con.register("h", df.select("sample_id").to_arrow())
        keep = storage.query(f"SELECT sample_id FROM h ORDER BY md5(sample_id) LIMIT {int(limit)}", con=con)
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
