"""What the datasets hold (``looptool stats``) and whether they come from one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from looptool.lineage.datasets import _check_columns, _columns, _records, find_datasets, open_dataset
from looptool.storage import connect, parquet_source

STATS_DIMENSIONS = ("part", "origin", "pattern", "domain", "label_rev")


# --- stats ------------------------------------------------------------------------------------------------


def _dimension_sql(cols: list[str]) -> dict[str, str]:
    return {
        "part": "part" if "part" in cols else "NULL::VARCHAR",
        "origin": "origin",
        "pattern": "json_extract_string(meta, '$.pattern')" if "meta" in cols else "NULL::VARCHAR",
        "domain": "json_extract_string(meta, '$.domain')" if "meta" in cols else "NULL::VARCHAR",
        "label_rev": "label_rev" if "label_rev" in cols else "NULL::BIGINT",
    }


def stats(
    ref: str, data_dir: str | Path = "data", repo: str | Path | None = None, con=None
) -> dict[str, Any]:
    """Composition of one dataset: rows, distinct ids, and counts by part, origin, pattern, domain, label_rev.

    Each breakdown is a list of ``{value, n, share}`` sorted by count; one pass with GROUPING SETS.
    """
    with open_dataset(ref, data_dir, repo) as ds:
        own = con is None
        con = con or connect()
        try:
            cols = _check_columns(con, ds, ("sample_id", "origin"))
            dims = _dimension_sql(cols)
            src = parquet_source(ds.path)
            inner = ", ".join(f"{expr} AS {name}" for name, expr in dims.items())
            sets = ", ".join(f"({name})" for name in dims)
            gid = ", ".join(dims)
            rows = con.execute(
                f"""
                SELECT grouping({gid}) AS g, {gid}, count(*) AS n
                FROM (SELECT {inner} FROM {src})
                GROUP BY GROUPING SETS ({sets}, ())
                """
            ).fetchall()
            distinct = int(con.execute(f"SELECT count(DISTINCT sample_id) FROM {src}").fetchone()[0])
        finally:
            if own:
                con.close()
    names = list(dims)
    total = 0
    by: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    full = (1 << len(names)) - 1
    for row in rows:
        g, values, n = row[0], row[1 : 1 + len(names)], row[-1]
        if g == full:
            total = int(n)
            continue
        # grouping() sets a bit for every column NOT in the grouping set; the first column is the top bit.
        for i, name in enumerate(names):
            if not (g >> (len(names) - 1 - i)) & 1:
                by[name].append({"value": values[i], "n": int(n)})
    for name in names:
        by[name].sort(key=lambda r: (-r["n"], str(r["value"])))
        for r in by[name]:
            r["share"] = r["n"] / total if total else 0.0
    return {
        "dataset": ds.name,
        "path": str(ds.path) if ds.rev is None else ds.ref,
        "rows": total,
        "distinct_ids": distinct,
        "by": by,
    }


def stats_all(data_dir: str | Path = "data") -> list[dict[str, Any]]:
    """One summary line per dataset under ``data_dir`` (pool, D_1, D_2, ...): totals by part and origin."""
    from looptool.schema import BOUNDARY, LOOP_PARTS, ORIGINS, PARTS

    out = []
    con = connect()
    try:
        for name, path in find_datasets(data_dir):
            src = parquet_source(path)
            cols = _columns(con, src)
            part = "part" if "part" in cols else "NULL::VARCHAR"
            rev = "label_rev" if "label_rev" in cols else "0"
            names = PARTS
            if (
                part == "part"
                and con.execute(f"SELECT count(*) FROM {src} WHERE part = '{BOUNDARY}'").fetchone()[0]
            ):
                names = LOOP_PARTS  # the opt-in part, only where it occurs
            aggs = [f"count(*) FILTER ({part} = '{p}') AS \"{p}\"" for p in names]
            aggs += [f"count(*) FILTER (origin = '{o}') AS \"origin_{o}\"" for o in ORIGINS]
            row = _records(
                con.execute(
                    f"SELECT count(*) AS rows, count(DISTINCT sample_id) AS distinct_ids, {', '.join(aggs)}, "
                    f"count(*) FILTER ({rev} > 0) AS relabeled FROM {src}"
                )
            )[0]
            out.append({"dataset": name, "path": str(path), **{k: int(v) for k, v in row.items()}})
    finally:
        con.close()
    return out


# --- one run or several -----------------------------------------------------------------------------------


def mixed_runs(data_dir: str | Path = "data") -> list[dict[str, Any]]:
    """Datasets under ``data_dir`` that do not follow from the ones before them, judged by content.

    D_1 is drawn from the pool; D_{j+1} holds error seeds and high-PPL samples of D_j, expansions whose
    ``parent_id`` is in D_j, and Seed-new samples of the pool. A row of D_{j+1} that is none of these (and a
    row of D_1 not in the pool) comes from another run: e.g. ``dvc exp run ... select`` on imported data
    leaves the previous run's D_2, D_3 in the workspace. Pairs with a missing side are not checked. Returns
    one ``{dataset, against, foreign, rows}`` per dataset with foreign rows, in iteration order.
    """
    found = dict(find_datasets(data_dir))
    pool = found.get("pool")
    out: list[dict[str, Any]] = []
    con = connect()
    try:
        for name, path in found.items():
            if name == "pool":
                continue
            j = int(name.removeprefix("iter_"))
            prev = found.get(f"iter_{j - 1}")
            src = parquet_source(path)
            cols = _columns(con, src)
            part = "part" if "part" in cols else "NULL::VARCHAR"
            parent = "parent_id" if "parent_id" in cols else "NULL::VARCHAR"
            in_pool = f"sample_id IN (SELECT sample_id FROM {parquet_source(pool)})" if pool else "TRUE"
            if j == 1:
                if pool is None:
                    continue
                against, ok = "the pool", in_pool
            elif prev is None:
                continue
            else:
                in_prev = f"(SELECT sample_id FROM {parquet_source(prev)})"
                against = f"iter_{j - 1} and the pool" if pool else f"iter_{j - 1}"
                ok = f"""CASE {part}
                    WHEN 'error_seed' THEN sample_id IN {in_prev}
                    WHEN 'high_ppl' THEN sample_id IN {in_prev}
                    WHEN 'boundary' THEN sample_id IN {in_prev}
                    WHEN 'expansion' THEN {parent} IN {in_prev}
                    WHEN 'seed_new' THEN {in_pool}
                    ELSE sample_id IN {in_prev} OR {parent} IN {in_prev} OR {in_pool} END"""
            rows, foreign = con.execute(
                f"SELECT count(*), count(*) FILTER (NOT coalesce({ok}, FALSE)) FROM {src}"
            ).fetchone()
            if foreign:
                out.append({"dataset": name, "against": against, "foreign": int(foreign), "rows": int(rows)})
    finally:
        con.close()
    return out


def mixed_runs_line(found: list[dict[str, Any]]) -> str | None:
    """One warning line for :func:`mixed_runs`' findings (None when there are none)."""
    if not found:
        return None
    first, rest = found[0], [f["dataset"] for f in found[1:]]
    also = f" (also {', '.join(rest)})" if rest else ""
    return (
        f"warning: these datasets come from different runs: {first['foreign']} of {first['rows']} samples of "
        f"{first['dataset']} do not follow from {first['against']}{also}; `dvc status` lists the stale stages, "
        "`dvc repro` rebuilds them"
    )
