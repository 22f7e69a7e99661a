"""Helpers shared by the backends: what identifies a local checkpoint, and the per-request sampling seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.llm.base import Request, Sampling

# Files whose change changes what a local checkpoint answers: weights, architecture, tokenizer, template.
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_MODEL_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "adapter_config.json",
)


def weights_fingerprint(model: str) -> str | None:
    """A digest of (name, size, mtime_ns) of a local checkpoint's weight, config and tokenizer files.

    Iteration checkpoints (``models/iter_j``) are rewritten in place under the same path, so the path alone
    cannot key the call cache. Hashing the contents of an 8B model would cost a minute per stage; size and
    modification time change whenever a file is rewritten. None for a hub id (not a local directory).
    """
    p = Path(model)
    if p.is_file():
        files = [p]
        root = p.parent
    elif p.is_dir():
        root = p
        files = sorted(
            f
            for f in p.rglob("*")
            if f.is_file() and (f.name.endswith(_WEIGHT_SUFFIXES) or f.name in _MODEL_FILES)
        )
    else:
        return None
    entries = []
    for f in files:
        st = f.stat()
        entries.append([str(f.relative_to(root)), st.st_size, st.st_mtime_ns])
    return jsonutil.digest(entries, 24)


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
