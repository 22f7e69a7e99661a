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

import json
from typing import Any

from looptool.interchange.records import parsed_row

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

    >>> gt = '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
    >>> compute_score("looptool", '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>', gt)
    1.0
    >>> compute_score("looptool", "It is sunny.", gt)
    0.0
    >>> compute_score("looptool", '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>',
    ...               gt, reward="partial")
    0.6667
    """
    from looptool.calls import parse_as
    from looptool.match import tool_match

    extra_info = extra_info or {}
    label = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    parsed = parse_as(solution_str, extra_info.get("call_format") or "auto")
    if reward != "toolmatch":
        from looptool.config import check_choice
        from looptool.match.partial import credit

        check_choice("reward", reward, REWARDS)
        return credit(parsed, label, extra_info.get("tools")).score
    return 1.0 if tool_match(parsed, label, extra_info.get("tools")) else 0.0
