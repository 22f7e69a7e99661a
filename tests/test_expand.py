"""Error-driven expansion: structured mode with the real API synthesizer; llm mode's parsing and rejection."""

from __future__ import annotations

import json

import polars as pl
import pytest

from looptool.checks import verify_sample
from looptool.expand import ExpandConfig, expand
from looptool.llm.base import Backend, Completion
from looptool.prompts.generator import parse_generated
from looptool.schema import PROBE, REJECTED, SAMPLE, TRAIN, VERDICT, frame
from looptool.synth import SeedConfig, heldout_domain_names, run_seed
from looptool.synth.config import split_domains
from looptool.synth.instantiate import same_signature


@pytest.fixture(scope="module")
def seed_rows(tmp_path_factory):
    cfg = SeedConfig(pool_size=120, heldout_size=12, label_noise=0.0)
    out = tmp_path_factory.mktemp("seed")
    run_seed(out_dir=out, cfg=cfg)
    return cfg, pl.read_parquet(out / "pool.parquet")


def _iteration(pool: pl.DataFrame, n: int = 12):
    data = pool.head(n).with_columns(pl.lit("seed_new").alias("part"))
    TRAIN.validate(data, "D_j")
    rows, verdicts = [], []
    for i, r in enumerate(data.iter_rows(named=True)):
        wrong = [{"name": "nope", "arguments": {}}]
        rows.append(
            {
                "sample_id": r["sample_id"],
                "iteration": 1,
                "prediction": "x",
                "calls": wrong,
                "parse_error": None,
                "mastered": False,
                "ppl": 2.0,
                "n_tokens": 5,
                "error": None,
            }
        )
        v = ["PRED_WRONG", "LABEL_WRONG", "ABSTAIN", "BOTH_WRONG"][i % 4]
        verdicts.append(
            {
                "sample_id": r["sample_id"],
                "iteration": 1,
                "verdict": v,
                "decided_by": "rule",
                "rationale": "r",
                "old_label": r["label"],
                "new_label": r["label"] if v == "LABEL_WRONG" else None,
                "votes": [],
            }
        )
    return data, frame(rows, PROBE), frame(verdicts, VERDICT)


def test_structured_expansion_keeps_signature(seed_rows):
    cfg, pool = seed_rows
    data, probed, verdicts = _iteration(pool)
    known = set(pool["sample_id"])
    made, rejected, m = expand(data, probed, verdicts, known, ExpandConfig(k=2, max_samples=None), 1, cfg)
    SAMPLE.validate(made, "expansions")
    REJECTED.validate(rejected, "rejected")
    assert m["seeds"] == 6 and m["requested"] == 12  # PRED_WRONG + LABEL_WRONG of 12
    assert m["made"] + m["rejected"] == 12 and m["made"] >= 8
    parents = {r["sample_id"]: r for r in data.iter_rows(named=True)}
    held = set(heldout_domain_names(cfg))
    for r in made.iter_rows(named=True):
        meta, parent = json.loads(r["meta"]), parents[r["parent_id"]]
        pmeta = json.loads(parent["meta"])
        assert same_signature(meta["signature"], pmeta["signature"])
        assert meta["domain"] != pmeta["domain"] and meta["domain"] not in held
        assert r["origin"] == "expansion" and r["iteration"] == 1 and r["sample_id"] not in known
        assert (
            verify_sample(
                {
                    **r,
                    "tools": json.loads(r["tools"]),
                    "messages": json.loads(r["messages"]),
                    "label": json.loads(r["label"]),
                    "meta": meta,
                },
                split_domains(cfg),
            )
            == []
        )
    assert made["sample_id"].n_unique() == made.height
    # deterministic
    again, _, _ = expand(data, probed, verdicts, known, ExpandConfig(k=2, max_samples=None), 1, cfg)
    assert again["sample_id"].to_list() == made["sample_id"].to_list()
    # the cap, and the switch
    capped, _, mc = expand(data, probed, verdicts, known, ExpandConfig(k=4, max_samples=5), 1, cfg)
    assert mc["requested"] == 5 and capped.height <= 5
    off, _, mo = expand(data, probed, verdicts, known, ExpandConfig(), 1, cfg, enabled=False)
    assert off.height == 0 and mo["seeds"] == 0


class ScriptedGenerator(Backend):
    """A test double for the generator model: replays fixed outputs in turn."""

    name = "scripted"
    model = "scripted-generator"

    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = 0

    def generate(self, requests, sampling):
        out = []
        for _ in requests:
            out.append(Completion(text=self.outputs[self.calls % len(self.outputs)]))
            self.calls += 1
        return out


GOOD = {
    "tools": [
        {
            "name": "find_cafe",
            "description": "Find a cafe in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City."}},
                "required": ["city"],
            },
        }
    ],
    "messages": [{"role": "user", "content": "Any nice cafe in Porto?"}],
    "label": [{"name": "find_cafe", "arguments": {"city": "Porto"}}],
    "reply": None,
}


def test_llm_mode_parses_verifies_and_rejects(seed_rows):
    cfg, pool = seed_rows
    singles = pool.filter(pl.col("meta").str.json_path_match("$.pattern") == "single")
    data, probed, verdicts = _iteration(singles, 4)
    ungrounded = dict(GOOD, label=[{"name": "find_cafe", "arguments": {"city": "Lisbon"}}])
    outputs = ["Sure! " + json.dumps(GOOD), "not json at all", json.dumps(ungrounded), json.dumps(GOOD)]
    gen = ScriptedGenerator(outputs)
    made, rejected, m = expand(
        data, probed, verdicts, set(), ExpandConfig(k=2, mode="llm", tries=1, max_samples=None), 1, cfg, gen
    )
    assert m["requested"] == 4
    reasons = sorted(rejected["reason"].to_list())
    assert made.height == 1  # the second GOOD is a duplicate of the first
    assert reasons == ["duplicate", "failed_verification", "unparseable"]
    assert "ungrounded" in rejected.filter(pl.col("reason") == "failed_verification")["detail"][0]
    meta = json.loads(made["meta"][0])
    assert meta["expansion"]["mode"] == "llm" and made["parent_id"][0] in set(data["sample_id"])


def test_llm_mode_on_the_tiny_model(seed_rows, tiny_model_dir, tmp_path, monkeypatch):
    """Plumbing with a real backend: the random model writes junk, every candidate is rejected with a reason."""
    from looptool.llm import BackendConfig, get_backend

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    cfg, pool = seed_rows
    data, probed, verdicts = _iteration(pool, 2)
    with get_backend(BackendConfig(backend="transformers"), model=str(tiny_model_dir)) as gen:
        made, rejected, m = expand(
            data,
            probed,
            verdicts,
            set(),
            ExpandConfig(k=1, mode="llm", tries=1, max_new_tokens=8),
            1,
            cfg,
            gen,
        )
    assert made.height == 0 and rejected.height == m["requested"] == 2
    assert set(rejected["reason"]) <= {"unparseable"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"tools": [], "messages": [], "label": []}', "non-empty"),
        (
            '{"tools": [{"name": "f"}], "messages": [{"role": "assistant", "content": "x"}], "label": []}',
            "must end",
        ),
        ('{"tools": [{"name": "f"}], "messages": [{"role": "user", "content": "x"}]}', "lacks"),
        ("```json\n" + json.dumps(GOOD) + "\n```", None),
        ('{"tools": [1', "not valid JSON"),
    ],
)
def test_parse_generated(text, error):
    obj, err = parse_generated(text)
    if error:
        assert obj is None and error in err
    else:
        assert err is None and obj["label"] == GOOD["label"]


# --- expand.from_parts: boundary samples seed expansions too (opt-in) -------------------------------------


def _with_boundary(pool: pl.DataFrame):
    """12 samples: 0-7 failed (verdicts as in _iteration), 8-11 greedy-mastered with pass rates 1, 0.5,
    0.25, 1 from 4 draws (9 and 10 are on the boundary)."""
    data, probed, verdicts = _iteration(pool, 12)
    rates = [0.0] * 8 + [1.0, 0.5, 0.25, 1.0]
    probed = probed.with_columns(
        (pl.int_range(pl.len()) >= 8).alias("mastered"),
        pl.Series("pass_rate", rates, dtype=pl.Float64),
        pl.lit(4, pl.Int64).alias("n_samples"),
        pl.Series("failed_sample", [None if r == 1 else f"wrong answer {i}" for i, r in enumerate(rates)]),
    )
    PROBE.validate(probed, "probe")
    return data, probed, verdicts.head(8)


def test_boundary_samples_seed_expansions_when_asked(seed_rows):
    from looptool.config import ConfigError

    cfg, pool = seed_rows
    data, probed, verdicts = _with_boundary(pool)
    ids = data["sample_id"].to_list()
    known = set(pool["sample_id"])
    # default: error seeds only, as in the paper (the pass-rate columns change nothing)
    plain, _, m0 = expand(data, probed, verdicts, known, ExpandConfig(k=2, max_samples=None), 1, cfg)
    assert ExpandConfig().from_parts == ["error_seed"] and m0["seeds"] == 4
    assert "BOUNDARY" not in m0["seeds_by_verdict"]
    both = ExpandConfig(k=2, max_samples=None, from_parts=["error_seed", "boundary"])
    made, _, m = expand(data, probed, verdicts, known, both, 1, cfg)
    assert m["seeds"] == 6 and m["seeds_by_verdict"]["BOUNDARY"] == 2 and m["requested"] == 12
    from_boundary = made.filter(pl.col("parent_id").is_in([ids[9], ids[10]]))
    assert from_boundary.height >= 1
    assert {json.loads(x)["expansion"]["verdict"] for x in from_boundary["meta"]} == {"BOUNDARY"}
    assert (
        made.filter(~pl.col("parent_id").is_in([ids[9], ids[10]]))["sample_id"].to_list()
        == plain["sample_id"].to_list()
    )  # the error seeds' expansions are the same draws
    only, _, mb = expand(data, probed, verdicts, known, ExpandConfig(k=1, from_parts=["boundary"]), 1, cfg)
    assert mb["seeds"] == 2 and set(only["parent_id"]) <= {ids[9], ids[10]}
    with pytest.raises(ConfigError, match=r"expand.from_parts: boundary .*probe.samples > 0"):
        expand(data, probed.drop("pass_rate", "n_samples", "failed_sample"), verdicts, known, both, 1, cfg)
    with pytest.raises(ValueError, match="from_parts"):
        ExpandConfig(from_parts=["high_ppl"])
    with pytest.raises(ValueError, match="from_parts"):
        ExpandConfig(from_parts=[])


def test_boundary_seed_shows_a_rejected_draw_to_the_generator(seed_rows):
    cfg, pool = seed_rows
    data, probed, verdicts = _with_boundary(pool)
    seen = []

    class Recording(ScriptedGenerator):
        def generate(self, requests, sampling):
            seen.extend(requests)
            return super().generate(requests, sampling)

    conf = ExpandConfig(k=1, mode="llm", tries=1, max_samples=None, from_parts=["boundary"])
    expand(data, probed, verdicts, set(), conf, 1, cfg, Recording([json.dumps(GOOD)]))
    prompts = [r.messages[-1]["content"] for r in seen]
    assert len(prompts) == 2
    assert any("wrong answer 9" in p and "50%" in p for p in prompts)
    assert any("wrong answer 10" in p and "25%" in p for p in prompts)
