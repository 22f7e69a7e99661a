"""bench/judge_audit.py: its figures against the noise truth, and docs/efficacy/JUDGE_AUDIT.md = its rendering."""

import importlib.util
import json
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("judge_audit", ROOT / "bench/judge_audit.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CLEAN = [{"name": "f", "arguments": {"x": 1}}]
NOISY = [{"name": "f", "arguments": {"x": 2}}]


def _vote(pos, verdict, error=None):
    return {"pred_position": pos, "verdict": verdict, "analysis": "", "error": error}


def test_figures_count_against_the_truth(tmp_path):
    ja = _bench()
    # n1..n3 noisy (clean label CLEAN), c1..c3 clean; all six failed the probe
    truth = pl.DataFrame(
        {"sample_id": ["n1", "n2", "n3"], "clean_label": [json.dumps(CLEAN)] * 3, "kind": ["wrong_value"] * 3}
    )
    rows = [
        # right correction, exact clean label; the judge agreed in both candidate orders
        ("n1", "LABEL_WRONG", CLEAN, [_vote(1, "LABEL_WRONG"), _vote(2, "LABEL_WRONG")]),
        # right row, wrong new label (not exact)
        ("n2", "LABEL_WRONG", [{"name": "g", "arguments": {}}], []),
        # judge abstained: one unreadable vote, one order-dependent pair
        ("n3", "ABSTAIN", None, [_vote(1, None, "no JSON object with a verdict"), _vote(2, "PRED_WRONG")]),
        # false correction on a clean row; the two orders disagree
        (
            "c1",
            "LABEL_WRONG",
            NOISY,
            [_vote(1, "LABEL_WRONG"), _vote(2, "PRED_WRONG"), _vote(1, "LABEL_WRONG")],
        ),
        ("c2", "PRED_WRONG", None, []),
        ("c3", "PRED_WRONG", None, []),
    ]
    v = pl.DataFrame(
        {
            "sample_id": [r[0] for r in rows],
            "verdict": [r[1] for r in rows],
            "decided_by": ["llm"] * 6,
            "new_label": [json.dumps(r[2]) if r[2] is not None else None for r in rows],
            "votes": [json.dumps(r[3]) for r in rows],
        }
    )
    v.write_parquet(tmp_path / "v.parquet")
    truth.write_parquet(tmp_path / "t.parquet")
    ids = ["n1", "n2", "n3", "c1", "c2", "c3", "c4"]
    pl.DataFrame(
        {
            "sample_id": ids,
            "label": [json.dumps(NOISY if i[0] == "n" else CLEAN) for i in ids],
            "tools": ["[]"] * 7,
        }
    ).write_parquet(tmp_path / "a.parquet")
    f = ja._figures(tmp_path / "v.parquet", tmp_path / "t.parquet", tmp_path / "a.parquet")
    assert (f["failed"], f["failed_noisy"], f["failed_clean"], f["judged"]) == (6, 3, 3, 3)
    assert (f["precision"]["k"], f["precision"]["n"]) == (2, 3)
    assert (f["recall"]["k"], f["recall"]["n"]) == (2, 3)
    assert (f["exact_recovery"]["k"], f["exact_precision"]["n"]) == (1, 3)
    assert (f["false_correction_rate"]["k"], f["false_correction_rate"]["n"]) == (1, 3)
    assert (f["judge_abstained"]["k"], f["judge_abstained"]["n"]) == (1, 3)
    assert (f["votes_cast"], f["votes_unreadable"]) == (7, 1)
    assert (f["order_dependent"]["k"], f["order_dependent"]["n"]) == (1, 2)  # n3 has no readable order-1 vote
    # after verification: n1 clean again, n2 relabeled wrongly, n3 still noisy; c1 corrupted, c2-c4 right
    assert (f["noisy_still_wrong"]["k"], f["noisy_still_wrong"]["n"]) == (2, 3)
    assert (f["purity"]["k"], f["purity"]["n"]) == (4, 7)
    run = {
        "command": "python bench/judge_audit.py ...",
        "audit_rows": {"noisy": 3, "clean": 4},
        "limit": None,
        "student": "models/iter_0",
        "judge_temperature_when_votes_gt_1": 0.7,
        "judge_max_new_tokens": 512,
        "probe": {"wall_s": 1.0, "cpu_s": 1.0},
        "cpu_s": 3.0,
        "settings": {"x": {**f, "cpu_s": 2.04}},
    }
    md = ja.render([run])
    assert "| x | 6 (3 / 3) | 3 | 0.333 (1/3) [0.061, 0.792] | 3 | 0.667 (2/3) [0.208, 0.939] |" in md
    assert "whose verdict changes with the order: 0.500 (1/2)" in md


def test_judge_audit_md_is_the_rendering_of_the_committed_json():
    """JUDGE_AUDIT.md exists exactly when audit results are committed, and is their rendering."""
    ja = _bench()
    files = sorted((ROOT / "docs/efficacy").glob("judge_audit*.json"))
    md = ROOT / "docs/efficacy/JUDGE_AUDIT.md"
    assert md.exists() == bool(files)
    if files:
        assert md.read_text() == ja.render([json.loads(f.read_text()) for f in files])


TOOLS = [
    {
        "name": "f",
        "description": "",
        "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
    }
]


def _sim_inputs(tmp_path, n_clean=3):
    """n1: noisy, prediction = clean label; n2: noisy, prediction wrong too; c*: clean rows the student failed."""
    other = [{"name": "f", "arguments": {"x": 3}}]
    rows = [("n1", NOISY, CLEAN), ("n2", NOISY, other)] + [(f"c{i}", CLEAN, other) for i in range(n_clean)]
    msgs = json.dumps([{"role": "user", "content": "call f with x 1, 2 or 3"}])
    pl.DataFrame(
        {
            "sample_id": [r[0] for r in rows],
            "label": [json.dumps(r[1]) for r in rows],
            "tools": [json.dumps(TOOLS)] * len(rows),
            "messages": [msgs] * len(rows),
        }
    ).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame(
        {
            "sample_id": [r[0] for r in rows],
            "calls": [json.dumps(r[2]) for r in rows],
            "parse_error": [None] * len(rows),
            "mastered": [False] * len(rows),
            "error": [None] * len(rows),
        },
        schema_overrides={"parse_error": pl.String, "error": pl.String},
    ).write_parquet(tmp_path / "p.parquet")
    pl.DataFrame({"sample_id": ["n1", "n2"], "clean_label": [json.dumps(CLEAN)] * 2}).write_parquet(
        tmp_path / "t.parquet"
    )
    return tmp_path / "a.parquet", tmp_path / "p.parquet", tmp_path / "t.parquet"


def test_simulated_judge_is_the_truth_at_accuracy_one_and_never_at_zero(tmp_path):
    ja = _bench()
    a, p, t = _sim_inputs(tmp_path)
    right = {r["sample_id"]: r["verdict"] for r in ja.simulated_verdicts(a, p, t, 1.0, seed=0)}
    assert right == {
        "n1": "LABEL_WRONG",
        "n2": "BOTH_WRONG",
        "c0": "PRED_WRONG",
        "c1": "PRED_WRONG",
        "c2": "PRED_WRONG",
    }
    f = ja._figures(ja.simulated_verdicts(a, p, t, 1.0, seed=0), t, a)
    assert (f["precision"]["k"], f["precision"]["n"], f["false_correction_rate"]["k"]) == (1, 1, 0)
    assert (f["noisy_still_wrong"]["k"], f["purity"]["k"], f["purity"]["n"]) == (1, 4, 5)
    wrong = ja.simulated_verdicts(a, p, t, 0.0, seed=0)
    assert all(r["verdict"] != right[r["sample_id"]] for r in wrong)


def test_simulated_judge_errs_uniformly_at_the_given_rate(tmp_path):
    ja = _bench()
    a, p, t = _sim_inputs(tmp_path, n_clean=600)
    rows = ja.simulated_verdicts(a, p, t, 0.6, seed=1)
    assert rows == ja.simulated_verdicts(a, p, t, 0.6, seed=1)  # seeded
    said = [r["verdict"] for r in rows if r["sample_id"].startswith("c")]
    assert 0.54 < said.count("PRED_WRONG") / 600 < 0.66
    for other in (
        "LABEL_WRONG",
        "BOTH_CORRECT",
        "BOTH_WRONG",
    ):  # the errors split evenly over the other three
        assert 0.09 < said.count(other) / 600 < 0.18
