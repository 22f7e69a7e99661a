"""The one interface every model backend implements.

A :class:`Request` is a chat (tools + messages, rendered by the backend: the student's template for local
models, the server's for OpenAI-compatible ones) or a raw prompt text. A :class:`Completion` carries the text,
the token ids and, when asked, the log-probability of each generated token, so the perplexity of a greedy
output costs no extra forward pass.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from looptool import jsonutil


@dataclass(frozen=True)
class Sampling:
    """How to decode. ``temperature == 0`` means greedy."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    logprobs: bool = False

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "stop": list(self.stop),
            "logprobs": self.logprobs,
        }


@dataclass(frozen=True)
class Request:
    """One model input: a chat (``messages``, optional ``tools``) or a raw ``prompt`` text.

    ``key`` is the caller's handle (e.g. a sample_id). Greedy decoding ignores it (identical requests share
    one cached completion). For sampling (``temperature > 0``) it is part of the draw: two requests with the
    same content and seed but different keys (e.g. several judge votes) are independent samples, each cached
    under its own key.
    """

    messages: tuple[dict[str, Any], ...] | list[dict[str, Any]] | None = None
    tools: tuple[dict[str, Any], ...] | list[dict[str, Any]] | None = None
    prompt: str | None = None
    key: str = ""
    json_schema: dict[str, Any] | None = None
    """Structured output: the reply must be a JSON value of this schema. Backends whose server supports it
    (``openai``: ``response_format``) constrain decoding to it; others ignore it (the caller still parses)."""

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a Request needs exactly one of messages or prompt")

    @classmethod
    def chat(
        cls,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        key: str = "",
        json_schema: dict[str, Any] | None = None,
    ) -> Request:
        return cls(
            messages=list(messages), tools=list(tools) if tools else None, key=key, json_schema=json_schema
        )

    @classmethod
    def text(cls, prompt: str, key: str = "") -> Request:
        return cls(prompt=prompt, key=key)

    def to_json(self) -> dict[str, Any]:
        if self.prompt is not None:
            return {"prompt": self.prompt}
        out = {"messages": list(self.messages or []), "tools": list(self.tools) if self.tools else None}
        if self.json_schema is not None:
            out["json_schema"] = self.json_schema
        return out

    def content_key(self) -> str:
        return jsonutil.digest(self.to_json(), 32)


@dataclass
class Completion:
    """A model output; ``error`` is set (and ``text`` empty) when this one request failed."""

    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] | None = None
    finish_reason: str | None = None
    error: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def ppl(self) -> float | None:
        """Perplexity exp(-mean log p) over the generated tokens; None without log-probs."""
        if not self.logprobs:
            return None
        return math.exp(-sum(self.logprobs) / len(self.logprobs))

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "token_ids": list(self.token_ids),
            "logprobs": self.logprobs,
            "finish_reason": self.finish_reason,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any], cached: bool = False) -> Completion:
        return cls(
            text=d.get("text", ""),
            token_ids=list(d.get("token_ids") or []),
            logprobs=d.get("logprobs"),
            finish_reason=d.get("finish_reason"),
            error=d.get("error"),
            cached=cached,
        )


class Backend(ABC):
    """A model behind ``generate`` and ``score``. Failures of single requests come back as
    ``Completion.error``; only misconfiguration raises."""

    name: str = "backend"
    model: str = ""

    @abstractmethod
    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        """One completion per request, in the order given."""

    def score(self, requests: Sequence[Request], completions: Sequence[str]) -> list[Completion]:
        """Log-probabilities of the given completion texts after each request's prompt.

        The returned :class:`Completion` has ``text`` = the completion, ``token_ids`` and ``logprobs`` of
        its tokens (so ``.ppl`` is the label's perplexity).
        """
        raise NotImplementedError(f"{self.name} backend cannot score given completions")

    def identity(self) -> dict[str, Any]:
        """What the cache key needs to know about this backend (name, model, and anything that changes
        outputs)."""
        return {"backend": self.name, "model": self.model}

    def stats(self) -> dict[str, int] | None:
        """Call counts for the stage metrics (``hits``, ``misses``, ``errors`` behind the call cache); None
        for a backend that does not count."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, GPU memory)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class BackendWrapper(Backend):
    """A backend that wraps another (error budget, call cache, progress counting): ``name``, ``model`` and
    ``identity`` are the wrapped backend's, ``close`` closes it, and any attribute the wrapper does not define
    (``tokenizer``, ``render``, ...) is the wrapped backend's."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model

    def __getattr__(self, attr: str) -> Any:
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(attr)
        return getattr(inner, attr)

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def close(self) -> None:
        self.inner.close()


ResultSink = Callable[[int, Request, Completion], None]
_sink: contextvars.ContextVar[ResultSink | None] = contextvars.ContextVar(
    "looptool_result_sink", default=None
)


@contextlib.contextmanager
def on_result(sink: ResultSink) -> Iterator[None]:
    """While the block runs, backends hand each request's final completion to ``sink(index, request,
    completion)`` as soon as it is there (:func:`deliver`), before the call returns: the call cache stores
    finished rows while the rest still decode, so an interrupted call keeps them."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def deliver(index: int, request: Request, completion: Completion) -> None:
    """Called by a backend when request ``index`` of the call it is running (``requests[index]``, passed as
    ``request`` so a sink can check it is its own call) has its final completion; nothing without a sink."""
    sink = _sink.get()
    if sink is not None:
        sink(index, request, completion)
