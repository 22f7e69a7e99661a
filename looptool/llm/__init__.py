"""Model backends behind one interface (:class:`Backend`): ``transformers`` (in-process, CPU default),
``vllm`` (offline engine, GPU) and ``openai`` (any OpenAI-compatible server), with a content-addressed
call cache in front.

>>> from looptool.llm import BackendConfig, Request, Sampling, get_backend  # doctest: +SKIP
>>> with get_backend(BackendConfig(), model="models/iter_1") as student:  # doctest: +SKIP
...     [c] = student.generate([Request.chat(messages, tools)], Sampling(max_new_tokens=96, logprobs=True))
"""

from __future__ import annotations

from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.llm.config import BackendConfig, cache_dir


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
    elif cfg.backend == "vllm":
        from looptool.llm.vllm import VLLMBackend
        from looptool.model import resolve_model

        backend = VLLMBackend(resolve_model(name), cfg)
    elif cfg.backend == "openai":
        from looptool.llm.openai import OpenAIBackend

        check_reachable(cfg.base_url or "", cfg.timeout_s)
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


class BackendUnreachable(ConnectionError):
    """The server of an ``openai`` backend does not accept connections (not started, wrong port or host)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "server unreachable"


def check_reachable(base_url: str, timeout_s: float = 10.0) -> None:
    """Fail fast, in one line, when nothing listens at ``base_url``: otherwise every request of the stage
    would be retried with backoff and end as an error. Any HTTP answer (even 404) counts as reachable."""
    import httpx

    try:
        httpx.get(base_url.rstrip("/") + "/models", timeout=min(timeout_s, 10.0))
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as e:
        raise BackendUnreachable(
            f"backend openai: nothing answers at {base_url} ({type(e).__name__}: {e}); start the server "
            "(e.g. `vllm serve MODEL --port 8000`) or fix backends.<role>.base_url"
        ) from None
    except httpx.HTTPError:
        pass  # it answered, slowly or oddly: the requests themselves will say more


__all__ = ["Backend", "BackendConfig", "Completion", "Request", "Sampling", "cache_dir", "get_backend"]
