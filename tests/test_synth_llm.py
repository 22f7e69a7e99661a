"""The ``llm`` mode of the seed stage: agent plumbing, strict parsing and rejection of bad agent output.

``ScriptedAgents`` is a test double for the generator *model* only: a real :class:`Backend` subclass whose
``generate`` answers each agent prompt the way a competent model would (it echoes the Planner's draft, writes
the values into the user message, returns the tool ids it is asked for, and makes the planned calls). Every
other component (the agents' prompts, parsing, verification, the build) is the real one. The tiny random
Llama test runs the same path through the real ``transformers`` backend.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence

import pytest

from looptool.calls import json_value as strict_json
from looptool.checks import verify_sample
from looptool.checks.vocab import LANGUAGES
from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.schema import PATTERNS, REJECTED, SAMPLE, rows
from looptool.storage import read_parquet
from looptool.synth import SeedConfig, instantiate, run_seed
from looptool.synth.config import split_domains
from looptool.synth.judge import parse_verdict
from looptool.synth.llm_agents import strict_text

ORDINALS = ("first", "second", "third", "fourth")


def _say(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dict):
        return ", ".join(_say(x) for x in v.values())
    if isinstance(v, list):
        return " and ".join(_say(x) for x in v)
    if isinstance(v, str) and v in LANGUAGES:
        return LANGUAGES[v][0]
    return str(v)


class ScriptedAgents(Backend):
    """Test double for the generator model: answers Planner/User/Tool/Assistant/Judge prompts by rule."""

    name = "scripted"
    model = "scripted-agents"

    def __init__(self, break_agent: str | None = None, judge_rejects: bool = False):
        self.state: dict[str, dict] = {}
        self.break_agent = break_agent
        self.judge_rejects = judge_rejects
        self.requests = Counter()

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        return [Completion(text=self._answer(r)) for r in requests]

    def _answer(self, r: Request) -> str:
        msgs = list(r.messages or [])
        system = msgs[0]["content"] if msgs and msgs[0]["role"] == "system" else ""
        st = self.state.setdefault(r.key, {})
        for role in ("Planner", "User", "Tool", "Judge"):
            if system.startswith(f"You are the {role}"):
                self.requests[role] += 1
                if self.break_agent == role:
                    return "Sure! Here you go: " + ("{" if role != "User" else '{"calls": []}')
                return getattr(self, f"_{role.lower()}")(msgs[1]["content"], st)
        self.requests["Assistant"] += 1
        return self._assistant(msgs, st)

    def _planner(self, text: str, st: dict) -> str:
        m = re.search(r"Pattern: (\w+)", text)
        st["pattern"] = m.group(1)
        draft = json.loads(text.split("Draft calls:\n", 1)[1].split("\n", 1)[0])
        st["calls"] = draft["calls"]
        return json.dumps(draft)

    def _tool(self, text: str, st: dict) -> str:
        must = json.loads(text.split("The result must include: ", 1)[1].split("\n", 1)[0])
        ((key, val),) = must.items()
        if key.startswith("records with "):
            st["ids"] = list(val)
            return json.dumps(
                {"results": [{key[len("records with ") :]: x, "status": "available"} for x in val]}
            )
        st["ids"] = [val]
        return json.dumps({"status": "confirmed", key: val})

    def _user(self, text: str, st: dict) -> str:
        goal = text.split("What you want: ", 1)[1].split("\n", 1)[0]
        values = re.findall(r"^- (.*?): (.*)$", text, re.MULTILINE)
        said = "; ".join(f"{desc.lower()} {_say(json.loads(v))}" for desc, v in values)
        ref = re.search(r"Refer to the item you pick as '([^']*)'", text)
        if ref:
            st["ref"] = next((i for i, o in enumerate(ORDINALS) if o in ref.group(1)), 0)
            st["turns"] = 1 if "Conversation so far" not in text else 2
        elif "turns" not in st:
            st["turns"] = 2
        return f"Hi, I need to {goal}. Details: {said}." + (f" I pick {ref.group(1)}." if ref else "")

    def _assistant(self, msgs: list[dict], st: dict) -> str:
        if self.break_agent == "Assistant":
            return '<tool_call>{"name": "no_such_function", "arguments": {}}</tool_call>'
        pattern = st["pattern"]
        if msgs[-1]["role"] == "tool" and st.get("turns") == 2:
            return "Here is what I found. Which one do you want?"
        if pattern in ("missing_arg", "irrelevant"):
            return "Could you tell me a bit more? I need one more detail before I can do that."
        calls = st["calls"]
        if pattern == "multi_turn":
            call = json.loads(json.dumps(calls[1]))
            idp = next(
                k
                for k, v in call["arguments"].items()
                if isinstance(v, str) and re.fullmatch(r"[A-Z]{2}-\d{5}", v)
            )
            call["arguments"][idp] = st["ids"][st.get("ref", 0) if st.get("turns") == 2 else 0]
            calls = [call]
        return "\n".join(f"<tool_call>\n{json.dumps(c)}\n</tool_call>" for c in calls)

    def _judge(self, text: str, st: dict) -> str:
        if (
            self.judge_rejects
            and "Reference answer:\n[]" not in text
            and '"arguments"' in text.split("Reference answer:")[1]
        ):
            return json.dumps({"verdict": "reject", "reason": "scripted: rejects every call"})
        return json.dumps({"verdict": "accept", "reason": "scripted: looks right"})


def llm_cfg(**kw) -> SeedConfig:
    base = {
        "mode": "llm",
        "pool_size": 24,
        "heldout_size": 0,
        "llm_batch": 12,
        "max_attempts": 2.0,
        "label_noise": 0.0,
    }
    base.update(kw)
    return SeedConfig(**base)


def _load(path, name):
    schema = SAMPLE if name != "rejected" else REJECTED
    return rows(read_parquet(path / f"{name}.parquet", schema), ["tools", "messages", "label", "meta"])


def test_strict_parsers():
    assert strict_json('```json\n{"a": 1}\n```') == ({"a": 1}, None)
    assert strict_json('Sure: {"a": 1}')[1] is not None
    assert strict_json("<think>hmm</think>[1]") == ([1], None)
    assert strict_text("  Book me a table.  ") == ("Book me a table.", None)
    assert strict_text('{"calls": []}')[1] is not None
    assert strict_text("<tool_call>x</tool_call>")[1] is not None
    assert parse_verdict('{"verdict": "accept", "reason": "ok"}') == (True, "ok")
    assert parse_verdict('{"verdict": "maybe"}')[0] is None
    assert parse_verdict("I accept")[0] is None


def test_llm_mode_end_to_end_with_scripted_agents(tmp_path):
    double = ScriptedAgents()
    cfg = llm_cfg()
    m = run_seed(out_dir=tmp_path, cfg=cfg, generator=double, progress=False)
    pool = _load(tmp_path, "pool")
    assert len(pool) >= 18, m["rejected"]
    assert {r["meta"]["pattern"] for r in pool} == set(PATTERNS)
    for r in pool:
        assert r["meta"]["generator"] == "scripted-agents"
        assert verify_sample(r, split_domains(cfg)) == []
        if r["meta"]["pattern"] in ("missing_arg", "irrelevant"):
            assert r["label"] == [] and r["meta"]["reply"].startswith("Could you tell me")
    assert m["generator"] == "scripted-agents"
    assert {"Planner", "User", "Assistant", "Tool"} <= set(double.requests)
    multi = [r for r in pool if r["meta"]["pattern"] == "multi_turn"]
    assert all(any(msg["role"] == "tool" for msg in r["messages"]) for r in multi)


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        ("Planner", "planner_output"),
        ("User", "user_output"),
        ("Assistant", "assistant_mismatch"),
        ("Tool", "tool_output"),
    ],
)
def test_bad_agent_output_becomes_a_rejected_row(tmp_path, agent, reason):
    cfg = llm_cfg(pool_size=12, max_attempts=1.0)
    m = run_seed(out_dir=tmp_path, cfg=cfg, generator=ScriptedAgents(break_agent=agent), progress=False)
    rejected = _load(tmp_path, "rejected")
    reasons = Counter(r["reason"] for r in rejected)
    assert reasons[reason] >= 1, reasons
    assert m["rejected"]["by_reason"][reason] == reasons[reason]
    for r in rejected:
        if r["reason"] == reason:
            assert r["detail"]
    if agent == "Tool":  # only multi_turn samples ask the Tool; the others still pass
        pool = _load(tmp_path, "pool")
        assert pool and "multi_turn" not in {r["meta"]["pattern"] for r in pool}


def test_llm_judge_verdicts_are_recorded(tmp_path):
    cfg = llm_cfg(mode="procedural", pool_size=18, max_attempts=1.0)
    m = run_seed(
        out_dir=tmp_path, cfg=cfg, generator=None, judge=ScriptedAgents(judge_rejects=True), progress=False
    )
    pool, rejected = _load(tmp_path, "pool"), _load(tmp_path, "rejected")
    assert m["judge"]["enabled"] and m["judge"]["reject"] >= 1
    assert all(r["label"] == [] for r in pool)
    assert all(r["meta"]["judge"]["verdict"] == "accept" for r in pool)
    judged = [r for r in rejected if r["reason"] == "judge"]
    assert judged and all(r["detail"].startswith("scripted") for r in judged)


def test_instantiate_with_a_generator_uses_the_llm_agents():
    cfg = llm_cfg()
    sig = {
        "pattern": "multi_turn",
        "n_calls": 1,
        "parallel": False,
        "arg_types": ["string:id"],
        "n_tools": 2,
        "n_distractors": 0,
        "missing_arg": False,
        "turns": 2,
    }
    import random

    row = instantiate(sig, random.Random(4), cfg, avoid_domains={"Travel"}, generator=ScriptedAgents())
    assert row is not None and row["meta"]["generator"] == "scripted-agents"
    assert row["meta"]["signature"] == sig and row["meta"]["domain"] != "Travel"


def test_llm_mode_runs_on_the_tiny_model(tmp_path, tiny_model_dir):
    """The real transformers backend on a 2-layer random model: garbage outputs, every one rejected with a
    reason (or, by luck, accepted after verification); nothing crashes and every draft is accounted for."""
    from looptool.llm import BackendConfig, get_backend

    cfg = llm_cfg(pool_size=3, llm_batch=3, max_attempts=1.0, llm_max_new_tokens=24)
    backend = get_backend(
        BackendConfig(
            backend="transformers", model=str(tiny_model_dir), cache=False, batch_size=3, device="cpu"
        )
    )
    try:
        m = run_seed(out_dir=tmp_path, cfg=cfg, generator=backend, progress=False)
    finally:
        backend.close()
    pool, rejected = _load(tmp_path, "pool"), _load(tmp_path, "rejected")
    assert len(pool) + len(rejected) == m["pool"]["attempts"] - sum(m["pool"]["plan_failures"].values())
    assert rejected, "a random model should not pass the strict parsers"
    assert {r["reason"] for r in rejected} <= {
        "planner_output",
        "user_output",
        "tool_output",
        "assistant_output",
        "assistant_mismatch",
        "generator_error",
        "agent_output",
    } | {"ungrounded", "invalid_call", "label_pattern", "meta", "bad_messages"}
    assert all(r["detail"] for r in rejected)
