"""The one place a backend is built from its config (:func:`get_backend`, :func:`opened_backend`); the heavy
libraries of each backend are imported here, when one is opened. Apart from :mod:`looptool.stage`, so a stage
that opens no backend (select, merge, train) does not depend on the backends' files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from looptool.llm.base import Backend
from looptool.llm.config import BackendConfig


def get_backend(cfg: BackendConfig, model: str | None = None) -> Backend:
    """The backend ``cfg`` describes, for ``model`` (overrides ``cfg.model``), behind the call cache when
    ``cfg.cache``, and behind the role's error budget (:class:`~looptool.llm.budget.ErrorBudget`: too many
    failed calls stop the stage with :class:`~looptool.errors.BackendFailure`).

    Local backends follow a ``looptool-model.json`` pointer (``models/base`` of a pass-through model).
    Heavy libraries are imported here, not at ``import looptool.llm``.
    """
    if not cfg.enabled:
        raise ValueError("this role's backend is 'none' (disabled); configure backends.<role>.backend")
    name = model if model is not None else cfg.model
    if not name:
        raise ValueError(
            f"backend {cfg.backend!r} needs a model (backends.<role>.model or the stage's --model)"
        )
    backend: Backend
    if cfg.backend == "transformers":
        from looptool.llm.hf import HFBackend
        from looptool.model import resolve_model

        backend = HFBackend(resolve_model(name), cfg)
    elif cfg.backend == "vllm" and cfg.server_python:
        from looptool.llm.vllm_server import VLLMServerBackend
        from looptool.model import resolve_model

        backend = VLLMServerBackend(resolve_model(name), cfg)
    elif cfg.backend == "vllm":
        from looptool.llm.vllm import VLLMBackend
        from looptool.model import resolve_model

        backend = VLLMBackend(resolve_model(name), cfg)
    elif cfg.backend == "openai":
        from looptool.llm.openai import OpenAIBackend

        backend = OpenAIBackend(name, cfg)
    else:  # pragma: no cover - BackendConfig.__post_init__ rejects other names
        raise ValueError(f"unknown backend {cfg.backend!r}")
    if cfg.cache:
        from looptool.llm.cache import CachedBackend

        backend = CachedBackend(backend, chunk_size=cfg.cache_chunk)
    else:  # the cache counts calls on the stage's progress bar; without it, this wrapper does
        from looptool.llm.progress import tracked

        backend = tracked(backend)
    from looptool.llm.budget import ErrorBudget

    return ErrorBudget(backend, cfg.max_error_rate, cfg.where)


@contextmanager
def opened_backend(cfg: BackendConfig | None, model: str | None = None) -> Iterator[Backend | None]:
    """The backend ``cfg`` describes (for ``model``), closed when the block ends; ``None`` when the stage
    does not need one (``cfg`` None). Stage scripts own their backends' lifetime through this."""
    if cfg is None:
        yield None
        return
    with get_backend(cfg, model=model) as backend:
        yield backend
