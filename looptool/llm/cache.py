"""The content-addressed call cache: a crashed or re-run stage replays the calls it already paid for.

Every call is keyed by (backend identity, request, sampling) — see :func:`looptool.llm.common.call_key` —
and stored in one SQLite file (WAL mode, so readers never block the writer) under
:func:`looptool.llm.config.cache_dir`. Misses go to the wrapped backend in chunks; each request is stored as
it finishes where the backend hands it on (``transformers``, ``openai``), else with its chunk, so a stage
killed half-way loses only what was still running (and the rows of the last second). Failed calls are not
stored: they are tried again on the next run. DVC decides *whether* a stage runs; this cache only makes a
re-run cheap.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from looptool.errors import StageError
from looptool.llm import progress
from looptool.llm.base import Backend, BackendWrapper, Completion, Request, Sampling, on_result
from looptool.llm.common import call_key
from looptool.llm.config import cache_dir
from looptool.storage import make_private

DB_NAME = "calls.sqlite"
_LOOKUP_CHUNK = 500  # SQLite's host-parameter limit is 999 on old builds


def completion_problem(resp: Any) -> str | None:
    """None when a stored response is a usable completion, else what is wrong with it.

    Only successful completions are ever stored; a row that is not one (an error, an empty answer, another
    shape) must not replay as an answer.
    """
    if not isinstance(resp, dict):
        return f"not an object but {type(resp).__name__}"
    if resp.get("error") is not None:
        return "a stored error"
    text, ids, lps = resp.get("text"), resp.get("token_ids", []), resp.get("logprobs")
    if not isinstance(text, str):
        return "no 'text' string"
    if not isinstance(ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in ids):
        return "'token_ids' is not a list of integers"
    if lps is not None and (
        not isinstance(lps, list)
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in lps)
    ):
        return "'logprobs' is not a list of numbers"
    if not text and not ids:
        return "an empty answer"
    return None


class CacheError(StageError):
    """The cache file cannot be used; the message names it and what to do (move it aside only when it is
    damaged, never for a lock another process holds)."""


BUSY_TIMEOUT_S = 60.0
"""How long a call waits for another process's lock on the cache (set-up included) before giving up."""


def _errorname(e: sqlite3.Error) -> str:
    """SQLite's error name (``SQLITE_BUSY``, ``SQLITE_NOTADB``, ...); from the message before Python 3.11."""
    name = getattr(e, "sqlite_errorname", None)
    if name:
        return str(name)
    low = str(e).lower()
    if "locked" in low or "busy" in low:
        return "SQLITE_BUSY"
    if "not a database" in low or "malformed" in low:
        return "SQLITE_CORRUPT"
    return "SQLITE_ERROR"


def is_busy(e: sqlite3.Error) -> bool:
    """A lock held by another connection (``database is locked``), not a fault of the file."""
    return _errorname(e).startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


class CallCache:
    """Key -> completion JSON in SQLite."""

    def __init__(self, path: str | Path | None = None, timeout_s: float = BUSY_TIMEOUT_S):
        directory = Path(path) if path is not None else Path(cache_dir())
        if directory.exists() and not directory.is_dir():
            raise CacheError(
                f"{directory}: call cache folder is a file (LOOPTOOL_CACHE_DIR must name a folder)"
            )
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DB_NAME
        self.timeout_s = timeout_s
        self.invalid = 0  # rows found that were not usable completions (re-run and overwritten)
        try:
            # prompts and answers stay the owner's: 0600 (SQLite creates its -wal and -shm with this mode)
            for f in (self.path, *(self.path.with_name(self.path.name + x) for x in ("-wal", "-shm"))):
                if f == self.path or f.exists():
                    make_private(f)
            self.db = self._open()
        except sqlite3.DatabaseError as e:
            raise self._failed(e) from None

    def _open(self) -> sqlite3.Connection:
        """Connect and set up (WAL, the table), retrying while another process holds the file.

        SQLite answers ``database is locked`` at once, without waiting out the busy timeout, when two
        connections switch a new file to WAL together (each holds a read lock and wants the write lock, so
        one of them must give way): processes that create the same new cache folder at the same moment. The
        set-up is idempotent, so the one that gave way tries again until ``timeout_s``.
        """
        deadline = time.monotonic() + self.timeout_s
        delay = 0.005
        while True:
            db = sqlite3.connect(self.path, timeout=self.timeout_s, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, backend TEXT, model TEXT,"
                    " op TEXT, response TEXT NOT NULL, created REAL)"
                )
                db.commit()
                return db
            except sqlite3.OperationalError as e:
                db.close()
                if not is_busy(e) or time.monotonic() >= deadline:
                    raise
            except BaseException:
                db.close()
                raise
            time.sleep(delay * (1.0 + random.random()))  # jitter: the processes do not retry in step
            delay = min(delay * 2, 0.25)

    def _failed(self, e: sqlite3.Error) -> CacheError:
        """The one-line error for ``e``: a lock, a damaged file, or a file that cannot be opened or written."""
        name = _errorname(e)
        if is_busy(e):
            return CacheError(
                f"{self.path}: call cache is busy: another process held its lock for over "
                f"{self.timeout_s:g} s ({e}); the cache itself is fine: re-run when that process has finished, "
                "or point LOOPTOOL_CACHE_DIR at another folder for this run"
            )
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or not isinstance(
            e, sqlite3.OperationalError
        ):
            return CacheError(
                f"{self.path}: call cache cannot be read ({e}); move it aside (mv {self.path} {self.path}.bad) "
                "and re-run, or check it with `looptool cache verify`"
            )
        return CacheError(
            f"{self.path}: call cache cannot be used ({e}): check that its folder is writable and its disk "
            "has room"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored completions of ``keys``; a row that is not a usable completion counts as a miss."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        try:
            for s in range(0, len(unique), _LOOKUP_CHUNK):
                part = unique[s : s + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(part))
                for key, resp in self.db.execute(
                    f"SELECT key, response FROM calls WHERE key IN ({marks})", part
                ):
                    try:
                        obj = json.loads(resp)
                    except (TypeError, ValueError, RecursionError):
                        obj = None
                    if completion_problem(obj) is None:
                        found[key] = obj
                    else:
                        self.invalid += 1
        except sqlite3.DatabaseError as e:
            raise self._failed(e) from None
        return found

    def put_many(self, rows: Sequence[tuple[str, str, str, str, dict[str, Any]]]) -> None:
        """Store ``(key, backend, model, op, completion_json)`` rows in one transaction."""
        if not rows:
            return
        now = time.time()
        rows = [
            r for r in rows if completion_problem(r[4]) is None
        ]  # never store an error or an empty answer
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO calls (key, backend, model, op, response, created) VALUES (?, ?, ?, ?, ?, ?)",
                    [(k, b, m, op, json.dumps(resp, ensure_ascii=False), now) for k, b, m, op, resp in rows],
                )
        except sqlite3.DatabaseError as e:
            raise self._failed(e) from None

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    # --- maintenance (``looptool cache``) ---------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Rows by backend / model / op, with the oldest and newest entry (Unix time)."""
        try:
            groups = self.db.execute(
                "SELECT backend, model, op, COUNT(*), MIN(created), MAX(created) FROM calls"
                " GROUP BY backend, model, op ORDER BY 4 DESC"
            ).fetchall()
        except sqlite3.DatabaseError as e:
            raise self._failed(e) from None
        size = sum(p.stat().st_size for p in self.path.parent.glob(DB_NAME + "*") if p.is_file())
        return {
            "path": str(self.path),
            "bytes": size,
            "rows": sum(g[3] for g in groups),
            "groups": [
                {"backend": b, "model": m, "op": op, "rows": n, "oldest": lo, "newest": hi}
                for b, m, op, n, lo, hi in groups
            ],
        }

    def verify(self) -> tuple[int, list[tuple[str, str]]]:
        """Check every row: SQLite's integrity check, then each response. Returns (rows, [(key, problem)])."""
        try:
            ok = self.db.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise CacheError(f"{self.path}: SQLite integrity check failed: {ok}; move the file aside")
            bad, n = [], 0
            for key, resp in self.db.execute("SELECT key, response FROM calls"):
                n += 1
                try:
                    obj = json.loads(resp)
                except (TypeError, ValueError, RecursionError) as e:
                    bad.append((key, f"not JSON ({type(e).__name__})"))
                    continue
                problem = completion_problem(obj)
                if problem:
                    bad.append((key, problem))
        except sqlite3.DatabaseError as e:
            raise self._failed(e) from None
        return n, bad

    def prune(
        self,
        *,
        invalid: bool = False,
        older_than_s: float | None = None,
        model: str | None = None,
        backend: str | None = None,
    ) -> int:
        """Delete the rows matching every given condition (invalid responses, age, model, backend);
        returns how many. With no condition nothing is deleted."""
        where, args = [], []
        if older_than_s is not None:
            where.append("created < ?")
            args.append(time.time() - older_than_s)
        if model is not None:
            where.append("model = ?")
            args.append(model)
        if backend is not None:
            where.append("backend = ?")
            args.append(backend)
        if not where and not invalid:
            return 0
        try:
            keys = [
                k
                for (k,) in self.db.execute(
                    "SELECT key FROM calls" + (" WHERE " + " AND ".join(where) if where else ""), args
                )
            ]
            if invalid:
                _, bad = self.verify()
                bad_keys = {k for k, _ in bad}
                keys = [k for k in keys if k in bad_keys]
            with self.db:
                for s in range(0, len(keys), _LOOKUP_CHUNK):
                    part = keys[s : s + _LOOKUP_CHUNK]
                    self.db.execute(f"DELETE FROM calls WHERE key IN ({','.join('?' * len(part))})", part)
            self.db.execute("VACUUM")
        except sqlite3.DatabaseError as e:
            raise self._failed(e) from None
        return len(keys)

    def close(self) -> None:
        self.db.close()


COMMIT_ROWS = 64
"""Finished rows are committed at once when this many wait (else :data:`COMMIT_S` after the first of them)."""
COMMIT_S = 1.0
"""A finished row waits at most this long for its commit: a hard kill loses only the last second's rows."""


class _Committer:
    """Finished rows on their way into the cache: committed when :data:`COMMIT_ROWS` wait, else by a timer
    :data:`COMMIT_S` after the first of them arrived, and at :meth:`close` (end of a chunk, or an interrupt).

    The timer thread and the caller's thread share the connection under one lock; the caller touches the
    store through this object only while it is open. A commit that fails in the timer keeps its rows waiting,
    so the next commit in the caller's thread raises the error.
    """

    def __init__(self, store: CallCache, rows: int, seconds: float):
        self.store, self.rows, self.seconds = store, rows, seconds
        self.waiting: list[tuple[str, str, str, str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def add(self, row: tuple[str, str, str, str, dict[str, Any]]) -> None:
        with self.lock:
            self.waiting.append(row)
            if len(self.waiting) >= self.rows or self.seconds <= 0:
                self._commit()
            elif self.timer is None:
                self.timer = threading.Timer(self.seconds, self._on_timer)
                self.timer.daemon = True
                self.timer.start()

    def _on_timer(self) -> None:
        with self.lock:
            self.timer = None
            try:
                self._commit()
            except CacheError:
                pass  # the rows stay waiting; the caller's next commit reports the error

    def _commit(self) -> None:
        if self.waiting:
            self.store.put_many(self.waiting)
            self.waiting = []

    def close(self) -> None:
        """Stop the timer and commit what waits."""
        timer = self.timer
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join()
        with self.lock:
            self.timer = None
            self._commit()


class CachedBackend(BackendWrapper):
    """Wraps a backend: replays cached calls, stores the others as they finish, counts hits and misses.

    Misses go to the wrapped backend ``chunk_size`` at a time. A backend that hands on each request as it
    finishes (:func:`~looptool.llm.base.deliver`: ``transformers``, ``openai``) has it stored at once,
    committed every :data:`COMMIT_ROWS` rows or :data:`COMMIT_S` seconds, so a stage killed mid-chunk keeps
    what finished (an exception or Ctrl-C commits everything that finished); the decode batches are the same
    as without the cache. Results a backend returns only at the end of its call (``vllm``) are committed per
    chunk.
    """

    def __init__(self, inner: Backend, path: str | Path | None = None, chunk_size: int = 128):
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        super().__init__(inner)
        self.chunk_size = chunk_size
        self.commit_rows = COMMIT_ROWS
        self.commit_s = COMMIT_S
        self.store = CallCache(path)
        self._identity = inner.identity()
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self._bar = progress.OwnBar(f"{inner.name} {inner.model}")

    def identity(self) -> dict[str, Any]:
        return self._identity

    def stats(self) -> dict[str, int]:
        """Calls answered from the cache, sent to the model, and failed (for the stage metrics)."""
        return {"hits": self.hits, "misses": self.misses, "errors": self.errors}

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        keys = [call_key("generate", self._identity, r, sampling) for r in requests]
        return self._run(
            requests, keys, "generate", lambda idx: self.inner.generate([requests[i] for i in idx], sampling)
        )

    def score(self, requests: Sequence[Request], completions: Sequence[str]) -> list[Completion]:
        if len(requests) != len(completions):
            raise ValueError(f"score: {len(requests)} requests but {len(completions)} completions")
        keys = [call_key("score", self._identity, r, None, extra=c) for r, c in zip(requests, completions)]
        return self._run(
            requests,
            keys,
            "score",
            lambda idx: self.inner.score([requests[i] for i in idx], [completions[i] for i in idx]),
        )

    def _run(
        self,
        requests: Sequence[Request],
        keys: list[str],
        op: str,
        call: Callable[[list[int]], list[Completion]],
    ) -> list[Completion]:
        bar = self._bar.get()  # the stage's bar; this backend's own when no stage bar is open
        with progress.using(bar):
            return self._run_counted(bar, requests, keys, op, call)

    def _run_counted(
        self,
        bar: progress.StageBar,
        requests: Sequence[Request],
        keys: list[str],
        op: str,
        call: Callable[[list[int]], list[Completion]],
    ) -> list[Completion]:
        bar.expect(len(requests))
        found = self.store.get_many(keys)
        out: list[Completion | None] = [None] * len(requests)
        first_of: dict[str, int] = {}
        todo: list[int] = []
        for i, k in enumerate(keys):
            if k in found:
                out[i] = Completion.from_json(found[k], cached=True)
                self.hits += 1
            elif k in first_of:  # the same call twice in one batch: run it once
                continue
            else:
                first_of[k] = i
                todo.append(i)
        bar.advance(sum(1 for c in out if c is not None), cached=True)
        committer = _Committer(self.store, self.commit_rows, self.commit_s)
        try:
            for s in range(0, len(todo), self.chunk_size):
                idx = todo[s : s + self.chunk_size]
                stored: set[int] = set()

                def finished(
                    j: int,
                    request: Request,
                    comp: Completion,
                    idx: list[int] = idx,
                    stored: set[int] = stored,
                ) -> None:
                    # the request check: only a row of this call (not of a call nested inside it) is ours
                    if 0 <= j < len(idx) and requests[idx[j]] is request and comp.ok and idx[j] not in stored:
                        stored.add(idx[j])
                        committer.add((keys[idx[j]], self.name, self.model, op, comp.to_json()))

                with on_result(finished):
                    got = progress.run_counted(bar, len(idx), lambda idx=idx: call(idx))
                if len(got) != len(idx):
                    raise RuntimeError(
                        f"{self.name} backend returned {len(got)} completions for {len(idx)} requests"
                    )
                for i, comp in zip(idx, got):
                    out[i] = comp
                    self.misses += 1
                    if not comp.ok:
                        self.errors += 1
                    elif i not in stored:  # not handed on while the call ran
                        committer.add((keys[i], self.name, self.model, op, comp.to_json()))
                committer.close()
        except BaseException:
            try:  # interrupted or failed: keep every row that finished; the original error goes on
                committer.close()
            except CacheError:
                pass
            raise
        for i, k in enumerate(keys):
            if out[i] is None:  # a duplicate of a call made above
                src = out[first_of[k]]
                out[i] = Completion.from_json(src.to_json(), cached=src.ok)
                if src.ok:
                    self.hits += 1
                bar.advance(1, cached=src.ok)
        return [c for c in out if c is not None]

    def close(self) -> None:
        self._bar.close()
        self.store.close()
        super().close()
