"""select (D_1) and merge (D_{j+1} = ES + EE + HPPL + Seed-new), with events."""

from __future__ import annotations

import json
from collections import Counter

import polars as pl
import pytest

from looptool import storage
from looptool.merge import LoopInputs, MergeConfig, SelectConfig, run_merge, run_select
from looptool.schema import EVENT, PATTERNS, PROBE, SAMPLE, TRAIN, VERDICT, frame, make_sample_id
from looptool.stage import LoopConfig

TOOLS = [
    {
        "name": "f",
        "description": "d",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
    }
]


def row(i: int, pattern: str, origin: str = "seed", parent=None, iteration=0):
    msgs = [{"role": "user", "content": f"sample {i} {pattern}"}]
    return {
        "sample_id": make_sample_id(TOOLS, msgs),
        "tools": TOOLS,
        "messages": msgs,
        "label": [{"name": "f", "arguments": {"a": i}}],
        "origin": origin,
        "parent_id": parent,
        "iteration": iteration,
        "label_rev": 0,
        "meta": {"pattern": pattern, "domain": f"d{i % 7}"},
    }


@pytest.fixture
def pool(tmp_path):
    rows = [row(i, PATTERNS[i % len(PATTERNS)]) for i in range(300)]
    return storage.write_parquet(frame(rows, SAMPLE), tmp_path / "seed" / "pool.parquet", SAMPLE)


def test_select_stratified_deterministic(pool, tmp_path):
    cfg = SelectConfig(dataset_size=60, seed=3)
    info = run_select(
        pool=pool,
        cfg=cfg,
        out=tmp_path / "a.parquet",
        used=tmp_path / "u.parquet",
        events=tmp_path / "e.parquet",
    )
    d1 = storage.read_parquet(tmp_path / "a.parquet", TRAIN)
    assert d1.height == 60 and set(d1["part"]) == {"seed_new"}
    assert info["patterns"] == {p: 10 for p in PATTERNS}  # each pattern its share
    run_select(
        pool=pool,
        cfg=cfg,
        out=tmp_path / "b.parquet",
        used=tmp_path / "u2.parquet",
        events=tmp_path / "e2.parquet",
    )
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    events = storage.read_parquet(tmp_path / "e.parquet", EVENT)
    assert Counter(events["event"]) == {"created": 300, "selected": 60}
    other = run_select(
        pool=pool,
        cfg=SelectConfig(dataset_size=60, seed=4),
        out=tmp_path / "c.parquet",
        used=tmp_path / "u3.parquet",
        events=tmp_path / "e3.parquet",
    )
    assert set(storage.read_parquet(tmp_path / "c.parquet")["sample_id"]) != set(d1["sample_id"])
    assert other["size"] == 60
    with pytest.raises(ValueError, match="pool has 300"):
        run_select(
            pool=pool,
            cfg=SelectConfig(dataset_size=301),
            out=tmp_path / "x.parquet",
            used=tmp_path / "y.parquet",
            events=tmp_path / "z.parquet",
        )


def _iteration(pool, tmp_path, n_failed=6, n_exp=5, size=40):
    run_select(
        pool=pool,
        cfg=SelectConfig(dataset_size=size),
        out=tmp_path / "iter_1" / "train.parquet",
        used=tmp_path / "iter_1" / "pool_used.parquet",
        events=tmp_path / "seed" / "events.parquet",
    )
    d1 = storage.read_parquet(tmp_path / "iter_1" / "train.parquet", TRAIN)
    ids = d1["sample_id"].to_list()
    probe = frame(
        [
            {
                "sample_id": s,
                "iteration": 1,
                "prediction": "x",
                "calls": [],
                "parse_error": None,
                "mastered": i >= n_failed,
                "ppl": 1.0 + i / 10,
                "n_tokens": 10,
                "error": None,
            }
            for i, s in enumerate(ids)
        ],
        PROBE,
    )
    verdict_kinds = ["LABEL_WRONG", "PRED_WRONG", "BOTH_WRONG", "BOTH_CORRECT", "ABSTAIN", "PRED_WRONG"]
    verdicts = frame(
        [
            {
                "sample_id": s,
                "iteration": 1,
                "verdict": verdict_kinds[i % 6],
                "decided_by": "rule",
                "rationale": "r",
                "old_label": d1["label"][i],
                "new_label": [{"name": "f", "arguments": {"a": -1}}]
                if verdict_kinds[i % 6] == "LABEL_WRONG"
                else None,
                "votes": [],
            }
            for i, s in enumerate(ids[:n_failed])
        ],
        VERDICT,
    )
    exp = frame(
        [row(1000 + i, "single", "expansion", parent=ids[1], iteration=1) for i in range(n_exp)], SAMPLE
    )
    paths = {}
    for name, df, schema in (
        ("probe", probe, PROBE),
        ("verdicts", verdicts, VERDICT),
        ("expansions", exp, SAMPLE),
    ):
        paths[name] = storage.write_parquet(df, tmp_path / "iter_1" / f"{name}.parquet", schema)
    return LoopInputs(
        tmp_path / "iter_1" / "train.parquet",
        paths["probe"],
        paths["verdicts"],
        paths["expansions"],
        pool,
        tmp_path / "iter_1" / "pool_used.parquet",
        tmp_path / "iter_1" / "train.parquet",
    ), ids


def _run(inp, tmp_path, cfg=None, **kw):
    out = tmp_path / "iter_2" / "train.parquet"
    m = run_merge(
        inputs=inp,
        cfg=cfg or MergeConfig(dataset_size=40, hppl_rule="top_k", hppl_value=3),
        loop=LoopConfig(**kw),
        iteration=1,
        out=out,
        used_out=tmp_path / "iter_2" / "pool_used.parquet",
        events=tmp_path / "iter_1" / "events.parquet",
    )
    return (
        m,
        storage.read_parquet(out, TRAIN),
        storage.read_parquet(tmp_path / "iter_1" / "events.parquet", EVENT),
    )


def test_merge_composition(pool, tmp_path):
    inp, ids = _run_inputs = _iteration(pool, tmp_path)
    m, d2, events = _run(inp, tmp_path)
    # failed 6: verdicts LW, PW, BW, BC, AB, PW -> error seeds are LW, PW, AB, PW (4)
    assert m["parts"] == {"error_seed": 4, "expansion": 5, "high_ppl": 3, "seed_new": 28}
    assert d2.height == 40 and d2["sample_id"].n_unique() == 40
    relabeled = d2.filter(pl.col("sample_id") == ids[0]).row(0, named=True)
    assert (
        json.loads(relabeled["label"]) == [{"name": "f", "arguments": {"a": -1}}]
        and relabeled["label_rev"] == 1
    )
    assert m["relabeled"] == 1
    hp = d2.filter(pl.col("part") == "high_ppl")["sample_id"].to_list()
    assert set(hp) == set(ids[-3:])  # the highest PPL mastered samples
    fresh = set(d2.filter(pl.col("part") == "seed_new")["sample_id"])
    assert not fresh & set(ids)  # Seed-new never re-uses pool samples
    used = storage.read_parquet(tmp_path / "iter_2" / "pool_used.parquet")
    assert used.height == 40 + 28
    kinds = Counter(events["event"])
    assert kinds["probed"] == 40 and kinds["judged"] == 6 and kinds["relabeled"] == 1
    assert kinds["created"] == 5 and kinds["expanded"] == 1 and kinds["selected"] == 40
    rel = events.filter(pl.col("event") == "relabeled").row(0, named=True)
    detail = json.loads(rel["detail"])
    assert detail["new_label"] == [{"name": "f", "arguments": {"a": -1}}] and detail["label_rev"] == 1
    assert json.loads(events.filter(pl.col("event") == "expanded")["detail"][0])["children"]


def test_merge_cap_and_ablations(pool, tmp_path):
    inp, ids = _iteration(pool, tmp_path, n_failed=6, n_exp=30, size=40)
    m, d2, events = _run(
        inp,
        tmp_path,
        MergeConfig(dataset_size=20, hppl_rule="top_fraction", hppl_value=0.5, overflow="priority"),
    )
    assert m["parts"] == {
        "error_seed": 4,
        "expansion": 16,
        "high_ppl": 0,
        "seed_new": 0,
    }  # priority ES > EE > HPPL
    assert m["dropped_for_size"] == 14 + 17  # 14 expansions, 17 high-PPL (half of 34 mastered)
    # each candidate left out for size has its lineage event, and none of them is in D_2
    dropped = events.filter(pl.col("event") == "dropped")
    assert dropped.height == m["dropped_for_size"]
    assert not set(dropped["sample_id"]) & set(d2["sample_id"])
    details = [json.loads(d) for d in dropped["detail"]]
    assert Counter(d["part"] for d in details) == {"expansion": 14, "high_ppl": 17}
    assert {(d["into"], d["reason"], d["dataset_size"]) for d in details} == {(2, "dataset_size", 20)}
    from looptool.lineage import describe_event

    line = describe_event({**dropped.row(0, named=True), "detail": details[0]})
    assert line.startswith("not selected into D_2 as ") and "merge.dataset_size (20)" in line
    # proportional: ES 4, EE 30, HPPL 17 (half of 34 mastered) offered for 20 slots -> shares of 4/51, 30/51, 17/51
    m, d2, _ = _run(inp, tmp_path, MergeConfig(dataset_size=20, hppl_rule="top_fraction", hppl_value=0.5))
    offered = {"error_seed": 4, "expansion": 30, "high_ppl": 17}
    assert sum(m["parts"].values()) == 20 and m["parts"]["seed_new"] == 0
    for part, n in offered.items():
        assert abs(m["parts"][part] - 20 * n / 51) <= 1, (part, m["parts"])
    assert d2["sample_id"].n_unique() == 20
    m, _, _ = _run(
        inp,
        tmp_path,
        MergeConfig(dataset_size=40, hppl_rule="threshold", hppl_value=4.65),
        edde=False,
        hppl=True,
    )
    assert (
        m["parts"]["expansion"] == 0 and m["parts"]["high_ppl"] == 3
    )  # ppl 4.7, 4.8, 4.9 (samples 37-39) are >= 4.65
    m, _, _ = _run(inp, tmp_path, MergeConfig(dataset_size=40), hppl=False)
    assert m["parts"]["high_ppl"] == 0
    m, _, events = _run(inp, tmp_path, MergeConfig(dataset_size=40))
    assert m["dropped_for_size"] == Counter(events["event"])["dropped"] == 4 + 30 + 9 - 40
    m, _, events = _run(inp, tmp_path, MergeConfig(dataset_size=60))
    assert m["dropped_for_size"] == 0 and "dropped" not in set(events["event"])  # room for every candidate
    m, d2, _ = _run(inp, tmp_path, MergeConfig(dataset_size=40), static=True)
    assert m["parts"] == {"seed_new": 40, "error_seed": 0, "expansion": 0, "high_ppl": 0}
    assert set(d2["sample_id"]) == set(ids)


def test_merge_config_checks():
    with pytest.raises(ValueError, match="hppl_rule"):
        MergeConfig(hppl_rule="median")
    with pytest.raises(ValueError, match="unknown verdict"):
        MergeConfig(error_seed_verdicts=["WRONG"])


# --- merge.keep_mix ---------------------------------------------------------------------------------------


def _mixed_pool(tmp_path, n: int = 300):
    """Pool rows over every pattern; missing_arg and irrelevant rows answer in text (label ``[]``)."""
    rows = []
    for i in range(n):
        r = row(i, PATTERNS[i % len(PATTERNS)])
        if r["meta"]["pattern"] in ("missing_arg", "irrelevant"):
            r["label"] = []
        rows.append(r)
    return storage.write_parquet(frame(rows, SAMPLE), tmp_path / "seed" / "pool.parquet", SAMPLE)


def _groups(df: pl.DataFrame) -> dict[str, int]:
    from looptool.merge import mix_group

    return dict(sorted(df.select(mix_group().alias("g")).group_by("g").len().iter_rows()))


def test_keep_mix_keeps_d1_counts_per_group_when_the_parts_skew_it(tmp_path):
    pool = _mixed_pool(tmp_path)
    inp, ids = _iteration(pool, tmp_path, n_failed=6, n_exp=30, size=36)
    d1 = storage.read_parquet(inp.first, TRAIN)
    want = _groups(d1)
    assert want == {
        **{f"call/{p}": 6 for p in ("distractor", "multi_turn", "parallel", "single")},
        "no_call/irrelevant": 6,
        "no_call/missing_arg": 6,
    }
    base = {"dataset_size": 36, "hppl_rule": "top_k", "hppl_value": 3}
    _, skewed, _ = _run(inp, tmp_path, MergeConfig(**base))
    assert _groups(skewed)["call/single"] > 6  # 30 single expansions crowd the mix without keep_mix
    m, d2, events = _run(inp, tmp_path, MergeConfig(**base, keep_mix=True))
    assert _groups(d2) == want and d2.height == 36 and d2["sample_id"].n_unique() == 36
    assert m["keep_mix"]["targets"] == want and m["keep_mix"]["short"] == {}
    assert m["keep_mix"]["filled_by_priority"] == 0
    # within a group, priority: every error seed and high-PPL row of the group is kept before Seed-new, and
    # the single group is filled by its error seeds, then expansions, with no Seed-new
    from looptool.merge import mix_group

    single = d2.filter(mix_group() == "call/single")
    n_es = single.filter(pl.col("part") == "error_seed").height
    assert Counter(single["part"]) == {"error_seed": n_es, "expansion": 6 - n_es}
    assert m["parts"]["error_seed"] == 4 and m["parts"]["high_ppl"] == 3  # none of them passed over
    assert Counter(events.filter(pl.col("event") == "selected")["event"]) == {"selected": 36}
    used = storage.read_parquet(tmp_path / "iter_2" / "pool_used.parquet")
    assert used.height == 36 + m["parts"]["seed_new"]


def test_keep_mix_short_group_is_filled_by_priority_and_counted(tmp_path):
    """Earlier iterations used every parallel pool row but one: the parallel group of D_2 gets its D_1 rows
    that came back (error seeds, high PPL) and that one Seed-new row; the rest of its slots go to the other
    groups' rows in priority order (expansions before Seed-new), and the metrics say so."""
    from looptool.merge import USED

    pool = _mixed_pool(tmp_path)
    inp, ids = _iteration(pool, tmp_path, n_failed=6, n_exp=30, size=36)
    parallel = [
        r["sample_id"]
        for r in storage.read_parquet(pool, SAMPLE).iter_rows(named=True)
        if json.loads(r["meta"])["pattern"] == "parallel" and r["sample_id"] not in set(ids)
    ]
    spared = parallel[0]
    storage.write_parquet(pl.DataFrame({"sample_id": ids + parallel[1:]}), inp.used, USED)
    want = _groups(storage.read_parquet(inp.first, TRAIN))
    m, d2, _ = _run(
        inp, tmp_path, MergeConfig(dataset_size=36, hppl_rule="top_k", hppl_value=3, keep_mix=True)
    )
    km, got = m["keep_mix"], _groups(d2)
    short = km["short"]
    assert set(short) == {"call/parallel"} and 0 < short["call/parallel"] < want["call/parallel"]
    assert (
        got["call/parallel"] == km["got"]["call/parallel"] == want["call/parallel"] - short["call/parallel"]
    )
    assert spared in set(d2["sample_id"]) and d2.height == 36
    assert km["filled_by_priority"] == short["call/parallel"]
    assert km["filled_by_priority_parts"] == {"expansion": short["call/parallel"]}  # EE before Seed-new
    assert got["call/single"] == want["call/single"] + short["call/parallel"]
    for g, n in want.items():
        if g not in ("call/parallel", "call/single"):
            assert got[g] == n, g


def test_keep_mix_off_by_default_changes_nothing(tmp_path):
    pool = _mixed_pool(tmp_path)
    inp, _ = _iteration(pool, tmp_path, n_failed=6, n_exp=30, size=36)
    base = {"dataset_size": 36, "hppl_rule": "top_k", "hppl_value": 3}
    m, _, _ = _run(inp, tmp_path, MergeConfig(**base))
    a = (tmp_path / "iter_2" / "train.parquet").read_bytes()
    assert "keep_mix" not in m and MergeConfig().keep_mix is False
    _run(inp, tmp_path, MergeConfig(**base, keep_mix=False))
    assert (tmp_path / "iter_2" / "train.parquet").read_bytes() == a


def test_keep_mix_scales_d1_counts_to_another_dataset_size(tmp_path):
    pool = _mixed_pool(tmp_path)
    inp, _ = _iteration(pool, tmp_path, n_failed=6, n_exp=30, size=36)
    m, d2, _ = _run(
        inp, tmp_path, MergeConfig(dataset_size=20, hppl_rule="top_k", hppl_value=3, keep_mix=True)
    )
    # 36 rows in 6 groups of 6 -> 20 slots: 3 each, the 2 left over to the first groups by name
    assert m["keep_mix"]["targets"] == {
        "call/distractor": 4,
        "call/multi_turn": 4,
        **{g: 3 for g in ("call/parallel", "call/single", "no_call/irrelevant", "no_call/missing_arg")},
    }
    assert _groups(d2) == m["keep_mix"]["targets"] and d2.height == 20


# --- loop.boundary: greedy-mastered samples with a sampled pass rate below 1 -------------------------------


def _rate(i: int) -> float:
    """Pass rates of the fixture's 40 samples: failed 0-5 (sample 1: 0.25, else 0), mastered 6-29 always
    pass, mastered 30-39 pass 0.0, 0.1, ..., 0.9 of the time (the boundary, lowest first)."""
    if i < 6:
        return 0.25 if i == 1 else 0.0
    return 1.0 if i < 30 else (i - 30) / 10


def _rated(inp) -> None:
    """Give the fixture's probe file the sampling probe's columns (probe.samples = 4)."""
    p = storage.read_parquet(inp.probe, PROBE)
    rates = [_rate(i) for i in range(p.height)]
    p = p.with_columns(
        pl.Series("pass_rate", rates, dtype=pl.Float64),
        pl.lit(4, pl.Int64).alias("n_samples"),
        pl.Series("failed_sample", [None if r == 1 else "wrong" for r in rates], dtype=pl.String),
    )
    storage.write_parquet(p, inp.probe, PROBE)


def test_boundary_part_priority_cap_events_and_pass_rates(pool, tmp_path):
    inp, ids = _iteration(pool, tmp_path)
    _rated(inp)
    base = {"dataset_size": 40, "hppl_rule": "top_k", "hppl_value": 3}
    # cap 4 of 40: the 4 lowest pass rates (samples 30-33); HPPL keeps its top 3 by PPL (37-39)
    m, d2, events = _run(inp, tmp_path, MergeConfig(**base, boundary_share=0.1), boundary=True)
    assert m["parts"] == {"seed_new": 24, "error_seed": 4, "expansion": 5, "high_ppl": 3, "boundary": 4}
    assert m["available"]["boundary"] == 10 and m["available"]["boundary_cap"] == 4
    part = dict(d2.select("sample_id", "part").iter_rows())
    assert [part.get(s) for s in ids[30:34]] == ["boundary"] * 4
    assert [part.get(s) for s in ids[37:40]] == ["high_ppl"] * 3
    found = events.filter(pl.col("event") == "boundary")
    details = {s: json.loads(d) for s, d in found.select("sample_id", "detail").iter_rows()}
    assert set(details) == set(ids[30:40])
    assert {s for s, d in details.items() if d["within_cap"]} == set(ids[30:34])
    assert details[ids[31]] == {"pass_rate": 0.1, "n_samples": 4, "within_cap": True}
    probed = {
        s: json.loads(d)
        for s, d in events.filter(pl.col("event") == "probed").select("sample_id", "detail").iter_rows()
    }
    assert probed[ids[1]]["pass_rate"] == 0.25 and probed[ids[1]]["n_samples"] == 4
    from looptool.lineage import describe_event

    assert "pass rate 0.10" in describe_event(
        {**found.row(0, named=True), "event": "boundary", "detail": details[ids[31]]}
    )
    # the rows taken from D_j carry their pass rate (an error seed some draw solves: > 0); Seed-new does not
    meta = {s: json.loads(x) for s, x in d2.select("sample_id", "meta").iter_rows()}
    assert meta[ids[1]]["pass_rate"] == 0.25 and meta[ids[0]]["pass_rate"] == 0.0
    assert meta[ids[31]]["pass_rate"] == 0.1 and meta[ids[38]]["pass_rate"] == 0.8
    assert all("pass_rate" not in meta[s] for s in d2.filter(pl.col("part") == "seed_new")["sample_id"])

    # a sample both boundary and high-PPL goes to the higher priority: boundary (cap 10 takes 30-39)
    m, d2, _ = _run(inp, tmp_path, MergeConfig(**base, boundary_share=0.25), boundary=True)
    assert m["parts"] == {"seed_new": 21, "error_seed": 4, "expansion": 5, "high_ppl": 0, "boundary": 10}

    # over dataset_size with overflow=priority: ES > EE > boundary > HPPL
    m, d2, events = _run(
        inp,
        tmp_path,
        MergeConfig(**{**base, "dataset_size": 12}, boundary_share=0.5, overflow="priority"),
        boundary=True,
    )
    assert m["parts"] == {"seed_new": 0, "error_seed": 4, "expansion": 5, "high_ppl": 0, "boundary": 3}
    kept = set(d2.filter(pl.col("part") == "boundary")["sample_id"])
    assert len(kept) == 3 and kept <= set(ids[30:36])  # from the 6 within the cap (12 * 0.5)
    dropped = Counter(json.loads(d)["part"] for d in events.filter(pl.col("event") == "dropped")["detail"])
    assert dropped == {"boundary": 3, "high_ppl": 3}

    # keep_mix fills each group in the same priority, boundary included
    m, d2, _ = _run(inp, tmp_path, MergeConfig(**base, boundary_share=0.1, keep_mix=True), boundary=True)
    assert sum(m["parts"].values()) == 40 and m["parts"]["boundary"] >= 1
    assert set(d2.filter(pl.col("part") == "boundary")["sample_id"]) <= set(ids[30:34])

    # the part stays out when the switch is off, even with pass rates
    m, d2, events = _run(inp, tmp_path, MergeConfig(**base, boundary_share=0.25))
    assert "boundary" not in m["parts"] and "boundary" not in set(d2["part"])
    assert "boundary" not in set(events["event"])


def test_boundary_needs_a_sampling_probe(pool, tmp_path):
    from looptool.config import ConfigError

    inp, _ = _iteration(pool, tmp_path)
    with pytest.raises(
        ConfigError, match=r"loop.boundary: .*probe.parquet has no pass_rate.*probe.samples > 0"
    ):
        _run(inp, tmp_path, boundary=True)
    with pytest.raises(ValueError, match="boundary_share"):
        MergeConfig(boundary_share=1.5)
    assert LoopConfig().boundary is False and MergeConfig().boundary_share == 0.25


def test_boundary_off_leaves_the_merge_unchanged(pool, tmp_path):
    """loop.boundary=false (the default): the same D_{j+1} rows, parts, pool ids and metrics as the paper's
    merge, with or without pass rates in the probe; pass rates only add meta.pass_rate to rows from D_j."""
    inp, _ = _iteration(pool, tmp_path)
    cfg = MergeConfig(dataset_size=40, hppl_rule="top_k", hppl_value=3)
    files = [
        tmp_path / "iter_2" / "train.parquet",
        tmp_path / "iter_2" / "pool_used.parquet",
        tmp_path / "iter_1" / "events.parquet",
    ]
    m0, d0, e0 = _run(inp, tmp_path, cfg)
    before = [f.read_bytes() for f in files]
    m1, _, _ = _run(inp, tmp_path, cfg, boundary=False)
    assert [f.read_bytes() for f in files] == before  # explicit false == default, byte for byte
    assert set(m0["parts"]) == {"seed_new", "error_seed", "expansion", "high_ppl"}
    assert "boundary" not in m0["available"] and "boundary" not in set(e0["event"])
    _rated(inp)
    m2, d2, e2 = _run(inp, tmp_path, cfg)
    assert files[1].read_bytes() == before[1]
    drop = lambda m: {k: v for k, v in m.items() if k != "wall_s"}  # noqa: E731
    assert drop(m2) == drop(m0) == drop(m1)

    def unrated(meta: str) -> dict:
        return {k: v for k, v in json.loads(meta).items() if k != "pass_rate"}

    assert d2.drop("meta").equals(d0.drop("meta"))
    assert [unrated(x) for x in d2["meta"]] == [json.loads(x) for x in d0["meta"]]
    assert Counter(e2["event"]) == Counter(e0["event"])
