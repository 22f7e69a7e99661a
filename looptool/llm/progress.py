"""One progress bar per stage over all its model calls: requests done / total, rate and ETA.

The bar is fed where every call passes: the call cache (:class:`~looptool.llm.cache.CachedBackend`) adds each
batch's request count to the total and counts cache hits as done at once; the backends report requests as
they finish (continuous batching in ``transformers``, finished futures in ``openai``, vLLM's own progress
callback), and the cache tops up whatever a backend did not report when its chunk returns.

The backends of one process share one bar while any of them is open (a stage opens its backends, runs, and
closes them), named after the stage (``LOOPTOOL_STAGE``, set by :func:`looptool.guard.run_stage`). A stage
function that knows its total up front announces it with ``stage_progress(name, total=n)``, so the ETA is right
from the first request.

Nothing is drawn when stderr is not a terminal (DVC logs, pipes, CI); ``LOOPTOOL_PROGRESS=0`` turns bars off
and ``=1`` forces them on. The counts are kept either way.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

PROGRESS_ENV = "LOOPTOOL_PROGRESS"
STAGE_ENV = "LOOPTOOL_STAGE"


def bars_enabled() -> bool:
    """Draw bars? ``LOOPTOOL_PROGRESS`` 1/0 when set, else whether stderr is a terminal."""
    env = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return True
    if env in ("0", "false", "no", "off"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class StageBar:
    """Counts of one stage's requests, drawn as one tqdm bar (created on the first request or note).

    ``total`` = max(requests announced by the stage, requests handed to the backends so far); ``done``
    counts finished requests, ``hits`` those answered from the call cache.
    """

    def __init__(self, desc: str, enabled: bool | None = None):
        self.desc = desc
        self.enabled = bars_enabled() if enabled is None else enabled
        self.planned = 0
        self.submitted = 0
        self.done = 0
        self.hits = 0
        self._note = ""
        self._bar: Any = None
        self.closed = False

    @property
    def total(self) -> int:
        return max(self.planned, self.submitted)

    @property
    def started(self) -> bool:
        return self.submitted > 0 or self.planned > 0

    def _draw(self) -> Any:
        if self._bar is None and self.enabled and not self.closed:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.total or None,
                initial=self.done,
                desc=self.desc,
                unit="req",
                dynamic_ncols=True,
                mininterval=0.5,
                smoothing=0.1,
                file=sys.stderr,
            )
        return self._bar

    def _refresh(self) -> None:
        bar = self._draw()
        if bar is None:
            return
        if bar.total != (self.total or None):
            bar.total = self.total or None
        post = [f"cached {self.hits}"] if self.hits else []
        if self._note:
            post.append(self._note)
        bar.set_postfix_str(", ".join(post), refresh=False)
        bar.refresh()

    def plan(self, n: int) -> None:
        """The stage will send ``n`` more requests (sets the total before they are sent)."""
        self.planned = max(self.planned, self.submitted) + max(0, int(n))
        self._refresh()

    def expect(self, n: int) -> None:
        """``n`` requests were handed to a backend (the total grows when they exceed the plan)."""
        self.submitted += max(0, int(n))
        if self.planned and self.submitted > self.planned:
            self.planned = 0  # the plan was short (retries, extra votes): count what is really sent
        self._refresh()

    def advance(self, n: int, cached: bool = False) -> None:
        """``n`` requests finished (``cached``: answered from the call cache)."""
        if n <= 0:
            return
        self.done += n
        if cached:
            self.hits += n
        bar = self._draw()
        if bar is not None:
            if cached:
                self._refresh()
            bar.update(n)

    def note(self, text: str) -> None:
        """Extra words after the counts (e.g. samples accepted so far)."""
        self._note = text
        self._refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar = None
        self.closed = True


_current: StageBar | None = None  # the bar of an open stage_progress block, or of the call running now
_shared: StageBar | None = None  # the bar the open backends share
_holders: set[int] = set()


def current() -> StageBar | None:
    """The bar requests count on now, if any."""
    if _current is not None:
        return _current
    return _shared if _shared is not None and not _shared.closed else None


def _stage_name(default: str) -> str:
    return os.environ.get(STAGE_ENV) or default


@contextlib.contextmanager
def stage_progress(desc: str, total: int | None = None) -> Iterator[StageBar]:
    """Open the stage's bar for the ``with`` block, or, inside an open one, add ``total`` to its plan."""
    global _current
    open_bar = current()
    if open_bar is not None:
        if total:
            open_bar.plan(total)
        yield open_bar
        return
    bar = StageBar(_stage_name(desc))
    if total:
        bar.plan(total)
    _current = bar
    try:
        yield bar
    finally:
        _current = None
        bar.close()


@contextlib.contextmanager
def using(bar: StageBar | None) -> Iterator[StageBar | None]:
    """Make ``bar`` the current one for the block (a backend's own bar while no stage bar is open)."""
    global _current
    if bar is None or _current is not None:
        yield _current
        return
    _current = bar
    try:
        yield bar
    finally:
        _current = None


def report(n: int = 1) -> None:
    """Called by a backend when ``n`` of its requests finished; counted on the open bar (if any)."""
    bar = _current
    if bar is not None:
        bar.advance(n)


class Reporter:
    """What a backend holds while its requests run: ``update(n)`` counts ``n`` finished ones on the open bar."""

    def update(self, n: int = 1) -> None:
        report(n)

    def close(self) -> None:
        pass


def vllm_tqdm() -> Any:
    """``use_tqdm`` for ``vllm.LLM.generate``: vLLM's own progress, fed into the open stage bar (one bar);
    vLLM's own bar when no stage bar is open and stderr is a terminal; off otherwise."""
    if _current is None:
        return bars_enabled()
    return _vllm_forward_class()


def _vllm_forward_class() -> type:
    """A tqdm that draws nothing and forwards vLLM's counts (``update``) and token rates (``postfix``) to the
    stage bar. A real tqdm subclass, so what vLLM reads from its bar (``format_dict["elapsed"]``) is there."""
    import io

    from tqdm import tqdm

    class VLLMForward(tqdm):
        def __init__(self, *args: Any, **kwargs: Any):
            kwargs["file"] = io.StringIO()
            kwargs.pop("disable", None)
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            out = super().update(n)
            report(int(n or 0))
            return out

        def __setattr__(self, key: str, value: Any) -> None:
            if key == "postfix" and value and _current is not None:
                _current.note(str(value))  # vLLM's token rates
            super().__setattr__(key, value)

    return VLLMForward


def run_counted(bar: StageBar, n: int, call: Any) -> Any:
    """Run ``call()`` for ``n`` requests already expected on ``bar`` (the current one): when it returns, count
    as done whatever the backend did not report while it ran."""
    before = bar.done
    out = call()
    bar.advance(n - (bar.done - before))
    return out


class OwnBar:
    """A backend's hold on the shared bar: created by the first backend that sends a request, closed when the
    last open backend closes (one bar for the stage, not one per call or per backend)."""

    def __init__(self, desc: str):
        self.desc = desc
        self.holding = False

    def get(self) -> StageBar:
        global _shared
        if _current is not None:
            return _current
        if _shared is None or _shared.closed:
            _shared = StageBar(_stage_name(self.desc))
            _holders.clear()
        if not self.holding:
            _holders.add(id(self))
            self.holding = True
        return _shared

    def close(self) -> None:
        global _shared
        if not self.holding:
            return
        self.holding = False
        _holders.discard(id(self))
        if not _holders and _shared is not None:
            _shared.close()
            _shared = None


def tracked(backend: Any) -> Any:
    """``backend`` with its calls counted on the stage bar (for backends not behind the call cache, which
    counts them itself)."""
    from looptool.llm.base import BackendWrapper

    class Tracked(BackendWrapper):
        def __init__(self) -> None:
            super().__init__(backend)
            self.own = OwnBar(f"{backend.name} {backend.model}")

        def _count(self, n: int, call: Any) -> Any:
            bar = self.own.get()
            with using(bar):
                bar.expect(n)
                return run_counted(bar, n, call)

        def generate(self, requests, sampling):  # type: ignore[no-untyped-def]
            return self._count(len(requests), lambda: self.inner.generate(requests, sampling))

        def score(self, requests, completions):  # type: ignore[no-untyped-def]
            return self._count(len(requests), lambda: self.inner.score(requests, completions))

        def close(self) -> None:
            self.own.close()
            super().close()

    return Tracked()
