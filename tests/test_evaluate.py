"""Evaluation: data loading (v3 and v4 file names), BFCL's prompt conversion, the benchmarks' aggregation on
hand-made figures, and the whole scoring path with a scripted backend (gold and wrong answers).

The path with a real model (the tiny random Llama through ``looptool.llm.get_backend``) is in
``tests/test_evaluate_model.py``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from looptool import storage
from looptool.evaluate import EVAL_RESULT, EvalConfig, bfcl, evaluate, run_evaluate
from looptool.evaluate import acebench as ace
from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.schema import SAMPLE, frame, make_sample_id


def test_bfcl_aggregation_on_hand_made_figures():
    per = {
        "simple": {"accuracy": 0.5, "n": 10, "n_total": 400},
        "java": {"accuracy": 0.2, "n": 10, "n_total": 100},
        "multiple": {"accuracy": 0.6, "n": 10, "n_total": 200},
        "parallel": {"accuracy": 0.4, "n": 10, "n_total": 200},
        "parallel_multiple": {"accuracy": 0.3, "n": 10, "n_total": 200},
        "irrelevance": {"accuracy": 0.9, "n": 10, "n_total": 240},
        "live_simple": {"accuracy": 0.5, "n": 10, "n_total": 258},
        "live_multiple": {"accuracy": 0.25, "n": 10, "n_total": 1053},
        "live_irrelevance": {"accuracy": 0.8, "n": 10, "n_total": 882},
        "live_relevance": {"accuracy": 1.0, "n": 10, "n_total": 18},
    }
    agg = bfcl.aggregate(per)
    simple = (0.5 + 0.2) / 2  # python simple and java; javascript not run
    ast = (simple + 0.6 + 0.4 + 0.3) / 4
    non_live = (simple + 0.6 + 0.4 + 0.3 + 0.9) / 5
    live_ast = (0.5 * 258 + 0.25 * 1053) / (258 + 1053)
    live = (0.5 * 258 + 0.25 * 1053 + 0.8 * 882 + 1.0 * 18) / (258 + 1053 + 882 + 18)
    assert agg["non_live"]["simple_ast"] == round(simple, 4)
    assert agg["non_live"]["summary_ast"] == round(ast, 4)
    assert agg["non_live"]["overall"] == round(non_live, 4)
    assert agg["live"]["summary_ast"] == round(live_ast, 4)
    assert agg["live"]["overall"] == round(live, 4)
    assert agg["overall_single_turn"] == round((live + non_live) / 2, 4)
    assert agg["irrelevance"] == round((0.9 + 0.8) / 2, 4)
    assert agg["categories_missing"] == ["javascript", "live_parallel", "live_parallel_multiple"]
    # weights are category sizes (n_total), not the entries evaluated
    assert (
        bfcl.aggregate(
            {
                "live_simple": {"accuracy": 1.0, "n": 5, "n_total": 300},
                "live_multiple": {"accuracy": 0.0, "n": 5, "n_total": 100},
            }
        )["live"]["overall"]
        == 0.75
    )
    assert bfcl.aggregate({})["overall_single_turn"] is None


def test_acebench_aggregation_on_hand_made_figures():
    per = {
        "normal_atom_bool": {"accuracy": 0.5},
        "normal_atom_enum": {"accuracy": 0.7},
        "normal_single_turn_single_function": {"accuracy": 0.4},
        "normal_single_turn_parallel_function": {"accuracy": 0.2},
        "special_incomplete": {"accuracy": 0.1},
        "special_irrelevant": {"accuracy": 0.3},
    }
    agg = ace.aggregate(per, "agent skipped")
    normal = (0.5 + 0.7 + 0.4 + 0.2) / 4
    special = (0.1 + 0.3) / 2
    assert agg["atom"] == 0.6 and agg["single_turn"] == 0.3
    assert agg["normal_summary"] == round(normal, 4) and agg["special_summary"] == round(special, 4)
    assert "summary" not in agg and agg["agent_skipped"] == "agent skipped"
    assert agg["summary_without_agent"] == round((0.2676 * special + 0.578 * normal) / (0.2676 + 0.578), 4)
    full = ace.aggregate(
        {**per, "agent_multi_turn": {"accuracy": 0.5}, "agent_multi_step": {"accuracy": 0.5}}, None
    )
    assert full["summary"] == round(0.2676 * special + 0.578 * normal + 0.1545 * 0.5, 4)


def test_bfcl_tool_conversion_follows_bfcl():
    functions = [
        {
            "name": "math.area",
            "description": "Area.",
            "parameters": {
                "type": "dict",
                "properties": {
                    "base": {"type": "float", "description": "Base."},
                    "dims": {"type": "tuple", "items": {"type": "float"}, "description": "Dims."},
                    "opts": {"type": "dict", "properties": {"unit": {"type": "any", "description": "u"}}},
                    "rows": {
                        "type": "array",
                        "items": {"type": "dict", "properties": {"k": {"type": "float"}}},
                    },
                },
                "required": ["base"],
            },
        }
    ]
    (tool,) = bfcl.to_tools(functions, "simple")
    assert tool["name"] == "math.area"
    assert tool["description"].endswith("Note that the provided function is in Python 3 syntax.")
    props = tool["parameters"]["properties"]
    assert tool["parameters"]["type"] == "object"
    assert props["base"] == {
        "type": "number",
        "format": "float",
        "description": "Base. This is a float type value.",
    }
    assert props["dims"]["type"] == "array" and props["dims"]["items"]["type"] == "number"
    assert props["opts"]["type"] == "object" and props["opts"]["properties"]["unit"]["type"] == "string"
    assert props["rows"]["items"]["type"] == "object"
    assert props["rows"]["items"]["properties"]["k"]["type"] == "number"
    assert functions[0]["parameters"]["type"] == "dict"  # the docs themselves are untouched
    (jtool,) = bfcl.to_tools(
        [
            {
                "name": "f",
                "description": "d",
                "parameters": {
                    "type": "dict",
                    "properties": {
                        "ids": {"type": "ArrayList", "items": {"type": "long"}, "description": "x."}
                    },
                },
            }
        ],
        "java",
    )
    ids = jtool["parameters"]["properties"]["ids"]
    assert ids["type"] == "string" and "items" not in ids and "Java ArrayList" in ids["description"]


def test_acebench_tools_and_prompts():
    entry = ace.Entry(
        "special_incomplete_0",
        "special_incomplete",
        "user: book it",
        [
            {
                "name": "f",
                "description": "d",
                "arguments": {"type": "dict", "properties": {"x": {"type": "float"}}},
            }
        ],
        "The current time is 2024-01-01.",
        "",
        {"f": ["x"]},
    )
    (tool,) = ace.to_tools(entry.functions)
    assert tool["parameters"] == {"type": "object", "properties": {"x": {"type": "number"}}}
    system, user = ace.messages_for(entry)
    assert "Missing necessary parameters" in system["content"] and "2024-01-01" in system["content"]
    assert user["content"] == "Conversation history 1..t:\nuser: book it"


def test_category_files_v3_and_v4_names(bfcl_data_dir, tmp_path):
    """bfcl-eval's ``BFCL_v4_*`` names and gorilla's ``BFCL_v3_*`` names (the v3 copies made here) both load."""
    v4 = bfcl_data_dir
    (tmp_path / "possible_answer").mkdir()
    for src, dst in (
        ("simple_python", "simple"),
        ("irrelevance", "irrelevance"),
        ("live_simple", "live_simple"),
    ):
        shutil.copy(v4 / f"BFCL_v4_{src}.json", tmp_path / f"BFCL_v3_{dst}.json")
        if src != "irrelevance":
            shutil.copy(
                v4 / "possible_answer" / f"BFCL_v4_{src}.json",
                tmp_path / "possible_answer" / f"BFCL_v3_{dst}.json",
            )
    n_simple = sum(1 for line in (v4 / "BFCL_v4_simple_python.json").open() if line.strip())
    entries, n = bfcl.load_category(tmp_path, "simple")
    assert (
        n == n_simple == 400
        and entries[0].answer
        and bfcl.category_file(tmp_path, "simple").name == "BFCL_v3_simple.json"
    )
    assert bfcl.load_category(tmp_path, "irrelevance")[1] == 240
    assert bfcl.category_file(v4, "simple").name == "BFCL_v4_simple_python.json"
    assert bfcl.load_category(v4, "simple")[1] == 400
    (tmp_path / "BFCL_v4_simple_python.json").write_text((tmp_path / "BFCL_v3_simple.json").read_text())
    assert bfcl.category_file(tmp_path, "simple").name == "BFCL_v4_simple_python.json"  # the newest wins
    with pytest.raises(FileNotFoundError):
        bfcl.load_category(tmp_path, "multiple")
    assert bfcl.iter_categories(["simple_python", "live_simple", "simple"]) == ["simple", "live_simple"]
    assert bfcl.iter_categories(["multi_turn", "simple"]) == [*bfcl.MULTI_TURN, "simple"]
    with pytest.raises(ValueError):
        bfcl.iter_categories(["web_search"])


class ScriptedBackend(Backend):
    """Answers each request by its key from a table (the scoring path without a model)."""

    name = "scripted"

    def __init__(self, answers: dict[str, str], default: str = "I cannot help."):
        self.answers, self.default, self.seen = answers, default, []

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        assert sampling.greedy
        self.seen += [r.key for r in requests]
        return [Completion(text=self.answers.get(r.key, self.default), token_ids=[1, 2, 3]) for r in requests]


def _gold_bfcl_text(entry: bfcl.Entry) -> str:
    calls = []
    for gt in entry.answer:
        ((name, params),) = gt.items()
        args = {
            p: next(v for v in vals if v != "") for p, vals in params.items() if any(v != "" for v in vals)
        }
        calls.append("<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>")
    return "\n".join(calls)


def _heldout(path: Path) -> Path:
    tools = [
        {
            "name": "get_weather",
            "description": "Weather.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    rows = []
    for i, (pattern, label) in enumerate(
        [
            ("single", [{"name": "get_weather", "arguments": {"city": "Paris"}}]),
            ("single", [{"name": "get_weather", "arguments": {"city": "Rome"}}]),
            ("irrelevant", []),
        ]
    ):
        messages = [{"role": "user", "content": f"question {i}"}]
        rows.append(
            {
                "sample_id": make_sample_id(tools, messages),
                "tools": tools,
                "messages": messages,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {"pattern": pattern},
            }
        )
    storage.write_parquet(frame(rows, SAMPLE), path, SAMPLE)
    return path


def test_evaluate_scores_gold_and_wrong_answers(bfcl_data_dir, acebench_data_dir, tmp_path):
    ace_data = tmp_path / "acebench_en"  # the data alone: no scenario code beside it, so the agent part skips
    shutil.copytree(acebench_data_dir, ace_data)
    cfg = EvalConfig(
        bfcl_dir=str(bfcl_data_dir),
        acebench_dir=str(ace_data),
        bfcl_categories=["simple", "parallel", "irrelevance", "live_relevance"],
        acebench_categories=[
            "normal_single_turn_single_function",
            "normal_multi_turn_user_adjust",
            "special_irrelevant",
            "agent_multi_step",
        ],
        limit=3,
    )
    heldout = _heldout(tmp_path / "heldout.parquet")
    answers = {}
    for cat in ("simple", "parallel"):
        for e in bfcl.load_category(cfg.bfcl_dir, cat)[0][:3]:
            answers[f"bfcl/{e.id}"] = _gold_bfcl_text(e)
    for e in bfcl.load_category(cfg.bfcl_dir, "live_relevance")[0][:3]:
        answers[f"bfcl/{e.id}"] = f"[{e.functions[0]['name']}()]"  # any call counts for relevance
    for cat in ("normal_single_turn_single_function", "normal_multi_turn_user_adjust"):
        entries = ace.limit_entries(ace.load_category(cfg.acebench_dir, cat)[0], 3)
        for i, e in enumerate(entries):
            gt = e.answer[0] if isinstance(e.answer, list) else e.answer
            calls = [{"name": k, "arguments": v} for k, v in gt.items()]
            # turn 1 of the first conversation wrong: that conversation fails end to end
            answers[f"acebench/{e.id}"] = json.dumps(calls) if i != 1 else "no call"
    for e in ace.load_category(cfg.acebench_dir, "special_irrelevant")[0][:3]:
        answers[f"acebench/{e.id}"] = (
            '["Due to the limitations of the function, I cannot solve this problem."]'
        )
    df = storage.read_parquet(heldout, SAMPLE)
    sid = df["sample_id"].to_list()
    answers[f"heldout/{sid[0]}"] = (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
    )
    answers[f"heldout/{sid[1]}"] = (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'
    )
    answers[f"heldout/{sid[2]}"] = "I can't answer that with these tools."

    backend = ScriptedBackend(answers)
    metrics, results = evaluate(backend, cfg, str(heldout))
    EVAL_RESULT.validate(results)

    c = metrics["bfcl"]["categories"]
    assert c["simple"]["accuracy"] == 1.0 and c["parallel"]["accuracy"] == 1.0
    assert c["irrelevance"]["accuracy"] == 1.0  # default answer is text: no call
    assert c["live_relevance"]["accuracy"] == 1.0
    assert c["simple"]["n"] == 3 and c["simple"]["n_total"] == 400
    assert metrics["bfcl"]["non_live"]["overall"] == 1.0  # over the categories evaluated
    assert "multiple" in metrics["bfcl"]["categories_missing"]

    a = metrics["acebench"]["categories"]
    assert a["normal_single_turn_single_function"]["accuracy"] == 0.5  # the fixtures' two, the second wrong
    mt = a["normal_multi_turn_user_adjust"]
    assert mt["n"] == 3  # whole conversations: the fixtures' two, of two turns and one
    assert mt["accuracy"] < 1.0 and mt["process_accuracy"] > mt["accuracy"]
    assert a["special_irrelevant"]["accuracy"] == 1.0
    assert "skipped" in a["agent_multi_step"]
    assert "agent_skipped" in metrics["acebench"] and "summary" not in metrics["acebench"]

    h = metrics["heldout"]
    assert h["accuracy"] == round(2 / 3, 4)
    assert h["by_pattern"] == {
        "irrelevant": {"accuracy": 1.0, "n": 1, "correct": 1},
        "single": {"accuracy": 0.5, "n": 2, "correct": 1},
    }
    assert metrics["summary"]["heldout"] == h["accuracy"]
    assert metrics["summary"]["bfcl_single_turn"] == metrics["bfcl"]["overall_single_turn"]
    # no multi-turn category: no v3 overall, labelled single-turn only
    assert (
        metrics["summary"]["bfcl_overall"] is None and metrics["bfcl"]["overall_kind"] == "single-turn only"
    )
    assert metrics["run"]["prompts"] == results.height == len(backend.seen)

    wrong = ScriptedBackend({}, default='<tool_call>{"name": "nope", "arguments": {}}</tool_call>')
    m2, _ = evaluate(wrong, cfg, str(heldout))
    assert m2["bfcl"]["categories"]["simple"]["accuracy"] == 0.0
    assert m2["bfcl"]["categories"]["irrelevance"]["accuracy"] == 0.0
    assert m2["heldout"]["accuracy"] == 0.0


def test_heldout_split_into_call_and_no_call_rows(tmp_path):
    """Call rows are the primary figure: a model that never calls scores exactly the share of no-call rows
    overall and 0 on call rows; each part carries its n and 95% interval."""
    from looptool.stats import wilson

    cfg = EvalConfig(bfcl_dir=None, acebench_dir=None)
    heldout = _heldout(tmp_path / "heldout.parquet")
    sid = storage.read_parquet(heldout, SAMPLE)["sample_id"].to_list()
    never = ScriptedBackend({}, default="I would rather not call anything.")
    m = run_evaluate(model="m", heldout=heldout, cfg=cfg, backend=never)
    h = m["heldout"]
    assert h["never_call"] == {"accuracy": 0.3333, "no_call_rows": 1, "n": 3}
    assert h["accuracy"] == h["never_call"]["accuracy"]  # overall: exactly the no-call share
    call, no_call = h["call_rows"], h["no_call_rows"]
    assert (call["accuracy"], call["correct"], call["n"], call["ci95"]) == (0.0, 0, 2, list(wilson(0, 2)))
    assert call["names"]["accuracy"] == 0.0 and call["arg_f1"]["mean"] == 0.0 and call["arg_f1"]["n"] == 2
    assert (no_call["accuracy"], no_call["n"], no_call["ci95"]) == (1.0, 1, list(wilson(1, 1)))
    s = m["summary"]
    assert (s["heldout_call"], s["heldout_no_call"], s["heldout_never_call"]) == (0.0, 1.0, 0.3333)

    # right function, one right and one wrong city, a text answer on the no-call row
    answers = {
        f"heldout/{sid[0]}": '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>',
        f"heldout/{sid[1]}": '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>',
        f"heldout/{sid[2]}": "I can't answer that with these tools.",
    }
    m = run_evaluate(model="m", heldout=heldout, cfg=cfg, backend=ScriptedBackend(answers))
    call = m["heldout"]["call_rows"]
    assert (call["correct"], call["n"], call["names"]["correct"]) == (1, 2, 2)
    assert call["arg_f1"]["mean"] == 0.5 and call["arg_f1"]["ci95"] == [0.0, 1.0]
    assert m["summary"]["heldout_call_names"] == 1.0 and m["summary"]["heldout_call_arg_f1"] == 0.5
    from looptool.commands.eval import summary_table

    lines = summary_table(m).splitlines()
    call_line = next(x for x in lines if x.split()[:2] == ["heldout", "call"])
    assert call_line.split()[2:] == ["2", "0.500", "[0.095,", "0.905]"]
    assert any(x.split()[:2] == ["heldout", "call_arg_f1"] and "[0.000, 1.000]" in x for x in lines)
    # an answer that does not parse is wrong on every figure
    broken = ScriptedBackend({}, default='<tool_call>{"name": "get_weather"')
    m = run_evaluate(model="m", heldout=heldout, cfg=cfg, backend=broken)
    assert m["heldout"]["accuracy"] == 0.0 and m["heldout"]["call_rows"]["names"]["correct"] == 0


def test_evaluate_without_benchmark_data_skips_with_a_note(tmp_path):
    cfg = EvalConfig(bfcl_dir=None, acebench_dir=None, limit=2)
    metrics, results = evaluate(ScriptedBackend({}), cfg, str(tmp_path / "missing.parquet"))
    assert results.height == 0
    assert "eval.bfcl_dir is null" in metrics["bfcl"]["skipped"]
    assert "no acebench data folder" in metrics["acebench"]["skipped"]
    assert "skipped" in metrics["heldout"]
    assert all(v is None for v in metrics["summary"].values())


def test_empty_heldout_split_is_skipped_with_a_note(tmp_path):
    """seed.mode: import with import_heldout_fraction: 0 writes an empty held-out split: the metrics and the
    report say so instead of a held-out figure of n = 0."""
    from looptool.evaluate import skipped_of

    empty = tmp_path / "heldout.parquet"
    storage.write_parquet(frame([], SAMPLE), empty, SAMPLE)
    cfg = EvalConfig(bfcl_dir=None, acebench_dir=None)
    metrics, results = evaluate(ScriptedBackend({}), cfg, str(empty))
    assert results.height == 0 and metrics["summary"]["heldout"] is None
    assert metrics["heldout"] == {"skipped": f"held-out split {empty} is empty"}
    assert skipped_of(metrics)["heldout"].endswith("is empty")


def test_acebench_auto_reads_the_make_acebench_checkout_else_says_how_to_get_it(tmp_path, monkeypatch):
    from conftest import ACEBENCH_FIXTURE

    from looptool.evaluate import acebench_checkout, skipped_of
    from looptool.report import _skipped_line

    monkeypatch.chdir(tmp_path)  # auto is relative to the working directory (the project root for DVC)
    assert EvalConfig().acebench_dir == "auto"
    cfg = EvalConfig(bfcl_dir=None, limit=1, acebench_categories=["normal_atom_bool", "agent_multi_step"])
    metrics, results = evaluate(ScriptedBackend({}), cfg, None)
    why = metrics["acebench"]["skipped"]
    assert "make acebench" in why and results.height == 0
    headline = _skipped_line([{"iteration": 1, "eval": metrics}])
    assert "<b>acebench</b> not evaluated" in headline and "make acebench" in headline

    checkout = (
        tmp_path / acebench_checkout.DEFAULT_DIR
    )  # what `make acebench` leaves: files and a detached HEAD
    shutil.copytree(ACEBENCH_FIXTURE, checkout)
    (checkout / "LICENSE.md").write_text("MIT License (test)\n")
    (checkout / ".git").mkdir()
    (checkout / ".git" / "HEAD").write_text("0123456789" * 4 + "\n")
    gold = {"lamp_switch": {"room": "kitchen", "on": False}}
    answers = {
        "acebench/normal_atom_bool_0": json.dumps([{"name": "lamp_switch", "arguments": gold["lamp_switch"]}])
    }
    metrics, results = evaluate(ScriptedBackend(answers), cfg, None)
    a = metrics["acebench"]
    assert "skipped" not in a and a["data_dir"] == f"auto ({acebench_checkout.DEFAULT_DIR} @ 0123456)"
    assert a["categories"]["normal_atom_bool"]["accuracy"] == 1.0
    assert a["categories"]["agent_multi_step"]["n"] == 1  # the checkout's scenario code was found too
    assert "acebench" not in skipped_of(metrics)

    (checkout / "data_all" / "data_en" / "data_normal_atom_bool.json").unlink()  # a broken checkout: an error
    with pytest.raises(
        FileNotFoundError,
        match=r"eval.acebench_dir: auto: .*missing data_all/data_en/data_normal_atom_bool.json.*make acebench",
    ):
        evaluate(ScriptedBackend({}), cfg, None)


def test_config_is_checked():
    with pytest.raises(ValueError):
        EvalConfig(bfcl_categories=["simple", "bogus"])
    with pytest.raises(ValueError):
        EvalConfig(acebench_categories=["normal_nope"])
    with pytest.raises(ValueError):
        EvalConfig(limit=0)


def test_heldout_limit_takes_a_fixed_subset(tmp_path):
    from looptool.evaluate import heldout as held

    path = _heldout(tmp_path / "h.parquet")
    full = held.load(path)
    two = held.load(path, 2)
    assert two.height == 2 and set(two["sample_id"]) <= set(full["sample_id"])
    assert held.load(path, 2)["sample_id"].to_list() == two["sample_id"].to_list()
    assert held.load(path, 10).height == 3


def test_heldout_limit_is_balanced_over_patterns(tmp_path):
    """Two single rows and one irrelevant row: a subset of 2 holds one of each pattern (md5 order alone
    would pick two singles for some ids)."""
    import json

    from looptool.evaluate import heldout as held

    path = _heldout(tmp_path / "h.parquet")
    two = held.load(path, 2)
    patterns = sorted(json.loads(m)["pattern"] for m in two["meta"])
    assert patterns == ["irrelevant", "single"]


def test_a_named_data_folder_must_exist(tmp_path):
    for cfg in (
        EvalConfig(bfcl_dir=str(tmp_path / "nope"), acebench_dir=None),
        EvalConfig(bfcl_dir=None, acebench_dir=str(tmp_path / "nope")),
    ):
        with pytest.raises(FileNotFoundError, match="eval.(bfcl|acebench)_dir: data folder .*nope not found"):
            evaluate(ScriptedBackend({}), cfg, None)


def test_bfcl_auto_is_the_package_data_and_overall_needs_all_three_groups(tmp_path):
    pytest.importorskip("bfcl_eval")
    from looptool.evaluate import skipped_of

    cfg = EvalConfig(
        bfcl_dir="auto",
        acebench_dir=None,
        limit=1,
        bfcl_categories=["simple", "live_simple", "multi_turn_base"],
    )
    metrics, results = evaluate(ScriptedBackend({}, default="I cannot help."), cfg, None)
    b = metrics["bfcl"]
    assert b["data_dir"].startswith("auto (bfcl-eval ")  # the package data, named without a machine path
    assert (
        b["categories"]["multi_turn_base"]["n"] == 1 and b["categories"]["multi_turn_base"]["accuracy"] == 0.0
    )
    assert b["multi_turn"]["overall"] == 0.0
    assert b["overall"] == 0.0 and b["overall_kind"].startswith("v3")
    assert metrics["summary"]["bfcl_overall"] == 0.0 and metrics["summary"]["bfcl_multi_turn"] == 0.0
    assert metrics["run"]["conversations"] == 1
    assert set(results["category"]) == {"simple", "live_simple", "multi_turn_base"}
    skipped = skipped_of(metrics)
    assert "acebench" in skipped and "bfcl overall (v3)" not in skipped


def test_eval_summary_table_shows_intervals_when_present_and_skips():
    from looptool.commands.eval import summary_table

    m = {
        "heldout": {"skipped": "held-out split not found"},
        "bfcl": {
            "categories": {
                "simple": {"accuracy": 0.5, "n": 4, "ci95": [0.15, 0.85]},
                "multi_turn_base": {"accuracy": 0.0, "n": 2},
            },
            "overall": None,
            "overall_kind": "single-turn only",
        },
        "acebench": {"skipped": "no acebench data folder configured (eval.acebench_dir is null)"},
        "summary": {"bfcl_single_turn": 0.5, "bfcl_overall": None},
    }
    text = summary_table(m)
    assert "simple" in text and "[0.150, 0.850]" in text
    row = next(line for line in text.splitlines() if "multi_turn_base" in line)
    assert row.split()[-1] == "-"  # no interval in the metrics: none printed
    assert "skipped: acebench: no acebench data folder" in text
    assert "skipped: bfcl overall (v3): single-turn only" in text


def test_eval_summary_table_gives_group_figures_their_n_and_categories():
    """A group figure (a mean of category accuracies) carries its n, and says which categories it lacks."""
    from looptool.commands.eval import summary_table
    from looptool.evaluate.summary import summary_of

    live = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance")
    cats = {c: {"accuracy": 0.0, "correct": 0, "n": 1, "n_total": 100} for c in live}
    cats["live_relevance"] = {"accuracy": 1.0, "correct": 1, "n": 1, "n_total": 16}
    cats["simple"] = {"accuracy": 0.5, "correct": 2, "n": 4, "n_total": 400}
    m = {"bfcl": {"categories": cats, "live": {"overall": 0.0305}, "non_live": {"overall": 0.5}}}
    m["summary"] = summary_of(m)
    rows = {line.split()[1]: line for line in summary_table(m).splitlines() if line.startswith("summary")}
    assert rows["bfcl_live"].split()[2:] == ["6", "0.030", "(mean", "of", "categories)"]
    assert rows["bfcl_non_live"].split()[2:4] == ["4", "0.500"]
    assert rows["bfcl_non_live"].endswith(
        "(mean of categories; 1 of 7, missing java, javascript, multiple, parallel, parallel_multiple, irrelevance)"
    )


def test_eval_heldout_defaults_to_the_pipelines_split(tmp_path):
    from looptool.commands.eval import PIPELINE_HELDOUT, resolve_heldout

    assert resolve_heldout(None, root=str(tmp_path)) == (None, None)  # not there: skipped, as before
    split = tmp_path / PIPELINE_HELDOUT
    split.parent.mkdir(parents=True)
    split.write_bytes(b"")
    path, note = resolve_heldout(None, root=str(tmp_path))
    assert path == str(split) and "--heldout none" in note
    assert resolve_heldout("none", root=str(tmp_path)) == (None, None)
    assert resolve_heldout("other.parquet", root=str(tmp_path)) == ("other.parquet", None)
    # the split the evaluate stages score
    import yaml

    dvc = yaml.safe_load((Path(__file__).parents[1] / "dvc.yaml").read_text())["stages"]
    for stage in ("evaluate", "evaluate_base"):
        cmd = (dvc[stage].get("do") or dvc[stage])["cmd"]
        assert f"--heldout {PIPELINE_HELDOUT} " in cmd, stage


def test_metrics_name_benchmark_data_without_machine_paths(tmp_path):
    """Tracked metrics say where the data came from as the user named it, or bfcl-eval's version for ``auto``."""
    from looptool.evaluate.run import _data_label

    assert _data_label("auto", tmp_path / "site-packages" / "bfcl_eval" / "data", "bfcl").startswith(
        "auto (bfcl-eval "
    )
    assert _data_label("../benchmarks/bfcl_v3", tmp_path / "abs", "bfcl") == "../benchmarks/bfcl_v3"
    assert str(tmp_path) not in _data_label("auto", tmp_path, "bfcl")
    ace = tmp_path / "third_party" / "ACEBench" / "data_all" / "data_en"
    assert _data_label("auto", ace, "acebench") == "auto (third_party/ACEBench)"  # no HEAD to name


def test_heldout_and_verl_doctests():
    import doctest

    import looptool.evaluate.heldout as heldout
    import looptool.interchange.verl as verl

    for mod in (heldout, verl):
        result = doctest.testmod(mod)
        assert result.attempted >= 3 and result.failed == 0, mod.__name__
