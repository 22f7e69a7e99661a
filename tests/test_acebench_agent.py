"""ACEBench agent categories: our conversation loop and ACEBench's end-state rule, through scenario classes
and prompts in ACEBench's layout and interface.

They run on the fixtures written here (``tests/data/acebench``: a few agent entries and small scenario classes
of our own), so no ACEBench checkout is needed; where ``make acebench`` has fetched one (``third_party/ACEBench``),
they run on ACEBench's own data and code as well. The scripted agent replays each entry's ``mile_stone`` calls
(the reference path) through the real loop and scenarios; the end-to-end test runs student and simulated user
against ``transformers serve``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from test_llm_openai import served  # noqa: F401 - the transformers serve fixture

from looptool.evaluate import acebench_agent as ag
from looptool.evaluate import acebench_checkout
from looptool.llm.base import Backend, Completion, Request, Sampling

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "acebench"
UPSTREAM = ROOT / acebench_checkout.DEFAULT_DIR
SOURCES = ["fixture"] + (["upstream"] if not acebench_checkout.missing_files(UPSTREAM) else [])
"""The fixtures always; ACEBench's own checkout where `make acebench` fetched it."""

# Entries whose milestone replay does not reach the ground-truth end state. Upstream: their milestones are not
# full trajectories (a login the task needs is not among them) or do not parse as python (an apostrophe inside
# a quoted value, e.g. merchant_name='Domino's'). The fixtures' milestones are all full trajectories.
REPLAY_FAILS = {
    "fixture": {"agent_multi_turn": set(), "agent_multi_step": set()},
    "upstream": {
        "agent_multi_turn": {6, 8, 9, 10, 11, 12, 13, 14, 15},
        "agent_multi_step": {0, 1, 4, 5, 12, 13, 14, 15, 16, 17},
    },
}
ENTRIES = {
    "fixture": {"agent_multi_turn": 2, "agent_multi_step": 3},
    "upstream": {"agent_multi_turn": 30, "agent_multi_step": 20},
}


@pytest.fixture(scope="module", params=SOURCES)
def source(request):
    return request.param


@pytest.fixture(scope="module")
def code(source):
    return ag.AceCode.load(FIXTURE if source == "fixture" else UPSTREAM)


@pytest.fixture(scope="module")
def data_dir(source):
    return (FIXTURE if source == "fixture" else UPSTREAM) / acebench_checkout.DATA_SUBDIR


def _stones(e: ag.Entry) -> list[str]:
    return e.mile_stone[0] if e.mile_stone and isinstance(e.mile_stone[0], list) else e.mile_stone


class Replay(Backend):
    """Agent: the entry's milestone calls one per turn, then "finish conversation"."""

    name = "replay"

    def __init__(self, calls: dict[str, list[str]]):
        self.calls, self.pos = calls, {}

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        out = []
        for r in requests:
            eid = r.key.split("/")[1]
            i = self.pos.get(eid, 0)
            self.pos[eid] = i + 1
            stones = self.calls[eid]
            out.append(
                Completion(text=stones[i] if i < len(stones) else "finish conversation", token_ids=[1])
            )
        return out


class PlainUser(Backend):
    name = "user"

    def __init__(self):
        self.requests: list[Request] = []

    def generate(self, requests, sampling):
        self.requests += requests
        return [Completion(text="Please go on.", token_ids=[1]) for _ in requests]


@pytest.mark.parametrize("category", ag.CATEGORIES)
def test_milestone_replay_reaches_the_ground_truth_state(source, code, data_dir, category):
    es, n = ag.load_category(data_dir, category)
    assert len(es) == n == ENTRIES[source][category]
    res = ag.run(Replay({e.id: _stones(e) for e in es}), PlainUser(), code, es, Sampling(max_new_tokens=8))
    failed = {int(r.id.rsplit("_", 1)[1]) for r in res if not r.valid}
    assert failed == REPLAY_FAILS[source][category]
    assert all(r.process == 1.0 for r in res if r.valid)


def test_dropping_the_last_milestone_fails(source, code, data_dir):
    es = [
        e
        for e in ag.load_category(data_dir, "agent_multi_step")[0]
        if int(e.id.rsplit("_", 1)[1]) not in REPLAY_FAILS[source]["agent_multi_step"]
        and not isinstance(e.mile_stone[0], list)  # alternatives: another path may still be complete
    ]
    res = ag.run(Replay({e.id: _stones(e)[:-1] for e in es}), None, code, es, Sampling(max_new_tokens=8))
    assert es and not any(r.valid for r in res)
    assert all(r.process < 1.0 for r in res)


def test_multi_turn_user_sees_acebench_prompt_and_agent_replies(code, data_dir):
    e = ag.load_category(data_dir, "agent_multi_turn")[0][0]
    user = PlainUser()
    ag.run(Replay({e.id: _stones(e)}), user, code, [e], Sampling(max_new_tokens=8))
    first = user.requests[0].messages
    assert first[0]["role"] == "system" and e.question in first[0]["content"]
    assert first[1]["content"] == ag.USER_OPENING


def test_hostile_agent_answers_run_nothing(code, data_dir, tmp_path):
    marker = tmp_path / "pwned"
    e = ag.load_category(data_dir, "agent_multi_step")[0][0]
    hostile = [  # calls that parse but name no public scenario method, then answers that do not parse
        '<tool_call>{"name": "_load_scenario", "arguments": {"scenario": {}}}</tool_call>',
        f'<tool_call>{{"name": "__import__(\'os\').system", "arguments": {{"command": "touch {marker}"}}}}</tool_call>',
        f"[__import__('os').system('touch {marker}')]",
        f"[turn_on_wifi(x=__import__('os').system('touch {marker}'))]",
    ]
    for start in (0, 2, 3):
        [res] = ag.run(Replay({e.id: hostile[start:]}), None, code, [e], Sampling(max_new_tokens=8))
        assert not res.valid and not marker.exists()
        executions = [t["message"] for t in res.transcript if t["sender"] == "execution"]
        assert all(str(m[0]).startswith("Error during execution: name") for m in executions)
        assert len(executions) == (2 if start == 0 else 0)


def test_a_call_that_raises_reports_the_error_and_stops_that_message():
    code = ag.AceCode.load(FIXTURE)  # its Travel scenario raises on a wrong password
    e = ag.load_category(FIXTURE / acebench_checkout.DATA_SUBDIR, "agent_multi_turn")[0][1]
    bad = "[reserve_flight(user_id='T100', password='nope', flight_no='LT1'), get_flight_details()]"
    [res] = ag.run(Replay({e.id: [bad]}), PlainUser(), code, [e], Sampling(max_new_tokens=8))
    [execution] = [t["message"] for t in res.transcript if t["sender"] == "execution"]
    assert execution == ["Error during execution: authentication failed"]  # the second call did not run
    assert not res.valid and res.error_type == "agent:state_mismatch" and res.process == 0.0


def test_two_checkouts_in_one_process_each_use_their_own_code(tmp_path):
    """Regression: both use the module names ``model_inference.*``; the second load got the first's classes."""
    other = tmp_path / "other"
    shutil.copytree(FIXTURE, other)
    base = other / "model_inference" / "multi_turn" / "scenariosen" / "phone_platform" / "base_api.py"
    base.write_text(base.read_text().replace('"Wi-Fi is on"', '"wifi up (other checkout)"'))
    prompts = other / "model_inference" / "prompt_en.py"
    prompts.write_text(prompts.read_text().replace("phone assistant", "other assistant"))
    first, second = ag.AceCode.load(FIXTURE), ag.AceCode.load(other)
    assert "phone assistant" in first.scene_prompts["BaseApi"]
    assert "other assistant" in second.scene_prompts["BaseApi"]
    on = [c.classes["multi_turn"]["BaseApi"]().turn_on_wifi()["message"] for c in (first, second)]
    assert on == ["Wi-Fi is on", "wifi up (other checkout)"]
    assert (
        ag.AceCode.load(FIXTURE).classes["multi_turn"]["BaseApi"]().turn_on_wifi()["message"] == "Wi-Fi is on"
    )


def test_state_check_and_process_accuracy_rules():
    gt = [{"BaseApi": {"wifi": True}}, {"MessageApi": {"inbox": {"1": {"m": "a"}}}}]
    ok, _ = ag.check_state(
        [{"BaseApi": {"wifi": True}}, {"MessageApi": {"inbox": {"1": {"m": "a"}, "2": {}}}}], gt
    )
    assert ok  # dict attributes: the ground truth's keys only
    assert not ag.check_state(
        [{"BaseApi": {"wifi": False}}, {"MessageApi": {"inbox": {"1": {"m": "a"}}}}], gt
    )[0]
    assert not ag.check_state([{"BaseApi": {"wifi": True}}], gt)[0]
    assert ag.process_accuracy(["[a()]", "[x()]", "[b()]"], ["[a()]", "[b()]", "[c()]"]) == 0.667
    assert ag.process_accuracy([], [["[a()]"], ["[b()]"]]) == 0.0


def test_agent_end_to_end_against_a_real_server(served, tmp_path):  # noqa: F811
    """Student and simulated user both through the openai backend against ``transformers serve``."""
    from looptool.evaluate import EvalConfig, evaluate
    from looptool.llm.config import BackendConfig
    from looptool.llm.openai import OpenAIBackend

    url, ckpt = served
    cfg_b = BackendConfig(backend="openai", base_url=url, max_concurrency=2, cache=False)
    # short conversations: a random model never says "finish conversation", and a loaded CPU serves slowly
    cfg = EvalConfig(
        bfcl_dir=None,
        acebench_dir=str(FIXTURE / acebench_checkout.DATA_SUBDIR),
        acebench_code_dir=str(FIXTURE),
        limit=1,
        acebench_categories=["agent_multi_turn", "agent_multi_step"],
        max_new_tokens=8,
        acebench_max_messages=5,
    )
    with OpenAIBackend(str(ckpt), cfg_b) as student, OpenAIBackend(str(ckpt), cfg_b) as user:
        metrics, results = evaluate(student, cfg, None, user=user)
    cats = metrics["acebench"]["categories"]
    for c in ag.CATEGORIES:
        assert cats[c]["n"] == 1 and "accuracy" in cats[c] and "process_accuracy" in cats[c]
    assert "summary" not in metrics["acebench"]  # normal/special not run: no overall
    assert metrics["acebench"]["agent_summary"] is not None
    mt = results.filter(results["category"] == "agent_multi_turn")
    assert mt.height == 1 and mt["backend_error"].is_null().all()
    turns = json.loads(mt["prediction"][0])
    assert [t["sender"] for t in turns][:2] == ["user", "agent"] and len(turns) >= 4
