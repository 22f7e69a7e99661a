"""Seed synthesis: trees, API schemas, grounding, the build (determinism, held-out split, noise), verification,
re-instantiation and decontamination."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from looptool.calls import validate_calls
from looptool.checks import META_FIELDS, SIGNATURE_FIELDS, tool_problems, verify_sample
from looptool.checks.surface import forms, grounded, kind_of, normalize, write
from looptool.config import ConfigError
from looptool.schema import NOISE_TRUTH, PATTERNS, REJECTED, SAMPLE, make_sample_id, rows
from looptool.storage import read_parquet
from looptool.synth import (
    SeedConfig,
    heldout_domain_names,
    instantiate,
    load_seed_config,
    run_seed,
)
from looptool.synth.apis import build_catalog, domains, leaves
from looptool.synth.config import split_domains
from looptool.synth.decontam import Decontaminator, read_questions
from looptool.synth.slots import _LIB, sample

JSON_COLS = ["tools", "messages", "label", "meta"]
FILES = ("pool", "heldout", "rejected", "noise_truth", "dev")


def small_cfg(**kw) -> SeedConfig:
    base = {"pool_size": 240, "heldout_size": 60}
    base.update(kw)
    return SeedConfig(**base)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The same small seed built three times: noisy (twice, for byte identity) and noise-free."""
    root = tmp_path_factory.mktemp("seed")
    out = {}
    for name, noise in (("a", 0.1), ("b", 0.1), ("clean", 0.0)):
        cfg = small_cfg(label_noise=noise)
        metrics = run_seed(out_dir=root / name, cfg=cfg, progress=False)
        out[name] = (root / name, metrics, cfg)
    return out


def _rows(path: Path, name: str) -> list[dict]:
    schema = {
        "pool": SAMPLE,
        "heldout": SAMPLE,
        "dev": SAMPLE,
        "rejected": REJECTED,
        "noise_truth": NOISE_TRUTH,
    }[name]
    cols = JSON_COLS if name != "noise_truth" else ["clean_label", "noisy_label"]
    return rows(read_parquet(path / f"{name}.parquet", schema), cols)


# --- trees and APIs ---------------------------------------------------------------------------------------


def test_context_tree_is_big_enough_and_well_formed():
    ls = leaves()
    assert len(domains()) >= 30
    assert len(ls) >= 300
    assert len({leaf.function for leaf in ls}) == len(ls), "function names must be unique across the tree"
    for leaf in ls:
        for intent in leaf.intents:
            if leaf.consumes:
                assert "{x}" in intent, (
                    f"{leaf.path}: consumer intent {intent!r} must name the entity as {{x}}"
                )
            assert "{" not in intent.replace("{x}", ""), f"{leaf.path}: bad placeholder in {intent!r}"
    chains = {(leaf.domain, leaf.subdomain) for leaf in ls if leaf.produces} & {
        (leaf.domain, leaf.subdomain) for leaf in ls if leaf.consumes
    }
    assert len({d for d, _ in chains}) == len(domains()), "every domain needs a producer/consumer chain"


def test_every_api_is_a_valid_json_schema_tool():
    cat = build_catalog(0, 2)
    assert len(cat.apis) == 2 * len(leaves())
    for api in cat.apis:
        assert tool_problems(api.tool) == [], api.key
    conventions = Counter(a.convention for a in cat.apis)
    assert set(conventions) == {"snake_case", "camelCase"}
    kinds = {kind_of(p.schema) for a in cat.apis for p in a.params}
    assert {
        "string:date",
        "string:time",
        "string:email",
        "string:id",
        "string:currency",
        "string:country",
        "enum",
        "integer",
        "number",
        "boolean",
        "array",
        "object",
    } <= kinds


def test_sampled_values_validate_and_mentions_ground():
    rng = random.Random(3)
    cat = build_catalog(0, 1)
    from looptool.synth.agents import mention

    for api in cat.apis:
        for p in api.params:
            for _ in range(3):
                v = sample(p.slot, rng)
                call = {"name": api.name, "arguments": {p.prop: api.arguments({p.slot.name: v})[p.prop]}}
                errs = [e for e in validate_calls([call], [api.tool]) if "missing required" not in e]
                assert errs == [], (api.name, p.prop, v, errs)
                text = normalize(mention(p.slot, v, rng))
                value = call["arguments"][p.prop]
                assert grounded(value, {**p.schema, "default": None}, text, p.prop), (
                    api.name,
                    p.prop,
                    v,
                    text,
                )


def test_boolean_phrases_mention_what_they_switch():
    for s in _LIB.values():
        if s.kind == "boolean":
            for phrase in s.yes + s.no:
                assert grounded(True, {"type": "boolean"}, normalize(phrase), s.name), (s.name, phrase)


def test_grounding_reads_human_forms_and_rejects_others():
    rng = random.Random(0)
    for _ in range(20):
        w = write("string:date", "2025-03-07", rng)
        assert grounded("2025-03-07", {"type": "string", "format": "date"}, normalize(f"on {w}, please"))
    assert grounded("2025-03-07", {"format": "date", "type": "string"}, normalize("the 7th of March 2025"))
    assert not grounded("2025-03-07", {"format": "date", "type": "string"}, normalize("March 17, 2025"))
    time_schema = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
    assert grounded("15:30", time_schema, normalize("at 3:30 pm"))
    assert not grounded("15:30", time_schema, normalize("at 5:30 pm"))
    assert grounded("EUR", {"type": "string", "pattern": "^[A-Z]{3}$"}, normalize("in euros"))
    assert grounded(2, {"type": "integer"}, normalize("for two people"))
    assert not grounded(2, {"type": "integer"}, normalize("for 12 people"))
    assert grounded(1200.0, {"type": "number"}, normalize("under $1,200"))
    assert grounded("Paris", {"type": "string"}, normalize("Flights to Paris"))
    assert not grounded("Paris", {"type": "string"}, normalize("Flights to Parisville"))
    assert grounded(5, {"type": "integer", "default": 5}, "nothing said")
    assert "march 7 2025" in forms("string:date", "2025-03-07")


def test_mention_search_is_the_word_boundary_regex():
    # grounding looks a form up with str.find and a word-character test instead of compiling
    # (?<![\w])form(?![\w]) per value: both must agree, Unicode word characters and overlaps included
    import re

    from looptool.checks.surface import _said

    def regex(form: str, text: str) -> bool:
        return re.search(r"(?<![\w])" + re.escape(form) + r"(?![\w])", text) is not None

    cases = [
        ("aa", "aaa aa"),
        ("aa", "aaa_aa"),
        ("paris", "paris"),
        ("5", "15 5"),
        ("5", "1.5"),
        ("é", "café é"),
    ]
    cases += [("3", "x३3"), ("ⅻ", "aⅻ"), ("-1", "a-1"), (".5", "0.5 .5")]
    rng = random.Random(0)
    alphabet = "ab1_ -.:é३Ⅻ$"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        form = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        cases.append((form, text))
    for form, text in cases:
        assert _said(form, text) == regex(form, text), (form, text)


# --- the build ----------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_parquet(builds):
    a, b = builds["a"][0], builds["b"][0]
    for name in FILES:
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name


def test_different_seed_gives_a_different_corpus(tmp_path, builds):
    run_seed(out_dir=tmp_path, cfg=small_cfg(random_seed=1, pool_size=60, heldout_size=12), progress=False)
    ids_a = {r["sample_id"] for r in _rows(builds["a"][0], "pool")}
    ids_b = {r["sample_id"] for r in _rows(tmp_path, "pool")}
    assert not ids_a & ids_b


def test_pool_and_heldout_sizes_patterns_and_metrics(builds):
    path, metrics, cfg = builds["clean"]
    pool, held = _rows(path, "pool"), _rows(path, "heldout")
    assert len(pool) == cfg.pool_size and len(held) == cfg.heldout_size
    for split in (pool, held):
        assert {r["meta"]["pattern"] for r in split} == set(PATTERNS)
    assert metrics["pool"]["size"] == len(pool)
    assert sum(metrics["pool"]["by_pattern"].values()) == len(pool)
    assert metrics["rejected"]["total"] == len(_rows(path, "rejected"))
    assert metrics["catalog"]["leaves"] >= 300


def test_every_pool_label_validates_against_its_tools(builds):
    for name in ("clean", "a"):
        path = builds[name][0]
        noisy = {t["sample_id"] for t in _rows(path, "noise_truth")}
        for split in ("pool", "heldout"):
            for r in _rows(path, split):
                if r["sample_id"] in noisy:
                    continue
                assert validate_calls(r["label"], r["tools"]) == [], r["sample_id"]


def test_clean_rows_pass_every_rule(builds):
    path, _, cfg = builds["clean"]
    for r in _rows(path, "pool"):
        assert verify_sample(r, split_domains(cfg), "pool") == [], r["sample_id"]
    for r in _rows(path, "heldout"):
        assert verify_sample(r, split_domains(cfg), "heldout") == [], r["sample_id"]


def test_heldout_domains_never_appear_in_the_pool(builds):
    path, _, cfg = builds["clean"]
    held = set(heldout_domain_names(cfg))
    assert len(held) == cfg.heldout_domains
    cat = build_catalog(cfg.random_seed, cfg.apis_per_leaf, cfg.optional_keep)
    for r in _rows(path, "pool"):
        touched = {r["meta"]["domain"]} | {d for t in r["tools"] for d in cat.domain_of(t["name"])}
        assert not touched & held, (r["sample_id"], touched & held)
    assert {r["meta"]["domain"] for r in _rows(path, "heldout")} <= held
    assert not {r["sample_id"] for r in _rows(path, "heldout")} & {
        r["sample_id"] for r in _rows(path, "pool")
    }


def test_meta_contract(builds):
    path = builds["a"][0]
    for split in ("pool", "heldout"):
        for r in _rows(path, split):
            meta = r["meta"]
            assert set(META_FIELDS) <= set(meta), meta
            assert set(meta["signature"]) == set(SIGNATURE_FIELDS)
            assert meta["generator"] == "procedural"
            assert meta["pattern"] == meta["signature"]["pattern"]
            assert (
                r["origin"] == "seed"
                and r["iteration"] == 0
                and r["label_rev"] == 0
                and r["parent_id"] is None
            )
            assert r["sample_id"] == make_sample_id(r["tools"], r["messages"])
            if meta["pattern"] in ("missing_arg", "irrelevant"):
                assert r["label"] == [] and isinstance(meta["reply"], str) and meta["reply"]
            else:
                assert r["label"] and meta["reply"] is None
            sig = meta["signature"]
            assert sig["n_tools"] == len(r["tools"])
            assert sig["arg_types"] == sorted(sig["arg_types"])


def test_noise_truth_matches_exactly_the_corrupted_rows(builds):
    noisy_path, metrics, cfg = builds["a"]
    clean = {r["sample_id"]: r for r in _rows(builds["clean"][0], "pool")}
    noisy = {r["sample_id"]: r for r in _rows(noisy_path, "pool")}
    truth = {t["sample_id"]: t for t in _rows(noisy_path, "noise_truth")}
    assert clean.keys() == noisy.keys()
    assert len(truth) == round(cfg.label_noise * len(clean))
    differing = {sid for sid in clean if clean[sid]["label"] != noisy[sid]["label"]}
    assert differing == set(truth)
    for sid, row in noisy.items():
        for col in ("tools", "messages", "meta", "origin"):
            assert row[col] == clean[sid][col], (sid, col)
    for sid, t in truth.items():
        assert t["clean_label"] == clean[sid]["label"] and clean[sid]["label"]
        assert t["noisy_label"] == noisy[sid]["label"]
    assert Counter(t["kind"] for t in truth.values()) == Counter(metrics["noise"]["by_kind"])
    assert set(metrics["noise"]["by_kind"]) == {
        "wrong_value",
        "dropped_optional",
        "dropped_required",
        "wrong_function",
        "swapped_args",
    }
    assert _rows(builds["clean"][0], "noise_truth") == []


# --- verification catches broken rows ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_rows(builds):
    path, _, cfg = builds["clean"]
    by_pattern: dict[str, dict] = {}
    for r in _rows(path, "pool"):
        by_pattern.setdefault(r["meta"]["pattern"], r)
    return by_pattern, cfg


def _reasons(problems: list[str]) -> set[str]:
    return {p.split(":", 1)[0] for p in problems}


def test_verify_rejects_an_ungrounded_value(builds):
    """A schema-valid value the user never said (a date a year off) is caught by grounding alone."""
    import datetime as dt

    path, _, cfg = builds["clean"]
    for r in _rows(path, "pool"):
        if r["meta"]["pattern"] != "single":
            continue
        call = r["label"][0]
        props = next(t for t in r["tools"] if t["name"] == call["name"])["parameters"]["properties"]
        dates = [k for k in call["arguments"] if kind_of(props[k]) == "string:date"]
        if dates:
            break
    else:
        pytest.fail("no single-call sample with a date argument")
    assert verify_sample(r, split_domains(cfg)) == []
    k = dates[0]
    call["arguments"][k] = (dt.date.fromisoformat(call["arguments"][k]) + dt.timedelta(days=400)).isoformat()
    assert validate_calls(r["label"], r["tools"]) == []
    problems = verify_sample(r, split_domains(cfg))
    assert _reasons(problems) == {"ungrounded"}, problems


def test_verify_rejects_schema_and_pattern_violations(good_rows):
    rows_, cfg = good_rows
    r = json.loads(json.dumps(rows_["single"]))
    r["label"][0]["arguments"]["no_such_arg"] = 1
    assert "invalid_call" in _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["single"]))
    r["label"] = []
    assert {"label_pattern", "meta"} & _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["missing_arg"]))
    r["label"] = [{"name": r["tools"][0]["name"], "arguments": {}}]
    assert "label_pattern" in _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["parallel"]))
    r["label"] = r["label"][:1]
    assert {"label_pattern", "meta"} & _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["multi_turn"]))
    r["messages"] = [m for m in r["messages"] if m["role"] != "tool"]
    assert _reasons(verify_sample(r, split_domains(cfg))) - {"sample_id"}

    r = json.loads(json.dumps(rows_["single"]))
    del r["meta"]["signature"]
    assert "meta" in _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["single"]))
    r["tools"][0]["parameters"]["required"] = ["not_a_property"]
    assert "bad_tool" in _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["single"]))
    r["tools"][0]["parameters"]["properties"]["x"] = {"type": "dict", "description": "BFCL style"}
    assert "bad_tool" in _reasons(verify_sample(r, split_domains(cfg)))

    r = json.loads(json.dumps(rows_["single"]))
    r["messages"][0]["content"] += " (edited)"
    assert "sample_id" in _reasons(verify_sample(r, split_domains(cfg)))


def test_verify_flags_heldout_leaks(builds):
    path, _, cfg = builds["clean"]
    held_row = _rows(path, "heldout")[0]
    assert verify_sample(held_row, split_domains(cfg), "heldout") == []
    assert "heldout_leak" in _reasons(verify_sample(held_row, split_domains(cfg), "pool"))


# --- instantiate -----------------------------------------------------------------------------------------------


def test_instantiate_preserves_signature_and_avoids_heldout(builds):
    path, _, cfg = builds["clean"]
    held = set(heldout_domain_names(cfg))
    pool = _rows(path, "pool")
    rng = random.Random(11)
    made = 0
    by_pattern = Counter()
    for r in rng.sample(pool, 60):
        sig = r["meta"]["signature"]
        avoid = {r["meta"]["domain"]}
        new = instantiate(sig, random.Random(r["sample_id"]), cfg, avoid_domains=avoid)
        if new is None:
            continue
        made += 1
        by_pattern[sig["pattern"]] += 1
        assert new["meta"]["signature"] == sig
        assert new["meta"]["domain"] not in avoid | held
        assert verify_sample(new, split_domains(cfg), "pool") == []
        assert new["origin"] == "expansion" and new["sample_id"] != r["sample_id"]
        again = instantiate(sig, random.Random(r["sample_id"]), cfg, avoid_domains=avoid)
        assert again == new, "instantiate must be deterministic given the rng"
    assert made >= 54, f"only {made}/60 signatures re-instantiated"
    assert set(by_pattern) == set(PATTERNS)


def test_instantiate_returns_none_when_impossible():
    cfg = small_cfg()
    # no domain has 15 other capabilities to offer as distractors
    sig = {
        "pattern": "distractor",
        "n_calls": 1,
        "parallel": False,
        "arg_types": ["string:date"],
        "n_tools": 16,
        "n_distractors": 15,
        "missing_arg": False,
        "turns": 1,
    }
    assert instantiate(sig, random.Random(0), cfg, max_tries=5) is None
    with pytest.raises(ValueError):
        instantiate({"pattern": "single"}, random.Random(0), cfg)


# --- config and stage ---------------------------------------------------------------------------------------


def test_seed_config_is_strict(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("seed:\n  pool_sise: 10\n")
    with pytest.raises(ConfigError, match="pool_sise"):
        load_seed_config(p)
    p.write_text("seed:\n  patterns: {single: 1.0, chitchat: 1.0}\n")
    with pytest.raises(ConfigError, match="chitchat"):
        load_seed_config(p)
    p.write_text("seed:\n  mode: magic\n")
    with pytest.raises(ConfigError):
        load_seed_config(p)
    p.write_text(
        "seed:\n  pool_size: 10\nbackends:\n  generator: {backend: openai, base_url: http://x/v1, model: m}\n"
    )
    cfg = load_seed_config(p)
    assert cfg.pool_size == 10 and cfg.generator.backend == "openai" and cfg.judge.backend == "none"


def test_params_yaml_seed_section_loads():
    root = Path(__file__).resolve().parents[1]
    cfg = load_seed_config(root / "params.yaml")
    assert cfg.mode == "procedural" and cfg.pool_size >= 2000 and cfg.label_noise == pytest.approx(0.1)


def test_stage_script_writes_outputs(tmp_path):
    import importlib.util

    from click.testing import CliRunner

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("stage_seed", root / "stages" / "seed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    params = tmp_path / "params.yaml"
    params.write_text("seed:\n  pool_size: 30\n  heldout_size: 12\n  label_noise: 0.2\n")
    res = CliRunner().invoke(
        mod.main,
        ["--params", str(params), "--out-dir", str(tmp_path / "seed"), "--metrics", str(tmp_path / "m.json")],
    )
    assert res.exit_code == 0, res.output
    for name in FILES:
        assert (tmp_path / "seed" / f"{name}.parquet").exists()
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["pool"]["size"] == 30 and m["noise"]["count"] == 6 and m["heldout"]["size"] == 12
    assert pl.read_parquet(tmp_path / "seed" / "pool.parquet").height == 30


# --- decontamination -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def benchmarks_dir(bfcl_data_dir, acebench_data_dir, tmp_path_factory):
    """Benchmark questions to decontaminate against: three question files of the bfcl-eval package and the
    ACEBench-format fixtures. (The package's data folder as a whole is no decontamination folder: it also holds
    BFCL_v4_format_sensitivity.json, a pretty-printed index that read_questions rejects as not JSON lines.)"""
    d = tmp_path_factory.mktemp("benchmarks")
    for name in ("simple_python", "multiple", "live_multiple"):
        shutil.copy(bfcl_data_dir / f"BFCL_v4_{name}.json", d)
    shutil.copytree(acebench_data_dir, d / "acebench_en")
    return d


def test_decontamination_flags_benchmark_questions(benchmarks_dir, builds, tmp_path):
    dec = Decontaminator([benchmarks_dir], n=8, threshold=0.5)
    assert len(dec) > 1000
    src, qid, text = next(q for q in read_questions([benchmarks_dir]) if len(q[2].split()) > 20)
    m = dec.match([text])
    assert m is not None and m.overlap >= 0.5
    paraphrase = "Hello! " + text + " Thanks a lot."
    assert dec.match_messages([{"role": "user", "content": paraphrase}]) is not None
    pool = _rows(builds["clean"][0], "pool")
    flagged = [r for r in pool if dec.match_messages(r["messages"])]
    assert len(flagged) <= len(pool) // 100

    metrics = run_seed(
        out_dir=tmp_path,
        cfg=small_cfg(pool_size=40, heldout_size=12, decontam_dirs=[str(benchmarks_dir)]),
        progress=False,
    )
    assert metrics["decontam"]["enabled"] and metrics["decontam"]["questions"] == len(dec)
    rejected = _rows(tmp_path, "rejected")
    contaminated = [r for r in rejected if r["reason"] == "contaminated"]
    assert metrics["decontam"]["contaminated"] == len(contaminated)
    for r in contaminated:
        assert r["meta"]["decontam"]["overlap"] >= 0.5


def test_decontamination_rejects_a_copied_question(benchmarks_dir, monkeypatch, tmp_path):
    """A generated request that copies a benchmark question ends up in rejected.parquet as contaminated."""
    from looptool.synth import agents as agents_mod

    _, _, text = next(q for q in read_questions([benchmarks_dir]) if len(q[2].split()) > 20)
    real = agents_mod.compose
    calls = {"n": 0}

    def leaky(intent, phrases, rng, thanks=True):
        calls["n"] += 1
        out = real(intent, phrases, rng, thanks)
        return text if calls["n"] == 1 else out

    monkeypatch.setattr(agents_mod, "compose", leaky)
    metrics = run_seed(
        out_dir=tmp_path,
        cfg=small_cfg(pool_size=12, heldout_size=0, decontam_dirs=[str(benchmarks_dir)]),
        progress=False,
    )
    rejected = _rows(tmp_path, "rejected")
    reasons = Counter(r["reason"] for r in rejected)
    assert reasons["contaminated"] == 1, reasons
    assert metrics["pool"]["size"] == 12


# --- the dev split ----------------------------------------------------------------------------------------------


def test_dev_split_adds_a_file_and_changes_nothing_else_drawn(tmp_path, builds, caplog):
    """dev_domains > 0: dev rows only from the dev domains (neither the test's nor the pool's), verified, never
    in the pool; the test split is the same rows as without a dev split. dev_domains 0 (the default): the
    other files are byte-identical to a build that never knew about dev, and dev.parquet is empty with a
    warning."""
    from looptool.synth import dev_domain_names, pool_domain_names

    path_a, _, cfg_a = builds["a"]
    assert cfg_a.dev_domains == 0 and not _rows(path_a, "dev") and dev_domain_names(cfg_a) == []
    cfg = small_cfg(label_noise=0.1, dev_domains=3, dev_size=30)
    with caplog.at_level("WARNING", logger="looptool"):
        metrics = run_seed(out_dir=tmp_path, cfg=cfg, progress=False)
    assert "dev.parquet is empty" not in caplog.text
    dev_doms, held_doms = set(dev_domain_names(cfg)), set(heldout_domain_names(cfg))
    assert len(dev_doms) == 3 and not dev_doms & held_doms and not dev_doms & set(pool_domain_names(cfg))
    assert held_doms == set(heldout_domain_names(cfg_a))  # drawn after the test's: the test's domains stay
    dev, pool, held = _rows(tmp_path, "dev"), _rows(tmp_path, "pool"), _rows(tmp_path, "heldout")
    assert len(dev) == 30 and metrics["dev"]["size"] == 30 and metrics["dev"]["domains"] == sorted(dev_doms)
    assert {r["meta"]["pattern"] for r in dev} == set(PATTERNS)
    cat = build_catalog(cfg.random_seed, cfg.apis_per_leaf, cfg.optional_keep)
    for r in dev:
        assert verify_sample(r, split_domains(cfg), "dev") == [], r["sample_id"]
        assert "heldout_leak" in _reasons(
            verify_sample(r, split_domains(cfg), "pool")
        )  # a dev row can never enter the pool
        touched = {r["meta"]["domain"]} | {d for t in r["tools"] for d in cat.domain_of(t["name"])}
        assert touched <= dev_doms, touched
    for r in pool:  # the pool touches neither split's domains
        touched = {r["meta"]["domain"]} | {d for t in r["tools"] for d in cat.domain_of(t["name"])}
        assert not touched & (dev_doms | held_doms)
    ids = {r["sample_id"] for r in dev}
    assert not ids & {r["sample_id"] for r in pool} and not ids & {r["sample_id"] for r in held}
    # the test split does not depend on the dev split (its domains and draws are the same)
    assert (tmp_path / "heldout.parquet").read_bytes() == (path_a / "heldout.parquet").read_bytes()
    # a test row is refused as dev and a dev row as test
    assert "heldout_leak" in _reasons(verify_sample(held[0], split_domains(cfg), "dev"))
    assert "heldout_leak" in _reasons(verify_sample(dev[0], split_domains(cfg), "heldout"))


def test_no_dev_split_warns_once_and_writes_an_empty_file(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="looptool"):
        m = run_seed(out_dir=tmp_path, cfg=small_cfg(pool_size=24, heldout_size=6), progress=False)
    lines = [r.getMessage() for r in caplog.records if "dev.parquet" in r.getMessage()]
    assert len(lines) == 1 and "seed.dev_domains is 0" in lines[0] and "\n" not in lines[0]
    assert m["dev"]["size"] == 0 and read_parquet(tmp_path / "dev.parquet", SAMPLE).height == 0


def test_dev_domains_bounds_name_the_key():
    n = len(domains())
    with pytest.raises(ValueError, match="dev_domains must be in"):
        SeedConfig(heldout_domains=4, dev_domains=n - 6)
    SeedConfig(heldout_domains=4, dev_domains=n - 7)
