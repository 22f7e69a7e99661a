"""A role's error budget: a stage whose backend fails too often stops, instead of turning errors into data.

A failed call comes back as ``Completion.error`` (see :class:`~looptool.llm.base.Backend`), so one bad reply
costs one request, not the stage. But when the server is down, every request fails, and a stage that went on
would write a probe of empty predictions, verdicts that all abstain, or an empty seed pool, and exit 0: DVC
would record it and the next ``dvc repro`` would do nothing. :class:`ErrorBudget` counts the calls and errors of
one role and raises :class:`~looptool.errors.BackendFailure` (one line, exit 1) as soon as the share of failed
calls passes ``backends.<role>.max_error_rate``, before the stage writes anything. Failed calls are never
cached (:mod:`looptool.llm.cache`), so the re-run tries them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from looptool.errors import BackendFailure
from looptool.llm.base import Backend, BackendWrapper, Completion, Request, Sampling


class ErrorBudget(BackendWrapper):
    """Wraps a backend; raises :class:`BackendFailure` when failed calls exceed ``max_error_rate``."""

    def __init__(self, inner: Backend, max_error_rate: float, where: str = "backends"):
        if not 0.0 <= max_error_rate <= 1.0:
            raise ValueError("max_error_rate must be in [0, 1]")
        super().__init__(inner)
        self.max_error_rate = max_error_rate
        self.where = where
        self.calls = 0
        self.failed = 0
        self.first_error: str | None = None

    def stats(self) -> dict[str, int] | None:
        """The wrapped backend's call counts (the call cache's hits, misses, errors), None without a cache."""
        inner = getattr(self.inner, "stats", None)
        return inner() if callable(inner) else None

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        return self._count(self.inner.generate(requests, sampling))

    def score(self, requests: Sequence[Request], completions: Sequence[str]) -> list[Completion]:
        return self._count(self.inner.score(requests, completions))

    def _count(self, out: list[Completion]) -> list[Completion]:
        for c in out:
            self.calls += 1
            if not c.ok:
                self.failed += 1
                if self.first_error is None:
                    self.first_error = c.error
        self.check()
        return out

    def check(self) -> None:
        """Raise :class:`BackendFailure` when the failed share so far is above the budget."""
        if self.failed and self.failed > self.max_error_rate * self.calls:
            first = (self.first_error or "").replace("\n", " ")
            if len(first) > 300:
                first = first[:300] + "..."
            raise BackendFailure(
                f"{self.where}: {self.failed} of {self.calls} calls to {self.name} backend {self.model!r} failed "
                f"({self.failed / self.calls:.0%} > max_error_rate {self.max_error_rate:g}); first error: {first}"
            )

    def error_stats(self) -> dict[str, Any]:
        return {"calls": self.calls, "failed": self.failed, "max_error_rate": self.max_error_rate}
