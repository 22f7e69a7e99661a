"""Import (OpenAI JSONL, BFCL) and export (OpenAI, ShareGPT): decision points, validation, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from looptool.cli import main
from looptool.interchange import (
    InterchangeError,
    bfcl_schema,
    export_dataset,
    import_files,
    read_bfcl,
    to_sharegpt,
)
from looptool.schema import REJECTED, SAMPLE, TRAIN, frame, make_sample_id
from looptool.storage import write_parquet

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
OAI_TOOLS = [{"type": "function", "function": WEATHER}, {"type": "function", "function": FLIGHT}]


def call(cid, name, args, as_text=True):
    return {
        "id": cid,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args) if as_text else args},
    }


CONV_MULTI = {
    "messages": [
        {"role": "system", "content": "You are a travel assistant."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1", "get_weather", {"city": "Paris"})]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
        {"role": "assistant", "content": "It is 21C in Paris."},
        {"role": "user", "content": "And Rome and Oslo, in F?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                call("c2", "get_weather", {"city": "Rome", "unit": "f"}),
                call("c3", "get_weather", {"city": "Oslo", "unit": "f"}, as_text=False),
            ],
        },
        {"role": "tool", "tool_call_id": "c2", "content": '{"temp": 70}'},
        {"role": "tool", "tool_call_id": "c3", "content": '{"temp": 50}'},
        {"role": "assistant", "content": "Rome 70F, Oslo 50F."},
    ],
    "tools": OAI_TOOLS,
}
CONV_REFUSAL = {
    "messages": [
        {"role": "user", "content": "Book me a hotel in Rome."},
        {"role": "assistant", "content": "I can only check the weather and book flights."},
    ],
    "tools": [WEATHER, FLIGHT],  # plain functions, no OpenAI wrapper
}
CONV_WEIGHTS = {
    "messages": [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Fly me from "}, {"type": "text", "text": "Oslo to Lima."}],
        },
        {
            "role": "assistant",
            "tool_calls": [call("f1", "book_flight", {"origin": "Oslo", "dest": "Lima"})],
            "weight": 0,
        },
        {"role": "tool", "tool_call_id": "f1", "content": "booked: LX123"},
        {"role": "assistant", "content": "Booked: flight LX123.", "weight": 1},
    ],
    "tools": OAI_TOOLS,
}


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def table(path) -> pl.DataFrame:
    return pl.read_parquet(path).select("sample_id", "tools", "messages", "label").sort("sample_id")


# --- OpenAI import ------------------------------------------------------------------------------------------


def test_openai_import_finds_decision_points(tmp_path):
    src = write_jsonl(tmp_path / "conv.jsonl", [CONV_MULTI, CONV_REFUSAL, CONV_WEIGHTS])
    rep = import_files(src, tmp_path / "out.parquet")
    assert (rep.rows, rep.rejected) == (4, 0)
    assert pl.read_parquet(rep.rejected_path).height == 0  # written empty: no stale file from an earlier run
    df = pl.read_parquet(tmp_path / "out.parquet")
    SAMPLE.validate(df)  # deep: every JSON cell checked
    rows = {
        (json.loads(m)["line"], json.loads(m)["turn"]): r
        for m, r in zip(df["meta"], df.to_dicts(), strict=True)
    }
    assert set(rows) == {(1, 2), (1, 6), (2, 1), (3, 3)}
    tools = [WEATHER, FLIGHT]

    first = rows[(1, 2)]
    msgs = [
        {"role": "system", "content": "You are a travel assistant."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    assert json.loads(first["messages"]) == msgs
    assert json.loads(first["tools"]) == tools
    assert first["sample_id"] == make_sample_id(tools, msgs)
    assert json.loads(first["label"]) == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert (first["origin"], first["iteration"], first["label_rev"], first["parent_id"]) == (
        "import",
        0,
        0,
        None,
    )
    meta = json.loads(first["meta"])
    assert meta["source"] == str(src) and meta["format"] == "openai" and meta["pattern"] == "distractor"

    parallel = rows[(1, 6)]
    history = json.loads(parallel["messages"])
    assert len(history) == 6
    assert history[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
            }
        ],
    }
    assert json.loads(parallel["label"]) == [
        {"name": "get_weather", "arguments": {"city": "Rome", "unit": "f"}},
        {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "f"}},
    ]
    assert json.loads(parallel["meta"])["pattern"] == "multi_turn"

    refusal = rows[(2, 1)]
    assert json.loads(refusal["label"]) == []
    assert json.loads(refusal["meta"])["reply"] == "I can only check the weather and book flights."
    assert json.loads(refusal["meta"])["pattern"] == "irrelevant"

    weighted = rows[(3, 3)]  # the weight-0 call is context only; the weight-1 text after a tool result counts
    assert json.loads(weighted["label"]) == []
    assert json.loads(weighted["messages"])[0] == {"role": "user", "content": "Fly me from Oslo to Lima."}
    assert "weight" not in weighted["messages"]


def test_openai_round_trip_keeps_every_decision_point(tmp_path):
    src = write_jsonl(tmp_path / "conv.jsonl", [CONV_MULTI, CONV_REFUSAL, CONV_WEIGHTS])
    import_files(src, tmp_path / "a.parquet")
    rep = export_dataset(str(tmp_path / "a.parquet"), tmp_path / "a.jsonl", "openai")
    assert rep.rows == 4
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    for rec in lines:  # OpenAI fine-tuning form: arguments as JSON text, only the last turn trained
        assert rec["messages"][-1]["weight"] == 1
        assert all(m.get("weight", 0) == 0 for m in rec["messages"][:-1] if m["role"] == "assistant")
        for m in rec["messages"]:
            for tc in m.get("tool_calls") or []:
                assert isinstance(tc["function"]["arguments"], str)
        assert all(t["type"] == "function" for t in rec["tools"])
    again = import_files(tmp_path / "a.jsonl", tmp_path / "b.parquet")
    assert (again.rows, again.rejected) == (4, 0)
    assert table(tmp_path / "a.parquet").equals(table(tmp_path / "b.parquet"))
    replies = (
        pl.read_parquet(tmp_path / "b.parquet")["meta"]
        .map_elements(lambda m: json.loads(m).get("reply"), return_dtype=pl.String)
        .drop_nulls()
        .sort()
        .to_list()
    )
    assert replies == ["Booked: flight LX123.", "I can only check the weather and book flights."]
    export_dataset(str(tmp_path / "b.parquet"), tmp_path / "b.jsonl", "openai")
    assert (tmp_path / "b.jsonl").read_text() == (tmp_path / "a.jsonl").read_text()


def test_import_rejects_bad_rows_with_file_line_and_field(tmp_path):
    good = {
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "tool_calls": [call("x", "get_weather", {"city": "Oslo"})]},
        ],
        "tools": OAI_TOOLS,
    }
    bad_schema = {
        **good,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "strng"}}},
                },
            }
        ],
    }
    bad_label = {
        **good,
        "messages": [
            good["messages"][0],
            {"role": "assistant", "tool_calls": [call("x", "get_wether", {"city": "Oslo"})]},
        ],
    }
    bad_args = {
        **good,
        "messages": [
            good["messages"][0],
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "x",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": Oslo}'},
                    }
                ],
            },
        ],
    }
    missing_arg = {
        **good,
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "tool_calls": [call("x", "get_weather", {"unit": "c"})]},
        ],
    }
    conflict = {
        **good,
        "messages": [
            good["messages"][0],
            {"role": "assistant", "tool_calls": [call("x", "get_weather", {"city": "Oslo", "unit": "c"})]},
        ],
    }
    src = write_jsonl(
        tmp_path / "bad.jsonl",
        [good, "{not json", bad_schema, bad_label, bad_args, "", good, conflict, missing_arg],
    )
    rep = import_files(src, tmp_path / "out.parquet", on_error="skip")
    assert rep.rows == 1
    assert rep.reasons == {
        "invalid_json": 1,
        "invalid_tools": 1,
        "invalid_label": 2,
        "invalid_messages": 1,
        "duplicate": 1,
        "conflicting_duplicate": 1,
    }
    rej = pl.read_parquet(rep.rejected_path)
    assert rep.rejected_path == tmp_path / "out_rejected.parquet"
    REJECTED.validate(rej, deep=False)
    detail = dict(
        zip(
            rej["reason"]
            + ":"
            + rej["meta"].map_elements(lambda m: str(json.loads(m)["line"]), return_dtype=pl.String),
            rej["detail"],
            strict=True,
        )
    )
    assert detail["invalid_json:2"].startswith(f"{src}:2: not valid JSON")
    assert detail["invalid_tools:3"].startswith(f"{src}:3: tools[0] (get_weather).parameters.properties.city")
    assert "invalid JSON Schema" in detail["invalid_tools:3"]
    assert detail["invalid_label:4"] == (
        f"{src}:4: messages[1] (label): unknown function 'get_wether' (tools: ['book_flight', 'get_weather'])"
    )
    assert detail["invalid_messages:5"].startswith(
        f"{src}:5: messages[1].tool_calls[0].function.arguments: not valid JSON"
    )
    assert detail["duplicate:7"] == f"{src}:7: same decision point and label as {src}:1 (kept once)"
    assert detail["conflicting_duplicate:8"].startswith(f"{src}:8: label: same decision point as {src}:1")
    assert (
        detail["invalid_label:9"]
        == f"{src}:9: messages[1] (label): get_weather: missing required argument 'city'"
    )

    lenient = import_files(src, tmp_path / "lenient.parquet", check_labels=False)  # labels kept as they are
    assert lenient.rows == 2 and "invalid_label" not in lenient.reasons  # line 9's label kept
    assert lenient.reasons["conflicting_duplicate"] == 2  # line 4 now reaches the duplicate check
    assert lenient.reasons["invalid_tools"] == 1  # everything else is still checked

    out = tmp_path / "strict.parquet"
    with pytest.raises(InterchangeError, match=rf"^{src}:2: not valid JSON"):
        import_files(src, out, on_error="fail")
    assert not out.exists() and not (tmp_path / "strict_rejected.parquet").exists()
    assert not list(tmp_path.glob(".strict*"))  # no temporary file left behind


def test_import_format_detection_errors(tmp_path):
    weird = write_jsonl(tmp_path / "weird.jsonl", [{"prompt": "x", "completion": "y"}])
    with pytest.raises(
        InterchangeError, match=r"weird.jsonl:1: unknown format \(keys \['completion', 'prompt'\]\)"
    ):
        import_files(weird, tmp_path / "o.parquet")
    with pytest.raises(InterchangeError, match="no such file"):
        import_files(tmp_path / "missing.jsonl", tmp_path / "o.parquet")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps(CONV_REFUSAL).encode() + b"\n" + b'{"messages": "caf\xe9"}\n')
    with pytest.raises(InterchangeError, match=r"latin.jsonl:2: not UTF-8 text"):
        import_files(latin, tmp_path / "o.parquet", fmt="openai", on_error="fail")
    assert not (tmp_path / "o.parquet").exists()
    # issue 12: with --on-error skip one bad line is one rejected row; the rest is imported
    rep = import_files(latin, tmp_path / "o.parquet", fmt="openai")
    assert rep.rows >= 1 and rep.reasons == {"invalid_text": 1}


# --- BFCL ---------------------------------------------------------------------------------------------------


def _types(schema, found: set) -> set:
    if isinstance(schema, dict):
        if isinstance(schema.get("type"), str):
            found.add(schema["type"])
        for k in ("properties",):
            for s in (schema.get(k) or {}).values():
                _types(s, found)
        for k in ("items", "additionalProperties"):
            _types(schema.get(k), found)
    return found


def test_bfcl_import_and_round_trip(bfcl_data_dir, tmp_path):
    files = [
        bfcl_data_dir / f"BFCL_v4_{c}.json" for c in ("simple_python", "parallel_multiple", "irrelevance")
    ]
    n_entries = sum(1 for f in files for line in f.read_text().splitlines() if line.strip())
    rep = import_files(files, tmp_path / "bfcl.parquet")
    assert rep.rows + rep.rejected == n_entries and rep.rows > 0.98 * n_entries
    assert set(rep.reasons) <= {"invalid_label", "duplicate"}
    df = pl.read_parquet(tmp_path / "bfcl.parquet")
    SAMPLE.validate(df)
    metas = [json.loads(m) for m in df["meta"]]
    by_id = {m["bfcl_id"]: r for m, r in zip(metas, df.to_dicts(), strict=True)}

    simple0 = by_id["simple_python_0"]
    assert json.loads(simple0["label"]) == [
        {"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5, "unit": "units"}}
    ]
    tools = json.loads(simple0["tools"])
    assert tools[0]["parameters"]["type"] == "object"
    assert simple0["sample_id"] == make_sample_id(tools, json.loads(simple0["messages"]))
    assert json.loads(by_id["parallel_multiple_0"]["label"]) == [
        {
            "name": "math_toolkit.sum_of_multiples",
            "arguments": {"lower_limit": 1, "upper_limit": 1000, "multiples": [3, 5]},
        },
        {"name": "math_toolkit.product_of_primes", "arguments": {"count": 5}},
    ]
    irrelevant = [r for m, r in zip(metas, df.to_dicts(), strict=True) if m["category"] == "irrelevance"]
    assert irrelevant and all(json.loads(r["label"]) == [] for r in irrelevant)
    assert {m["pattern"] for m in metas} >= {"single", "parallel", "irrelevant"}
    found: set = set()
    for t in df["tools"]:
        for tool in json.loads(t):
            _types(tool["parameters"], found)
    assert found <= {"object", "string", "integer", "number", "boolean", "array"}, found

    # Rejected rows are real flaws of the benchmark's ground truth, named by file, line and id.
    rej = pl.read_parquet(rep.rejected_path)
    assert any(
        "BFCL_v4_parallel_multiple.json:27: id parallel_multiple_26 (label): bank.calculate_balance: "
        "unknown argument 'type'" in d
        for d in rej["detail"]
    )

    # Round trip: BFCL -> Parquet -> OpenAI JSONL -> Parquet keeps every decision point.
    export_dataset(str(tmp_path / "bfcl.parquet"), tmp_path / "bfcl.jsonl", "openai")
    again = import_files(tmp_path / "bfcl.jsonl", tmp_path / "again.parquet", on_error="fail")
    assert again.rows == rep.rows
    assert table(tmp_path / "bfcl.parquet").equals(table(tmp_path / "again.parquet"))


def test_bfcl_types_answers_and_omissions(tmp_path):
    question = {
        "id": "t_0",
        "question": [[{"role": "user", "content": "Plan it."}]],
        "function": [
            {
                "name": "plan",
                "description": "Plan a trip.",
                "parameters": {
                    "type": "dict",
                    "properties": {
                        "budget": {"type": "float"},
                        "coords": {"type": "tuple", "items": {"type": "float"}},
                        "extra": {"type": "any"},
                        "opts": {
                            "type": "dict",
                            "properties": {"pace": {"type": "string"}, "days": {"type": "integer"}},
                        },
                        "stops": {
                            "type": "array",
                            "items": {"type": "dict", "properties": {"city": {"type": "string"}}},
                        },
                        "note": {"type": "string"},
                        "params": {"type": "HashMap"},
                    },
                    "required": ["budget"],
                },
            }
        ],
    }
    answer = {
        "id": "t_0",
        "ground_truth": [
            {
                "plan": {
                    "budget": [100, 100.0],
                    "coords": [[1.5, 2.0]],
                    "extra": ["thing"],
                    "opts": [{"pace": ["slow", "fast"], "days": ["", 3]}],
                    "stops": [[{"city": ["Rome"]}, {"city": ["Oslo", "oslo"]}]],
                    "note": ["", "hi"],
                    "params": [{"limit": [50]}],
                }
            }
        ],
    }
    (tmp_path / "possible_answer").mkdir()
    write_jsonl(tmp_path / "BFCL_v3_toy.json", [question])
    write_jsonl(tmp_path / "possible_answer" / "BFCL_v3_toy.json", [answer])
    (item,) = list(read_bfcl(tmp_path / "BFCL_v3_toy.json"))
    assert item.error is None, item.error
    assert json.loads(item.row["label"]) == [
        {
            "name": "plan",
            "arguments": {
                "budget": 100,
                "coords": [1.5, 2.0],
                "extra": "thing",
                "opts": {"pace": "slow"},
                "stops": [{"city": "Rome"}, {"city": "Oslo"}],
                "params": {"limit": 50},
            },
        }
    ]
    props = json.loads(item.row["tools"])[0]["parameters"]["properties"]
    assert props["budget"] == {"type": "number"}
    assert props["coords"] == {"type": "array", "items": {"type": "number"}}
    assert props["extra"] == {"type": "string"}  # BFCL's any is a string
    assert props["stops"]["items"]["type"] == "object" and props["params"] == {"type": "object"}
    assert json.loads(item.row["meta"])["category"] == "toy"
    assert bfcl_schema({"type": "dict", "properties": {"x": {"type": "long"}}}) == {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
    }

    # Without an answer file (and not an irrelevance category) every entry is flagged, not guessed.
    write_jsonl(tmp_path / "BFCL_v3_noanswer.json", [question])
    (bad,) = list(read_bfcl(tmp_path / "BFCL_v3_noanswer.json"))
    assert (
        bad.reason == "no_ground_truth"
        and "BFCL_v3_noanswer.json:1: id: no ground truth for 't_0'" in bad.error
    )


# --- export -------------------------------------------------------------------------------------------------


def _train_rows():
    conv = [{"role": "user", "content": "Weather in Rome and Oslo?"}]
    multi = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Nice"}}},
            ],
        },
        {"role": "tool", "content": "21"},
        {"role": "tool", "content": "23"},
        {"role": "assistant", "content": "21 and 23."},
        {"role": "user", "content": "Book Paris to Oslo."},
    ]
    refusal = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Order pizza."}]
    broken = [
        {"role": "user", "content": "a"},
        {
            "role": "assistant",
            "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "x"}}}
            ],
        },
        {"role": "tool", "content": "1"},
        {"role": "user", "content": "and?"},
    ]
    rows = []
    for msgs, label, part, meta in (
        (
            conv,
            [
                {"name": "get_weather", "arguments": {"city": "Rome"}},
                {"name": "get_weather", "arguments": {"city": "Oslo"}},
            ],
            "seed_new",
            {"pattern": "parallel"},
        ),
        (
            multi,
            [{"name": "book_flight", "arguments": {"origin": "Paris", "dest": "Oslo"}}],
            "error_seed",
            {},
        ),
        (refusal, [], "expansion", {"reply": "I cannot order food."}),
        (broken, [{"name": "get_weather", "arguments": {"city": "y"}}], "high_ppl", {}),
    ):
        rows.append(
            {
                "sample_id": make_sample_id([WEATHER, FLIGHT], msgs),
                "tools": [WEATHER, FLIGHT],
                "messages": msgs,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": meta,
                "part": part,
            }
        )
    return rows


def test_export_sharegpt_for_llama_factory(tmp_path):
    data = tmp_path / "data"
    write_parquet(frame(_train_rows(), TRAIN), data / "iter_1" / "train.parquet", TRAIN)
    rep = export_dataset("iter_1", tmp_path / "d1.json", "sharegpt", data_dir=data)
    assert (rep.rows, rep.skipped) == (3, 1)
    assert "turn 3 is 'human'" in rep.skipped_examples[0]
    recs = json.loads((tmp_path / "d1.json").read_text())  # .json: one JSON array
    assert len(recs) == 3
    for rec in recs:
        turns = [t["from"] for t in rec["conversations"] if t["from"] != "system"]
        assert all((t in ("human", "observation")) == (k % 2 == 0) for k, t in enumerate(turns))
        assert turns[-1] in ("gpt", "function_call")
        assert [t["name"] for t in json.loads(rec["tools"])] == ["get_weather", "book_flight"]
    parallel, multi, refusal = recs
    assert json.loads(parallel["conversations"][-1]["value"]) == [
        {"name": "get_weather", "arguments": {"city": "Rome"}},
        {"name": "get_weather", "arguments": {"city": "Oslo"}},
    ]
    assert [t["from"] for t in multi["conversations"]] == [
        "human",
        "function_call",
        "observation",
        "gpt",
        "human",
        "function_call",
    ]
    # parallel results: one observation holding a JSON list, one text per call (read back as two tool replies)
    assert json.loads(multi["conversations"][2]["value"]) == ["21", "23"]
    assert json.loads(multi["conversations"][-1]["value"]) == {
        "name": "book_flight",
        "arguments": {"origin": "Paris", "dest": "Oslo"},
    }
    assert refusal["conversations"] == [
        {"from": "system", "value": "Be brief."},
        {"from": "human", "value": "Order pizza."},
        {"from": "gpt", "value": "I cannot order food."},
    ]
    # JSONL variant, same records.
    export_dataset("iter_1", tmp_path / "d1.jsonl", "sharegpt", data_dir=data)
    assert [json.loads(x) for x in (tmp_path / "d1.jsonl").read_text().splitlines()] == recs


def test_export_openai_of_train_set_round_trips(tmp_path):
    data = tmp_path / "data"
    write_parquet(frame(_train_rows(), TRAIN), data / "iter_2" / "train.parquet", TRAIN)
    rep = export_dataset("2", tmp_path / "d2.jsonl", "openai", data_dir=data)
    assert (rep.rows, rep.skipped) == (4, 0)
    import_files(tmp_path / "d2.jsonl", tmp_path / "back.parquet", on_error="fail")
    assert table(data / "iter_2" / "train.parquet").equals(table(tmp_path / "back.parquet"))
    with pytest.raises(ValueError, match="alternate"):
        to_sharegpt(frame([_train_rows()[3]], TRAIN).to_dicts()[0])


def test_cli_import_export(tmp_path):
    src = write_jsonl(tmp_path / "conv.jsonl", [CONV_MULTI, CONV_REFUSAL, "{oops"])
    runner = CliRunner()
    r = runner.invoke(main, ["import", str(src), "--out", str(tmp_path / "x.parquet")])
    assert r.exit_code == 0, r.output
    assert "3 decision points" in r.output and "1 rejected" in r.output and "invalid_json 1" in r.output
    r = runner.invoke(main, ["import", str(src), "--out", str(tmp_path / "y.parquet"), "--on-error", "fail"])
    assert r.exit_code == 1 and f"{src}:3: not valid JSON" in r.output
    r = runner.invoke(
        main,
        ["export", str(tmp_path / "x.parquet"), "--format", "sharegpt", "--out", str(tmp_path / "x.jsonl")],
    )
    assert r.exit_code == 0, r.output
    assert "3 records" in r.output
    assert len((tmp_path / "x.jsonl").read_text().splitlines()) == 3
    r = runner.invoke(
        main,
        [
            "export",
            "iter_4",
            "--format",
            "openai",
            "--out",
            str(tmp_path / "z.jsonl"),
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 1 and "iter_4" in r.output


def test_bfcl_any_is_a_string_everywhere():
    """One decision for BFCL's ``any``: the evaluation prompt, the import and the checker all read it as a
    string (BFCL's checker demands a ``str``)."""
    from looptool.bfcl_format import json_schema_type
    from looptool.evaluate.bfcl import to_tools
    from looptool.match import bfcl as checker

    assert json_schema_type("any") == json_schema_type("Any") == "string"
    fn = {
        "name": "f",
        "description": "d",
        "parameters": {
            "type": "dict",
            "properties": {"x": {"type": "any", "description": "x"}},
            "required": ["x"],
        },
    }
    assert to_tools([fn], "simple")[0]["parameters"]["properties"]["x"]["type"] == "string"
    assert bfcl_schema(fn["parameters"])["properties"]["x"] == {"type": "string", "description": "x"}
    assert checker.check([fn], [{"name": "f", "arguments": {"x": "a"}}], [{"f": {"x": ["a"]}}]).valid
    assert not checker.check([fn], [{"name": "f", "arguments": {"x": 1}}], [{"f": {"x": ["1"]}}]).valid
