"""Mechanism figures (targeting, expansion fidelity, parts, label purity) on hand-built frames with exact k / n,
and stage mechanisms@j end to end on the tiny model."""

from __future__ import annotations

import importlib.util
import json

import polars as pl
import pytest

from looptool import storage
from looptool.mechanisms import (
    MECHANISMS,
    failures,
    fidelity,
    parts_failure,
    purity,
    random_draw,
    seed_failed,
    share,
    targeting,
)
from looptool.merge import USED
from looptool.schema import NOISE_TRUTH, PROBE, SAMPLE, TRAIN, VERDICT, frame, make_sample_id
from looptool.stats import newcombe

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def _call(city: str) -> list[dict]:
    return [{"name": "get_weather", "arguments": {"city": city}}]


def _row(
    i: int, pattern: str, *, call: bool = True, part: str = "seed_new", parent: str | None = None, tag="d"
):
    msgs = [{"role": "user", "content": f"Weather in {tag} city {i}?"}]
    return {
        "sample_id": make_sample_id(TOOLS, msgs),
        "tools": TOOLS,
        "messages": msgs,
        "label": _call(f"c{i}") if call else [],
        "origin": "expansion" if parent else "seed",
        "parent_id": parent,
        "iteration": 1 if parent else 0,
        "label_rev": 0,
        "meta": {"pattern": pattern},
        "part": part,
    }


def _probe(rows: list[dict], mastered: list[bool], errors: list[str | None] | None = None) -> pl.DataFrame:
    errors = errors or [None] * len(rows)
    return frame(
        [
            {
                "sample_id": r["sample_id"],
                "iteration": 1,
                "prediction": "x",
                "calls": r["label"] if m else [],
                "parse_error": None,
                "mastered": m,
                "ppl": 1.5,
                "n_tokens": 3,
                "error": e,
            }
            for r, m, e in zip(rows, mastered, errors, strict=True)
        ],
        PROBE,
    )


def _verdicts(rows: list[dict], verdicts: list[str], new_labels: list) -> pl.DataFrame:
    return frame(
        [
            {
                "sample_id": r["sample_id"],
                "iteration": 1,
                "verdict": v,
                "decided_by": "rule",
                "rationale": "",
                "old_label": r["label"],
                "new_label": n,
                "votes": [],
            }
            for r, v, n in zip(rows, verdicts, new_labels, strict=True)
        ],
        VERDICT,
    )


def test_share_and_failures_leave_unanswered_rows_out():
    assert share(0, 0) == {"rate": None, "k": 0, "n": 0, "ci95": [0.0, 1.0]}
    rows = [_row(i, "single") for i in range(5)]
    p = _probe(rows, [True, False, False, True, False], [None, None, "timeout", None, None])
    assert failures(p) == share(2, 4)


def test_parts_failure_counts_each_part_of_d_j():
    rows = [
        *[_row(i, "single", part="error_seed") for i in range(3)],
        *[_row(i, "single", part="seed_new") for i in range(3, 7)],
        _row(7, "single", part="high_ppl"),
    ]
    data = frame(rows, TRAIN)
    p = _probe(rows, [False, False, True, True, False, False, False, True])
    got = parts_failure(data, p)
    assert set(got) == {"error_seed", "seed_new", "high_ppl"}  # no expansions in this D_j: no figure
    assert (got["error_seed"]["k"], got["error_seed"]["n"]) == (2, 3)
    assert (got["seed_new"]["k"], got["seed_new"]["n"]) == (3, 4)
    assert (got["high_ppl"]["k"], got["high_ppl"]["n"]) == (0, 1)


def test_random_draw_matches_the_pattern_mix_and_skips_used_rows():
    pool_rows = [_row(i, "single", tag="p") for i in range(6)] + [
        _row(i, "parallel", tag="p") for i in range(6, 9)
    ]
    pool = frame(pool_rows, SAMPLE)
    used = {pool_rows[0]["sample_id"], pool_rows[6]["sample_id"]}
    draw, short = random_draw(pool, used, {"single": 3, "parallel": 4}, "s:1")
    pats = [json.loads(m)["pattern"] for m in draw["meta"]]
    assert pats.count("single") == 3 and pats.count("parallel") == 2  # only 2 unused parallel rows
    assert short == {"parallel": 2}
    assert not used & set(draw["sample_id"])
    again, _ = random_draw(pool.reverse(), used, {"single": 3, "parallel": 4}, "s:1")
    assert sorted(again["sample_id"]) == sorted(draw["sample_id"])  # independent of file order
    other, _ = random_draw(pool, used, {"single": 3}, "s:2")
    assert other.height == 3
    assert draw.columns == SAMPLE.names


def _scored(groups: dict[str, list[bool]]) -> pl.DataFrame:
    rows, i = [], 0
    for g, mastered in groups.items():
        for m in mastered:
            rows.append({**_probe([_row(i, "single", tag=g)], [m]).row(0, named=True), "group": g})
            i += 1
    return pl.DataFrame(rows, schema=MECHANISMS.polars)


def test_targeting_against_the_random_draw():
    s = _scored(
        {
            "expansion": [False, False, False, True],  # 3 of 4 fail
            "seed_new": [True, False],  # 1 of 2
            "random": [True, True, True, True, False, True],  # 1 of 6
        }
    )
    t = targeting(s)
    assert (t["expansion"]["k"], t["expansion"]["n"]) == (3, 4)
    assert (t["seed_new"]["k"], t["seed_new"]["n"]) == (1, 2)
    assert (t["targeted"]["k"], t["targeted"]["n"]) == (4, 6)
    assert (t["random"]["k"], t["random"]["n"]) == (1, 6)
    assert t["targeted_minus_random"] == newcombe(4, 6, 1, 6)
    assert t["targeted_minus_random"]["diff"] == 0.5
    assert t["expansion_minus_random"] == newcombe(3, 4, 1, 6)


def test_seed_failure_uses_the_label_after_jglv():
    rows = [_row(i, "single", part="seed_new") for i in range(3)]
    data = frame(rows, TRAIN)
    p = _probe(rows, [False, False, False])  # answered without a call each time
    # seed 0: PRED_WRONG; seed 1: LABEL_WRONG, the prediction ([]) is the new label; seed 2: not judged
    v = _verdicts(rows[:2], ["PRED_WRONG", "LABEL_WRONG"], [None, []])
    got = seed_failed(data, p, v)
    assert got == {rows[0]["sample_id"]: True, rows[1]["sample_id"]: False, rows[2]["sample_id"]: True}


def test_fidelity_pairs_each_expansion_with_its_seed():
    seeds = [_row(0, "single"), _row(1, "single"), _row(2, "parallel")]
    data = frame(seeds, TRAIN)
    failed = {seeds[0]["sample_id"]: True, seeds[1]["sample_id"]: False, seeds[2]["sample_id"]: True}
    exp = [
        _row(10, "single", part="expansion", parent=seeds[0]["sample_id"], tag="e"),  # fails
        _row(11, "single", part="expansion", parent=seeds[0]["sample_id"], tag="e"),  # mastered
        _row(12, "single", part="expansion", parent=seeds[1]["sample_id"], tag="e"),  # fails
        _row(13, "parallel", part="expansion", parent=seeds[2]["sample_id"], tag="e"),  # mastered
        _row(14, "parallel", part="expansion", parent="unknown-parent", tag="e"),
    ]
    expansions = frame(exp, TRAIN)
    scored = _probe(exp, [False, True, False, True, False])
    f = fidelity(expansions, scored, failed, data)
    o = f["overall"]
    assert (o["expansion"]["k"], o["expansion"]["n"]) == (2, 4)
    assert (o["seed"]["k"], o["seed"]["n"]) == (2, 3)
    # pairs (expansion, seed): (1,1) (0,1) (1,0) (0,1) -> mean difference -0.25
    assert o["expansion_minus_seed"]["diff"] == -0.25 and o["expansion_minus_seed"]["n"] == 4
    single, par = f["by_pattern"]["single"], f["by_pattern"]["parallel"]
    assert (single["expansion"]["k"], single["expansion"]["n"], single["seed"]["k"], single["seed"]["n"]) == (
        2,
        3,
        1,
        2,
    )
    assert (par["expansion"]["k"], par["expansion"]["n"], par["seed"]["k"], par["seed"]["n"]) == (0, 1, 1, 1)
    assert par["expansion_minus_seed"]["diff"] == -1.0
    assert f["unpaired"] == 1


def test_purity_counts_noisy_rows_whose_label_is_still_wrong():
    rows = [_row(i, "single") for i in range(4)]
    rows[1]["label"] = _call("wrong1")  # still the noisy label
    rows[2]["label"] = _call("c2")  # corrected back to the clean one
    rows[3]["label"] = _call("other")  # relabeled, but not to the clean label
    truth = frame(
        [
            {"sample_id": rows[i]["sample_id"], "clean_label": _call(f"c{i}"), "noisy_label": _call(f"wrong{i}"),
             "kind": "wrong_value"}
            for i in (1, 2, 3)
        ]
        + [{"sample_id": "not-in-d", "clean_label": [], "noisy_label": [], "kind": "wrong_value"}],
        NOISE_TRUTH,
    )  # fmt: skip
    got = purity(frame(rows, TRAIN), truth)
    assert (got["k"], got["n"]) == (2, 3)
    assert purity(frame(rows, TRAIN), truth.head(0)) == share(0, 0)


def _stage():
    spec = importlib.util.spec_from_file_location("mechanisms_stage", "stages/mechanisms.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


@pytest.fixture
def loop_files(tmp_path):
    """D_1 (probed, judged), D_2 (ES + EE + Seed-new), the pool with its used ids, the noise truth."""
    d1 = [_row(i, "single" if i % 2 == 0 else "irrelevant", call=i % 2 == 0) for i in range(6)]
    # the random model never calls: probe@1 masters exactly the no-call rows
    probed = _probe(d1, [i % 2 == 1 for i in range(6)])
    v = _verdicts([d1[0], d1[2], d1[4]], ["PRED_WRONG", "PRED_WRONG", "LABEL_WRONG"], [None, None, []])
    exp = [
        _row(20, "single", part="expansion", parent=d1[0]["sample_id"], tag="e"),
        _row(21, "single", part="expansion", parent=d1[0]["sample_id"], tag="e"),
        _row(22, "single", part="expansion", parent=d1[2]["sample_id"], tag="e"),
    ]
    pool = [_row(i, "single", tag="p") for i in range(40, 50)] + [
        _row(i, "irrelevant", call=False, tag="p") for i in range(50, 60)
    ]
    fresh = [{**pool[0], "part": "seed_new"}, {**pool[10], "part": "seed_new"}]
    d2 = [{**d1[0], "part": "error_seed"}, {**d1[2], "part": "error_seed"}, *exp, *fresh]
    d2[0]["label"] = _call("wrong0")  # a noisy label JGLV did not fix
    truth = frame(
        [{"sample_id": d1[0]["sample_id"], "clean_label": _call("c0"), "noisy_label": _call("wrong0"),
          "kind": "wrong_value"}],
        NOISE_TRUTH,
    )  # fmt: skip
    d1[0]["label"] = _call("wrong0")
    probed = _probe(d1, [i % 2 == 1 for i in range(6)])
    used = frame([{"sample_id": r["sample_id"]} for r in pool[:1] + pool[10:11]], USED)
    paths = {
        "data": storage.write_parquet(frame(d1, TRAIN), tmp_path / "d1.parquet", TRAIN),
        "probe": storage.write_parquet(probed, tmp_path / "probe.parquet", PROBE),
        "verdicts": storage.write_parquet(v, tmp_path / "verdicts.parquet", VERDICT),
        "next-data": storage.write_parquet(frame(d2, TRAIN), tmp_path / "d2.parquet", TRAIN),
        "next-used": storage.write_parquet(used, tmp_path / "used2.parquet", USED),
        "pool": storage.write_parquet(frame(pool, SAMPLE), tmp_path / "pool.parquet", SAMPLE),
        "noise-truth": storage.write_parquet(truth, tmp_path / "truth.parquet", NOISE_TRUTH),
    }
    return paths, {"pool": pool}


def test_mechanisms_stage_end_to_end(tiny_model_dir, tmp_path, monkeypatch, loop_files):
    from click.testing import CliRunner

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    paths, extra = loop_files
    params = tmp_path / "params.yaml"
    params.write_text(
        "backends: {student: {backend: transformers, batch_size: 4}}\nprobe: {max_new_tokens: 4}\n"
        'seed: {random_seed: 3}\niterations: {"1": {prev: "0", next: "2"}}\n'
    )
    args = ["--params", str(params), "--iteration", "1", "--model", str(tiny_model_dir)]
    for k, p in paths.items():
        args += [f"--{k}", str(p)]
    out, metrics = tmp_path / "mech.parquet", tmp_path / "m.json"
    args += ["--out", str(out), "--metrics", str(metrics)]
    res = CliRunner().invoke(_stage(), args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    m = json.loads(metrics.read_text())
    t = m["targeting"]
    # the random model answers in text: every call row fails, every no-call row is mastered
    assert (t["expansion"]["k"], t["expansion"]["n"]) == (3, 3)
    assert (t["seed_new"]["k"], t["seed_new"]["n"]) == (1, 2)  # one single (call), one irrelevant (no call)
    assert (t["targeted"]["k"], t["targeted"]["n"]) == (4, 5)
    # same size and pattern mix: 4 single rows (all fail), 1 irrelevant row (mastered), none of the used ids
    assert (t["random"]["k"], t["random"]["n"]) == (4, 5)
    assert m["random_draw"] == {"asked": 5, "drawn": 5, "pool_short": {}}
    scored = storage.read_parquet(out, MECHANISMS)
    drawn = set(scored.filter(pl.col("group") == "random")["sample_id"])
    assert not drawn & {extra["pool"][0]["sample_id"], extra["pool"][10]["sample_id"]}
    f = m["fidelity"]["overall"]
    assert (f["expansion"]["k"], f["expansion"]["n"]) == (3, 3)
    assert (f["seed"]["k"], f["seed"]["n"]) == (2, 2)  # both PRED_WRONG seeds fail their label
    assert f["expansion_minus_seed"]["diff"] == 0.0
    parts = m["parts"]
    assert (parts["seed_new"]["k"], parts["seed_new"]["n"]) == (3, 6)
    assert (m["purity"]["d_j"]["k"], m["purity"]["d_j"]["n"]) == (1, 1)
    assert (m["purity"]["d_next"]["k"], m["purity"]["d_next"]["n"]) == (1, 1)
    assert "mechanisms@1" in res.output
    # a re-run answers from the call cache and writes the same rows
    res = CliRunner().invoke(_stage(), args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert storage.read_parquet(out, MECHANISMS).equals(scored)
    assert json.loads(metrics.read_text())["cache"] == {"hits": 10, "misses": 0, "errors": 0}


def test_mechanisms_stage_rejects_a_bad_seed(tiny_model_dir, tmp_path, loop_files):
    from click.testing import CliRunner

    paths, _ = loop_files
    params = tmp_path / "params.yaml"
    params.write_text('seed: {random_seed: "x"}\niterations: {"1": {prev: "0", next: "2"}}\n')
    args = ["--params", str(params), "--iteration", "1", "--model", str(tiny_model_dir)]
    for k, p in paths.items():
        args += [f"--{k}", str(p)]
    args += ["--out", str(tmp_path / "o.parquet"), "--metrics", str(tmp_path / "m.json")]
    res = CliRunner().invoke(_stage(), args)
    assert res.exit_code != 0
    assert "seed.random_seed" in str(res.exception) + res.output
    assert not (tmp_path / "o.parquet").exists()


def test_run_mechanisms_refuses_a_probe_limit(loop_files, tmp_path):
    from looptool.config import ConfigError
    from looptool.mechanisms import MechanismsInputs, run_mechanisms
    from looptool.probe import ProbeConfig

    paths, _ = loop_files
    inputs = MechanismsInputs(*(paths[k] for k in ("data", "probe", "verdicts", "next-data", "next-used", "pool",
                                                    "noise-truth")))  # fmt: skip
    with pytest.raises(ConfigError, match="probe.limit"):
        run_mechanisms(
            inputs=inputs, out=tmp_path / "o.parquet", cfg=ProbeConfig(limit=2), iteration=1, random_seed=0,
            backend=None,
        )  # fmt: skip
    assert not (tmp_path / "o.parquet").exists()
