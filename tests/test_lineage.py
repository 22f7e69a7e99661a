"""Lineage, diff and stats over a 3-iteration loop fixture that follows the event contract of select/merge."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from looptool import jsonutil
from looptool.cli import main
from looptool.lineage import (
    DatasetError,
    describe_event,
    diff,
    lineage,
    mixed_runs,
    resolve_sample_id,
    stats,
    stats_all,
)
from looptool.schema import EVENT, SAMPLE, TRAIN, frame, make_sample_id
from looptool.storage import write_parquet

TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
    {
        "name": "book_flight",
        "description": "Book a flight.",
        "parameters": {
            "type": "object",
            "properties": {"origin": {"type": "string"}, "dest": {"type": "string"}},
            "required": ["origin", "dest"],
        },
    },
]

CITIES = [
    "Paris",
    "Rome",
    "Oslo",
    "Lima",
    "Cairo",
    "Quito",
    "Hanoi",
    "Perth",
    "Dakar",
    "Riga",
    "Bern",
    "Kyiv",
]


def weather(city: str) -> list[dict]:
    return [{"name": "get_weather", "arguments": {"city": city}}]


def make_row(
    text, label, origin="seed", parent=None, iteration=0, rev=0, pattern="single", domain="travel/weather"
):
    messages = [{"role": "user", "content": text}]
    return {
        "sample_id": make_sample_id(TOOLS, messages),
        "tools": TOOLS,
        "messages": messages,
        "label": label,
        "origin": origin,
        "parent_id": parent,
        "iteration": iteration,
        "label_rev": rev,
        "meta": {"pattern": pattern, "domain": domain},
    }


def ev(row_or_id, iteration, event, detail, parent=None):
    sid = row_or_id if isinstance(row_or_id, str) else row_or_id["sample_id"]
    return {"sample_id": sid, "iteration": iteration, "event": event, "parent_id": parent, "detail": detail}


def with_part(row, part, **changes):
    return {**row, **changes, "part": part}


def build_loop(data_dir: Path) -> dict[str, dict]:
    """Pool of 8, D_1..D_3 and the events select and merge@1..2 write (plus probe events of iteration 3).

    Story: s2's label is noisy (city "Pari"); the judge fixes it in iteration 1. s3 fails and is expanded into
    e1 and e2 (candidate e3 is rejected). In iteration 2, e1 is relabeled by a rule and expanded into e4.
    """
    s = [make_row(f"What's the weather in {c}?", weather(c)) for c in CITIES[:8]]
    s[2] = make_row("What's the weather in Paris today?", weather("Pari"))  # noisy label
    s[6]["meta"] = {"pattern": "distractor", "domain": "travel/flights"}
    s[7]["meta"] = {"pattern": "distractor", "domain": "travel/flights"}
    e1 = make_row(
        "Weather for Rome please",
        weather("Roma"),
        "expansion",
        s[3]["sample_id"],
        1,
        pattern="single",
        domain="travel/weather",
    )
    e2 = make_row("Is it raining in Rome?", weather("Rome"), "expansion", s[3]["sample_id"], 1)
    e3 = make_row(
        "Rome weather in kelvin",
        [{"name": "get_weather", "arguments": {"city": "Rome", "unit": "k"}}],
        "expansion",
        s[3]["sample_id"],
        1,
    )
    e4 = make_row(
        "Tell me Rome's weather in F",
        [{"name": "get_weather", "arguments": {"city": "Rome", "unit": "f"}}],
        "expansion",
        e1["sample_id"],
        2,
    )
    ids = {f"s{i}": r for i, r in enumerate(s)} | {"e1": e1, "e2": e2, "e3": e3, "e4": e4}
    s2_fixed = {**s[2], "label": weather("Paris"), "label_rev": 1}
    e1_fixed = {**e1, "label": weather("Rome"), "label_rev": 1}
    ids["s2_fixed"], ids["e1_fixed"] = s2_fixed, e1_fixed

    write_parquet(frame(s, SAMPLE), data_dir / "seed" / "pool.parquet", SAMPLE)
    d1 = [with_part(r, "seed_new") for r in s[:5]]
    d2 = [
        with_part(s2_fixed, "error_seed"),
        with_part(s[3], "error_seed"),
        with_part(e1, "expansion"),
        with_part(e2, "expansion"),
        with_part(s[1], "high_ppl"),
        with_part(s[5], "seed_new"),
    ]
    d3 = [
        with_part(e1_fixed, "error_seed"),
        with_part(e4, "expansion"),
        with_part(s[5], "high_ppl"),
        with_part(s[6], "seed_new"),
        with_part(s[7], "seed_new"),
    ]
    for j, d in ((1, d1), (2, d2), (3, d3)):
        write_parquet(frame(d, TRAIN), data_dir / f"iter_{j}" / "train.parquet", TRAIN)

    seed_events = [ev(r, 0, "created", {"origin": "seed"}) for r in s]
    seed_events += [ev(r, 0, "selected", {"into": 1, "part": "seed_new"}) for r in s[:5]]
    write_parquet(frame(seed_events, EVENT), data_dir / "seed" / "events.parquet", EVENT)

    sid3, sid_e1 = s[3]["sample_id"], e1["sample_id"]
    it1 = [
        ev(s[1], 1, "selected", {"into": 2, "part": "high_ppl"}),  # written before probes: order is by kind
        ev(s[0], 1, "probed", {"mastered": True, "ppl": 1.2, "parse_error": None}),
        ev(s[1], 1, "probed", {"mastered": True, "ppl": 4.5, "parse_error": None}),
        ev(s[2], 1, "probed", {"mastered": False, "ppl": None, "parse_error": None}),
        ev(s[3], 1, "probed", {"mastered": False, "ppl": None, "parse_error": None}),
        ev(s[4], 1, "probed", {"mastered": False, "ppl": None, "parse_error": "invalid JSON at char 3"}),
        ev(
            s[2],
            1,
            "judged",
            {"verdict": "LABEL_WRONG", "decided_by": "llm", "rationale": "the label misspells the city"},
        ),
        ev(s[3], 1, "judged", {"verdict": "PRED_WRONG", "decided_by": "rule", "rationale": "wrong function"}),
        ev(
            s[4],
            1,
            "judged",
            {"verdict": "BOTH_WRONG", "decided_by": "llm", "rationale": "both miss the unit"},
        ),
        ev(
            s[2],
            1,
            "relabeled",
            {"old_label": weather("Pari"), "new_label": weather("Paris"), "label_rev": 1},
        ),
        ev(s[3], 1, "expanded", {"children": [e1["sample_id"], e2["sample_id"]]}),
        ev(e1, 1, "created", {"origin": "expansion"}, parent=sid3),
        ev(e2, 1, "created", {"origin": "expansion"}, parent=sid3),
        ev(e3, 1, "rejected", {"reason": "label fails the tool schema", "stage": "expand"}, parent=sid3),
        ev(s[2], 1, "selected", {"into": 2, "part": "error_seed"}),
        ev(s[3], 1, "selected", {"into": 2, "part": "error_seed"}),
        ev(e1, 1, "selected", {"into": 2, "part": "expansion"}),
        ev(e2, 1, "selected", {"into": 2, "part": "expansion"}),
        ev(s[5], 1, "selected", {"into": 2, "part": "seed_new"}),
    ]
    it2 = [
        ev(r, 2, "probed", {"mastered": r is not e1, "ppl": None if r is e1 else 2.0, "parse_error": None})
        for r in (s2_fixed, s[3], e1, e2, s[1], s[5])
    ]
    it2 += [
        ev(
            e1,
            2,
            "judged",
            {"verdict": "LABEL_WRONG", "decided_by": "rule", "rationale": "city not in the query"},
        ),
        ev(e1, 2, "relabeled", {"old_label": weather("Roma"), "new_label": weather("Rome"), "label_rev": 1}),
        ev(e1, 2, "expanded", {"children": [e4["sample_id"]]}),
        ev(e4, 2, "created", {"origin": "expansion"}, parent=sid_e1),
        ev(e1, 2, "selected", {"into": 3, "part": "error_seed"}),
        ev(e4, 2, "selected", {"into": 3, "part": "expansion"}),
        ev(s[5], 2, "selected", {"into": 3, "part": "high_ppl"}),
        ev(s[6], 2, "selected", {"into": 3, "part": "seed_new"}),
        ev(s[7], 2, "selected", {"into": 3, "part": "seed_new"}),
    ]
    it3 = [ev(r, 3, "probed", {"mastered": True, "ppl": 1.5, "parse_error": None}) for r in d3]
    for j, events in ((1, it1), (2, it2), (3, it3)):
        write_parquet(frame(events, EVENT), data_dir / f"iter_{j}" / "events.parquet", EVENT)
    return ids


@pytest.fixture()
def loop(tmp_path):
    data = tmp_path / "data"
    ids = build_loop(data)
    return data, ids


# --- lineage ------------------------------------------------------------------------------------------------


def test_lineage_of_relabeled_sample_shows_old_and_new_label(loop):
    data, ids = loop
    sid = ids["s2"]["sample_id"]
    lin = lineage(sid, data)
    kinds = [(e["iteration"], e["event"]) for e in lin.events]
    assert kinds == [
        (0, "created"),
        (0, "selected"),
        (1, "probed"),
        (1, "judged"),
        (1, "relabeled"),
        (1, "selected"),
        (2, "probed"),
    ]
    texts = [e["text"] for e in lin.events]
    assert texts[0] == "created (seed)"
    assert texts[1] == "selected into D_1 as seed_new"
    assert texts[2] == "probed: failed"
    assert texts[3] == "judged LABEL_WRONG by LLM judge: the label misspells the city"
    assert texts[4] == 'relabeled get_weather(city="Pari") -> get_weather(city="Paris") (label_rev 1)'
    assert texts[5] == "selected into D_2 as error_seed"
    assert texts[6] == "probed: mastered (PPL 2)"
    rel = next(e for e in lin.events if e["event"] == "relabeled")
    assert rel["detail"]["old_label"] == weather("Pari") and rel["detail"]["new_label"] == weather("Paris")
    # Rows: the pool and D_1 hold the old label, D_2 the corrected one.
    by_ds = {d["dataset"]: d for d in lin.datasets}
    assert set(by_ds) == {"pool", "iter_1", "iter_2"}
    assert by_ds["iter_1"]["label"] == weather("Pari") and by_ds["iter_1"]["label_rev"] == 0
    assert by_ds["iter_2"]["label"] == weather("Paris") and by_ds["iter_2"]["label_rev"] == 1
    assert by_ds["iter_2"]["part"] == "error_seed" and by_ds["pool"]["part"] is None
    assert lin.origin == "seed" and lin.parent_id is None


def test_lineage_of_expansion_points_to_parent(loop):
    data, ids = loop
    parent = ids["s3"]["sample_id"]
    lin = lineage(ids["e1"]["sample_id"], data)
    assert lin.origin == "expansion" and lin.parent_id == parent
    assert lin.events[0]["text"] == f"created as expansion of {parent}"
    kinds = [(e["iteration"], e["event"]) for e in lin.events]
    assert kinds == [
        (1, "created"),
        (1, "selected"),
        (2, "probed"),
        (2, "judged"),
        (2, "relabeled"),
        (2, "expanded"),
        (2, "selected"),
        (3, "probed"),
    ]
    assert f"expanded into 1 children: {ids['e4']['sample_id']}" in [e["text"] for e in lin.events]
    # The parent's story names its children and the rejected candidate.
    plin = lineage(parent, data)
    texts = [e["text"] for e in plin.events]
    assert f"expanded into 2 children: {ids['e1']['sample_id']}, {ids['e2']['sample_id']}" in texts
    assert (
        f"candidate expansion {ids['e3']['sample_id']} rejected at expand: label fails the tool schema"
        in texts
    )
    assert "judged PRED_WRONG by rule: wrong function" in texts
    # A rejected candidate never reached a dataset, but its event is found, and it points to its parent.
    rejected = lineage(ids["e3"]["sample_id"], data)
    assert rejected.datasets == [] and rejected.parent_id == parent
    assert [e["text"] for e in rejected.events] == ["rejected at expand: label fails the tool schema"]


def test_lineage_orders_events_within_an_iteration_by_loop_order(loop):
    data, ids = loop
    # s1's "selected" row was written before its "probed" row in iter_1/events.parquet.
    kinds = [e["event"] for e in lineage(ids["s1"]["sample_id"], data).events if e["iteration"] == 1]
    assert kinds == ["probed", "selected"]
    probe = lineage(ids["s4"]["sample_id"], data).events[2]
    assert probe["text"] == "probed: failed (parse error: invalid JSON at char 3)"
    mastered = lineage(ids["s1"]["sample_id"], data).events[2]
    assert mastered["text"] == "probed: mastered (PPL 4.5)"


def _colliding_ids(n: int = 2) -> tuple[str, list[dict]]:
    """Rows whose sample ids share a 2-character prefix (found by search: 257 ids must collide)."""
    seen: dict[str, dict] = {}
    for k in range(257):
        row = make_row(f"collision probe {k}", weather("Paris"))
        p = row["sample_id"][:2]
        if p in seen:
            return p, [seen[p], row]
        seen[p] = row
    raise AssertionError("unreachable: pigeonhole")


def test_lineage_accepts_unique_prefix_and_rejects_ambiguous_or_unknown(loop, tmp_path):
    data, ids = loop
    sid = ids["s5"]["sample_id"]
    assert resolve_sample_id(sid[:10], data) == sid
    assert lineage(sid[:10], data).sample_id == sid
    prefix, rows = _colliding_ids()
    extra = tmp_path / "extra"
    write_parquet(frame(rows, SAMPLE), extra / "seed" / "pool.parquet", SAMPLE)
    with pytest.raises(DatasetError, match="ambiguous") as err:
        resolve_sample_id(prefix, extra)
    assert rows[0]["sample_id"] in str(err.value) and rows[1]["sample_id"] in str(err.value)
    with pytest.raises(DatasetError, match="no sample id starts with"):
        lineage("zzzz-not-an-id", data)


def test_describe_event_handles_unknown_kinds():
    e = {"sample_id": "x", "iteration": 4, "event": "audited", "parent_id": None, "detail": {"by": "me"}}
    assert describe_event(e) == 'audited: {"by": "me"}'


# --- diff ---------------------------------------------------------------------------------------------------


def test_diff_between_iterations_counts_relabeled_added_removed(loop):
    data, ids = loop
    res = diff("iter_1", "iter_2", data, examples=10)
    assert res.counts == {"added": 3, "removed": 2, "relabeled": 1, "unchanged": 2}
    assert (res.rows_a, res.rows_b) == (5, 6)
    by_part = {(r["status"], r["part"]): r["n"] for r in res.by_part}
    assert by_part == {
        ("added", "expansion"): 2,
        ("added", "seed_new"): 1,
        ("removed", "seed_new"): 2,
        ("relabeled", "error_seed"): 1,
        ("unchanged", "error_seed"): 1,
        ("unchanged", "high_ppl"): 1,
    }
    by_origin = {(r["status"], r["origin"]): r["n"] for r in res.by_origin}
    assert by_origin == {
        ("added", "expansion"): 2,
        ("added", "seed"): 1,
        ("removed", "seed"): 2,
        ("relabeled", "seed"): 1,
        ("unchanged", "seed"): 2,
    }
    (relabeled,) = res.examples["relabeled"]
    assert relabeled["sample_id"] == ids["s2"]["sample_id"]
    assert relabeled["old_label"] == weather("Pari") and relabeled["new_label"] == weather("Paris")
    assert {e["sample_id"] for e in res.examples["added"]} == {
        ids[k]["sample_id"] for k in ("e1", "e2", "s5")
    }
    assert {e["sample_id"] for e in res.examples["removed"]} == {ids[k]["sample_id"] for k in ("s0", "s4")}
    trans = {(t["part_a"], t["part_b"]): t["n"] for t in res.transitions}
    assert trans == {("seed_new", "error_seed"): 2, ("seed_new", "high_ppl"): 1}
    assert res.duplicates == {"a": 0, "b": 0}


def test_diff_pool_against_d1_and_examples_limit(loop):
    data, ids = loop
    res = diff("pool", "1", data, examples=1)
    assert res.counts == {"added": 0, "removed": 3, "relabeled": 0, "unchanged": 5}
    assert len(res.examples["removed"]) == 1 and res.examples["removed"][0]["part"] is None
    res3 = diff("iter_2", data / "iter_3" / "train.parquet", data)  # a path works too
    assert res3.counts == {"added": 3, "removed": 4, "relabeled": 1, "unchanged": 1}
    assert res3.examples["relabeled"][0]["sample_id"] == ids["e1"]["sample_id"]


def test_diff_reports_duplicate_ids_once(loop, tmp_path):
    data, ids = loop
    d = pl.read_parquet(data / "iter_1" / "train.parquet")
    dup = tmp_path / "dup.parquet"
    write_parquet(pl.concat([d, d.head(2)]), dup, TRAIN)
    res = diff("iter_1", str(dup), data)
    assert res.counts["unchanged"] == 5 and res.duplicates == {"a": 0, "b": 2}
    assert res.rows_b == 7


def test_diff_unknown_dataset_is_a_clear_error(loop):
    data, _ = loop
    with pytest.raises(DatasetError, match=r"iter_9.*does not exist.*pool, iter_1, iter_2, iter_3"):
        diff("iter_1", "iter_9", data)
    with pytest.raises(DatasetError, match="not found"):
        diff("iter_1", "nonsense", data)


# --- stats --------------------------------------------------------------------------------------------------


def test_stats_of_one_dataset(loop):
    data, _ = loop
    st = stats("iter_2", data)
    assert st["rows"] == 6 and st["distinct_ids"] == 6
    by = {dim: {r["value"]: r["n"] for r in rows} for dim, rows in st["by"].items()}
    assert by["part"] == {"error_seed": 2, "expansion": 2, "high_ppl": 1, "seed_new": 1}
    assert by["origin"] == {"seed": 4, "expansion": 2}
    assert by["label_rev"] == {0: 5, 1: 1}
    assert by["pattern"] == {"single": 6}
    assert by["domain"] == {"travel/weather": 6}
    shares = {r["value"]: r["share"] for r in st["by"]["part"]}
    assert shares["error_seed"] == pytest.approx(2 / 6)
    d3 = stats("iter_3", data)
    assert {r["value"]: r["n"] for r in d3["by"]["domain"]} == {"travel/weather": 3, "travel/flights": 2}
    pool = stats("pool", data)
    assert {r["value"]: r["n"] for r in pool["by"]["part"]} == {None: 8}


def test_stats_all_datasets(loop):
    data, _ = loop
    rows = {r["dataset"]: r for r in stats_all(data)}
    assert list(rows) == ["pool", "iter_1", "iter_2", "iter_3"]
    assert rows["pool"]["rows"] == 8 and rows["pool"]["seed_new"] == 0
    assert rows["iter_1"]["seed_new"] == 5
    assert (rows["iter_2"]["error_seed"], rows["iter_2"]["expansion"], rows["iter_2"]["high_ppl"]) == (
        2,
        2,
        1,
    )
    assert rows["iter_3"]["origin_expansion"] == 2 and rows["iter_3"]["relabeled"] == 1
    assert rows["iter_2"]["relabeled"] == 1


def test_one_run_is_not_reported_as_mixed(loop):
    data, _ = loop
    assert mixed_runs(data) == []
    (data / "seed" / "pool.parquet").unlink()  # without the pool, Seed-new rows cannot be checked
    assert mixed_runs(data) == []


def _import_d1(data: Path, tmp_path: Path) -> None:
    """What `dvc exp run -S seed.mode=import ... select` leaves: an imported pool and D_1 beside the previous
    run's D_2, D_3 (written here by the import command and the select stage's function)."""
    from looptool.merge import SelectConfig, run_select

    root = Path(__file__).resolve().parent
    pool = data / "seed" / "pool.parquet"
    pool.unlink()
    r = CliRunner().invoke(main, ["import", str(root / "data" / "import" / "xlam.json"), "--out", str(pool)])
    assert r.exit_code == 0, r.output
    run_select(
        pool=pool,
        out=data / "iter_1" / "train.parquet",
        used=tmp_path / "used.parquet",
        events=tmp_path / "events.parquet",
        cfg=SelectConfig(dataset_size=2),
    )


def test_stats_warns_when_an_imported_d1_sits_beside_another_runs_iterations(loop, tmp_path):
    data, _ = loop
    _import_d1(data, tmp_path)
    found = mixed_runs(data)
    # D_1 follows from the imported pool; D_2's error seeds, high-PPL and expansions are not of that D_1, its
    # Seed-new not of that pool; D_3 follows from D_2 except its 2 Seed-new samples
    assert [(f["dataset"], f["foreign"], f["rows"]) for f in found] == [("iter_2", 6, 6), ("iter_3", 2, 5)]
    r = CliRunner().invoke(main, ["stats", "--data-dir", str(data), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [d["dataset"] for d in json.loads(r.stdout)] == ["pool", "iter_1", "iter_2", "iter_3"]
    assert r.stderr.count("\n") == 1, r.stderr  # one line, on stderr
    assert r.stderr.startswith("warning: these datasets come from different runs: 6 of 6 samples of iter_2 ")
    assert "(also iter_3)" in r.stderr and "dvc repro" in r.stderr
    r = CliRunner().invoke(main, ["stats", "iter_2", "--data-dir", str(data)])  # one dataset: no listing
    assert r.exit_code == 0 and r.stderr == ""


def test_mixed_runs_names_a_d1_that_is_not_from_the_pool_and_a_stale_expansion(loop, tmp_path):
    data, ids = loop
    d1 = pl.read_parquet(data / "iter_1" / "train.parquet")
    pool = pl.read_parquet(data / "seed" / "pool.parquet").filter(pl.col("sample_id") != d1["sample_id"][0])
    write_parquet(pool, data / "seed" / "pool.parquet", SAMPLE)
    d3 = pl.read_parquet(data / "iter_3" / "train.parquet")
    orphan = pl.col("sample_id") == ids["e4"]["sample_id"]  # an expansion whose parent is not in D_2
    d3 = d3.with_columns(
        pl.when(orphan).then(pl.lit(ids["s7"]["sample_id"])).otherwise("parent_id").alias("parent_id")
    )
    write_parquet(d3, data / "iter_3" / "train.parquet", TRAIN)
    found = {f["dataset"]: f for f in mixed_runs(data)}
    assert (found["iter_1"]["foreign"], found["iter_1"]["against"]) == (1, "the pool")
    assert found["iter_3"]["foreign"] == 1 and "iter_2" not in found


# --- CLI ----------------------------------------------------------------------------------------------------


def test_cli_diff_lineage_stats(loop):
    data, ids = loop
    runner = CliRunner()
    r = runner.invoke(main, ["diff", "iter_1", "iter_2", "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    assert "relabeled" in r.output and ids["s2"]["sample_id"] in r.output
    assert 'get_weather(city="Pari") -> get_weather(city="Paris")' in r.output
    r = runner.invoke(main, ["diff", "iter_1", "iter_2", "--data-dir", str(data), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"]["relabeled"] == 1

    r = runner.invoke(main, ["lineage", ids["e1"]["sample_id"][:12], "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    assert f"origin: expansion of {ids['s3']['sample_id']}" in r.output
    assert 'iteration 2: relabeled get_weather(city="Roma") -> get_weather(city="Rome")' in r.output
    r = runner.invoke(main, ["lineage", ids["e1"]["sample_id"], "--data-dir", str(data), "--format", "json"])
    assert json.loads(r.output)["parent_id"] == ids["s3"]["sample_id"]

    r = runner.invoke(main, ["stats", "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    assert "iter_3" in r.output and "error_seed" in r.output
    r = runner.invoke(main, ["stats", "iter_2", "--data-dir", str(data), "--format", "json"])
    assert json.loads(r.output)["rows"] == 6
    r = runner.invoke(main, ["stats", "iter_2", "--data-dir", str(data)])
    assert r.exit_code == 0 and "high_ppl" in r.output and "33.3%" in r.output

    r = runner.invoke(main, ["diff", "iter_1", "iter_7", "--data-dir", str(data)])
    assert r.exit_code != 0 and "iter_7" in r.output


# --- git revisions through DVC ------------------------------------------------------------------------------


def _run(cmd: list[str], cwd: Path) -> None:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0"}
    for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(k, None)
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_against_git_revision_of_dvc_tracked_dataset(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    dvc = [sys.executable, "-m", "dvc"]
    _run(["git", "init", "-q"], repo)
    _run(["git", "config", "user.email", "test@example.com"], repo)
    _run(["git", "config", "user.name", "test"], repo)
    _run([*dvc, "init", "-q"], repo)
    ids = build_loop(repo / "data")
    path = "data/iter_2/train.parquet"
    _run([*dvc, "add", "-q", path], repo)
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "D_2 v1"], repo)

    # Change D_2: relabel e2, drop s5, add e4; commit it, then change it again in the workspace only.
    d2 = pl.read_parquet(repo / path)
    e2 = ids["e2"]["sample_id"]
    new_label = jsonutil.dumps([{"name": "get_weather", "arguments": {"city": "Rome", "unit": "c"}}])
    d2 = d2.with_columns(
        label=pl.when(pl.col("sample_id") == e2).then(pl.lit(new_label)).otherwise(pl.col("label")),
        label_rev=pl.when(pl.col("sample_id") == e2).then(pl.lit(1, pl.Int64)).otherwise(pl.col("label_rev")),
    ).filter(pl.col("sample_id") != ids["s5"]["sample_id"])
    d2 = pl.concat([d2, frame([with_part(ids["e4"], "expansion")], TRAIN)])
    write_parquet(d2, repo / path, TRAIN)
    _run([*dvc, "add", "-q", path], repo)
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "D_2 v2"], repo)
    write_parquet(d2.filter(pl.col("sample_id") != e2), repo / path, TRAIN)  # workspace: e2 removed too

    monkeypatch.chdir(repo)
    res = diff(f"HEAD~1:{path}", "HEAD:iter_2")
    assert res.counts == {"added": 1, "removed": 1, "relabeled": 1, "unchanged": 4}
    assert res.a == f"HEAD~1:{path}" and res.b == f"HEAD:{path}"
    assert res.examples["relabeled"][0]["sample_id"] == e2
    assert res.examples["relabeled"][0]["new_label"] == json.loads(new_label)
    ws = diff(f"HEAD~1:{path}", path)
    assert ws.counts == {"added": 1, "removed": 2, "relabeled": 0, "unchanged": 4}
    r = CliRunner().invoke(main, ["diff", f"HEAD~1:{path}", "iter_2", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"]["removed"] == 2
    with pytest.raises(DatasetError, match="cannot read .* at revision HEAD~5"):
        diff(f"HEAD~5:{path}", path)
