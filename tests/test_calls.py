"""Parsing model text into calls, rendering labels, schema validation."""

from __future__ import annotations

import pytest

from looptool.calls import (
    Call,
    as_calls,
    normalize_tool,
    parse,
    render_calls,
    render_target,
    validate_call,
    validate_calls,
)

C = Call


# (text, expected calls or None for a parse error, substring of the error)
CASES = [
    # --- <tool_call> blocks
    ('<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>', [C("f", {"a": 1})], None),
    ('<tool_call>\n  {"name":"f","arguments":{"a":1}}  \n</tool_call>', [C("f", {"a": 1})], None),
    (
        '<tool_call>{"name":"f","arguments":{}}</tool_call>\n\n<tool_call>{"name":"g","arguments":{"b":"x"}}</tool_call>',
        [C("f", {}), C("g", {"b": "x"})],
        None,
    ),
    (
        '<think>I should call f.</think>\n<tool_call>{"name":"f","arguments":{}}</tool_call>',
        [C("f", {})],
        None,
    ),
    (
        '<think>\n\n</think>\n\n<tool_call>{"name":"f","arguments":{"q":"<tool_call>"}}</tool_call>',
        [C("f", {"q": "<tool_call>"})],
        None,
    ),
    ('reasoning...</think><tool_call>{"name":"f","arguments":{}}</tool_call>', [C("f", {})], None),
    ('<think>never closed <tool_call>{"name":"f","arguments":{}}</tool_call>', None, "unclosed <think>"),
    ('<tool_call>{"name": "f", "arguments": {"a": 1}', None, "unclosed <tool_call>"),
    ('<tool_call>{"name": "f", "arguments": {"a": 1}</tool_call>', None, "invalid JSON"),
    ('{"name":"f","arguments":{}}</tool_call>', None, "stray"),
    ('<tool_call><tool_call>{"name":"f","arguments":{}}</tool_call>', None, "nested"),
    ('<tool_call>{"name":"f","arguments":"{\\"a\\": 2}"}</tool_call>', [C("f", {"a": 2})], None),
    ('<tool_call>{"name":"f","arguments":"not json"}</tool_call>', None, "not JSON"),
    ('<tool_call>{"arguments":{"a":1}}</tool_call>', None, "missing or empty 'name'"),
    ('<tool_call>{"name":"f","arguments":[1,2]}</tool_call>', None, "must be an object"),
    ("<tool_call>[1, 2]</tool_call>", None, "must be a JSON object"),
    ('<tool_call>{"name":"f","arguments":{},"extra":1}</tool_call>', None, "unexpected key"),
    ('<tool_call>{"name":"f","parameters":{"a":1}}</tool_call>', [C("f", {"a": 1})], None),
    ('<tool_call>{"name":"f"}</tool_call>', [C("f", {})], None),
    ('Sure! <tool_call>{"name":"f","arguments":{}}</tool_call> done', [C("f", {})], None),
    # nested quotes and unicode
    (
        '<tool_call>{"name":"say","arguments":{"text":"He said \\"hi\\" and left","emoji":"héllo ✓ 日本"}}</tool_call>',
        [C("say", {"text": 'He said "hi" and left', "emoji": "héllo ✓ 日本"})],
        None,
    ),
    ('<tool_call>{"name":"f","arguments":{"s":"a}b{c"}}</tool_call>', [C("f", {"s": "a}b{c"})], None),
    # --- bare JSON
    ('{"name": "f", "arguments": {"x": [1, {"y": null}]}}', [C("f", {"x": [1, {"y": None}]})], None),
    (
        '[{"name":"f","arguments":{}},{"name":"g","arguments":{"a":true}}]',
        [C("f", {}), C("g", {"a": True})],
        None,
    ),
    ("[]", [], None),
    ('{"name": "f", "arguments": {', None, "invalid JSON"),
    ('{"foo": 1}', None, "missing or empty 'name'"),
    ('```json\n{"name":"f","arguments":{"a":1}}\n```', [C("f", {"a": 1})], None),
    # --- python style
    ("[f(a=1), g(b='x')]", [C("f", {"a": 1}), C("g", {"b": "x"})], None),
    ("get_weather(city='Paris', days=3)", [C("get_weather", {"city": "Paris", "days": 3})], None),
    ("[math.factorial(number=5)]", [C("math.factorial", {"number": 5})], None),
    (
        "[f(xs=[1, [2, 3]], d={'k': (1, 2), 'n': None}, flag=True, neg=-2.5)]",
        [C("f", {"xs": [1, [2, 3]], "d": {"k": [1, 2], "n": None}, "flag": True, "neg": -2.5})],
        None,
    ),
    ("[f(1, a=2)]", None, "positional arguments are not allowed"),
    ("[f(**kw)]", None, "**kwargs"),
    ("[f(a=x)]", None, "not a literal"),
    ("[f(a=__import__('os').system('ls'))]", None, "not a literal"),
    ("[f(a=1), 3]", None, "expected f(arg=value)"),
    ("[f(a=1)", None, "not python"),
    ("[f(s='日本語', t=\"it's\")]", [C("f", {"s": "日本語", "t": "it's"})], None),
    ("[getattr(x, 'y')(a=1)]", None, "identifier"),
    ("[(lambda: 1)()]", None, "invalid JSON"),
    # --- text answers (no call, no error)
    ("The weather in Paris is sunny.", [], None),
    ("", [], None),
    ("Which date do you want to fly?", [], None),
]


@pytest.mark.parametrize(("text", "expected", "error"), CASES, ids=range(len(CASES)))
def test_parse_cases(text, expected, error):
    got = parse(text)
    if expected is None:
        assert got.error is not None, got
        assert error in got.error
        assert got.calls == ()
        assert got.label() is None
    else:
        assert got.error is None, got.error
        assert list(got.calls) == expected


def test_parse_never_raises_on_junk():
    for junk in [
        "<tool_call>",
        "</think>",
        "[",
        "{",
        "((",
        "[f(a=1)]]",
        "\x00",
        "<tool_call>\n</tool_call>",
        None,
    ]:
        p = parse(junk)
        assert isinstance(p.calls, tuple)


def test_parse_keeps_text_outside_calls():
    p = parse('Let me check.\n<tool_call>{"name":"f","arguments":{}}</tool_call>')
    assert p.content == "Let me check."


def test_render_roundtrip():
    label = [{"name": "f", "arguments": {"a": 1, "s": "é"}}, {"name": "g", "arguments": {}}]
    text = render_calls(label)
    assert text.count("<tool_call>") == 2
    assert parse(text).label() == label
    assert render_target([], "Which city?") == "Which city?"
    assert as_calls(text and '[{"name":"f","arguments":{}}]') == [Call("f", {})]


TOOLS = [
    {
        "name": "book",
        "description": "Book a room.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "nights": {"type": "integer", "minimum": 1},
                "kind": {"type": "string", "enum": ["single", "double"]},
                "date": {"type": "string", "format": "date"},
                "guests": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["city", "nights"],
        },
    }
]


def test_validate_ok():
    assert (
        validate_call({"name": "book", "arguments": {"city": "Rome", "nights": 2, "kind": "double"}}, TOOLS)
        == []
    )


def test_validate_every_violation_reported():
    problems = validate_call(
        {"name": "book", "arguments": {"nights": "2", "kind": "suite", "pets": 1, "date": "2024-13-40"}},
        TOOLS,
    )
    text = "\n".join(problems)
    assert "missing required argument 'city'" in text
    assert "unknown argument 'pets'" in text
    assert "nights" in text and "not of type 'integer'" in text
    assert "'suite' is not one of" in text
    assert "date" in text
    assert len(problems) == 5


def test_validate_unknown_function_and_list():
    assert "unknown function 'fly'" in validate_call(Call("fly", {}), TOOLS)[0]
    assert validate_calls([Call("book", {"city": "x", "nights": 0}), Call("fly", {})], TOOLS)[0].startswith(
        "book"
    )


def test_validate_additional_properties_allowed():
    tools = [{"name": "f", "parameters": {"type": "object", "properties": {}, "additionalProperties": True}}]
    assert validate_call(Call("f", {"anything": 1}), tools) == []


def test_normalize_openai_tool():
    t = normalize_tool({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}})
    assert t == {"name": "f", "description": "", "parameters": {"type": "object"}}


def test_case_count():
    assert len(CASES) >= 30


def test_python_style_calls_accept_json_literals():
    from looptool.calls import parse

    got = parse('[f(flag=true, x=null, y=[false, {"a": true}])]')
    assert got.ok and got.calls[0].arguments == {"flag": True, "x": None, "y": [False, {"a": True}]}
    assert parse("f(a=false)").calls[0].arguments == {"a": False}
    assert not parse("[f(flag=truth)]").ok  # other names are still not literals
    assert not parse("[f(flag=__import__('os'))]").ok


# --- other model families' tool-call formats ---------------------------------------------------------------


def test_llama3_and_mistral_formats_parse():
    from looptool.calls import parse, parse_as

    want = [{"name": "f", "arguments": {"x": 1}}, {"name": "g", "arguments": {}}]
    llama = '<|python_tag|>{"name": "f", "parameters": {"x": 1}}; {"name": "g", "parameters": {}}<|eom_id|>'
    llama_py = "<|python_tag|>[f(x=1), g()]<|eot_id|>"
    mistral_v3 = '[TOOL_CALLS] [{"name": "f", "arguments": {"x": 1}}, {"name": "g", "arguments": {}, "id": "abc123XYZ"}]</s>'
    mistral_v11 = '[TOOL_CALLS]f[ARGS]{"x": 1}[TOOL_CALLS]g[CALL_ID]abc123XYZ[ARGS]{}'
    for text, fmt in (
        (llama, "llama3"),
        (llama_py, "llama3"),
        (mistral_v3, "mistral"),
        (mistral_v11, "mistral"),
    ):
        assert parse(text).label() == want, text
        assert parse_as(text, fmt).label() == want, text
    # Llama 3.1 without the tag: a bare JSON call with "parameters"
    assert parse_as('{"name": "f", "parameters": {"x": 1}}', "llama3").label() == want[:1]
    # each strict format reads other families' calls as text
    hermes = '<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>'
    assert parse_as(hermes, "hermes").label() == want[:1]
    assert parse_as(hermes, "mistral").calls == () and parse_as(hermes, "mistral").ok
    assert parse_as(mistral_v3, "hermes").calls == ()
    assert parse_as("[f(x=1)]", "python").label() == want[:1]
    assert parse_as("[f(x=1)]", "json").calls == () and parse_as("[f(x=1)]", "json").error
    # malformed calls are errors, never raised
    assert parse('[TOOL_CALLS]f[ARGS]{"x": 1').error and parse("<|python_tag|>{oops").error
    assert parse("[TOOL_CALLS]").error
    with pytest.raises(ValueError, match="unknown tool-call format"):
        parse_as("x", "gemma")


def test_call_format_from_the_chat_template():
    from looptool.calls import call_format_of

    assert call_format_of("{{ '<tool_call>' }}{{ tool_call | tojson }}") == "hermes"
    assert call_format_of("{{- '<|python_tag|>' }}") == "llama3"
    assert call_format_of("{{ '[TOOL_CALLS]' }}") == "mistral"
    assert call_format_of("{{ message.content }}") == "auto"

    class Tok:
        chat_template = "... <tool_call> ..."

    assert call_format_of(Tok()) == "hermes" and call_format_of(None) == "auto"
