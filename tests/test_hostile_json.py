"""Hostile JSON inside string fields (issue 23, class 2) and verl's reward on malformed rows (class 9).

Every decode of imported text goes through :func:`looptool.jsonutil.loads`: deep nesting, a lone surrogate,
NaN, Infinity and 1e999 in any JSON-holding field of any importer are one rejected row naming
``file:line: field``, never an aborted import and never non-JSON text in the pool; the record schema refuses
non-finite numbers too; model text with them is a failed parse; ``compute_score`` always returns a score.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from looptool import jsonutil, storage
from looptool.interchange import import_files
from looptool.schema import SAMPLE, SchemaError, frame, make_sample_id

DEEP = "[" * 1000 + "]" * 1000
PAYLOADS = {  # JSON text put where a value belongs -> what the rejection says
    "deep": (DEEP, "nested deeper than 100 levels"),
    "surrogate": ('"caf\\ud800"', "lone surrogate"),
    "nan": ("NaN", "NaN is not a JSON number"),
    "infinity": ("-Infinity", "-Infinity is not a JSON number"),
    "1e999": ("1e999", "number 1e999 is out of range"),
    "long_int": ("1" * 5000, "an integer longer than 4300 digits"),
}
TOOL = {
    "name": "get_weather",
    "description": "Weather.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _xlam(
    answers: str = '[{"name": "get_weather", "arguments": {"city": "Lima"}}]', tools: str | None = None
):
    if tools is None:
        tools = '[{"name": "get_weather", "description": "d", "parameters": {"city": {"type": "str"}}}]'
    return json.dumps({"id": 1, "query": "Weather in Lima?", "tools": tools, "answers": answers})


def _openai(tools: str | None = None, arguments: str = '{"city": "Lima"}'):
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
    messages = [{"role": "user", "content": "Weather in Lima?"}, {"role": "assistant", "tool_calls": [call]}]
    return json.dumps(
        {"messages": messages, "tools": tools or json.dumps([{"type": "function", "function": TOOL}])}
    )


def _sharegpt(call: str = '{"name": "get_weather", "arguments": {"city": "Lima"}}', tools: str | None = None):
    turns = [{"from": "human", "value": "Weather in Lima?"}, {"from": "function_call", "value": call}]
    return json.dumps({"conversations": turns, "tools": tools or json.dumps([TOOL])})


def _hermes(call: str = '{"name": "get_weather", "arguments": {"city": "Lima"}}', tools: str | None = None):
    system = f"You may call tools. <tools>{tools or json.dumps([TOOL])}</tools>"
    turns = [
        {"from": "system", "value": system},
        {"from": "human", "value": "Weather in Lima?"},
        {"from": "gpt", "value": f"<tool_call>{call}</tool_call>"},
    ]
    return json.dumps({"conversations": turns})


def _sample(**texts) -> dict:
    msgs = [{"role": "user", "content": "Weather in Lima?"}]
    row = {
        "sample_id": make_sample_id([TOOL], msgs),
        "tools": json.dumps([TOOL]),
        "messages": json.dumps(msgs),
        "label": '[{"name": "get_weather", "arguments": {"city": "Lima"}}]',
        "meta": "{}",
    }
    return {**row, **texts, **({"sample_id": None} if texts else {})}


# (format, file suffix, good record, hostile record from a payload, field the rejection names)
FIELDS = {
    "xlam.answers": (
        "jsonl",
        _xlam(),
        lambda p: _xlam(answers=f'[{{"name": "get_weather", "arguments": {{"city": {p}}}}}]'),
        "answers",
    ),
    "xlam.tools": (
        "jsonl",
        _xlam(),
        lambda p: _xlam(tools=f'[{{"name": "get_weather", "description": {p}, "parameters": {{}}}}]'),
        "tools",
    ),
    "openai.tools": (
        "jsonl",
        _openai(),
        lambda p: _openai(tools=f'[{{"type": "function", "function": {{"name": "get_weather", "x": {p}}}}}]'),
        "tools",
    ),
    "openai.arguments": (
        "jsonl",
        _openai(),
        lambda p: _openai(arguments=f'{{"city": {p}}}'),
        "messages[1].tool_calls[0].function.arguments",
    ),
    "sharegpt.function_call": (
        "jsonl",
        _sharegpt(),
        lambda p: _sharegpt(call=f'{{"name": "get_weather", "arguments": {{"city": {p}}}}}'),
        "conversations[1].value",
    ),
    "sharegpt.tools": (
        "jsonl",
        _sharegpt(),
        lambda p: _sharegpt(tools=f'[{{"name": "get_weather", "description": {p}}}]'),
        "tools",
    ),
    "hermes.tool_call": (
        "jsonl",
        _hermes(),
        lambda p: _hermes(call=f'{{"name": "get_weather", "arguments": {{"city": {p}}}}}'),
        "conversations[2].value <tool_call> 1",
    ),
    "hermes.tools": (
        "jsonl",
        _hermes(),
        lambda p: _hermes(tools=f'[{{"name": "get_weather", "description": {p}}}]'),
        "conversations[0].value <tools>",
    ),
    "parquet.tools": ("parquet", _sample(), lambda p: _sample(tools=f'[{{"name": "f", "x": {p}}}]'), "tools"),
    "parquet.messages": (
        "parquet",
        _sample(),
        lambda p: _sample(messages=f'[{{"role": "user", "content": {p}}}]'),
        "messages",
    ),
    "parquet.label": (
        "parquet",
        _sample(),
        lambda p: _sample(label=f'[{{"name": "get_weather", "arguments": {{"city": {p}}}}}]'),
        "label",
    ),
    "parquet.meta": ("parquet", _sample(), lambda p: _sample(meta=f'{{"x": {p}}}'), "meta"),
}


def _write(path: Path, suffix: str, records: list) -> Path:
    if suffix == "parquet":
        pl.DataFrame(records, schema={k: pl.String for k in records[0]}).write_parquet(path)
    else:
        path.write_text("\n".join(records) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("where", sorted(FIELDS))
def test_json_in_a_field_is_one_rejected_row(tmp_path, where, payload):
    suffix, good, hostile, field = FIELDS[where]
    text, message = PAYLOADS[payload]
    src = _write(tmp_path / f"in.{suffix}", suffix, [good, hostile(text)])
    rep = import_files(src, tmp_path / "out.parquet")
    assert rep.rows == 1 and rep.rejected == 1, rep.to_dict()
    (detail,) = pl.read_parquet(rep.rejected_path)["detail"].to_list()
    assert detail.startswith(f"{src}:2: {field}") and message in detail and "\n" not in detail, detail
    # what was imported is JSON the strict decoder reads back, and the schema accepts the file
    pool = storage.read_parquet(rep.out, SAMPLE)
    for col in ("tools", "messages", "label", "meta"):
        jsonutil.loads(pool[col][0])
    storage.read_parquet(rep.rejected_path)  # the rejected file is text Parquet could store


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_json_array_file_goes_on_after_a_refused_element(tmp_path, payload):
    text, message = PAYLOADS[payload]
    bad = json.loads(_xlam())
    src = tmp_path / "in.json"
    src.write_text(
        "[\n"
        + _xlam()
        + ",\n"
        + json.dumps(bad)[:-1]
        + f', "x": {text}}}'
        + ",\n"
        + _xlam().replace("Lima", "Oslo")
        + "\n]\n"
    )
    rep = import_files(src, tmp_path / "out.parquet")
    assert rep.rows == 2 and rep.rejected == 1, rep.to_dict()
    (detail,) = pl.read_parquet(rep.rejected_path)["detail"].to_list()
    assert detail.startswith(f"{src}:3: ") and message in detail, detail


@pytest.mark.parametrize(
    "value,message",
    [
        ("1e999", "Infinity is not a JSON number"),  # a Python float literal: inf
        ("'caf\\ud800'", "lone surrogate"),
        ("{1, 2}", "not a JSON value"),
    ],
)
def test_hermes_python_literal_values_are_checked(tmp_path, value, message):
    src = tmp_path / "in.jsonl"
    src.write_text(
        _hermes() + "\n" + _hermes(call=f"{{'name': 'get_weather', 'arguments': {{'city': {value}}}}}") + "\n"
    )
    rep = import_files(src, tmp_path / "out.parquet", fmt="hermes", check_labels=False)
    assert rep.rows == 1 and rep.rejected == 1, rep.to_dict()
    (detail,) = pl.read_parquet(rep.rejected_path)["detail"].to_list()
    assert detail.startswith(f"{src}:2: ") and message in detail, detail


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_parquet_native_non_finite_numbers_are_refused(tmp_path, value):
    import pyarrow as pa
    import pyarrow.parquet as pq

    msgs = json.dumps([{"role": "user", "content": "Weather in Lima?"}])
    table = pa.table(
        {
            "sample_id": [None, None],
            "tools": [json.dumps([TOOL])] * 2,
            "messages": [msgs, msgs.replace("Lima", "Oslo")],
            "label": [[{"name": "get_weather", "arguments": {"city": c}}] for c in (1.5, value)],
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    rep = import_files(src, tmp_path / "out.parquet", check_labels=False)
    assert rep.rows == 1 and rep.rejected == 1, rep.to_dict()
    (detail,) = pl.read_parquet(rep.rejected_path)["detail"].to_list()
    assert detail.startswith(f"{src}:2: label") and "is not a JSON number" in detail, detail


def test_bfcl_answers_file_refused_in_one_line(tmp_path):
    from looptool.interchange.records import InterchangeError

    q = tmp_path / "BFCL_v3_simple.json"
    q.write_text(
        json.dumps({"id": "simple_0", "question": [[{"role": "user", "content": "hi"}]], "function": [TOOL]})
        + "\n"
    )
    (tmp_path / "possible_answer").mkdir()
    for text, message in PAYLOADS.values():
        (tmp_path / "possible_answer" / q.name).write_text(
            f'{{"id": "simple_0", "ground_truth": [{text}]}}\n'
        )
        with pytest.raises(InterchangeError, match=r"possible_answer/BFCL_v3_simple.json:1: ") as e:
            import_files(q, tmp_path / "out.parquet", fmt="bfcl")
        assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("payload", ["nan", "infinity", "1e999", "surrogate", "deep"])
@pytest.mark.parametrize("column", ["tools", "messages", "label", "meta"])
def test_schema_refuses_what_the_decoder_refuses(tmp_path, column, payload):
    text, message = PAYLOADS[payload]
    good = _sample()
    value = {
        "tools": f'[{{"name": "f", "x": {text}}}]',
        "messages": f'[{{"role": "user", "content": {text}}}]',
        "label": f'[{{"name": "f", "arguments": {{"x": {text}}}}}]',
        "meta": f'{{"x": {text}}}',
    }[column]
    rows = [{**good, "origin": "seed", "parent_id": None, "iteration": 0, "label_rev": 0}] * 2
    df = frame(rows, SAMPLE).with_columns(pl.Series(column, [good[column], value]))
    p = tmp_path / "t.parquet"
    df.write_parquet(p)
    with pytest.raises(SchemaError, match=rf"row 1 column '{column}': JSON .*{message[:12]}"):
        storage.read_parquet(p, SAMPLE)


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>{"name": "f", "arguments": {"x": NaN}}</tool_call>',
        '<tool_call>{"name": "f", "arguments": {"x": 1e999}}</tool_call>',
        '<tool_call>{"name": "f", "arguments": {"x": "\\udc00"}}</tool_call>',
        '<tool_call>{"name": "f", "arguments": "{\\"x\\": Infinity}"}</tool_call>',
        '{"name": "f", "arguments": {"x": -Infinity}}',
        '<|python_tag|>{"name": "f", "parameters": {"x": NaN}}',
        '[TOOL_CALLS][{"name": "f", "arguments": {"x": NaN}}]',
        '[TOOL_CALLS]f[ARGS]{"x": NaN}',
        "[f(x=1e999)]",
        "[f(x='\\ud800')]",
        "[f(x=...)]",
    ],
)
def test_model_text_with_non_json_numbers_is_a_failed_parse(text):
    from looptool.calls import parse

    r = parse(text)
    assert not r.ok and r.calls == () and r.error, r


@pytest.mark.parametrize("args", ['{"x": NaN}', '{"x": 1e999}', '{"x": "\\ud800"}', '{"x": ' + DEEP + "}"])
def test_server_tool_call_arguments_use_the_strict_decoder(args):
    from looptool.llm.openai import ReplyError, read_chat_reply

    reply = {
        "choices": [
            {"message": {"content": None, "tool_calls": [{"function": {"name": "f", "arguments": args}}]}}
        ]
    }
    with pytest.raises(ReplyError, match=r"tool_calls\[0\] \(f\): arguments are not JSON \(.+\)"):
        read_chat_reply(reply)


def test_valid_model_text_parses_as_before():
    from looptool.calls import parse

    r = parse(
        '<tool_call>{"name": "f", "arguments": {"x": 1.5e300, "y": "\\ud83d\\ude00", "x": 2}}</tool_call>'
    )
    assert r.ok and r.calls[0].arguments == {
        "x": 2,
        "y": "\U0001f600",
    }  # duplicate keys: the last, as json.loads


def test_generator_output_with_nan_is_refused():
    from looptool.prompts.generator import parse_generated

    obj, err = parse_generated(
        '{"tools": [{"name": "f"}], "messages": [{"role": "user", "content": "x"}], "label": [{"name": "f", "arguments": {"x": NaN}}]}'
    )
    assert obj is None and "NaN is not a JSON number" in err


# --- verl's compute_score never raises ---------------------------------------------------------------------

GT = '[{"name": "get_weather", "arguments": {"city": "Lima"}}]'
RIGHT = '<tool_call>{"name": "get_weather", "arguments": {"city": "Lima"}}</tool_call>'


@pytest.mark.parametrize(
    "ground_truth",
    [
        "not json",
        "",
        '[{"name": "get_weather", "arguments": {"city": NaN}}]',
        "[" + DEEP + "]",
        '"\\ud800"',
        '{"name": "get_weather"}',
        '["get_weather"]',
        '[{"arguments": {}}]',
        '[{"name": "get_weather", "arguments": [1]}]',
        None,
        42,
        {"name": "get_weather"},
        b"\xff\xfe",
        "1" * 5000,
    ],
)
def test_compute_score_malformed_ground_truth_scores_zero(ground_truth):
    from looptool.interchange.verl import compute_score

    assert compute_score("looptool", RIGHT, ground_truth, {"tools": json.dumps([TOOL])}) == 0.0


@pytest.mark.parametrize(
    "extra_info",
    [
        None,
        "tools",
        ["a"],
        7,
        {"tools": "not json"},
        {"tools": "[NaN]"},
        {"tools": DEEP},
        {"tools": '"\\ud800"'},
        {"tools": '[{"description": "no name"}]'},
        {"tools": '["get_weather"]'},
        {"tools": '{"name": "get_weather"}'},
        {"tools": '[{"name": "get_weather", "parameters": "object"}]'},
        {"tools": '[{"name": "get_weather", "parameters": {"properties": {"city": "string"}}}]'},
        {"tools": '[{"name": "get_weather", "parameters": {"properties": ["city"]}}]'},
        {"tools": 12},
        {"tools": [None]},
        {"call_format": "klingon"},
        {"call_format": ["hermes"], "tools": json.dumps([TOOL])},
    ],
)
def test_compute_score_malformed_extra_info_or_tools_still_scores(extra_info):
    from looptool.interchange.verl import compute_score

    assert compute_score("looptool", RIGHT, GT, extra_info) == 1.0
    assert compute_score("looptool", "It is sunny.", GT, extra_info) == 0.0
    assert compute_score("looptool", None, GT, extra_info) == 0.0


def test_compute_score_without_schemas_compares_numbers_by_type():
    from looptool.interchange.verl import compute_score

    tool = {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "number"}}}}
    gt = '[{"name": "f", "arguments": {"x": 1}}]'
    pred = '<tool_call>{"name": "f", "arguments": {"x": 1.0}}</tool_call>'
    assert compute_score("looptool", pred, gt, {"tools": json.dumps([tool])}) == 1.0
    assert compute_score("looptool", pred, gt, {"tools": "[NaN]"}) == 0.0  # bad schemas left out: stricter


def test_compute_score_logs_each_kind_of_problem_once(caplog, monkeypatch):
    from looptool.interchange import verl

    monkeypatch.setattr(verl, "_WARNED", set())
    with caplog.at_level("WARNING", logger="looptool.interchange.verl"):
        for _ in range(3):
            assert verl.compute_score("looptool", RIGHT, "[NaN]", {"tools": "{"}) == 0.0
            assert verl.compute_score("looptool", RIGHT, GT, {"tools": "{"}) == 1.0
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("\n" not in m for m in lines), lines
    assert "ground_truth NaN is not a JSON number" in lines[0] and "tools not valid JSON" in lines[1], lines


def test_loads_is_json_loads_on_valid_json():
    for text in (
        '{"a": [1, 2.5, -0.0, 1e300, "x\\u00e9", "\\ud83d\\ude00", null, true], "b": {}}',
        "[]",
        '"s"',
        "3",
    ):
        a, b = jsonutil.loads(text), json.loads(text)
        assert a == b and json.dumps(a) == json.dumps(b)
    assert math.copysign(1, jsonutil.loads("-0.0")) == -1
