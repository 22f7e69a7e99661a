"""Which reader a record or a file needs: detection by keys, and the per-format record readers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from looptool.interchange.hermes import hermes_items
from looptool.interchange.openai import openai_items
from looptool.interchange.records import FieldError, Item
from looptool.interchange.sharegpt import sharegpt_items
from looptool.interchange.xlam import xlam_items

RECORD_READERS: dict[str, Callable[..., Iterator[Item]]] = {
    "openai": openai_items,
    "sharegpt": sharegpt_items,
    "hermes": hermes_items,
    "xlam": xlam_items,
}


def _is_hermes(rec: dict[str, Any]) -> bool:
    """Hermes marks calls and tools with XML tags in the turns; LLaMA-Factory uses function_call turns."""
    turns = [t for t in rec.get("conversations") or [] if isinstance(t, dict)]
    tags = {t.get("from") for t in turns}
    if "function_call" in tags or "observation" in tags or "tools" in rec:
        return False
    return "tool" in tags or any(
        isinstance(t.get("value"), str) and ("<tool_call>" in t["value"] or "<tools>" in t["value"])
        for t in turns
    )


def record_format(rec: Any) -> str:
    """``openai``, ``sharegpt``, ``hermes``, ``xlam`` or ``bfcl`` from a record's keys; FieldError otherwise."""
    if isinstance(rec, dict):
        if "messages" in rec or (isinstance(rec.get("prompt"), list) and "completion" in rec):
            return "openai"
        if "conversations" in rec:
            return "hermes" if _is_hermes(rec) else "sharegpt"
        if "query" in rec and "answers" in rec:
            return "xlam"
        if "question" in rec and "function" in rec:
            return "bfcl"
    keys = sorted(rec) if isinstance(rec, dict) else type(rec).__name__
    raise FieldError(
        "<line>",
        f"unknown format (keys {keys}); expected 'messages' (openai), 'prompt'+'completion' (trl), "
        "'conversations' (sharegpt / hermes), 'query'+'answers' (xlam) or 'question'+'function' (bfcl)",
    )


def items_of(
    fmt: str, rec: Any, where: str, base_meta: dict[str, Any], check_labels: bool = True
) -> Iterator[Item]:
    reader = RECORD_READERS.get(fmt)
    if reader is None:
        yield Item(
            where, reason="unsupported", error=f"{where}: <line>: {fmt} records are read from files only"
        )
        return
    yield from reader(rec, where, base_meta, check_labels)
