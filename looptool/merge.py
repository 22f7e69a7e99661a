"""Dataset assembly: D_1 from the seed pool (``select``) and D_{j+1} (``merge@j``).

D_{j+1} = ES (failed samples of D_j, corrected labels applied) + EE (error-driven expansions) + HPPL (mastered
samples with the highest perplexity) + Seed-new (pool samples never used, filling ``merge.dataset_size``). The dataset
size is fixed, so Seed-new shrinks as the others grow (paper: 100% -> 31% -> 15% -> 8%). Every selection is
DuckDB SQL over the Parquet files; the iteration's lineage events are written beside.

Opt-in (``loop.boundary``, with ``probe.samples > 0``): a fifth part ``boundary``, the greedy-mastered samples
whose sampled pass rate is below 1 (lowest pass rate first, at most ``merge.boundary_share`` of the dataset),
between EE and HPPL in priority (ES > EE > boundary > HPPL > Seed-new). When the probe sampled, the rows taken
from D_j (ES, boundary, HPPL) carry that pass rate in ``meta.pass_rate``, so training can tell a failed sample
some draw still solves (> 0) from one none does.

With ``merge.keep_mix``, D_{j+1} keeps D_1's count per (call / no-call label, pattern) group across all parts,
each group filled in the paper's priority (ES > EE > HPPL > Seed-new; boundary after EE when on).

Random choices use ``md5(sample_id || ':' || seed)`` as the order key: deterministic, independent of file order,
and stratified across patterns when asked (each pattern takes its share of the slots).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from looptool import jsonutil, storage
from looptool.config import ConfigError, check_choice
from looptool.consistency import check_probe, check_verdicts, unique_ids
from looptool.schema import BOUNDARY, EVENT, PARTS, PROBE, SAMPLE, TRAIN, VERDICT, VERDICTS, Schema
from looptool.stage import LoopConfig

USED = Schema("pool_used", (SAMPLE.columns[0],))
"""The ids of pool samples already taken as Seed-new (so later iterations take fresh ones)."""

SAMPLE_COLS = ", ".join(SAMPLE.names)


@dataclass
class SelectConfig:
    """``select`` section: how D_1 is drawn from the pool."""

    dataset_size: int = 64
    """|D_1|, the fixed dataset size of the loop."""
    seed: int = 0
    """Order key seed for the random sample."""
    stratify: bool = True
    """Give each pattern its share of the slots (else a plain random sample)."""

    def __post_init__(self) -> None:
        if self.dataset_size < 1:
            raise ValueError("dataset_size must be >= 1")


@dataclass
class MergeConfig:
    """``merge`` section: how D_{j+1} is assembled."""

    dataset_size: int = 64
    """|D_{j+1}| (fixed size; Seed-new fills what ES, EE and HPPL leave)."""
    error_seed_verdicts: list[str] = field(default_factory=lambda: ["PRED_WRONG", "LABEL_WRONG", "ABSTAIN"])
    """Verdicts whose failed samples are kept as error seeds. BOTH_WRONG (a broken sample) and BOTH_CORRECT
    (the prediction is an acceptable answer too) are left out by default, as in the paper."""
    hppl_rule: str = "top_fraction"
    """Which mastered samples count as high-PPL: ``top_fraction`` (the top ``hppl_value`` share by PPL),
    ``top_k`` (the ``hppl_value`` highest) or ``threshold`` (PPL >= ``hppl_value``)."""
    hppl_value: float = 0.25
    """Parameter of ``hppl_rule``."""
    overflow: str = "proportional"
    """When ES + EE + HPPL exceed ``dataset_size``: ``proportional`` (each part keeps slots in proportion to what it
    offers, so a weak student's many failures do not crowd out their expansions) or ``priority`` (ES, then EE,
    then HPPL)."""
    stratify: bool = True
    """Stratify Seed-new across patterns."""
    keep_mix: bool = False
    """Keep D_1's mix: D_{j+1} holds D_1's count of each (call / no-call label, pattern) group over all parts
    (scaled to ``dataset_size`` if that differs from |D_1|). Within a group the paper's priority decides which
    rows fill it (ES > EE > HPPL, then Seed-new of that group; ``overflow`` does not apply); slots a group
    cannot fill go to the other groups' remaining rows in the same priority. Counted in the metrics'
    ``keep_mix``."""
    seed: int = 0
    """Order key seed (the iteration number is added)."""
    boundary_share: float = 0.25
    """``loop.boundary``: at most this share of ``dataset_size`` for the boundary part (the samples with the
    lowest pass rate first; ties by the order key)."""

    def __post_init__(self) -> None:
        if self.dataset_size < 1:
            raise ValueError("dataset_size must be >= 1")
        if not 0 <= self.boundary_share <= 1:
            raise ValueError(f"boundary_share={self.boundary_share!r} must be a fraction in [0, 1]")
        check_choice("hppl_rule", self.hppl_rule, ("top_fraction", "top_k", "threshold"))
        check_choice("overflow", self.overflow, ("proportional", "priority"))
        if self.hppl_rule == "top_fraction" and not 0 <= self.hppl_value <= 1:
            raise ValueError(
                f"hppl_value={self.hppl_value!r} must be a fraction in [0, 1] for hppl_rule top_fraction"
            )
        if self.hppl_rule == "top_k" and (self.hppl_value < 0 or self.hppl_value != int(self.hppl_value)):
            raise ValueError(
                f"hppl_value={self.hppl_value!r} must be a whole number >= 0 for hppl_rule top_k"
            )
        if self.hppl_rule == "threshold" and self.hppl_value <= 0:
            raise ValueError(
                f"hppl_value={self.hppl_value!r} must be a perplexity > 0 for hppl_rule threshold"
            )
        bad = [v for v in self.error_seed_verdicts if v not in VERDICTS]
        if bad:
            raise ValueError(f"error_seed_verdicts: unknown verdict(s) {bad}; known: {list(VERDICTS)}")


def _key(seed: int) -> str:
    return f"md5(sample_id || ':{int(seed)}')"


def _ordered(source_sql: str, seed: int, stratify: bool) -> str:
    """Rows of ``source_sql`` in sampling order: random by key, or interleaved across patterns so that any
    prefix holds each pattern in proportion."""
    key = _key(seed)
    if not stratify:
        return f"SELECT *, {key} AS _k FROM ({source_sql}) ORDER BY _k"
    pattern = "coalesce(json_extract_string(meta, '$.pattern'), '')"
    return (
        f"SELECT * EXCLUDE (_pos), _k FROM ("
        f" SELECT *, {key} AS _k,"
        f" (row_number() OVER (PARTITION BY {pattern} ORDER BY {key}) - 0.5)"
        f"   / count(*) OVER (PARTITION BY {pattern}) AS _pos"
        f" FROM ({source_sql})) ORDER BY _pos, _k"
    )


def run_select(
    *, pool: str | Path, out: str | Path, used: str | Path, events: str | Path, cfg: SelectConfig
) -> dict[str, Any]:
    """Stage select: D_1 = ``cfg.dataset_size`` pool samples (part ``seed_new``) to ``out``; records them as used
    (``used``); writes creation and selection events of the pool (``events``). Returns the metrics."""
    t0 = time.perf_counter()
    unique_ids(storage.read_parquet(pool, SAMPLE), str(pool))  # validate before selecting
    con = storage.connect()
    src = f"SELECT {SAMPLE_COLS} FROM {storage.parquet_source(pool)}"
    d1 = storage.query(
        f"SELECT {SAMPLE_COLS}, 'seed_new' AS part FROM ({_ordered(src, cfg.seed, cfg.stratify)}) LIMIT {int(cfg.dataset_size)}",
        con=con,
    )
    pool_n = storage.query(f"SELECT count(*) AS n FROM {storage.parquet_source(pool)}", con=con).item()
    if d1.height < cfg.dataset_size:
        raise ValueError(
            f"{pool}: pool has {pool_n} samples, select.dataset_size asks for {cfg.dataset_size}"
        )
    storage.write_parquet(d1, out, TRAIN)
    storage.write_parquet(d1.select("sample_id"), used, USED)
    created = storage.query(
        f"""
        SELECT sample_id, 0::BIGINT AS iteration, 'created' AS event, parent_id,
               json_object('origin', origin) AS detail
        FROM {storage.parquet_source(pool)}
        """,
        con=con,
    )
    sel = d1.select(
        "sample_id",
        pl.lit(0, pl.Int64).alias("iteration"),
        pl.lit("selected").alias("event"),
        pl.lit(None, pl.String).alias("parent_id"),
        pl.lit(json.dumps({"into": 1, "part": "seed_new"})).alias("detail"),
    )
    storage.write_parquet(
        pl.concat([created.with_columns(pl.col("detail").cast(pl.String)), sel]), events, EVENT
    )
    return {
        "size": d1.height,
        "pool": pool_n,
        "patterns": _count(d1, "pattern"),
        "wall_s": round(time.perf_counter() - t0, 3),
    }


def _count(df: pl.DataFrame, meta_key: str) -> dict[str, int]:
    if df.is_empty():
        return {}
    vals = df.select(pl.col("meta").str.json_path_match(f"$.{meta_key}").fill_null("?").alias("k"))
    return dict(sorted(vals.group_by("k").len().iter_rows()))


@dataclass
class LoopInputs:
    """The files merge@j reads (paths from dvc.yaml)."""

    data: Path
    probe: Path
    verdicts: Path
    expansions: Path
    pool: Path
    used: Path
    first: Path
    expansions_rejected: Path | None = None


def run_merge(
    *,
    inputs: LoopInputs,
    out: str | Path,
    used_out: str | Path,
    events: str | Path,
    cfg: MergeConfig,
    loop: LoopConfig,
    iteration: int,
) -> dict[str, Any]:
    """Stage merge@j: assemble D_{j+1} (``out``); write the updated used-ids (``used_out``) and iteration j's
    events (``events``). ``loop`` holds the ablation switches (hppl, edde, static, boundary). Returns the metrics."""
    t0 = time.perf_counter()
    inp, hppl, edde, static = inputs, loop.hppl, loop.edde, loop.static
    boundary = loop.boundary and not static
    con = storage.connect()
    frames = {}
    for name, path, schema in (
        ("d", inp.data, TRAIN),
        ("p", inp.probe, PROBE),
        ("v", inp.verdicts, VERDICT),
        ("e", inp.expansions, SAMPLE),
    ):
        frames[name] = storage.read_parquet(path, schema)
        con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {storage.parquet_source(path)}")
    check_probe(frames["p"], frames["d"], str(inp.probe), str(inp.data))
    check_verdicts(frames["v"], frames["p"], str(inp.verdicts), str(inp.probe))
    unique_ids(frames["e"], str(inp.expansions))
    unique_ids(storage.read_parquet(inp.pool, SAMPLE, deep=False), str(inp.pool))
    rated = "pass_rate" in frames["p"].columns
    if boundary and not rated:
        raise ConfigError(
            f"loop.boundary: {inp.probe} has no pass_rate column; the boundary part needs a sampling probe "
            "(probe.samples > 0)"
        )
    seed = cfg.seed + iteration
    key = _key(seed)

    dropped = None  # candidates (ES, EE, HPPL) past merge.dataset_size
    if static:
        nxt = storage.query(f"SELECT {SAMPLE_COLS}, part FROM {storage.parquet_source(inp.first)}", con=con)
        used = storage.read_parquet(inp.used, USED)
        candidates = nxt.with_columns(pl.lit(0).alias("_prio"))
    else:
        verdicts = ", ".join("'" + v + "'" for v in cfg.error_seed_verdicts)
        es = f"""
            SELECT d.* EXCLUDE (part, label, label_rev),
                   CASE WHEN v.verdict = 'LABEL_WRONG' AND v.new_label IS NOT NULL THEN v.new_label ELSE d.label END AS label,
                   d.label_rev + CASE WHEN v.verdict = 'LABEL_WRONG' AND v.new_label IS NOT NULL THEN 1 ELSE 0 END AS label_rev,
                   'error_seed' AS part, 1 AS _prio
            FROM d JOIN p USING (sample_id) LEFT JOIN v USING (sample_id)
            WHERE NOT p.mastered AND p.error IS NULL AND coalesce(v.verdict, 'ABSTAIN') IN ({verdicts})
        """
        ee = f"SELECT {SAMPLE_COLS}, 'expansion' AS part, 2 AS _prio FROM e" if edde else None
        bd = _boundary_sql(cfg, key) if boundary else None
        hp = _hppl_sql(cfg) if hppl else None
        parts = [es] + [q for q in (ee, bd, hp) if q]
        union = " UNION ALL ".join(f"SELECT {SAMPLE_COLS}, part, _prio FROM ({q})" for q in parts)
        # proportional: interleave the parts so that any prefix holds each in proportion to its size
        order = (
            "(row_number() OVER (PARTITION BY part ORDER BY _k) - 0.5) / count(*) OVER (PARTITION BY part), _prio, _k"
            if cfg.overflow == "proportional"
            else "_prio, _k"
        )
        candidates = storage.query(
            f"""
            SELECT * EXCLUDE (_k) FROM (
              SELECT *, {key} AS _k FROM ({union})
              QUALIFY row_number() OVER (PARTITION BY sample_id ORDER BY _prio) = 1
            ) ORDER BY {order if not cfg.keep_mix else "_prio, _k"}
            """,
            con=con,
        )
        if cfg.keep_mix:
            # any candidate may be passed over for its group's sake: Seed-new comes from the whole unused pool
            con.register("kept_ids", candidates.select("sample_id"))
            mix = keep_mix(candidates, _fresh(con, inp, seed, cfg.stratify), _mix_targets(inp.first, cfg))
            mix_metrics = mix.metrics
            fresh = mix.kept.filter(pl.col("part") == "seed_new").drop("_prio")
            kept = mix.kept.filter(pl.col("part") != "seed_new")
            dropped = candidates.filter(~pl.col("sample_id").is_in(kept["sample_id"].implode())).select(
                "sample_id", "part"
            )
        else:
            kept = candidates.head(cfg.dataset_size)
            dropped = candidates.slice(cfg.dataset_size).select("sample_id", "part")
            con.register("kept_ids", kept.select("sample_id"))
            free = cfg.dataset_size - kept.height
            fresh = _fresh(con, inp, seed, cfg.stratify, max(free, 0))
        nxt = pl.concat([kept.drop("_prio"), fresh], how="vertical_relaxed")
        if rated:
            nxt = _with_pass_rate(nxt, frames["p"])
        used = pl.concat([storage.read_parquet(inp.used, USED), fresh.select("sample_id")]).unique(
            maintain_order=True
        )

    nxt = TRAIN.validate(nxt, where=str(out))
    storage.write_parquet(nxt, out, TRAIN)
    storage.write_parquet(used, used_out, USED)
    found = _boundary_found(con, cfg, key) if boundary else None
    storage.write_parquet(
        _events(con, inp, iteration, nxt, dropped, cfg.dataset_size, rated=rated, boundary=found),
        events,
        EVENT,
    )

    parts = dict(nxt.group_by("part").len().iter_rows())
    names = (*PARTS, BOUNDARY) if boundary else PARTS
    n_failed = storage.query("SELECT count(*) FROM p WHERE NOT mastered AND error IS NULL", con=con).item()
    n_mastered = storage.query("SELECT count(*) FROM p WHERE mastered", con=con).item()
    n_exp = storage.query("SELECT count(*) FROM e", con=con).item()
    metrics = {
        "iteration": iteration,
        "size": nxt.height,
        "parts": {p: int(parts.get(p, 0)) for p in names},
        "fractions": {p: round(parts.get(p, 0) / max(nxt.height, 1), 4) for p in names},
        "relabeled": int(
            nxt.filter(pl.col("part") == "error_seed").select((pl.col("label_rev") > 0).sum()).item() or 0
        ),
        "available": {
            "failed": n_failed,
            "mastered": n_mastered,
            "expansions": n_exp,
            **({"boundary": found.height, "boundary_cap": _boundary_cap(cfg)} if found is not None else {}),
        },
        "dropped_for_size": int(max(candidates.height - nxt.filter(pl.col("part") != "seed_new").height, 0))
        if not static
        else 0,
        "pool_used": used.height,
        "static": static,
        **({"keep_mix": mix_metrics} if cfg.keep_mix and not static else {}),
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    con.close()
    return metrics


def _fresh(con, inp: LoopInputs, seed: int, stratify: bool, limit: int | None = None) -> pl.DataFrame:
    """Seed-new candidates: pool rows never used and not among ``kept_ids``, in sampling order."""
    src = (
        f"SELECT {SAMPLE_COLS} FROM {storage.parquet_source(inp.pool)} "
        f"WHERE sample_id NOT IN (SELECT sample_id FROM {storage.parquet_source(inp.used)}) "
        f"AND sample_id NOT IN (SELECT sample_id FROM kept_ids)"
    )
    lim = f" LIMIT {int(limit)}" if limit is not None else ""
    return storage.query(
        f"SELECT {SAMPLE_COLS}, 'seed_new' AS part FROM ({_ordered(src, seed, stratify)}){lim}", con=con
    )


def mix_group() -> pl.Expr:
    """A row's mix group: ``call/<pattern>`` when its label calls, ``no_call/<pattern>`` when it is ``[]``."""
    call = (
        pl.when(pl.col("label").str.replace_all(r"\s", "") == "[]")
        .then(pl.lit("no_call"))
        .otherwise(pl.lit("call"))
    )
    pattern = pl.col("meta").str.json_path_match("$.pattern").fill_null("?")
    return pl.concat_str([call, pattern], separator="/")


def _mix_targets(first: Path, cfg: MergeConfig) -> dict[str, int]:
    """D_1's count per mix group, scaled to ``cfg.dataset_size`` (largest remainder; ties by group name)."""
    d1 = storage.read_parquet(first, TRAIN, deep=False)
    counts = dict(sorted(d1.select(mix_group().alias("g")).group_by("g").len().iter_rows()))
    total = sum(counts.values())
    if total == 0:
        raise ValueError(f"{first}: D_1 is empty; merge.keep_mix has no mix to keep")
    raw = {g: cfg.dataset_size * n / total for g, n in counts.items()}
    out = {g: int(v) for g, v in raw.items()}
    for g in sorted(raw, key=lambda g: (-(raw[g] - out[g]), g))[: cfg.dataset_size - sum(out.values())]:
        out[g] += 1
    return out


@dataclass
class MixResult:
    kept: pl.DataFrame
    metrics: dict[str, Any]


def keep_mix(candidates: pl.DataFrame, fresh: pl.DataFrame, targets: dict[str, int]) -> MixResult:
    """Fill each group of ``targets`` from its own rows in priority order (``candidates`` ES/EE/HPPL by
    ``_prio``, in their order, then ``fresh`` Seed-new rows in theirs); slots a group cannot fill go to the
    rows left over from every group, in the same priority. Returns the kept rows (with ``_prio``; Seed-new is
    5) in that order, and the metrics: targets, got and short per group, and how many rows filled shortfalls."""
    size = sum(targets.values())
    allc = pl.concat(
        [candidates, fresh.with_columns(pl.lit(5, candidates.schema.get("_prio", pl.Int32)).alias("_prio"))],
        how="vertical_relaxed",
    ).with_columns(mix_group().alias("_g"), pl.int_range(pl.len()).alias("_i"))
    ranked = allc.with_columns(pl.int_range(pl.len()).over("_g").alias("_r"))
    want = pl.col("_g").replace_strict(targets, default=0, return_dtype=pl.Int64)
    in_group = ranked.filter(pl.col("_r") < want)
    got = dict(in_group.group_by("_g").len().iter_rows())
    rest = ranked.filter(pl.col("_r") >= want).head(max(size - in_group.height, 0))
    kept = pl.concat([in_group, rest]).sort("_i")
    short = {g: t - got.get(g, 0) for g, t in targets.items() if t > got.get(g, 0)}
    metrics = {
        "targets": targets,
        "got": {g: int(got.get(g, 0)) for g in targets},
        "short": short,
        "filled_by_priority": rest.height,
        "filled_by_priority_parts": dict(sorted(rest.group_by("part").len().iter_rows())),
        "final": dict(sorted(kept.group_by("_g").len().iter_rows())),
    }
    return MixResult(kept.drop("_g", "_i", "_r"), metrics)


def _boundary_cap(cfg: MergeConfig) -> int:
    return int(cfg.boundary_share * cfg.dataset_size + 1e-9)


def _boundary_found(con, cfg: MergeConfig, key: str) -> pl.DataFrame:
    """Every boundary sample of D_j (greedy-mastered, pass rate < 1) in the part's order, with its pass rate
    and whether it is within ``merge.boundary_share``."""
    return storage.query(
        f"""
        SELECT sample_id, pass_rate, n_samples,
               row_number() OVER (ORDER BY pass_rate, {key}) <= {_boundary_cap(cfg)} AS within_cap
        FROM p WHERE mastered AND pass_rate IS NOT NULL AND pass_rate < 1
        ORDER BY pass_rate, {key}
        """,
        con=con,
    )


def _boundary_sql(cfg: MergeConfig, key: str) -> str:
    """The boundary part: greedy-mastered samples with a pass rate below 1, lowest first, capped."""
    return (
        f"SELECT d.* EXCLUDE (part), 'boundary' AS part, 3 AS _prio FROM d JOIN p USING (sample_id)"
        f" WHERE p.mastered AND p.pass_rate IS NOT NULL AND p.pass_rate < 1"
        f" ORDER BY p.pass_rate, {key} LIMIT {_boundary_cap(cfg)}"
    )


def _with_pass_rate(nxt: pl.DataFrame, probed: pl.DataFrame) -> pl.DataFrame:
    """``meta.pass_rate`` of the rows taken from D_j (their probe's pass rate; removed when it is null, so
    no row keeps an earlier iteration's)."""
    rates = dict(probed.select("sample_id", "pass_rate").iter_rows())
    from_d = ("error_seed", "boundary", "high_ppl")
    metas = []
    for sid, part, meta in nxt.select("sample_id", "part", "meta").iter_rows():
        if part in from_d and sid in rates:
            obj = json.loads(meta)
            obj.pop("pass_rate", None)
            if rates[sid] is not None:
                obj["pass_rate"] = round(float(rates[sid]), 4)
            meta = jsonutil.dumps(obj)
        metas.append(meta)
    return nxt.with_columns(pl.Series("meta", metas, dtype=pl.String))


def _hppl_sql(cfg: MergeConfig) -> str:
    base = "SELECT d.* EXCLUDE (part), 'high_ppl' AS part, 4 AS _prio, p.ppl AS _ppl FROM d JOIN p USING (sample_id) WHERE p.mastered AND p.ppl IS NOT NULL"
    if cfg.hppl_rule == "threshold":
        q = f"SELECT * FROM ({base}) WHERE _ppl >= {float(cfg.hppl_value)}"
    elif cfg.hppl_rule == "top_k":
        q = f"SELECT * FROM ({base}) ORDER BY _ppl DESC, sample_id LIMIT {int(cfg.hppl_value)}"
    else:
        q = (
            f"SELECT * EXCLUDE (_r, _n) FROM (SELECT *, row_number() OVER (ORDER BY _ppl DESC, sample_id) AS _r,"
            f" count(*) OVER () AS _n FROM ({base})) WHERE _r <= ceil({float(cfg.hppl_value)} * _n)"
        )
    return f"SELECT * EXCLUDE (_ppl) FROM ({q})"


def _events(
    con,
    inp: LoopInputs,
    iteration: int,
    nxt: pl.DataFrame,
    dropped: pl.DataFrame | None = None,
    size: int | None = None,
    rated: bool = False,
    boundary: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Lineage events of iteration j: probed (with the pass rate when the probe sampled), boundary (a
    boundary sample found, ``loop.boundary``), judged, relabeled, created/expanded (expansions), rejected,
    selected (into D_{j+1}), dropped (a candidate part past ``merge.dataset_size``)."""
    j = int(iteration)
    rate = ", 'pass_rate', pass_rate, 'n_samples', n_samples" if rated else ""
    parts = [
        f"""SELECT sample_id, {j}::BIGINT AS iteration, 'probed' AS event, NULL::VARCHAR AS parent_id,
                   json_object('mastered', mastered, 'ppl', ppl, 'parse_error', parse_error{rate})::VARCHAR AS detail FROM p""",
        f"""SELECT sample_id, {j}::BIGINT, 'judged', NULL,
                   json_object('verdict', verdict, 'decided_by', decided_by, 'rationale', rationale)::VARCHAR FROM v""",
        f"""SELECT v.sample_id, {j}::BIGINT, 'relabeled', NULL,
                   json_object('old_label', json(v.old_label), 'new_label', json(v.new_label),
                               'label_rev', d.label_rev + 1)::VARCHAR
            FROM v JOIN d USING (sample_id) WHERE v.verdict = 'LABEL_WRONG' AND v.new_label IS NOT NULL""",
        f"""SELECT sample_id, {j}::BIGINT, 'created', parent_id, json_object('origin', origin)::VARCHAR FROM e""",
        f"""SELECT parent_id, {j}::BIGINT, 'expanded', NULL,
                   json_object('children', list(sample_id ORDER BY sample_id))::VARCHAR
            FROM e WHERE parent_id IS NOT NULL GROUP BY parent_id""",
    ]
    if inp.expansions_rejected is not None and Path(inp.expansions_rejected).exists():
        parts.append(
            f"""SELECT sample_id, {j}::BIGINT, 'rejected', parent_id,
                       json_object('reason', reason, 'stage', 'expand')::VARCHAR
                FROM {storage.parquet_source(inp.expansions_rejected)}"""
        )
    df = storage.query(" UNION ALL ".join(parts), con=con)
    df = df.rename(dict(zip(df.columns, EVENT.names)))
    sel = nxt.select(
        "sample_id",
        pl.lit(j, pl.Int64).alias("iteration"),
        pl.lit("selected").alias("event"),
        pl.lit(None, pl.String).alias("parent_id"),
        pl.format('{{"into":{},"part":"{}"}}', pl.lit(j + 1), pl.col("part")).alias("detail"),
    )
    frames = [df.cast({"iteration": pl.Int64}), sel]
    if boundary is not None and boundary.height:
        frames.append(
            boundary.select(
                "sample_id",
                pl.lit(j, pl.Int64).alias("iteration"),
                pl.lit("boundary").alias("event"),
                pl.lit(None, pl.String).alias("parent_id"),
                pl.format(
                    '{{"pass_rate":{},"n_samples":{},"within_cap":{}}}',
                    pl.col("pass_rate").round(4),
                    pl.col("n_samples"),
                    pl.when(pl.col("within_cap")).then(pl.lit("true")).otherwise(pl.lit("false")),
                ).alias("detail"),
            )
        )
    if dropped is not None and dropped.height:
        frames.append(
            dropped.select(
                "sample_id",
                pl.lit(j, pl.Int64).alias("iteration"),
                pl.lit("dropped").alias("event"),
                pl.lit(None, pl.String).alias("parent_id"),
                pl.format(
                    '{{"into":{},"part":"{}","reason":"dataset_size","dataset_size":{}}}',
                    pl.lit(j + 1),
                    pl.col("part"),
                    pl.lit(int(size or 0)),
                ).alias("detail"),
            )
        )
    return pl.concat(frames)
