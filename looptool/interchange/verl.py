"""verl RL parquet rows, and the ToolMatch reward under verl's ``compute_score`` signature.

Row (verl's RLHFDataset): ``data_source`` (``looptool``), ``prompt`` (chat messages, all text: the tools
folded into the system prompt and earlier calls written as ``<tool_call>`` blocks, as looptool prompts a
model whose template has no tools slot), ``ability`` (``tool_calling``), ``reward_model`` ``{style: rule,
ground_truth: <label JSON>}`` and ``extra_info`` ``{index, sample_id, tools, messages, meta}`` (JSON text;
``messages`` is the row's exact context, so a re-import gives back the same sample id).

In verl: ``data.train_files=<out>.parquet``, ``custom_reward_function.path=<site-packages>/looptool/
interchange/verl.py`` and ``custom_reward_function.name=compute_score`` (``looptool`` must be importable
in verl's workers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from looptool import jsonutil
from looptool.interchange.records import parsed_row

log = logging.getLogger(__name__)

DATA_SOURCE = "looptool"
REWARDS = ("toolmatch", "partial")
"""``train.reward``'s choices (``looptool.train.config.REWARDS``, not imported: the seed stage reads this module
and does not depend on the training code; a test keeps the two equal)."""


def to_verl(row: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """A SAMPLE row as one verl RL row (module docstring)."""
    from looptool.prompts.render import hermes_messages

    tools, messages, _, _ = parsed_row(row)
    prompt = [
        {"role": m["role"], "content": m.get("content") or ""} for m in hermes_messages(tools, messages)
    ]
    return {
        "data_source": DATA_SOURCE,
        "prompt": prompt,
        "ability": "tool_calling",
        "reward_model": {"style": "rule", "ground_truth": row["label"]},
        "extra_info": {
            "index": index,
            "sample_id": row["sample_id"],
            "tools": row["tools"],
            "messages": row["messages"],
            "meta": row.get("meta") or "{}",
        },
    }


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
    reward: str = "toolmatch",
    **_: Any,
) -> float:
    """verl's custom reward: 1.0 when the model's text makes exactly the label's calls (ToolMatch), else 0.0.

    ``ground_truth`` is the label (JSON text or a list); ``extra_info["tools"]`` (JSON text) gives the schemas
    ToolMatch uses to compare numbers; ``extra_info["call_format"]`` may name the model family's tool-call
    format (:func:`looptool.calls.parse_as`), default: every format looptool reads. ``reward`` (verl:
    ``custom_reward_function.reward_kwargs.reward=partial``) is ``train.reward``'s choice: ``partial`` scores
    with :func:`looptool.match.partial.credit` (partial credit on call labels, binary on no-call labels).

    It never raises (one bad row must not stop a verl run): a malformed ``ground_truth`` scores 0.0 (nothing
    can match it); malformed ``tools`` are left out (numbers then compare by type as well, which can only
    lower a score); an ``extra_info`` that is not a mapping, or an unknown ``call_format``, counts as not
    given. Each kind of problem is logged once, in one line.

    >>> gt = '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
    >>> compute_score("looptool", '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>', gt)
    1.0
    >>> compute_score("looptool", "It is sunny.", gt)
    0.0
    >>> compute_score("looptool", '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>',
    ...               gt, reward="partial")
    0.6667
    >>> compute_score("looptool", "It is sunny.", '[{"name": "f", "arguments": NaN}]')
    0.0
    """
    from looptool.calls import CALL_FORMATS, parse_as

    if reward != "toolmatch":  # a configuration error, not a bad row: one line, before any row is read
        from looptool.config import check_choice

        check_choice("reward", reward, REWARDS)
    label = _label(ground_truth)
    if label is None:
        return 0.0
    if not isinstance(extra_info, Mapping):
        if extra_info is not None:
            _warn("extra_info", f"is a {type(extra_info).__name__}, not a mapping: ignored")
        extra_info = {}
    fmt = extra_info.get("call_format") or "auto"
    if fmt not in CALL_FORMATS:
        _warn("call_format", f"{fmt!r} is not one of {list(CALL_FORMATS)}: every format is read")
        fmt = "auto"
    text = solution_str if isinstance(solution_str, str) else None
    parsed = parse_as(text, fmt)
    tools = _tools(extra_info.get("tools"))
    try:
        return _score(parsed, label, tools, reward)
    except (AttributeError, TypeError, KeyError, RecursionError) as e:  # a schema ToolMatch cannot walk
        if tools is None:
            raise
        _warn("tools", f"cannot be used ({type(e).__name__}: {e}): scored without schemas")
        return _score(parsed, label, None, reward)


def _score(parsed: Any, label: list[Any], tools: Any, reward: str) -> float:
    from looptool.match import tool_match

    if reward == "partial":
        from looptool.match.partial import credit

        return credit(parsed, label, tools).score
    return 1.0 if tool_match(parsed, label, tools) else 0.0


def _label(ground_truth: Any) -> list[Any] | None:
    """The label as a list of calls ``{name, arguments}`` (arguments may be left out), or None (logged)."""
    value = ground_truth
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    try:
        if isinstance(value, str):
            value = jsonutil.loads(value)
        elif hasattr(value, "tolist"):  # a numpy array: parquet readers may hand a list column over so
            value = value.tolist()
        jsonutil.value_depth(value)
    except ValueError as e:
        _warn("ground_truth", jsonutil.problem(e))
        return None
    if not isinstance(value, list) or not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("arguments") or {}, dict)
        for c in value
    ):
        _warn("ground_truth", "is not a list of calls {name, arguments}")
        return None
    return value


def _tools(tools: Any) -> Any:
    """``tools`` when ToolMatch can use them (JSON text or a list of tools), else None (logged)."""
    if tools is None:
        return None
    if isinstance(tools, str):
        problem = _text_tools_problem(tools)
    else:
        problem = _tools_problem(tools.tolist() if hasattr(tools, "tolist") else tools)
    if problem:
        _warn("tools", f"{problem}: scored without schemas")
        return None
    return tools


@lru_cache(maxsize=4096)
def _text_tools_problem(text: str) -> str | None:
    try:
        return _tools_problem(jsonutil.loads(text))
    except ValueError as e:
        return jsonutil.problem(e)


def _tools_problem(value: Any) -> str | None:
    from looptool.calls import tool_index

    if not isinstance(value, list):
        return f"must be a list of tools, got {type(value).__name__}"
    try:
        index = tool_index(value)
        jsonutil.value_depth(value)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        return f"is not a list of named tools ({type(e).__name__}: {e})"
    for name, tool in index.items():
        params = tool.get("parameters") or {}
        props = params.get("properties") or {} if isinstance(params, dict) else None
        if not isinstance(props, dict) or not all(isinstance(p, dict) for p in props.values()):
            return f"tool {name!r}: parameters must be a JSON Schema object with object properties"
    return None


_WARNED: set[str] = set()


def _warn(field: str, message: str) -> None:
    if field not in _WARNED:  # once per kind: a bad column would otherwise log every rollout
        _WARNED.add(field)
        log.warning(
            "looptool compute_score: %s %s (this row scores as documented; further ones unlogged)",
            field,
            message,
        )
