"""TRL-ready rows for one target model: conversational prompt-completion with per-row tools (``datasets``
folder, ``save_to_disk``), rendered the way that model's chat template needs them.

One row per decision point: ``prompt`` (the context messages), ``completion`` (one assistant turn), ``tools``
(JSON text of the OpenAI tool list: ``SFTTrainer`` parses it and passes it to the chat template), and the
columns looptool's reward reads, ``label`` (JSON text) and ``sample_id``, plus ``meta`` and
``sample_messages`` (the sample's own messages, JSON text: ``looptool import`` restores the sample from them).

The messages are the loop's own (:func:`looptool.prompts.render.chat_messages`), chosen by the target
tokenizer's template:

* a template that renders ``tools=`` (Qwen2.5, Qwen3, Llama 3.1, Hermes): OpenAI messages; the completion's
  calls are ``tool_calls`` whose ``arguments`` are mappings, since such templates serialise them themselves
  (Qwen2.5's applies ``tojson`` to them unconditionally: JSON text would be encoded twice);
* a template that ignores ``tools=`` (SmolLM2's ChatML drops them, and the calls with them): the tools folded
  into the system prompt, history calls and tool results as text, and the completion the ``<tool_call>``
  blocks the student is trained to write.

Messages are stored with ``datasets``' ``Json`` feature: Arrow would store a column of mappings as structs
with one merged set of keys, so every call's ``arguments`` would come back with the other calls' argument
names as nulls (and a template would render them).

``SFTTrainer`` trains on it directly (loss on the completion). ``GRPOTrainer`` reads ``prompt`` and hands the
other columns to the reward: pass ``looptool.train.rewards.tool_match_reward`` as ``reward_funcs``. It renders
every prompt with the trainer's own ``tools`` (one list for all rows), never the row's ``tools`` column,
which only the reward sees: for a template that renders tools and rows with different tools, pre-render the
prompts as text as looptool's train stage does (:func:`looptool.train.data.grpo_rows`), or export for a
tool-less template, whose prompts carry their tools.
"""

from __future__ import annotations

import json
from typing import Any

from looptool.interchange.records import InterchangeError, parsed_row
from looptool.prompts.render import chat_messages, openai_tools, render_completion, supports_tools

DEFAULT_TOKENIZER = "models/base"
"""The pipeline's student (prepare_model's output): what ``export --format trl`` renders for by default."""


def load_target_tokenizer(ref: Any) -> Any:
    """The tokenizer the export is for: a tokenizer object as is, else a checkpoint folder or hub id."""
    if hasattr(ref, "apply_chat_template"):
        return ref
    from looptool.model import ModelNotFoundError, load_tokenizer

    try:
        tok = load_tokenizer(ref)
    except ModelNotFoundError:
        hint = (
            " (the pipeline's student: `dvc repro prepare_model` or `dvc pull models/base`)"
            if str(ref) == DEFAULT_TOKENIZER
            else ""
        )
        raise InterchangeError(
            f"{ref}: no model folder{hint}; pass --tokenizer with the checkpoint or hub id the export is for"
        ) from None
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InterchangeError(f"{ref}: cannot load its tokenizer ({first})") from None
    if not getattr(tok, "chat_template", None):
        raise InterchangeError(
            f"{ref}: the tokenizer has no chat template; TRL cannot render chat rows for it"
        )
    return tok


def _native_call(c: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": c["name"], "arguments": dict(c.get("arguments") or {})}}


def to_trl(row: dict[str, Any], tokenizer: Any) -> dict[str, Any]:
    """A SAMPLE row as one TRL prompt-completion row for ``tokenizer``'s template (module docstring)."""
    tools, messages, label, meta = parsed_row(row)
    prompt = chat_messages(tools, messages, tokenizer)
    if label and supports_tools(tokenizer):
        completion = {"role": "assistant", "content": "", "tool_calls": [_native_call(c) for c in label]}
    else:
        completion = {"role": "assistant", "content": render_completion(label, meta.get("reply"))}
    return {
        "sample_id": row["sample_id"],
        "prompt": prompt,
        "completion": [completion],
        "tools": json.dumps(openai_tools(tools), ensure_ascii=False),
        "label": row["label"],
        "meta": row.get("meta") or "{}",
        "sample_messages": row["messages"],
    }


def trl_dataset(rows: list[dict[str, Any]]) -> Any:
    """``rows`` of :func:`to_trl` as a ``datasets.Dataset`` (messages as ``Json``: exact keys, no nulls)."""
    from datasets import Dataset, Features, Json, List, Value

    text = Value("string")
    features = Features(
        {
            "sample_id": text,
            "prompt": List(Json()),
            "completion": List(Json()),
            "tools": text,
            "label": text,
            "meta": text,
            "sample_messages": text,
        }
    )
    return Dataset.from_list(rows, features=features)
