"""The call cache in front of a real (tiny) transformers backend: replay, kill-and-resume, errors, keys."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

from looptool.llm import BackendConfig, Request, Sampling  # noqa: E402
from looptool.llm.cache import DB_NAME, CachedBackend  # noqa: E402
from looptool.llm.hf import HFBackend  # noqa: E402


class Counting:
    """Wraps a real backend and counts the requests that reach the model."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.requests = 0
        self.calls = 0

    def identity(self):
        return self.inner.identity()

    def generate(self, requests, sampling):
        self.calls += 1
        self.requests += len(requests)
        return self.inner.generate(requests, sampling)

    def score(self, requests, completions):
        self.calls += 1
        self.requests += len(requests)
        return self.inner.score(requests, completions)

    def close(self):
        pass


@pytest.fixture(scope="module")
def hf(tiny_model_dir):
    return HFBackend(str(tiny_model_dir), BackendConfig(batch_size=4, cache=False))


def _reqs(n):
    return [
        Request.chat([{"role": "user", "content": f"question number {k}"}], key=f"s{k}") for k in range(n)
    ]


def test_second_run_makes_no_model_calls(hf, tmp_path):
    reqs = _reqs(6) + [Request.text("a raw prompt")]
    sampling = Sampling(max_new_tokens=5, logprobs=True)
    first = Counting(hf)
    a = CachedBackend(first, tmp_path, chunk_size=3).generate(reqs, sampling)
    assert first.requests == 7 and first.calls == 3
    again = Counting(hf)
    cached = CachedBackend(again, tmp_path, chunk_size=3)
    b = cached.generate(reqs, sampling)
    assert again.calls == 0 and again.requests == 0
    assert cached.stats() == {"hits": 7, "misses": 0, "errors": 0}
    assert all(c.cached for c in b) and not any(c.cached for c in a)
    assert [c.to_json() for c in a] == [c.to_json() for c in b]
    # anything that changes the output is a different call
    other = Counting(hf)
    CachedBackend(other, tmp_path).generate(reqs[:2], Sampling(max_new_tokens=6, logprobs=True))
    assert other.requests == 2
    # scoring is cached too, keyed by the completion text
    s1 = Counting(hf)
    CachedBackend(s1, tmp_path).score(reqs[:2], ["x", "y"])
    s2 = Counting(hf)
    cb = CachedBackend(s2, tmp_path)
    got = cb.score(reqs[:2], ["x", "z"])
    assert s2.requests == 1 and cb.stats()["hits"] == 1 and got[1].text == "z"


def test_the_same_files_under_another_path_replay(hf, tiny_model_dir, tmp_path, monkeypatch):
    """Calls are keyed by the checkpoint's contents, not its path: an iteration whose training changed nothing
    (models/iter_1 == models/iter_0, byte for byte) replays; a changed file does not."""
    import shutil

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))  # where the digests are memoised
    copy = tmp_path / "iter_1"
    shutil.copytree(tiny_model_dir, copy)
    reqs = _reqs(3)
    sampling = Sampling(max_new_tokens=4)
    CachedBackend(Counting(hf), tmp_path).generate(reqs, sampling)
    twin = Counting(
        HFBackend(str(copy), BackendConfig(batch_size=4, cache=False), tokenizer=hf.tokenizer, lm=hf.lm)
    )
    assert twin.identity()["model"] != hf.identity()["model"]
    CachedBackend(twin, tmp_path).generate(reqs, sampling)
    assert twin.requests == 0
    config = copy / "config.json"
    config.write_text(config.read_text().replace("{", '{"looptool_test": 1, ', 1))  # another file version
    changed = Counting(
        HFBackend(str(copy), BackendConfig(batch_size=4, cache=False), tokenizer=hf.tokenizer, lm=hf.lm)
    )
    CachedBackend(changed, tmp_path).generate(reqs, sampling)
    assert changed.requests == 3


def test_duplicates_and_keys(hf, tmp_path):
    r = Request.chat([{"role": "user", "content": "same"}], key="a")
    twin = Request.chat([{"role": "user", "content": "same"}], key="b")
    inner = Counting(hf)
    cb = CachedBackend(inner, tmp_path)
    greedy = cb.generate([r, twin, r], Sampling(max_new_tokens=4))
    assert inner.requests == 1  # greedy ignores the key: one call serves all three
    assert greedy[0].token_ids == greedy[1].token_ids == greedy[2].token_ids
    sampled = cb.generate([r, twin, r], Sampling(max_new_tokens=4, temperature=1.0))
    assert inner.requests == 3  # sampled: a and b are independent draws, the repeated a runs once
    assert sampled[0].token_ids == sampled[2].token_ids


def test_errors_are_not_cached(hf, tmp_path):
    reqs = [Request.text("ok prompt"), Request.text("word " * 5000)]  # the second exceeds the context
    inner = Counting(hf)
    cb = CachedBackend(inner, tmp_path)
    out = cb.generate(reqs, Sampling(max_new_tokens=3))
    assert out[0].ok and not out[1].ok
    assert cb.stats() == {"hits": 0, "misses": 2, "errors": 1}
    inner2 = Counting(hf)
    cb2 = CachedBackend(inner2, tmp_path)
    cb2.generate(reqs, Sampling(max_new_tokens=3))
    assert inner2.requests == 1  # the failed call is tried again
    assert cb2.stats() == {"hits": 1, "misses": 1, "errors": 1}


CHILD = textwrap.dedent(
    """
    import sys, time
    from looptool.llm import BackendConfig, Request, Sampling
    from looptool.llm.cache import CachedBackend
    from looptool.llm.hf import HFBackend

    model, cache = sys.argv[1], sys.argv[2]
    inner = HFBackend(model, BackendConfig(batch_size=4, cache=False))
    real = inner.generate
    calls = []

    def generate(requests, sampling):
        calls.append(len(requests))
        if len(calls) == 3:  # the third chunk never finishes: the parent kills us here
            print("stuck", flush=True)
            time.sleep(600)
        return real(requests, sampling)

    inner.generate = generate
    reqs = [Request.chat([{"role": "user", "content": f"question number {k}"}]) for k in range(12)]
    CachedBackend(inner, cache, chunk_size=4).generate(reqs, Sampling(max_new_tokens=5))
    """
)


def test_killed_run_replays_finished_chunks(hf, tiny_model_dir, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tiny_model_dir), str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # blocks until the child is inside its third chunk
        assert line.strip() == "stuck", f"child ended early (rc={proc.poll()})"
        proc.send_signal(signal.SIGKILL)  # no cleanup, no chance to commit anything more
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(cache / DB_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 8  # two committed chunks
    reqs = [Request.chat([{"role": "user", "content": f"question number {k}"}]) for k in range(12)]
    inner = Counting(hf)
    cb = CachedBackend(inner, cache, chunk_size=4)
    out = cb.generate(reqs, Sampling(max_new_tokens=5))
    assert inner.requests == 4 and cb.stats() == {"hits": 8, "misses": 4, "errors": 0}
    assert [c.cached for c in out] == [True] * 8 + [False] * 4
    fresh = hf.generate(reqs, Sampling(max_new_tokens=5))
    assert [c.token_ids for c in out] == [c.token_ids for c in fresh]


def _committed(cache) -> int:
    """Rows another process would see now (a separate connection: only committed rows)."""
    with sqlite3.connect(Path(cache) / DB_NAME) as db:
        return db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]


@pytest.mark.parametrize("trigger", ["count", "time"])
def test_finished_rows_are_committed_while_the_call_runs(hf, tmp_path, monkeypatch, trigger):
    """Issue 23, class 10: rows reach the cache as the engine finishes them, committed by count (here every 2
    rows) or by time (here 0.05 s after the first waiting row), not only when the chunk returns."""
    cb = CachedBackend(hf, tmp_path)  # default chunk: all 12 requests in one call
    cb.commit_rows, cb.commit_s = (2, 1e9) if trigger == "count" else (10**6, 0.05)
    seen = []
    real = hf._drop
    done = 0

    def drop(state):  # runs inside the engine, after the step's finished rows were handed on
        nonlocal done
        done += sum(r.finish is not None for r in state.rows)
        deadline = time.monotonic() + 10  # the timer's commit, on a loaded machine
        while trigger == "time" and _committed(tmp_path) < done and time.monotonic() < deadline:
            time.sleep(0.02)
        seen.append((done, _committed(tmp_path)))
        return real(state)

    monkeypatch.setattr(hf, "_drop", drop)
    out = cb.generate(_reqs(12), Sampling(max_new_tokens=5))
    assert all(c.ok for c in out) and _committed(tmp_path) == 12
    assert done == 12 and len(seen) >= 3  # waves of 4: the first ones were in the cache mid-call
    assert all(committed == (n - n % 2 if trigger == "count" else n) for n, committed in seen), seen


CHILD_STREAM = textwrap.dedent(
    """
    import sys, time
    from looptool.llm import BackendConfig, Request, Sampling
    from looptool.llm.cache import COMMIT_S, CachedBackend
    from looptool.llm.hf import HFBackend

    model, cache = sys.argv[1], sys.argv[2]
    inner = HFBackend(model, BackendConfig(batch_size=4, cache=False))
    real = inner._drop
    done = []

    def drop(state):
        done.extend(r.index for r in state.rows if r.finish is not None)
        if len(done) >= 4:  # the first wave finished: give the commit timer its second, then hang
            time.sleep(COMMIT_S + 1.0)
            print("stuck", len(done), flush=True)
            time.sleep(600)
        return real(state)

    inner._drop = drop
    reqs = [Request.chat([{"role": "user", "content": f"question number {k}"}]) for k in range(12)]
    CachedBackend(inner, cache).generate(reqs, Sampling(max_new_tokens=5))  # defaults: one chunk of 12
    """
)


def test_killed_mid_chunk_replays_the_rows_that_finished(hf, tiny_model_dir, tmp_path):
    """A hard kill (SIGKILL: no interrupt handling) in the middle of the only chunk: the rows that finished
    more than COMMIT_S before it are in the cache, and the re-run decodes only the rest."""
    script = tmp_path / "child.py"
    script.write_text(CHILD_STREAM)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tiny_model_dir), str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("stuck"), f"child ended early (rc={proc.poll()})"
        finished = int(line.split()[1])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 4 <= finished < 12 and _committed(cache) == finished
    reqs = [Request.chat([{"role": "user", "content": f"question number {k}"}]) for k in range(12)]
    inner = Counting(hf)
    cb = CachedBackend(inner, cache)
    out = cb.generate(reqs, Sampling(max_new_tokens=5))
    assert inner.requests == 12 - finished and cb.stats()["hits"] == finished
    fresh = hf.generate(reqs, Sampling(max_new_tokens=5))
    assert [c.token_ids for c in out] == [c.token_ids for c in fresh]
