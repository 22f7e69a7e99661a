"""Samples (TRAIN / SAMPLE rows) as TRL datasets: the prompt exactly as the student sees it at inference.

Two prompt styles, chosen by the tokenizer:

* ``conversational`` (templates that ignore ``tools=``, e.g. SmolLM2's ChatML): the prompt is
  :func:`looptool.prompts.chat_messages`, with the tools folded into the system prompt, so TRL's own
  ``apply_chat_template`` renders exactly :func:`looptool.prompts.render_prompt`'s text.
* ``text`` (templates that render ``tools=``, e.g. Qwen3): TRL's GRPOTrainer renders a conversational
  prompt with the trainer's tools only, never a per-row tool list, so the prompt is passed as the text
  :func:`render_prompt` made (each row keeps its own tools).

GRPO rows keep ``label`` and ``tools`` (JSON text) as columns: TRL hands them to the reward function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from looptool.prompts.render import chat_messages, render_completion, render_prompt, supports_tools
from looptool.schema import SAMPLE, Schema
from looptool.storage import connect, query, read_parquet


def prompt_style(tokenizer: Any) -> str:
    """``conversational`` or ``text`` (see the module docstring)."""
    return "text" if supports_tools(tokenizer) else "conversational"


def read_samples(
    path: str | Path, schema: Schema = SAMPLE, max_samples: int | None = None, seed: int = 0
) -> pl.DataFrame:
    """Read and validate a samples file; with ``max_samples``, a seeded random subset (stable across runs)."""
    df = read_parquet(path, schema)
    if max_samples is not None and df.height > max_samples:
        con = connect()
        try:
            con.register("samples", df)
            df = query(
                "SELECT * FROM samples ORDER BY md5(sample_id || ':' || $seed) LIMIT $n",
                {"seed": str(seed), "n": max_samples},
                con=con,
            )
        finally:
            con.close()
    if df.height == 0:
        raise ValueError(f"{path}: no rows to train on")
    return df


def _strip_auto_bos(text: str, tokenizer: Any) -> str:
    """Drop a template-written BOS when the tokenizer adds one itself (TRL tokenizes text prompts with special
    tokens, so Llama-3-style templates would otherwise start with two BOS tokens)."""
    bos = getattr(tokenizer, "bos_token", None)
    if not bos or not text.startswith(bos):
        return text
    ids = tokenizer("x")["input_ids"]
    if ids and ids[0] == tokenizer.bos_token_id:
        return text[len(bos) :]
    return text


def _prompt(
    tools: list[dict], messages: list[dict], tokenizer: Any, style: str, template_kwargs: dict
) -> Any:
    if style == "conversational":
        return chat_messages(tools, messages, tokenizer)
    return _strip_auto_bos(render_prompt(tokenizer, tools, messages, **template_kwargs), tokenizer)


def _row(r: dict[str, Any], where: str, i: int) -> tuple[list, list, list, dict]:
    try:
        return (
            json.loads(r["tools"]),
            json.loads(r["messages"]),
            json.loads(r["label"]),
            json.loads(r["meta"] or "{}"),
        )
    except (TypeError, json.JSONDecodeError) as e:  # validated on read; this guards hand-built frames
        raise ValueError(f"{where}: row {i}: bad JSON in tools/messages/label/meta ({e})") from None


def grpo_rows(
    df: pl.DataFrame, tokenizer: Any, where: str = "<frame>", template_kwargs: dict | None = None
) -> list[dict[str, Any]]:
    """Rows for ``GRPOTrainer``: ``prompt`` plus the reward's columns ``label`` and ``tools`` (JSON text).

    ``template_kwargs`` are rendered into text prompts here; for conversational prompts pass them to
    ``GRPOConfig.chat_template_kwargs`` (TRL renders those)."""
    style = prompt_style(tokenizer)
    out = []
    for i, r in enumerate(df.select("sample_id", "tools", "messages", "label", "meta").iter_rows(named=True)):
        tools, messages, _, _ = _row(r, where, i)
        out.append(
            {
                "prompt": _prompt(tools, messages, tokenizer, style, template_kwargs or {}),
                "label": r["label"],
                "tools": r["tools"],
                "sample_id": r["sample_id"],
            }
        )
    return out


def target_text(label: list[dict], meta: dict[str, Any]) -> str:
    """What the assistant should answer: the label's ``<tool_call>`` blocks, or for an empty label the text
    reply stored in ``meta.reply`` (a generic refusal when there is none)."""
    return render_completion(label, meta.get("reply"))


def _text_completion(
    tools: list, messages: list, label: list, meta: dict, tokenizer: Any, prompt: str, template_kwargs: dict
) -> str:
    """The template's own rendering of the assistant turn, up to and including the end-of-turn token."""
    eos = tokenizer.eos_token or ""
    if label:
        turn = {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": c} for c in label],
        }
    else:
        turn = {"role": "assistant", "content": target_text(label, meta)}
    full = render_prompt(tokenizer, tools, messages + [turn], add_generation_prompt=False, **template_kwargs)
    full = _strip_auto_bos(full, tokenizer)
    if full.startswith(prompt) and len(full) > len(prompt):
        completion = full[len(prompt) :]
        if eos and eos in completion:
            return completion[: completion.index(eos) + len(eos)]
        return completion + eos
    return target_text(label, meta) + eos


def sft_rows(
    df: pl.DataFrame, tokenizer: Any, where: str = "<frame>", template_kwargs: dict | None = None
) -> list[dict[str, Any]]:
    """Prompt-completion rows for ``SFTTrainer`` (loss on the completion only).

    Conversational: the completion is one assistant message holding :func:`target_text`; the chat template
    closes the turn (``<|im_end|>``), so the model learns to stop. Text: the template's own rendering of the
    assistant turn (native tool-call format), cut after the end-of-turn token. ``template_kwargs`` go into
    the text, or for conversational rows into TRL's per-row ``chat_template_kwargs`` column.
    """
    template_kwargs = template_kwargs or {}
    style = prompt_style(tokenizer)
    out = []
    for i, r in enumerate(df.select("tools", "messages", "label", "meta").iter_rows(named=True)):
        tools, messages, label, meta = _row(r, where, i)
        prompt = _prompt(tools, messages, tokenizer, style, template_kwargs)
        row: dict[str, Any] = {"prompt": prompt}
        if style == "conversational":
            row["completion"] = [{"role": "assistant", "content": target_text(label, meta)}]
            if template_kwargs:
                row["chat_template_kwargs"] = template_kwargs
        else:
            row["completion"] = _text_completion(
                tools, messages, label, meta, tokenizer, prompt, template_kwargs
            )
        out.append(row)
    return out


def to_dataset(rows: list[dict[str, Any]]) -> Any:
    """A ``datasets.Dataset`` from rows."""
    from datasets import Dataset

    return Dataset.from_list(rows)
