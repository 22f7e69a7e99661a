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
