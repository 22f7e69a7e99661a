"""Where the model went wrong on a seed (looptool.errorprofile) and expand.carry, on the real synthesizer."""

from __future__ import annotations

import json

import pytest

from looptool.errorprofile import TRAP_MAX, error_profile, name_similarity, trap_max, trap_score
from looptool.expand import ExpandConfig, expand
from looptool.schema import PROBE, frame
from tests.test_expand import _iteration, seed_rows  # noqa: F401 (seed_rows: its module-scoped fixture)

TOOLS = [
    {
        "name": "getTeamSchedule",
        "description": "Games of a team.",
        "parameters": {
            "type": "object",
            "properties": {
                "team": {"type": "string"},
                "startDate": {"type": "string", "format": "date"},
                "endDate": {"type": "string", "format": "date"},
                "venue": {"type": "string", "enum": ["home", "away"]},
            },
            "required": ["team"],
        },
    },
    {
        "name": "getTeamStats",
        "description": "Season statistics of a team.",
        "parameters": {"type": "object", "properties": {"team": {"type": "string"}}, "required": ["team"]},
    },
]
MSGS = [{"role": "user", "content": "When does Bayern Munich play from July 15th, 2025 to 2026-10-21?"}]
RIGHT = [
    {
        "name": "getTeamSchedule",
        "arguments": {"team": "Bayern Munich", "startDate": "2025-07-15", "endDate": "2026-10-21"},
    }
]


def _call(**args):
    return [{"name": "getTeamSchedule", "arguments": args}]


@pytest.mark.parametrize(
    ("wrong", "kind", "fields"),
    [
        (None, "no_call", {"n_args": 3}),
        (
            [{"name": "getTeamStats", "arguments": {"team": "Bayern Munich"}}],
            "wrong_function",
            {"similar": 0.5},
        ),
        (RIGHT * 2, "extra_call", {}),
        (
            _call(team="Bayern Munich", endDate="2026-10-21"),
            "missing_arg",
            {"arg_kind": "string:date", "optional": True, "literal": False},
        ),
        (
            _call(team="Bayern Munich", startDate="2025-07-15", endDate="2026-10-21", venue="home"),
            "extra_arg",
            {"arg_kind": "enum", "optional": True},
        ),
        (
            _call(team="Bayern Munich", startDate="2025-07-15", endDate="2026-10-12"),
            "wrong_value",
            {"arg_kind": "string:date", "literal": True},
        ),
        (_call(team="Bayern Munich", startDate="2025-07-15", endDate="2026-10-21"), "right", {}),
    ],
)
def test_error_profile_names_the_first_difference(wrong, kind, fields):
    p = error_profile(RIGHT, wrong, TOOLS, MSGS)
    assert p.kind == kind
    for k, v in fields.items():
        assert getattr(p, k) == v, (k, p)


def test_spurious_call_names_the_missing_argument():
    meta = {"missing": {"tool": "getTeamSchedule", "param": "team"}}
    p = error_profile([], _call(team="x"), TOOLS, MSGS, meta)
    assert (p.kind, p.arg_kind, p.optional) == ("spurious_call", "string", False)
    assert error_profile([], [], TOOLS, MSGS).kind == "right"
    irr = error_profile([], _call(team="x"), TOOLS, MSGS, {"requested": {"tool": "getTeamRoster"}})
    assert (irr.kind, irr.similar, trap_max(irr)) == ("spurious_call", 0.5, TRAP_MAX["spurious_call"])
    offered = {
        "tools": TOOLS,
        "messages": MSGS,
        "label": [],
        "meta": {"requested": {"tool": "getPlayerRoster"}},
    }
    assert trap_score(irr, offered) == 1  # getTeamSchedule / getPlayerRoster: 1/4 < 1/2
    assert trap_max(error_profile([], _call(team="x"), TOOLS, MSGS)) == 0


def test_trap_score_counts_what_a_candidate_sets_again():
    p = error_profile(RIGHT, _call(team="Bayern Munich", endDate="2026-10-21"), TOOLS, MSGS)
    row = {"tools": TOOLS, "messages": MSGS, "label": RIGHT, "meta": {}}
    assert trap_score(p, row) == TRAP_MAX["missing_arg"]  # startDate: a date, optional, not verbatim
    verbatim = {**row, "messages": [{"role": "user", "content": "Bayern Munich, 2025-07-15 to 2026-10-21"}]}
    assert trap_score(p, verbatim) == TRAP_MAX["missing_arg"] - 1
    no_date = {**row, "label": [{"name": "getTeamStats", "arguments": {"team": "Bayern Munich"}}]}
    assert trap_score(p, no_date) == 0
    wf = error_profile(RIGHT, [{"name": "getTeamStats", "arguments": {"team": "x"}}], TOOLS, MSGS)
    assert trap_score(wf, row) == TRAP_MAX["wrong_function"]
    assert trap_score(wf, {**row, "tools": TOOLS[:1]}) == 0
    assert name_similarity("getRepairStatus", "accept_repair_quote") == pytest.approx(1 / 5)


def test_carry_keeps_the_signature_and_sets_more_traps(seed_rows):  # noqa: F811 (the imported fixture)
    cfg, pool = seed_rows
    data, probed, verdicts = _iteration(pool, 24)
    # the model left out the first argument of every call-row seed
    calls = []
    for r in data.iter_rows(named=True):
        label = json.loads(r["label"])
        calls.append(
            json.dumps(
                [{"name": c["name"], "arguments": dict(sorted(c["arguments"].items())[1:])} for c in label]
            )
        )
    probed = frame(
        [{**p, "calls": json.loads(c)} for p, c in zip(probed.iter_rows(named=True), calls)], PROBE
    )
    known = set(pool["sample_id"])
    kw = {"k": 3, "max_samples": None}
    plain, _, mp = expand(data, probed, verdicts, known, ExpandConfig(**kw), 1, cfg)
    carried, _, mc = expand(data, probed, verdicts, known, ExpandConfig(carry=True, **kw), 1, cfg)
    again, _, _ = expand(data, probed, verdicts, known, ExpandConfig(carry=True, **kw), 1, cfg)
    assert again["sample_id"].to_list() == carried["sample_id"].to_list()  # deterministic
    assert "carry" not in mp and mc["made"] >= mp["made"] - 2
    c = mc["carry"]
    assert sum(c["seeds_by_error"].values()) == mc["seeds"] and c["with_trap"] > 0
    parents = {r["sample_id"]: json.loads(r["meta"]) for r in data.iter_rows(named=True)}
    for r in carried.iter_rows(named=True):
        meta = json.loads(r["meta"])
        assert meta["signature"] == parents[r["parent_id"]]["signature"]
        assert meta["expansion"]["trap"]["score"] <= meta["expansion"]["trap"]["max"]

    def share(made):  # the traps the plain expansions set, scored the same way
        from looptool.errorprofile import seed_profile
        from looptool.expand import error_seeds

        profiles = {
            s.row["sample_id"]: seed_profile(s)
            for s in error_seeds(data, probed, verdicts, ["PRED_WRONG", "LABEL_WRONG"])
        }
        got = top = 0
        for r in made.iter_rows(named=True):
            p = profiles[r["parent_id"]]
            row = {k: json.loads(r[k]) for k in ("tools", "messages", "label", "meta")}
            got, top = got + trap_score(p, row), top + trap_max(p)
        return got / top

    assert share(carried) == pytest.approx(c["trap_share"], abs=1e-4)
    assert share(carried) > share(plain)
