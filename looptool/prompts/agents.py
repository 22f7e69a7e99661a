"""Prompts of the seed simulation's agents (``seed.mode: llm``) and of the seed judge.

Each builder returns chat messages for :class:`looptool.llm.base.Request.chat`. The first line of every
system prompt names the agent ("You are the Planner agent ..."), which keeps the four roles apart in logs
and call caches. Outputs are parsed strictly by :mod:`looptool.synth.llm_agents`: the Planner, Tool and
Judge answer with one JSON object and nothing else, the User with plain text only; anything else rejects
the sample with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from looptool.prompts.render import conversation_text

PLANNER_SYSTEM = (
    "You are the Planner agent of a tool-use data generator. You receive function definitions and a draft "
    "of the calls a user will need. Make the argument values realistic and consistent with each other "
    "(plausible names, dates, amounts) while keeping every value valid for the function's JSON Schema "
    "(types, enums, ranges, formats such as YYYY-MM-DD dates and HH:MM times). Keep the same functions in the "
    "same order and the same argument names. Answer with ONE JSON object and nothing else: "
    '{"calls": [{"name": <function>, "arguments": {...}}, ...]}'
)

USER_SYSTEM = (
    "You are the User agent of a tool-use data generator. You play a person writing ONE chat message to an "
    "AI assistant. Write naturally, as people do (dates like 'March 3rd, 2025', times like '3:30 pm' are "
    "fine), and include every value you are given so the assistant has what it needs. Never mention "
    "function names, JSON or IDs you were not given. Answer with the message text only."
)

TOOL_SYSTEM = (
    "You are the Tool agent of a tool-use data generator. You play the backend of a function: given a call, "
    "return its result as ONE JSON object and nothing else. The result must fit the function's purpose and "
    "the call's arguments, and must contain the fields you are told to include, with exactly those values."
)

JUDGE_SYSTEM = (
    "You are the Judge of a tool-use dataset. Given the available functions, a conversation and the "
    "reference answer for the assistant's next turn, decide whether the reference is correct: the right "
    "function(s) with argument values the user actually gave or the tools returned, or - when no function "
    "fits or a required value is missing - a text reply instead of a call. Answer with ONE JSON object and "
    'nothing else: {"verdict": "accept" or "reject", "reason": <one sentence>}'
)


def _tools_text(tools: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in tools)


def planner_messages(
    pattern: str, tools: list[dict[str, Any]], draft_calls: list[dict[str, Any]], note: str = ""
) -> list[dict[str, Any]]:
    """Ask the Planner to make a draft's argument values realistic (same functions, same argument names)."""
    user = (
        f"Pattern: {pattern}\nFunctions:\n{_tools_text(tools)}\n"
        f"Draft calls:\n{json.dumps({'calls': draft_calls}, ensure_ascii=False)}\n"
        + (f"Note: {note}\n" if note else "")
        + "Return the improved calls as one JSON object."
    )
    return [{"role": "system", "content": PLANNER_SYSTEM}, {"role": "user", "content": user}]


def user_messages(
    goal: str,
    values: list[tuple[str, Any]],
    avoid: list[str] | None = None,
    refer_to: str | None = None,
    history: str = "",
) -> list[dict[str, Any]]:
    """Ask the User for one message that asks for ``goal`` and states ``values`` (description, value)."""
    lines = [f"What you want: {goal}"]
    if values:
        lines.append("Values to state (all of them):")
        lines += [f"- {desc}: {json.dumps(v, ensure_ascii=False)}" for desc, v in values]
    if refer_to:
        lines.append(f"Refer to the item you pick as {refer_to!r}; do not repeat its ID.")
    if avoid:
        lines.append("Do NOT mention: " + "; ".join(avoid) + ".")
    if history:
        lines.append(f"Conversation so far:\n{history}")
    lines.append("Write your message now.")
    return [{"role": "system", "content": USER_SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def tool_messages(
    tool: dict[str, Any], call: dict[str, Any], must_include: dict[str, Any]
) -> list[dict[str, Any]]:
    """Ask the Tool for a result of ``call`` that contains ``must_include`` (e.g. a list of record ids)."""
    user = (
        f"Function:\n{json.dumps(tool, ensure_ascii=False)}\nCall:\n{json.dumps(call, ensure_ascii=False)}\n"
        f"The result must include: {json.dumps(must_include, ensure_ascii=False)}\nReturn the JSON result."
    )
    return [{"role": "system", "content": TOOL_SYSTEM}, {"role": "user", "content": user}]


def reference_judge_messages(
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    label: list[dict[str, Any]],
    reply: str | None,
) -> list[dict[str, Any]]:
    """Ask the seed Judge whether a synthesized sample's reference answer is right (not JGLV's judge, which
    compares two candidates: :func:`looptool.prompts.judge.judge_messages`)."""
    conv = conversation_text(messages)
    ref = json.dumps(label, ensure_ascii=False) if label else f"(no call) text reply: {reply!r}"
    user = f"Functions:\n{_tools_text(tools)}\n\nConversation:\n{conv}\n\nReference answer:\n{ref}"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
