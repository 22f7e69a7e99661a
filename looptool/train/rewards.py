"""Reward functions for GRPO, in TRL's convention: plain callables ``(prompts, completions, **columns)`` that
return one float per completion. TRL passes every dataset column as a keyword argument (here ``label`` and
``tools``, JSON text), plus ``completion_ids`` and ``trainer_state``, which these functions ignore.

Completions arrive as text (standard prompts) or as a one-message list ``[{"role": "assistant", "content":
...}]`` (conversational prompts); when the tokenizer has a response schema, TRL may already have split the
calls into ``tool_calls``. :func:`completion_text` reads all three.
"""

from __future__ import annotations

import json
from typing import Any

from looptool.calls import parse, render_calls
from looptool.match import tool_match
from looptool.match.partial import credit
from looptool.prompts.render import message_calls
from looptool.train.config import REWARDS


def completion_text(completion: Any) -> str:
    """The assistant's text of one TRL completion (tool calls parsed by TRL are rendered back as blocks).

    >>> completion_text("hi")
    'hi'
    >>> completion_text([{"role": "assistant", "content": "hi"}])
    'hi'
    >>> completion_text([{"role": "assistant", "content": "", "tool_calls": [
    ...     {"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}])
    '<tool_call>\\n{"name": "f", "arguments": {"x": 1}}\\n</tool_call>'
    """
    if isinstance(completion, str):
        return completion
    parts = []
    for msg in completion or []:
        if msg.get("role", "assistant") != "assistant":
            continue
        content = msg.get("content") or ""
        if isinstance(content, list):  # content blocks
            content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
        calls = message_calls(msg)
        parts.append(
            (content + "\n" if content and calls else content) + (render_calls(calls) if calls else "")
        )
    return "\n".join(p for p in parts if p)


def tool_match_reward(
    prompts: list[Any], completions: list[Any], label: list[Any], tools: list[Any], **_: Any
) -> list[float]:
    """The paper's binary reward: 1.0 when the completion makes exactly the label's calls (ToolMatch), else 0.0.

    A completion whose calls cannot be parsed gets 0; an empty label (answer in text) is matched by a
    completion that makes no call.

    >>> call = '<tool_call>\\n{"name": "get_weather", "arguments": {"city": "Paris"}}\\n</tool_call>'
    >>> label = '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
    >>> tools = '[{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]'
    >>> tool_match_reward(
    ...     prompts=[[{"role": "user", "content": "Weather in Paris?"}]] * 3,
    ...     completions=[[{"role": "assistant", "content": call}],
    ...                  [{"role": "assistant", "content": call.replace("Paris", "Rome")}],
    ...                  [{"role": "assistant", "content": "It is sunny."}]],
    ...     label=[label] * 3, tools=[tools] * 3)
    [1.0, 0.0, 0.0]
    """
    return _rewards(completions, label, tools, parse, "toolmatch")


def partial_reward(
    prompts: list[Any], completions: list[Any], label: list[Any], tools: list[Any], **_: Any
) -> list[float]:
    """``train.reward: partial``: credit in [0, 1] for the function names, argument names and values on a call
    label (:func:`looptool.match.partial.credit`, ToolRL-style); on a no-call label exactly the binary reward,
    so not calling earns nothing extra. 1.0 exactly when :func:`tool_match_reward` gives 1.0.

    >>> label = '[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}]'
    >>> call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}</tool_call>'
    >>> partial_reward(None, [call, call.replace("Paris", "Rome"), "It is sunny."], label=[label] * 3,
    ...                tools=[None] * 3)
    [1.0, 0.75, 0.0]
    >>> partial_reward(None, ["It is sunny.", call], label=["[]"] * 2, tools=[None] * 2)
    [1.0, 0.0]
    """
    return _rewards(completions, label, tools, parse, "partial")


def _rewards(
    completions: list[Any], label: list[Any], tools: list[Any], read: Any, reward: str
) -> list[float]:
    out = []
    for completion, gold, tool_list in zip(completions, label, tools, strict=True):
        gold = json.loads(gold) if isinstance(gold, str) else gold
        parsed = read(completion_text(completion))
        if reward == "partial":
            out.append(credit(parsed, gold, tool_list).score)
        else:
            out.append(1.0 if tool_match(parsed, gold, tool_list) else 0.0)
    return out


def tool_match_reward_as(call_format: str, reward: str = "toolmatch") -> Any:
    """The ``train.reward`` function (:data:`REWARDS`) reading the model's calls in one family's format
    (:func:`looptool.calls.parse_as`; ``auto``: every format, the plain :func:`tool_match_reward` or
    :func:`partial_reward`)."""
    from looptool.calls import parse_as
    from looptool.config import check_choice

    check_choice("reward", reward, REWARDS)
    if call_format == "auto":
        return tool_match_reward if reward == "toolmatch" else partial_reward

    def reward_fmt(
        prompts: list[Any], completions: list[Any], label: list[Any], tools: list[Any], **_: Any
    ) -> list[float]:
        return _rewards(completions, label, tools, lambda text: parse_as(text, call_format), reward)

    reward_fmt.__name__ = "tool_match_reward" if reward == "toolmatch" else "partial_reward"
    return reward_fmt


def completion_length_reward(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
    """Reward = number of characters of the completion / 100: no task meaning, but it varies inside every
    group, so GRPO always has a gradient. Tests use it to check that training moves the weights (a random tiny
    model never earns a ToolMatch reward).

    >>> completion_length_reward(None, ["abc", [{"role": "assistant", "content": "a"}]])
    [0.03, 0.01]
    """
    return [len(completion_text(c)) / 100.0 for c in completions]
