"""bench/grpo_gain.py: the evaluation rows (fixed, disjoint from evaluate's default subset, balanced) and the
report's paired figures."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("grpo_gain", ROOT / "bench/grpo_gain.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _heldout(path: Path, per_pattern: int = 8, reverse: bool = False) -> Path:
    from looptool import storage
    from looptool.schema import SAMPLE, frame, make_sample_id

    tools = [{"name": "f", "description": "F.", "parameters": {"type": "object", "properties": {}}}]
    rows = []
    for pattern in ("single", "parallel", "irrelevant"):
        for i in range(per_pattern):
            messages = [{"role": "user", "content": f"{pattern} question {i}"}]
            rows.append(
                {
                    "sample_id": make_sample_id(tools, messages),
                    "tools": tools,
                    "messages": messages,
                    "label": [],
                    "origin": "seed",
                    "parent_id": None,
                    "iteration": 0,
                    "label_rev": 0,
                    "meta": {"pattern": pattern},
                }
            )
    if reverse:
        rows.reverse()
    storage.write_parquet(frame(rows, SAMPLE), path, SAMPLE)
    return path


def test_rows_are_fixed_balanced_and_outside_the_default_subset(tmp_path):
    from looptool.evaluate import heldout

    g = _bench()
    path = _heldout(tmp_path / "h.parquet")
    rows = g.select_rows(path, per_pattern=3, exclude_limit=6)
    ids = [r["sample_id"] for r in rows]
    assert len(ids) == 9 and len(set(ids)) == 9
    assert sorted(r["pattern"] for r in rows) == ["irrelevant"] * 3 + ["parallel"] * 3 + ["single"] * 3
    assert not set(ids) & set(heldout.load(path, 6)["sample_id"])
    # the file's row order does not matter
    other = _heldout(tmp_path / "r.parquet", reverse=True)
    assert [r["sample_id"] for r in g.select_rows(other, 3, 6)] == ids
    # a pattern with fewer rows left than asked gives what it has
    assert len(g.select_rows(path, per_pattern=7, exclude_limit=6)) == 18


def test_report_pairs_rows_by_id_and_lists_points_not_reached(tmp_path):
    from click.testing import CliRunner

    g = _bench()
    ids = [f"s{i}" for i in range(10)]
    base = [i < 3 for i in range(10)]
    step4 = [i < 3 or i in (5, 6, 7, 8) for i in range(10)]  # 4 gained, none lost
    for step, hits in ((0, base), (4, list(reversed(step4)))):
        order = ids if step == 0 else list(reversed(ids))  # the same rows in another order
        rows = [
            {
                "sample_id": s,
                "pattern": "irrelevant" if s in ("s7", "s8") else "single",
                "correct": h,
                "text": "",
            }
            for s, h in zip(order, hits)
        ]
        fig = {"correct": sum(hits), "n": 10, "wall_s": 1.0, "cpu_s": 1.0, "rows": rows}
        (tmp_path / f"eval_step_{step}.json").write_text(json.dumps(fig))
    (tmp_path / "series.jsonl").write_text(
        "\n".join(
            json.dumps({"step": s, "reward": 0.25, "zero_std_frac": 0.5, "step_time": 1.0})
            for s in (1, 2, 3, 4, 5)
        )
    )
    out = tmp_path / "r.json"
    res = CliRunner().invoke(g.cli, ["report", "--work", str(tmp_path), "--grid", "4,8", "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = {r["step"]: r for r in json.loads(out.read_text())["table"]}
    d = table[4]["vs_step0"]
    assert (d["diff"], d["a_only"], d["b_only"], d["n"]) == (0.4, 4, 0, 10)
    assert d["ci95"][0] > 0
    # the same difference split by the kind of answer (s7, s8: no-call rows, both gained)
    call, no_call = table[4]["vs_step0_call"], table[4]["vs_step0_no_call"]
    assert (call["n"], call["a_only"], no_call["n"], no_call["a_only"], no_call["diff"]) == (8, 2, 2, 2, 1.0)
    assert "no_call rows (n=2): diff +1.000" in res.output
    assert table[4]["reward_mean_steps_1_to_s"] == 0.25 and table[0]["correct"] == 3
    assert table[8] == {"step": 8, "status": "not reached by the deadline"}
    assert "step   8: not reached by the deadline" in res.output


def test_report_splits_call_and_no_call_rows_with_intervals(tmp_path):
    """Rows that carry call_row / names / arg_f1 (evaluate_model's rows): the report gives call-row ToolMatch,
    function names and argument F1 beside no-call rows and the never-call score. A model that never calls (step
    4 here) scores exactly the no-call share overall and 0 on call rows."""
    from click.testing import CliRunner

    from looptool.stats import wilson

    g = _bench()
    kinds = [True] * 6 + [False] * 4  # 6 call rows, 4 no-call rows
    step0 = [
        {"sample_id": f"s{i}", "pattern": "x", "call_row": c, "correct": i in (0, 6), "names": i < 3 or not c,
         "arg_f1": (1.0 if i == 0 else 0.5 if i < 3 else 0.0) if c else 1.0, "text": ""}
        for i, c in enumerate(kinds)
    ]  # fmt: skip
    never = [
        {"sample_id": f"s{i}", "pattern": "x", "call_row": c, "correct": not c, "names": not c,
         "arg_f1": 0.0 if c else 1.0, "text": "no call"}
        for i, c in enumerate(kinds)
    ]  # fmt: skip
    for step, rows in ((0, step0), (4, never)):
        k = sum(r["correct"] for r in rows)
        fig = {"correct": k, "n": 10, "wall_s": 1.0, "cpu_s": 1.0, "rows": rows}
        (tmp_path / f"eval_step_{step}.json").write_text(json.dumps(fig))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(g.cli, ["report", "--work", str(tmp_path), "--grid", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = {r["step"]: r for r in json.loads(out.read_text())["table"]}
    k0 = table[0]["by_kind"]
    assert (k0["call_rows"]["correct"], k0["call_rows"]["n"], k0["call_rows"]["ci95"]) == (
        1,
        6,
        list(wilson(1, 6)),
    )
    assert k0["call_rows"]["names"]["correct"] == 3 and k0["call_rows"]["arg_f1"]["mean"] == round(2 / 6, 4)
    assert k0["call_rows"]["arg_f1"]["n"] == 6 and len(k0["call_rows"]["arg_f1"]["ci95"]) == 2
    assert (k0["no_call_rows"]["correct"], k0["no_call_rows"]["n"]) == (1, 4)
    k4 = table[4]["by_kind"]
    assert table[4]["toolmatch"] == k4["never_call"]["accuracy"] == 0.4  # never calling: the no-call share
    assert k4["call_rows"]["accuracy"] == 0.0 and k4["no_call_rows"]["accuracy"] == 1.0
    # the paired split uses the rows' call_row, not their pattern
    assert table[4]["vs_step0_call"]["n"] == 6 and table[4]["vs_step0_no_call"]["b_only"] == 0
    assert "call rows 0/6 [0.000, 0.390]" in res.output and "never-call score 0.4" in res.output
