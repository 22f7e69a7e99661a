"""seed.mode: import: each format's example file -> seed + select (the stage functions) -> D_1 rows equal to the
source's tools, messages and labels; bad rows rejected with file, line and field. Held-out splits,
decontamination and label noise as for synthesized seeds.

The `dvc repro` of seed + select over every format at once is in test_import_dvc (marked dvc, slow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from looptool.merge import SelectConfig, run_select
from looptool.schema import SAMPLE, TRAIN, frame, make_sample_id
from looptool.storage import read_json, write_parquet
from looptool.synth.config import SeedConfig
from looptool.synth.imported import run_import_seed

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "import"

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"],
    },
}
FLIGHT = {
    "name": "book_flight",
    "description": "Book a flight.",
    "parameters": {
        "type": "object",
        "properties": {"origin": {"type": "string"}, "dest": {"type": "string"}},
        "required": ["origin", "dest"],
    },
}
CONVERT = {
    "name": "convert_currency",
    "description": "Convert an amount between currencies.",
    "parameters": {
        "type": "object",
        "properties": {
            "amount": {"type": "number", "description": "The amount"},
            "from_currency": {"type": "string"},
            "to_currency": {"type": "string"},
        },
        "required": ["amount", "from_currency", "to_currency"],
    },
}
STOCK = {
    "name": "get_stock_price",
    "description": "Get the latest price of a stock.",
    "parameters": {
        "type": "object",
        "properties": {"symbol": {"type": "string", "description": "Ticker symbol"}},
        "required": ["symbol"],
    },
}
NEWS = {
    "name": "get_company_news",
    "description": "Latest news about a company.",
    "parameters": {
        "type": "object",
        "properties": {"company": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["company"],
    },
}
STOCK_Q = "What are Apple's and Microsoft's stock prices right now?"
FLIGHT_Q = "Book me a flight from Paris to Oslo, then tell me the Oslo weather."
PARIS = {
    "type": "function",
    "function": {"name": "book_flight", "arguments": {"origin": "Paris", "dest": "Oslo"}},
}


def _call(name, args, id=None):
    tc = {"type": "function", "function": {"name": name, "arguments": args}}
    return {**tc, "id": id} if id else tc


# (tools, messages, label) of every D_1 row each example file must give, written from the files by hand.
EXPECTED = {
    "openai.jsonl": [
        (
            [WEATHER],
            [
                {"role": "system", "content": "You are a travel assistant."},
                {"role": "user", "content": "What's the weather in Paris in celsius?"},
            ],
            [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}],
        ),
        (
            [FLIGHT, WEATHER],
            [{"role": "user", "content": FLIGHT_Q}],
            [{"name": "book_flight", "arguments": {"origin": "Paris", "dest": "Oslo"}}],
        ),
        (
            [FLIGHT, WEATHER],
            [
                {"role": "user", "content": FLIGHT_Q},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [_call("book_flight", {"origin": "Paris", "dest": "Oslo"}, "call_b1")],
                },
                {"role": "tool", "tool_call_id": "call_b1", "content": '{"booking": "BK-123"}'},
            ],
            [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
        ),
    ],
    "sharegpt.json": [
        (
            [CONVERT],
            [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Convert 100 US dollars to euros."},
            ],
            [
                {
                    "name": "convert_currency",
                    "arguments": {"amount": 100, "from_currency": "USD", "to_currency": "EUR"},
                }
            ],
        ),
        ([CONVERT], [{"role": "user", "content": "Order me a pizza."}], []),
    ],
    "hermes.jsonl": [
        (
            [STOCK, NEWS],
            [{"role": "user", "content": STOCK_Q}],
            [
                {"name": "get_stock_price", "arguments": {"symbol": "AAPL"}},
                {"name": "get_stock_price", "arguments": {"symbol": "MSFT"}},
            ],
        ),
        (
            [STOCK, NEWS],
            [
                {"role": "user", "content": STOCK_Q},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        _call("get_stock_price", {"symbol": "AAPL"}),
                        _call("get_stock_price", {"symbol": "MSFT"}),
                    ],
                },
                {"role": "tool", "name": "get_stock_price", "content": '{"symbol": "AAPL", "price": 189.3}'},
                {"role": "tool", "name": "get_stock_price", "content": '{"symbol": "MSFT", "price": 411.2}'},
                {"role": "assistant", "content": "Apple trades at 189.30 USD and Microsoft at 411.20 USD."},
                {"role": "user", "content": "Any news on Apple? Two items are enough."},
            ],
            [{"name": "get_company_news", "arguments": {"company": "Apple", "limit": 2}}],
        ),
    ],
    "xlam.json": [
        (
            ["live_giveaways_by_type"],
            [{"role": "user", "content": "Where can I find live giveaways for beta access and games?"}],
            [
                {"name": "live_giveaways_by_type", "arguments": {"type": "beta"}},
                {"name": "live_giveaways_by_type", "arguments": {"type": "game"}},
            ],
        ),
        (
            ["is_sum_of_cubes", "find_n_largest_numbers", "calculate_grade"],
            [
                {
                    "role": "user",
                    "content": "Is 153 the sum of the cubes of its digits? Also find the 3 largest numbers in [4, 9, 1, 12].",
                }
            ],
            [
                {"name": "is_sum_of_cubes", "arguments": {"num": 153}},
                {"name": "find_n_largest_numbers", "arguments": {"nums": [4, 9, 1, 12], "n": 3}},
            ],
        ),
    ],
    "bfcl/BFCL_v3_simple.json": [
        (
            ["calculate_triangle_area"],
            [
                {
                    "role": "user",
                    "content": "Find the area of a triangle with a base of 10 units and height of 5 units.",
                }
            ],
            [{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5, "unit": "units"}}],
        ),
        (
            ["math.factorial"],
            [{"role": "user", "content": "Calculate the factorial of 5 using math functions."}],
            [{"name": "math.factorial", "arguments": {"number": 5}}],
        ),
    ],
}
# (line, field text, reason) of the rows each file must reject.
REJECTS = {
    "openai.jsonl": [
        (3, "messages[1].tool_calls[0].function.arguments: not valid JSON", "invalid_messages"),
        (4, "messages[1] (label): get_weather: missing required argument 'city'", "invalid_label"),
    ],
    "sharegpt.json": [(19, "conversations[1].value: not valid JSON", "invalid_messages")],
    "hermes.jsonl": [(2, "conversations[2].value <tool_call> 1: neither JSON", "invalid_messages")],
    "xlam.json": [
        (4, "answers (label): weather_by_zip.zip: 10001 is not of type 'string'", "invalid_label"),
        (5, "answers: not valid JSON", "invalid_label"),
    ],
    "bfcl/BFCL_v3_simple.json": [(3, "id: no ground truth for 'simple_2'", "no_ground_truth")],
}


def _key(tools, messages, label):
    names = [t if isinstance(t, str) else t["name"] for t in tools]
    return json.dumps([names, messages, label], sort_keys=True)


def seed_and_select(tmp_path: Path, files: list, **kw) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    cfg = SeedConfig(
        mode="import",
        import_files=[str(f) for f in files],
        label_noise=kw.pop("label_noise", 0.0),
        **{"import_heldout_fraction": 0.0, **kw},
    )
    m = run_import_seed(out_dir=tmp_path / "seed", cfg=cfg)
    n = m["pool"]["size"]
    run_select(
        pool=tmp_path / "seed" / "pool.parquet",
        out=tmp_path / "d1.parquet",
        used=tmp_path / "used.parquet",
        events=tmp_path / "events.parquet",
        cfg=SelectConfig(dataset_size=n, stratify=False),
    )
    return (
        pl.read_parquet(tmp_path / "d1.parquet"),
        pl.read_parquet(tmp_path / "seed" / "rejected.parquet"),
        m,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_import_seed_per_format(tmp_path, name):
    src = DATA / name
    d1, rejected, m = seed_and_select(tmp_path, [src])
    TRAIN.validate(d1)
    got = {}
    for r in d1.iter_rows(named=True):
        tools, messages, label = json.loads(r["tools"]), json.loads(r["messages"]), json.loads(r["label"])
        assert r["sample_id"] == make_sample_id(tools, messages)
        assert r["origin"] == "import" and json.loads(r["meta"])["source"] == str(src)
        got[_key(tools, messages, label)] = tools
    want = {_key(*e): e[0] for e in EXPECTED[name]}
    assert sorted(got) == sorted(want)
    for k, tools in want.items():  # full tool schemas where the example gives them in JSON Schema already
        if tools and isinstance(tools[0], dict):
            assert got[k] == tools
    bad = [(json.loads(r["meta"])["line"], r["detail"], r["reason"]) for r in rejected.iter_rows(named=True)]
    assert len(bad) == len(REJECTS[name]) == m["rejected"]["total"]
    for line, field, reason in REJECTS[name]:
        hit = [b for b in bad if b[0] == line]
        assert hit, (line, bad)
        assert hit[0][2] == reason and f"{src}:{line}: {field}" in hit[0][1], hit


def test_xlam_types_become_json_schema(tmp_path):
    d1, _, _ = seed_and_select(tmp_path, [DATA / "xlam.json"])
    tools = {t["name"]: t for r in d1.iter_rows(named=True) for t in json.loads(r["tools"])}
    assert tools["find_n_largest_numbers"]["parameters"] == {
        "type": "object",
        "properties": {
            "nums": {"type": "array", "items": {"type": "integer"}, "description": "The list of numbers."},
            "n": {"type": "integer", "description": "The number of largest numbers to find."},
        },
        "required": ["nums", "n"],
    }
    grade = tools["calculate_grade"]["parameters"]
    assert grade["required"] == ["scores"] and grade["properties"]["weights"]["type"] == "array"
    assert tools["live_giveaways_by_type"]["parameters"]["properties"]["type"]["default"] == "game"


def _our_rows():
    rows = []
    for tools, messages, label in EXPECTED["openai.jsonl"] + EXPECTED["hermes.jsonl"]:
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
                "meta": {"pattern": "single", "domain": "travel"},
            }
        )
    return rows


def test_import_seed_from_our_parquet_and_a_datasets_folder(tmp_path):
    from datasets import Dataset

    rows = _our_rows()
    pq = write_parquet(frame(rows, SAMPLE), tmp_path / "ours.parquet", SAMPLE)
    bad = frame([{**rows[0], "sample_id": "0" * 16}], SAMPLE)
    write_parquet(bad, tmp_path / "bad.parquet", SAMPLE)
    d1, rejected, _ = seed_and_select(tmp_path / "a", [pq, tmp_path / "bad.parquet"])
    want = {r["sample_id"]: json.dumps(r["label"], sort_keys=True) for r in rows}
    assert {
        r["sample_id"]: json.dumps(json.loads(r["label"]), sort_keys=True) for r in d1.iter_rows(named=True)
    } == want
    (rej,) = rejected.iter_rows(named=True)
    assert (
        rej["reason"] == "sample_id"
        and f"{tmp_path / 'bad.parquet'}:1: sample_id: '0000000000000000' does not match" in rej["detail"]
    )
    # a datasets folder (save_to_disk) of xLAM records: JSON text columns, as the release ships them
    recs = json.loads((DATA / "xlam.json").read_text())
    Dataset.from_list(recs).save_to_disk(str(tmp_path / "xlam_ds"))
    d1, rejected, m = seed_and_select(tmp_path / "b", [tmp_path / "xlam_ds"])
    got = {
        _key(json.loads(r["tools"]), json.loads(r["messages"]), json.loads(r["label"]))
        for r in d1.iter_rows(named=True)
    }
    assert got == {_key(*e) for e in EXPECTED["xlam.json"]}
    assert sorted(json.loads(r["meta"])["line"] for r in rejected.iter_rows(named=True)) == [
        3,
        4,
    ]  # row numbers
    assert m["pool"]["by_format"] == {"xlam": 2}
    assert {json.loads(r["meta"])["container"] for r in d1.iter_rows(named=True)} == {"datasets"}


def test_heldout_by_tool_fraction_and_from_a_file(tmp_path):
    files = [DATA / n for n in EXPECTED]
    cfg = SeedConfig(
        mode="import",
        import_files=[str(f) for f in files],
        import_heldout_fraction=0.3,
        label_noise=0.0,
        random_seed=3,
    )
    m = run_import_seed(out_dir=tmp_path / "s1", cfg=cfg)
    pool = pl.read_parquet(tmp_path / "s1" / "pool.parquet")
    held = pl.read_parquet(tmp_path / "s1" / "heldout.parquet")
    assert held.height >= 0.3 * (pool.height + held.height) and pool.height > 0
    held_tools = set(m["heldout"]["domains"])
    pool_calls = {c["name"] for r in pool.iter_rows(named=True) for c in json.loads(r["label"])}
    held_calls = {c["name"] for r in held.iter_rows(named=True) for c in json.loads(r["label"])}
    assert not pool_calls & held_tools and held_tools <= held_calls  # whole tools held out
    # same seed, same split
    run_import_seed(out_dir=tmp_path / "s2", cfg=cfg)
    assert pl.read_parquet(tmp_path / "s2" / "heldout.parquet").equals(held)
    # held out from a second file: those rows, none of them in the pool
    cfg = SeedConfig(
        mode="import",
        import_files=[str(f) for f in files],
        import_heldout_files=[str(DATA / "xlam.json")],
        label_noise=0.0,
    )
    m = run_import_seed(out_dir=tmp_path / "s3", cfg=cfg)
    held = pl.read_parquet(tmp_path / "s3" / "heldout.parquet")
    pool = pl.read_parquet(tmp_path / "s3" / "pool.parquet")
    assert held.height == 2 and not set(held["sample_id"]) & set(pool["sample_id"])
    assert m["rejected"]["by_reason"]["in_heldout"] == 2


def test_decontamination_and_label_noise_apply(tmp_path):
    files = [
        DATA / "openai.jsonl",
        DATA / "hermes.jsonl",
        DATA / "xlam.json",
        DATA / "bfcl" / "BFCL_v3_simple.json",
    ]
    cfg = SeedConfig(
        mode="import",
        import_files=[str(f) for f in files],
        import_heldout_fraction=0.0,
        label_noise=0.5,
        decontam_dirs=[str(DATA / "bfcl")],
        decontam_ngram=4,
    )
    m = run_import_seed(out_dir=tmp_path / "s", cfg=cfg)
    rej = pl.read_parquet(tmp_path / "s" / "rejected.parquet")
    contaminated = rej.filter(pl.col("reason") == "contaminated")
    assert (
        contaminated.height == 2 == m["decontam"]["contaminated"]
    )  # the two BFCL rows are benchmark questions
    truth = pl.read_parquet(tmp_path / "s" / "noise_truth.parquet")
    pool = pl.read_parquet(tmp_path / "s" / "pool.parquet")
    assert truth.height == m["noise"]["count"] == round(0.5 * pool.height) > 0
    noisy = dict(zip(pool["sample_id"], pool["label"], strict=True))
    for t in truth.iter_rows(named=True):
        assert (
            json.loads(noisy[t["sample_id"]]) == json.loads(t["noisy_label"]) != json.loads(t["clean_label"])
        )


def test_import_mode_config_errors(tmp_path):
    with pytest.raises(ValueError, match="mode import needs import_files"):
        SeedConfig(mode="import")
    with pytest.raises(ValueError, match="import_heldout_by"):
        SeedConfig(mode="import", import_files=["x"], import_heldout_by="file")
    cfg = SeedConfig(mode="import", import_files=[str(DATA / "openai.jsonl")], import_format="xlam")
    with pytest.raises(ValueError, match="no valid pool rows"):
        run_import_seed(out_dir=tmp_path / "s", cfg=cfg)
    cfg = SeedConfig(mode="import", import_files=[str(DATA / "openai.jsonl")], import_format="csv")
    with pytest.raises(ValueError, match="seed.import_format='csv'"):
        run_import_seed(out_dir=tmp_path / "s", cfg=cfg)
    from looptool.synth import run_seed

    with pytest.raises(ValueError, match="run_import_seed"):
        run_seed(out_dir=tmp_path / "s", cfg=cfg)


@pytest.mark.dvc
@pytest.mark.slow
def test_import_dvc_repro_seed_and_select(tmp_path):
    """`dvc repro select` on a copy of the repository with seed.mode: import over every example file."""
    repo = tmp_path / "repo"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in files:
        if f.startswith(("data/", "models/", "metrics/", "reports/")) or not (ROOT / f).is_file():
            continue
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    shutil.copytree(DATA, repo / "imports" / "examples")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    names = sorted(EXPECTED)
    params["seed"].update(
        mode="import",
        import_files=[f"imports/examples/{n}" for n in names],
        import_heldout_fraction=0.0,
        label_noise=0.0,
    )
    n = sum(len(v) for v in EXPECTED.values())
    params["select"]["dataset_size"] = n
    params["select"]["stratify"] = False
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(
        os.environ,
        DVC_NO_ANALYTICS="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    p = subprocess.run(["dvc", "repro", "select"], cwd=repo, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    d1 = pl.read_parquet(repo / "data" / "iter_1" / "train.parquet")
    got = {
        _key(json.loads(r["tools"]), json.loads(r["messages"]), json.loads(r["label"]))
        for r in d1.iter_rows(named=True)
    }
    assert got == {_key(*e) for v in EXPECTED.values() for e in v}
    m = read_json(repo / "metrics" / "seed.json")
    assert m["mode"] == "import" and m["rejected"]["total"] == sum(len(v) for v in REJECTS.values())
    # an edit of one import file re-runs seed (imports/ is a dependency)
    with open(repo / "imports" / "examples" / "openai.jsonl", "a") as f:
        f.write(
            json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": "Weather in Lima?"},
                        {
                            "role": "assistant",
                            "tool_calls": [
                                {
                                    "type": "function",
                                    "function": {"name": "get_weather", "arguments": {"city": "Lima"}},
                                }
                            ],
                        },
                    ],
                    "tools": [WEATHER],
                }
            )
            + "\n"
        )
    p = subprocess.run(["dvc", "status", "seed"], cwd=repo, env=env, capture_output=True, text=True)
    assert "imports" in p.stdout, p.stdout


def test_heldout_by_domain_holds_out_whole_domains(tmp_path):
    from looptool.synth.imported import group_of

    files = [str(DATA / n) for n in EXPECTED]
    cfg = SeedConfig(
        mode="import",
        import_files=files,
        import_heldout_fraction=0.25,
        import_heldout_by="domain",
        label_noise=0.0,
    )
    m = run_import_seed(out_dir=tmp_path / "s", cfg=cfg)
    pool = [json.loads(x) for x in pl.read_parquet(tmp_path / "s" / "pool.parquet")["meta"]]
    held = [json.loads(x) for x in pl.read_parquet(tmp_path / "s" / "heldout.parquet")["meta"]]
    keys = set(m["heldout"]["domains"])
    assert held and pool and keys
    assert all(group_of({"meta": h, "label": []}, "domain")[0] in keys for h in held)
    assert not any(group_of({"meta": p, "label": []}, "domain")[0] in keys for p in pool)


@pytest.mark.dvc
@pytest.mark.slow
def test_imported_pool_runs_one_loop_iteration(tmp_path, tiny_model_dir):
    """The rest of the loop runs unchanged on an imported pool: `dvc repro merge@1` (warm-up, GRPO, probe,
    verify, structured expansion from the imported rows' signatures, merge) with the tiny model."""
    import importlib

    small_params = importlib.import_module("test_pipeline").small_params
    repo = tmp_path / "repo"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in files:
        if f.startswith(("data/", "models/", "metrics/", "reports/")) or not (ROOT / f).is_file():
            continue
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    shutil.copytree(DATA, repo / "imports" / "examples")
    params = small_params(yaml.safe_load((ROOT / "params.yaml").read_text()), tiny_model_dir, False)
    params["seed"].update(
        mode="import",
        import_files=[f"imports/examples/{n}" for n in sorted(EXPECTED)],
        import_heldout_fraction=0.2,
        label_noise=0.2,
    )
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(
        os.environ,
        DVC_NO_ANALYTICS="1",
        LOOPTOOL_CACHE_DIR=str(repo / ".looptool-cache"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    p = subprocess.run(["dvc", "repro", "merge@1"], cwd=repo, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    d2 = pl.read_parquet(repo / "data" / "iter_2" / "train.parquet")
    assert d2.height > 0 and set(d2["part"]) <= {"seed_new", "error_seed", "expansion", "high_ppl"}
    seed = read_json(repo / "metrics" / "seed.json")
    assert seed["mode"] == "import" and seed["heldout"]["size"] > 0 and seed["noise"]["count"] > 0


def test_dev_split_is_disjoint_from_the_test_by_key_and_leaves_the_test_as_it_was(tmp_path, caplog):
    """import_dev_fraction > 0: dev rows are whole tools taken from what the test split left (no dev tool is
    a test tool or a pool tool), the test split is the one a build without dev writes; 0: empty, one warning."""
    files = [str(DATA / n) for n in EXPECTED]
    base = {"mode": "import", "import_files": files, "import_heldout_fraction": 0.3, "label_noise": 0.0}
    with caplog.at_level("WARNING", logger="looptool"):
        m0 = run_import_seed(out_dir=tmp_path / "s0", cfg=SeedConfig(**base, random_seed=3))
    warned = [r.getMessage() for r in caplog.records if "dev.parquet is empty" in r.getMessage()]
    assert len(warned) == 1 and "seed.import_dev_fraction is 0" in warned[0]
    assert m0["dev"]["size"] == 0 and pl.read_parquet(tmp_path / "s0" / "dev.parquet").height == 0
    m = run_import_seed(
        out_dir=tmp_path / "s1", cfg=SeedConfig(**base, random_seed=3, import_dev_fraction=0.3)
    )
    read = lambda d, f: pl.read_parquet(tmp_path / d / f"{f}.parquet")  # noqa: E731
    assert read("s1", "heldout").equals(read("s0", "heldout"))
    pool, dev = read("s1", "pool"), read("s1", "dev")
    assert dev.height == m["dev"]["size"] > 0 and pool.height + dev.height == read("s0", "pool").height

    def calls(df):
        return {c["name"] for r in df.iter_rows(named=True) for c in json.loads(r["label"])}

    dev_tools, held_tools = set(m["dev"]["domains"]), set(m["heldout"]["domains"])
    assert dev_tools and not dev_tools & held_tools and not calls(pool) & dev_tools
    assert dev_tools <= calls(dev) and not calls(dev) & held_tools
    assert not set(dev["sample_id"]) & set(pool["sample_id"])


def test_dev_split_that_would_take_the_whole_pool_is_empty_with_a_warning(tmp_path, caplog):
    files = [str(DATA / n) for n in EXPECTED]
    cfg = SeedConfig(
        mode="import",
        import_files=files,
        import_heldout_fraction=0.0,
        import_heldout_by="domain",
        import_dev_fraction=0.99,
        label_noise=0.0,
    )
    with caplog.at_level("WARNING", logger="looptool"):
        m = run_import_seed(out_dir=tmp_path / "s", cfg=cfg)
    assert m["dev"]["size"] == 0 and m["pool"]["size"] > 0
    assert any("would take every pool row" in r.getMessage() for r in caplog.records)
