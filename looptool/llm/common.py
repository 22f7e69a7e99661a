"""Helpers shared by the backends: what identifies a local checkpoint, and the per-request sampling seed."""

from __future__ import annotations

import json
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


DIGESTS_FILE = (
    "digests.json"  # in the call cache folder: file (path, size, mtime, inode) -> SHA-256 of its bytes
)


def weights_fingerprint(model: str) -> str | None:
    """Content digest of a local checkpoint: SHA-256 over the bytes of its weight, config and tokenizer files
    (for a ``looptool-model.json`` pointer: of the folder it names; for an adapter: also of its base).

    The call cache keys a local model by this digest and not by its path (:func:`call_key`), so two paths that
    hold the same files share their calls: an iteration whose training changed nothing (GRPO groups with zero
    advantage everywhere) replays the previous model's evaluation instead of decoding it again. Each file is
    read once per version: its digest is memoised in ``digests.json`` under the call cache folder, keyed by
    (path, size, mtime_ns, inode), which change whenever the file is rewritten or checked out again (an 8B
    checkpoint is hashed once, ~10 s, not at every stage). None for a hub id or a folder without such files.
    """
    from looptool.model import ADAPTER_CONFIG, POINTER, adapter_base

    p = Path(model)
    if (p / POINTER).is_file():
        try:
            source = str(json.loads((p / POINTER).read_text())["source"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return weights_fingerprint(source)
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
    if not files:
        return None
    memo = _DigestMemo()
    entries: list[Any] = [[str(f.relative_to(root)), memo.digest(f)] for f in files]
    memo.save()
    if p.is_dir() and (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file():
        try:
            entries.append(["base", weights_fingerprint(adapter_base(p))])
        except (OSError, ValueError):
            pass
    return "sha256:" + jsonutil.digest(entries, 32)


class _DigestMemo:
    """SHA-256 of files, memoised across processes in ``<call cache>/digests.json`` (best effort: an unreadable
    or unwritable memo only means hashing again)."""

    def __init__(self) -> None:
        from looptool.llm.config import cache_dir

        self.path = Path(cache_dir()) / DIGESTS_FILE
        try:
            self.known: dict[str, str] = json.loads(self.path.read_text())
            if not isinstance(self.known, dict):
                self.known = {}
        except (OSError, ValueError):
            self.known = {}
        self.changed = False

    def digest(self, f: Path) -> str:
        import hashlib

        st = f.stat()
        key = f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
        if key not in self.known:
            h = hashlib.sha256()
            with f.open("rb") as fh:
                while block := fh.read(1 << 24):
                    h.update(block)
            self.known[key] = h.hexdigest()
            self.changed = True
        return self.known[key]

    def save(self) -> None:
        if not self.changed:
            return
        from looptool.storage import atomic_path

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path, mode=0o600) as tmp:  # beside the private call cache
                tmp.write_text(jsonutil.dumps(self.known))
        except OSError:
            pass


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
