"""Helpers shared by the backends: what identifies a local checkpoint, the prompt a local model sees, and the
per-request sampling seed."""

from __future__ import annotations

from typing import Any

from looptool import jsonutil
from looptool.llm.base import Request, Sampling
from looptool.model import weights_fingerprint as weights_fingerprint  # what identifies a local checkpoint


def render(tokenizer: Any, request: Request, chat_template_kwargs: dict[str, Any]) -> str:
    """The prompt text a local model sees for ``request``: its chat template with the tools
    (:func:`looptool.prompts.render_prompt`), or the raw text."""
    if request.prompt is not None:
        return request.prompt
    from looptool.prompts import render_prompt

    tools = list(request.tools) if request.tools else None
    return render_prompt(tokenizer, tools, list(request.messages or []), **chat_template_kwargs)


def prompt_ids(tokenizer: Any, request: Request, chat_template_kwargs: dict[str, Any]) -> list[int]:
    """Token ids of :func:`render`'s text, as every local backend gives them to its engine (``transformers``,
    ``vllm`` in-process or as a server): a rendered chat already holds its special tokens; a raw text gets the
    tokenizer's (as vLLM does)."""
    text = render(tokenizer, request, chat_template_kwargs)
    return list(tokenizer(text, add_special_tokens=request.prompt is not None)["input_ids"])


def request_seed(request: Request, sampling: Sampling) -> int:
    """The seed of one sampled draw: a function of ``sampling.seed``, the request's content and its ``key``.

    So a sampled completion does not depend on which other requests share its batch, and two requests with
    the same content but different keys (e.g. several judge votes) are independent draws. Greedy decoding
    ignores it.
    """
    digest = jsonutil.digest({"seed": sampling.seed, "request": request.to_json(), "key": request.key}, 15)
    return int(digest, 16) & 0x7FFFFFFF


def call_key(
    op: str, identity: dict[str, Any], request: Request, sampling: Sampling | None, extra: Any = None
) -> str:
    """Content address of one call: backend identity, request, sampling (and the scored text for ``score``).

    The request ``key`` counts only for sampled decoding (see :class:`~looptool.llm.base.Request`).
    """
    if identity.get(
        "weights"
    ):  # a local checkpoint: addressed by its contents (weights_fingerprint), not its path
        identity = {k: v for k, v in identity.items() if k != "model"}
    payload: dict[str, Any] = {"op": op, "backend": identity, "request": request.to_json()}
    if sampling is not None:
        payload["sampling"] = sampling.to_json()
        if not sampling.greedy:
            payload["key"] = request.key
    if extra is not None:
        payload["extra"] = extra
    return jsonutil.digest(payload, 40)


def local_identity(
    name: str, model: str, dtype: str | None, template_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Identity of an in-process backend: path, weights fingerprint, dtype and chat-template arguments."""
    return {
        "backend": name,
        "model": model,
        "weights": weights_fingerprint(model),
        "dtype": dtype,
        "chat_template_kwargs": dict(template_kwargs),
    }
