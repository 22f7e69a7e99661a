"""BFCL multi-turn through the real harness: bfcl-eval's environments and checker, our conversation loop.

The "model" here is BFCL's answer key: a backend that, for each turn, answers with the ground-truth calls of
that turn (as ``<tool_call>`` JSON, parsed by :func:`looptool.calls.parse` like any model's output) and then
with a text reply. Ground truth must score correct; mutations of it (a dropped call, a wrong argument) must
score wrong. A hostile answer must never reach BFCL's ``eval``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

pytest.importorskip("bfcl_eval", reason="bfcl-eval not installed (make install adds it with --no-deps)")

from looptool.calls import Call, render_calls  # noqa: E402
from looptool.evaluate import bfcl_multi as mt  # noqa: E402
from looptool.llm.base import Backend, Completion, Request, Sampling  # noqa: E402

DATA = mt.package_data_dir()
KEY = re.compile(r"^bfcl/(?P<id>.+)/turn(?P<turn>\d+)/step(?P<step>\d+)$")

# Entries whose own ground truth BFCL's checker does not pass (found by running the whole answer key, below):
# none in bfcl-eval 2025.12.17.
GROUND_TRUTH_FAILS: dict[str, set[str]] = {c: set() for c in mt.CATEGORIES}


def _gt_calls(entry: mt.Entry, strings: list[str]) -> list[Call]:
    """Ground-truth call strings as Calls (BFCL writes a few with positional arguments: name them from the
    method's signature)."""
    from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING

    sigs = {}
    for cls_name in entry.involved_classes:
        cls = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[cls_name]), cls_name)
        for name, fn in inspect.getmembers(cls, predicate=inspect.isfunction):
            sigs[name] = [p for p in inspect.signature(fn).parameters if p != "self"]
    out = []
    for s in strings:
        node = ast.parse(s, mode="eval").body
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name), s
        args = {sigs[node.func.id][i]: ast.literal_eval(a) for i, a in enumerate(node.args)}
        args.update({kw.arg: ast.literal_eval(kw.value) for kw in node.keywords})
        out.append(Call(node.func.id, args))
    return out


class AnswerKey(Backend):
    """Answers each turn with ``answers[id][turn]`` (a list of Calls, or text), then with a text reply."""

    name = "answer-key"

    def __init__(self, answers: dict[str, list[list[Call] | str]]):
        self.answers = answers
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        out = []
        for r in requests:
            self.requests.append(r)
            m = KEY.match(r.key)
            assert m, r.key
            turn = self.answers[m["id"]][int(m["turn"])]
            if int(m["step"]) > 0 or not turn:
                out.append(Completion(text="Done.", token_ids=[1]))
            elif isinstance(turn, str):
                out.append(Completion(text=turn, token_ids=[1]))
            else:
                out.append(Completion(text=render_calls(turn), token_ids=[1]))
        return out


def _key(entries: list[mt.Entry], mutate: Callable | None = None) -> dict[str, list]:
    return {e.id: [_gt_calls(e, t) for t in e.ground_truth] for e in entries}


@pytest.fixture(scope="module")
def entries() -> dict[str, list[mt.Entry]]:
    return {c: mt.load_category(DATA, c)[0] for c in mt.CATEGORIES}


def test_data_loads_with_function_docs(entries):
    for cat, es in entries.items():
        assert len(es) == 200, cat
        for e in es[:5]:
            assert e.functions and len(e.turns) == len(e.ground_truth)
    mf = entries["multi_turn_miss_func"][0]
    assert mf.missed and all(not mf.turns[int(t)] for t in mf.missed)
    held = {d["name"] for docs in mf.missed.values() for d in docs}
    assert held and not held & {d["name"] for d in mf.functions}


@pytest.mark.parametrize("category", mt.CATEGORIES)
def test_ground_truth_scores_correct(entries, category):
    es = entries[category]
    results = mt.run(AnswerKey(_key(es)), es, Sampling(max_new_tokens=8))
    failed = {r.id for r in results if not r.valid}
    assert failed == GROUND_TRUTH_FAILS[category], [
        (r.id, r.error_type, (r.error or "")[:300])
        for r in results
        if not r.valid and r.id not in GROUND_TRUTH_FAILS[category]
    ][:5]


def _first_non_empty(e: mt.Entry) -> int:
    return next(i for i, t in enumerate(e.ground_truth) if t)


def test_dropped_call_scores_wrong(entries):
    es = entries["multi_turn_base"][:40]
    key = _key(es)
    for e in es:
        t = _first_non_empty(e)
        key[e.id][t] = key[e.id][t][:-1]
    results = mt.run(AnswerKey(key), es, Sampling(max_new_tokens=8))
    passed = [r.id for r in results if r.valid]
    assert not passed, f"dropping the last call of a turn still passed: {passed}"


def test_wrong_argument_scores_wrong(entries):
    es = entries["multi_turn_base"][:40]
    key = _key(es)
    mutated = []
    for e in es:
        for calls in key[e.id]:
            for i, c in enumerate(calls):
                strs = [k for k, v in c.arguments.items() if isinstance(v, str)]
                if strs:
                    calls[i] = Call(c.name, {**c.arguments, strs[0]: c.arguments[strs[0]] + "_wrong"})
                    mutated.append(e.id)
                    break
            else:
                continue
            break
    assert len(mutated) >= 30
    results = {r.id: r for r in mt.run(AnswerKey(key), es, Sampling(max_new_tokens=8))}
    passed = [i for i in mutated if results[i].valid]
    assert not passed, f"a wrong string argument still passed: {passed}"


def test_no_answer_and_text_only_score_wrong(entries):
    es = entries["multi_turn_base"][:5]
    key = {e.id: ["I will not call anything."] * len(e.turns) for e in es}
    results = mt.run(AnswerKey(key), es, Sampling(max_new_tokens=8))
    assert not any(r.valid for r in results)
    assert {r.error_type for r in results} == {"multi_turn:empty_turn_model_response"}


def test_context_overflow_is_a_counted_failure(entries):
    class TooLong(AnswerKey):
        def generate(self, requests, sampling):
            return [
                Completion(error="prompt of 9000 tokens does not fit the model's context (8192)")
                for _ in requests
            ]

    es = entries["multi_turn_long_context"][:2]
    results = mt.run(TooLong({}), es, Sampling(max_new_tokens=8))
    assert [r.error_type for r in results] == ["multi_turn:context_overflow"] * 2


def test_miss_func_adds_the_held_out_functions(entries):
    e = entries["multi_turn_miss_func"][0]
    backend = AnswerKey(_key([e]))
    mt.run(backend, [e], Sampling(max_new_tokens=8))
    turn = int(next(iter(e.missed)))
    names = lambda r: {t["name"] for t in r.tools}  # noqa: E731
    before = [r for r in backend.requests if r.key.startswith(f"bfcl/{e.id}/turn{turn - 1}/")]
    after = [r for r in backend.requests if r.key.startswith(f"bfcl/{e.id}/turn{turn}/")]
    held = {d["name"] for d in e.missed[str(turn)]}
    assert not held & names(before[0]) and held <= names(after[0])
    assert "updated some more functions" in after[0].messages[-1]["content"]


# --- hostile calls never reach eval() --------------------------------------------------------------------


HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "[ls(a=__import__('os').system('touch {marker}'))]",
    '<tool_call>{{"name": "__import__(\'os\').system", "arguments": {{"command": "touch {marker}"}}}}</tool_call>',
    '<tool_call>{{"name": "ls", "arguments": {{"a": "x\'); __import__(\'os\').system(\'touch {marker}\'); (\'"}}}}</tool_call>',
    '<tool_call>{{"name": "ls", "arguments": {{"a); __import__(\'os\').system(\'touch {marker}\'); (x": 1}}}}</tool_call>',
    '<tool_call>{{"name": "_load_scenario", "arguments": {{"scenario": {{}}}}}}</tool_call>',
    "[exit()]",
    "[cd(folder=open('{marker}', 'w'))]",
]


def test_hostile_answers_never_reach_eval(entries, tmp_path, monkeypatch):
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    marker = tmp_path / "pwned"
    seen: list[str] = []
    real = multi_turn_utils.execute_multi_turn_func_call

    def spy(func_call_list, *a, **k):
        seen.extend(func_call_list)
        return real(func_call_list, *a, **k)

    monkeypatch.setattr(multi_turn_utils, "execute_multi_turn_func_call", spy)
    e = entries["multi_turn_base"][0]
    for text in HOSTILE:
        key = {e.id: [text.format(marker=marker)] + [""] * (len(e.turns) - 1)}
        [res] = mt.run(AnswerKey(key), [e], Sampling(max_new_tokens=8))
        assert not res.valid
    assert not marker.exists()
    methods = mt.environment_methods(e.involved_classes)
    for s in seen:  # only calls rendered from literal values, of the environment's own methods
        node = ast.parse(s, mode="eval").body
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in methods, s
        for kw in node.keywords:
            ast.literal_eval(kw.value)
    assert "ls(a=\"x'); __import__('os').system('touch " + str(marker) + "'); ('\")" in seen


def test_render_call_refuses_unknown_names_and_odd_values():
    methods = {"ls", "cd"}
    assert mt.render_call(Call("ls", {"a": True}), methods) == ("ls(a=True)", None)
    assert mt.render_call(Call("rm", {}), methods)[0] is None
    assert mt.render_call(Call("ls", {"a": float("nan")}), methods)[0] is None
    assert mt.render_call(Call("ls", {"not valid": 1}), methods)[0] is None
    assert mt.render_call(Call("ls", {"lambda": 1}), methods)[0] is None
    text, _ = mt.render_call(Call("cd", {"folder": "a'b\"c", "x": [1, {"k": None}]}), methods)
    assert ast.literal_eval(ast.parse(text, mode="eval").body.keywords[0].value) == "a'b\"c"


def test_aggregate_is_the_unweighted_mean():
    got = mt.aggregate({"multi_turn_base": {"accuracy": 0.5}, "multi_turn_miss_func": {"accuracy": 0.25}})
    assert got["overall"] == 0.375
    assert got["categories_missing"] == ["multi_turn_miss_param", "multi_turn_long_context"]


def test_results_are_json_serialisable(entries):
    es = entries["multi_turn_base"][:2]
    results = mt.run(AnswerKey(_key(es)), es, Sampling(max_new_tokens=8))
    json.dumps([r.__dict__ for r in results])
    assert Path(DATA).is_dir()
