"""A sample (tools + messages) as the student's input text, and a label as its target text.

Tokenizers whose chat template renders ``tools=`` (Qwen, Llama 3.1, Hermes, ...) are used as they are. For
templates that ignore tools (SmolLM2's ChatML template silently drops them), the tools go into a compact
Hermes/Qwen-style system prompt (``<tools>`` with one signature line per tool, see :func:`tool_signature`)
and calls are written as ``<tool_call>`` blocks; tool results become
``<tool_response>`` blocks in a user turn. Prompts are kept short: on CPU, prefill costs ~3.5 ms a token.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from looptool.calls import render_calls, render_target

TOOLS_HEADER = (
    "You can call these functions (name?: optional):\n<tools>\n{tools}\n</tools>\n"
    "To call, answer only with one <tool_call></tool_call> block per call, each holding "
    '{{"name": <function-name>, "arguments": <args-object>}}. '
    "If no function fits, or a required value is missing, answer in plain text."
)


def _type(schema: dict[str, Any]) -> str:
    """A JSON Schema as a compact TypeScript-like type."""
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema:
        return "|".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    t = schema.get("type", "any")
    if isinstance(t, list):
        return "|".join(str(x) for x in t)
    if t == "array":
        inner = _type(schema.get("items") or {})
        return f"({inner})[]" if "|" in inner else f"{inner}[]"
    if t == "object" and schema.get("properties"):
        req = set(schema.get("required") or [])
        return "{" + ", ".join(_arg(k, v, k in req) for k, v in schema["properties"].items()) + "}"
    if t == "string" and "format" in schema:
        return f"string<{schema['format']}>"
    return str(t)


def _arg(name: str, schema: dict[str, Any], required: bool) -> str:
    out = f"{name}{'' if required else '?'}: {_type(schema)}"
    notes = []
    if isinstance(schema, dict):
        if schema.get("description"):
            notes.append(str(schema["description"]).strip())
        if "minimum" in schema or "maximum" in schema:
            notes.append(f"{schema.get('minimum', '')}..{schema.get('maximum', '')}")
        if "default" in schema:
            notes.append(f"default {json.dumps(schema['default'], ensure_ascii=False)}")
    return out + (f" /* {'; '.join(notes)} */" if notes else "")


def tool_signature(tool: dict[str, Any]) -> str:
    """One line per tool: ``name(arg: type /* description */, opt?: type) - description``.

    40% fewer tokens than the JSON Schema on the seed corpus (207 vs 349 per sample's tools, SmolLM2
    tokenizer), keeping every description, enum, range, format and default.
    """
    params = tool.get("parameters") or {}
    req = set(params.get("required") or [])
    args = ", ".join(_arg(k, v, k in req) for k, v in (params.get("properties") or {}).items())
    desc = (tool.get("description") or "").strip()
    return f"{tool['name']}({args})" + (f" - {desc}" if desc else "")


def tools_system_prompt(tools: list[dict[str, Any]]) -> str:
    """The compact system prompt that lists ``tools``, one signature a line."""
    return TOOLS_HEADER.format(tools="\n".join(tool_signature(t) for t in tools))


_SUPPORTS_TOOLS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
""":func:`supports_tools`' answers, per tokenizer object (kept here rather than as an attribute set on the
tokenizer: looptool stores nothing on transformers' objects)."""


def supports_tools(tokenizer: Any) -> bool:
    """Whether the tokenizer's chat template renders ``tools=`` (checked once by rendering, then cached)."""
    try:  # a tokenizer that cannot be weakly referenced (TypeError) is checked at each call
        return _SUPPORTS_TOOLS[tokenizer]
    except (KeyError, TypeError):
        pass
    probe_tool = {
        "type": "function",
        "function": {
            "name": "zz_probe_fn",
            "description": "d",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    msgs = [{"role": "user", "content": "hi"}]
    try:
        with_tools = tokenizer.apply_chat_template(msgs, tools=[probe_tool], tokenize=False)
        result = "zz_probe_fn" in with_tools
    except Exception:
        result = False
    try:
        _SUPPORTS_TOOLS[tokenizer] = result
    except TypeError:
        pass
    return result


def openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tools as a template's ``tools=`` takes them (OpenAI form, keys in the sample's order)."""
    return [{"type": "function", "function": t} for t in tools]


def _openai_tool_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls]


def message_calls(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """Calls of an assistant message in label form, from OpenAI ``tool_calls`` (arguments as object or text)."""
    out = []
    for tc in msg.get("tool_calls") or []:
        fn = tc.get("function", tc)
        args = fn.get("arguments") or {}
        if isinstance(args, str):
            args = json.loads(args) if args.strip() else {}
        out.append({"name": fn["name"], "arguments": args})
    return out


def hermes_messages(
    tools: list[dict[str, Any]] | None, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Messages for a template without tool support: tools in the system prompt, calls and results as text."""
    out: list[dict[str, Any]] = []
    system = [m["content"] for m in messages if m["role"] == "system" and m.get("content")]
    if tools:
        system.append(tools_system_prompt(tools))
    if system:
        out.append({"role": "system", "content": "\n\n".join(system)})
    for m in messages:
        role = m["role"]
        if role == "system":
            continue
        if role == "assistant":
            calls = message_calls(m)
            text = (m.get("content") or "").strip()
            if calls:
                text = (text + "\n" if text else "") + render_calls(calls)
            out.append({"role": "assistant", "content": text})
        elif role == "tool":
            block = f"<tool_response>\n{m.get('content') or ''}\n</tool_response>"
            if out and out[-1]["role"] == "user" and out[-1].get("_tool"):
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block, "_tool": True})
        else:
            out.append({"role": role, "content": m.get("content") or ""})
    for m in out:
        m.pop("_tool", None)
    return out


def native_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages for a template with tool support: OpenAI form with arguments as objects."""
    out = []
    for m in messages:
        m = dict(m)
        if m["role"] == "assistant" and m.get("tool_calls"):
            m["tool_calls"] = _openai_tool_calls(message_calls(m))
            m.setdefault("content", "")
        out.append(m)
    return out


def render_prompt(
    tokenizer: Any,
    tools: list[dict[str, Any]] | None,
    messages: list[dict[str, Any]],
    add_generation_prompt: bool = True,
    **template_kwargs: Any,
) -> str:
    """The student's input text for a decision point (ends with the assistant turn's opening)."""
    if tools and supports_tools(tokenizer):
        return tokenizer.apply_chat_template(
            native_messages(messages),
            tools=openai_tools(tools),
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            **template_kwargs,
        )
    return tokenizer.apply_chat_template(
        hermes_messages(tools, messages),
        tokenize=False,
        add_generation_prompt=add_generation_prompt,
        **template_kwargs,
    )


def chat_messages(
    tools: list[dict[str, Any]] | None, messages: list[dict[str, Any]], tokenizer: Any
) -> list[dict]:
    """The messages list TRL trainers should see for a prompt (conversational format).

    For tool-less templates the tools are folded into the system prompt, so TRL's own
    ``apply_chat_template`` produces exactly :func:`render_prompt`'s text.
    """
    if tools and supports_tools(tokenizer):
        return native_messages(messages)
    return hermes_messages(tools, messages)


def render_completion(label: list[dict[str, Any]], reply: str | None = None) -> str:
    """The assistant's target text for a label (calls as ``<tool_call>`` blocks, or the text reply)."""
    return render_target(label, reply)


def conversation_text(messages: list[dict[str, Any]]) -> str:
    """A conversation as plain text for a prompt (one ``[role] text`` line a turn, calls rendered as the
    student writes them): what the judges and the generator read."""
    lines = []
    for m in messages:
        role = m["role"]
        if role == "assistant":
            calls = message_calls(m)
            body = (
                ((m.get("content") or "").strip() + "\n" + render_calls(calls)).strip()
                if calls
                else (m.get("content") or "")
            )
            lines.append(f"[assistant] {body}")
        elif role == "tool":
            lines.append(
                f"[tool {m.get('name') or ''}] {m.get('content') or ''}".replace("[tool ]", "[tool]")
            )
        else:
            lines.append(f"[{role}] {m.get('content') or ''}")
    return "\n".join(lines)
