"""Rendering samples for the student: tool templates where the tokenizer has one, Hermes prompt otherwise."""

from __future__ import annotations

import copy

from looptool.calls import parse
from looptool.prompts import (
    chat_messages,
    render_completion,
    render_prompt,
    supports_tools,
    tools_system_prompt,
)

TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
        ],
    },
    {"role": "tool", "name": "get_weather", "content": '{"temp": 21}'},
    {"role": "tool", "name": "get_weather", "content": '{"temp": 25}'},
]

QWEN_LIKE = (
    "{%- if tools %}<|im_start|>system\n{% for m in messages if m.role == 'system' %}{{ m.content }}\n{% endfor %}"
    "# Tools\n<tools>{% for t in tools %}\n{{ t | tojson }}{% endfor %}\n</tools><|im_end|>\n{%- endif %}"
    "{%- for m in messages if m.role != 'system' %}<|im_start|>{{ m.role }}\n{{ m.content }}"
    "{%- if m.tool_calls %}{% for tc in m.tool_calls %}\n<tool_call>\n{{ tc.function | tojson }}\n</tool_call>{% endfor %}{% endif %}"
    "<|im_end|>\n{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}"
)


def test_smollm2_has_no_tool_template(smollm2_tokenizer):
    assert supports_tools(smollm2_tokenizer) is False


def test_hermes_rendering(smollm2_tokenizer):
    msgs = copy.deepcopy(MSGS)
    text = render_prompt(smollm2_tokenizer, TOOLS, msgs)
    assert msgs == MSGS  # inputs untouched
    assert text.count("<|im_start|>system") == 1
    assert (
        "Be brief." in text
        and "<tools>\nget_weather(city: string) - Current weather for a city.\n</tools>" in text
    )
    # both calls rendered as parseable blocks in the assistant turn
    assistant = text.split("<|im_start|>assistant\n")[1].split("<|im_end|>")[0]
    assert [c.arguments["city"] for c in parse(assistant).calls] == ["Paris", "Rome"]
    # consecutive tool results merged into one user turn
    assert text.count("<tool_response>") == 2
    assert "</tool_response>\n<tool_response>" in text
    assert text.endswith("<|im_start|>assistant\n")
    assert "SmolLM" not in text  # our system prompt replaces the template's default one


def test_tool_signature_keeps_schema_information():
    from looptool.prompts.render import tool_signature

    tool = {
        "name": "book",
        "description": "Book a room.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name."},
                "nights": {"type": "integer", "minimum": 1, "maximum": 30, "default": 1},
                "kind": {"type": "string", "enum": ["single", "double"]},
                "date": {"type": "string", "format": "date"},
                "guests": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
                        "required": ["name"],
                    },
                },
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "note": {"type": ["string", "null"]},
            },
            "required": ["city", "kind"],
        },
    }
    assert tool_signature(tool) == (
        'book(city: string /* City name. */, nights?: integer /* 1..30; default 1 */, kind: "single"|"double", '
        'date?: string<date>, guests?: {name: string}[], tags?: ("a"|"b")[], note?: string|null) - Book a room.'
    )


def test_prompt_is_compact(smollm2_tokenizer):
    text = render_prompt(smollm2_tokenizer, TOOLS, [{"role": "user", "content": "Weather in Oslo?"}])
    assert len(smollm2_tokenizer(text).input_ids) < 160
    assert len(tools_system_prompt(TOOLS)) < 600


def test_chat_messages_match_render(smollm2_tokenizer):
    msgs = chat_messages(TOOLS, MSGS, smollm2_tokenizer)
    via_trl = smollm2_tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert via_trl == render_prompt(smollm2_tokenizer, TOOLS, MSGS)


def test_native_tool_template_used_when_present(smollm2_tokenizer_dir):
    from looptool.model import load_tokenizer

    tok = load_tokenizer(smollm2_tokenizer_dir)
    tok.chat_template = QWEN_LIKE
    assert supports_tools(tok)
    text = render_prompt(tok, TOOLS, MSGS)
    assert "# Tools" in text and "You can call functions" not in text
    assert '"arguments": {"city": "Paris"}' in text  # arguments given as JSON text became an object


def test_no_tools_plain_chat(smollm2_tokenizer):
    text = render_prompt(smollm2_tokenizer, None, [{"role": "user", "content": "hi"}])
    assert "<tools>" not in text


def test_render_completion():
    assert render_completion([], "Which city?") == "Which city?"
    out = render_completion([{"name": "f", "arguments": {"a": 1}}])
    assert parse(out).label() == [{"name": "f", "arguments": {"a": 1}}]
