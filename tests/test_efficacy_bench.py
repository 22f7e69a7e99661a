"""bench/efficacy.py and bench/train_gain.py: held-out figures split into call rows (primary) and no-call rows,
each with n and a 95% interval, from the same code as the evaluate stage."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import click
import pytest

from looptool import storage
from looptool.schema import SAMPLE, frame, make_sample_id

ROOT = Path(__file__).resolve().parents[1]
TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    }
]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _samples() -> list[dict]:
    """4 call rows and 2 no-call rows."""
    rows = []
    for i in range(6):
        label = [{"name": "get_weather", "arguments": {"city": f"c{i}", "days": i}}] if i < 4 else []
        messages = [{"role": "user", "content": f"question {i}"}]
        rows.append(
            {
                "sample_id": make_sample_id(TOOLS, messages),
                "tools": TOOLS,
                "messages": messages,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {"pattern": "single" if label else "irrelevant"},
            }
        )
    return rows


def _call(city: str, days: int) -> str:
    return (
        f'<tool_call>{{"name": "get_weather", "arguments": {{"city": "{city}", "days": {days}}}}}</tool_call>'
    )


def test_train_gain_score_splits_by_kind_and_a_never_call_model_scores_the_no_call_share():
    g = _load("train_gain")
    samples = _samples()
    never = g.score(samples, ["I will not call."] * 6)
    assert abs(never["toolmatch"] - 2 / 6) < 1e-9 and never["by_kind"]["never_call"]["accuracy"] == 0.3333
    assert never["toolmatch_calls"] == 0.0 and never["toolmatch_text"] == 1.0
    call = never["by_kind"]["call_rows"]
    assert (call["n"], call["names"]["correct"], call["arg_f1"]["mean"]) == (4, 0, 0.0)
    # right, wrong value, wrong function name, no call on the call rows; a call on a no-call row
    outs = [_call("c0", 0), _call("c1", 9), _call("c2", 2).replace("get_weather", "weather"), "no", "no"]
    outs.append(_call("c5", 5))
    fig = g.score(samples, outs)
    call = fig["by_kind"]["call_rows"]
    assert (call["correct"], call["n"], call["names"]["correct"]) == (1, 4, 2)
    assert call["arg_f1"]["mean"] == 0.375  # (1 + 0.5 + 0 + 0) / 4
    assert (fig["by_kind"]["no_call_rows"]["correct"], fig["by_kind"]["no_call_rows"]["n"]) == (1, 2)
    assert fig["right_functions"] == 3 / 6  # two call rows and the no-call row answered in text


def test_efficacy_figures_from_results_files(tmp_path):
    from looptool.evaluate import EVAL_RESULT
    from looptool.stats import wilson

    e = _load("efficacy")
    samples = _samples()
    held = tmp_path / "heldout.parquet"
    storage.write_parquet(frame(samples, SAMPLE), held, SAMPLE)
    answers = {
        "warmup": ["no"] * 6,  # never calls
        "loop": [_call("c0", 0), _call("c1", 1), _call("c2", 0), "no", "no", "no"],
    }
    rows = {}
    for name, texts in answers.items():
        from looptool.calls import parse

        res = []
        for s, t in zip(samples, texts, strict=True):
            p = parse(t)
            res.append(
                {"benchmark": "heldout", "category": "heldout", "id": s["sample_id"], "prediction": t,
                 "calls": json.dumps(p.label()), "parse_error": None, "valid": False, "error_type": None,
                 "error": None, "n_tokens": 1, "backend_error": None}
            )  # fmt: skip
        from looptool.match import tool_match

        for r, s in zip(res, samples, strict=True):
            r["valid"] = tool_match(json.loads(r["calls"]), s["label"], s["tools"])
        path = tmp_path / f"{name}.parquet"
        storage.write_parquet(frame(res, EVAL_RESULT), path, EVAL_RESULT)
        rows[name] = e._eval_rows(path, held)
    warm, loop = e._figure(rows["warmup"]), e._figure(rows["loop"])
    assert warm["accuracy"] == round(2 / 6, 4) == warm["by_kind"]["never_call"]["accuracy"]
    assert warm["by_kind"]["call_rows"]["accuracy"] == 0.0
    lc = loop["by_kind"]["call_rows"]
    assert (lc["correct"], lc["n"], lc["ci95"], lc["names"]["correct"]) == (2, 4, list(wilson(2, 4)), 3)
    assert lc["arg_f1"]["mean"] == 0.625  # (1 + 1 + 0.5 + 0) / 4
    # paired differences split the same way: the loop's gain is all on call rows
    call_ids = {i for i, r in rows["loop"].items() if r["call_row"]}
    cmp = {}
    score = {k: {i: r["correct"] for i, r in v.items()} for k, v in rows.items()}
    e._paired_by_kind(cmp, "loop-warmup", score["loop"], score["warmup"], call_ids)
    assert cmp["loop-warmup/call_rows"]["diff"] == 0.5 and cmp["loop-warmup/call_rows"]["n"] == 4
    assert cmp["loop-warmup/no_call_rows"]["diff"] == 0.0 and cmp["loop-warmup/no_call_rows"]["n"] == 2

    class _Stages:
        timings: list = []

    e._save(tmp_path, {"models": {"warmup": warm, "loop/seed0/iter_1": loop}, "comparisons": cmp}, _Stages())
    md = (tmp_path / "results.md").read_text()
    assert "| loop/seed0/iter_1 | test | 0.500 [0.150, 0.850] 2/4 | 0.750 [" in md
    assert "| warmup | test | 0.000 [0.000, 0.490] 0/4 |" in md and "| 0.3333 |" in md
    assert (
        json.loads((tmp_path / "results.json").read_text())["models"]["warmup"]["by_kind"]["no_call_rows"][
            "n"
        ]
        == 2
    )


def _samples_csv(path, table):
    """table: model -> list of (sample_id, call_row, correct)."""
    lines = ["model,split,sample_id,call_row,correct,names,arg_f1"]
    for model, rows in table.items():
        lines += [f"{model},test,{sid},{int(c)},{int(k)},," for sid, c, k in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_study_analysis_two_level_and_aa_floor(tmp_path):
    """bench/efficacy_analysis.py re-derives loop - static (per seed and two-level), the A/A floor from static
    pairs and each arm - warm-up from samples.csv, on call rows and no-call rows apart."""
    a = _load("efficacy_analysis")
    ids = [(f"c{i}", True) for i in range(6)] + [(f"n{i}", False) for i in range(4)]
    loop = {0: "1111000000", 1: "1110000000", 2: "1111100000"}  # call rows c0..c5 first, then no-call
    static = {0: "1000001111", 1: "1100001111", 2: "1000001111"}
    table = {"warmup": [(s, c, 0) for s, c in ids]}
    for seed in range(3):
        table[f"loop/seed{seed}/iter_2"] = [
            (s, c, b == "1") for (s, c), b in zip(ids, loop[seed], strict=True)
        ]
        table[f"static/seed{seed}/iter_2"] = [
            (s, c, b == "1") for (s, c), b in zip(ids, static[seed], strict=True)
        ]
        table[f"loop/seed{seed}/iter_1"] = [(s, c, 0) for s, c in ids]  # an earlier iteration: not compared
    r = a.analyze(a.read_samples(_samples_csv(tmp_path / "samples.csv", table)))
    assert r["iteration"] == 2 and r["seeds_both_arms"] == [0, 1, 2]
    call, no_call = r["call_rows"], r["no_call_rows"]
    assert call["n_rows"] == 6 and no_call["n_rows"] == 4
    assert call["loop-static"]["per_seed"] == [0.5, 0.1667, 0.6667]
    assert call["loop-static"]["diff"] == 0.4444 and call["loop-static"]["ci95"][0] > 0
    assert no_call["loop-static"]["diff"] == -1.0  # the loop lost every no-call row: apart, not averaged away
    assert call["aa_static"]["pairs"] == ["seed0-seed1", "seed0-seed2", "seed1-seed2"]
    assert call["aa_static"]["per_seed"] == [-0.1667, 0.0, 0.1667]
    assert call["loop-warmup"]["diff"] == 0.6667 and call["static-warmup"]["diff"] == 0.2222
    md = a.to_markdown(r)
    assert "| call rows | 6 | +0.444" in md


def test_study_analysis_names_the_bad_row(tmp_path):
    a = _load("efficacy_analysis")
    p = tmp_path / "samples.csv"
    p.write_text("model,split,sample_id,call_row,correct,names,arg_f1\nwarmup,test,a,yes,1,,\n")
    with pytest.raises(click.ClickException, match=r"samples.csv:2: bad row"):
        a.read_samples(p)


def test_study_mechanisms_pooled_over_seeds():
    a = _load("efficacy_analysis")

    def mech(exp, rnd, seed):
        return {
            "targeting": {"expansion": {"k": exp, "n": 10}, "random": {"k": rnd, "n": 10}},
            "fidelity": {"overall": {"expansion": {"k": exp, "n": 10}, "seed": {"k": seed, "n": 8}}},
            "purity": {"d_j": {"k": 2, "n": 4}, "d_next": {"k": 1, "n": 3}},
        }

    static = mech(0, 9, 0)
    static["targeting"]["expansion"] = {"k": 0, "n": 0}
    static["fidelity"]["overall"] = {"expansion": {"k": 0, "n": 0}, "seed": {"k": 0, "n": 0}}
    results = {
        "models": {
            "loop/seed0/iter_1": {"mechanisms": mech(6, 9, 8)},
            "loop/seed1/iter_1": {"mechanisms": mech(7, 10, 7)},
            "static/seed0/iter_1": {"mechanisms": static},  # no expansions: "-", not "0/0"
            "loop/seed1/iter_2": {},  # the last iteration has no mechanisms
            "warmup": {"mechanisms": mech(0, 0, 0)},  # not a run: left out
        }
    }
    m = a.mechanisms(results)
    assert sorted(m["per_run"]) == ["loop/seed0/iter_1", "loop/seed1/iter_1", "static/seed0/iter_1"]
    assert "| static/seed0/iter_1 | - | 9/10 | - | - | 2/4 | 1/3 |" in a.mechanisms_markdown(m)
    pooled = m["pooled"]["loop/iter_1"]
    assert pooled["targeting: expansions fail"] == {
        "k": 13,
        "n": 20,
        "rate": 0.65,
        "ci95": pooled["targeting: expansions fail"]["ci95"],
    }
    assert (
        pooled["fidelity: their error seeds fail"]["k"] == 15
        and pooled["purity: noisy rows of D_j still wrong"]["n"] == 8
    )
    assert "| **loop/iter_1, pooled over seeds** | 0.650 [" in a.mechanisms_markdown(m)


def test_study_analysis_command_reads_results_of_several_sessions(tmp_path):
    """The command the docs give: samples.csv plus --results of two sessions' runs -> both tables, one JSON."""
    from click.testing import CliRunner

    a = _load("efficacy_analysis")
    ids = [("c0", True), ("n0", False)]
    table = {
        "warmup": [(s, c, 0) for s, c in ids],
        "loop/seed0/iter_2": [(s, c, 1) for s, c in ids],
        "static/seed0/iter_2": [(s, c, 0) for s, c in ids],
    }
    samples = _samples_csv(tmp_path / "samples.csv", table)
    fid = {"overall": {"expansion": {"k": 3, "n": 4}, "seed": {"k": 2, "n": 2}}}
    for i in (0, 1):
        (tmp_path / f"r{i}.json").write_text(
            json.dumps({"models": {f"loop/seed{i}/iter_1": {"mechanisms": {"fidelity": fid}}}})
        )
    out = tmp_path / "a.json"
    r = CliRunner().invoke(
        a.main,
        [
            str(samples),
            "--results",
            str(tmp_path / "r0.json"),
            "--results",
            str(tmp_path / "r1.json"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "| **loop/iter_1, pooled over seeds** |" in r.output and "6/8" in r.output
    assert sorted(json.loads(out.read_text())["mechanisms"]["per_run"]) == [
        "loop/seed0/iter_1",
        "loop/seed1/iter_1",
    ]
