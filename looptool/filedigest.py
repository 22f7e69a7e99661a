"""Which version of a file this is: a stat key that changes whenever its bytes can have changed, and the
SHA-256 of its bytes memoised by that key across processes.

A memo keyed by size and mtime keeps a stale digest when a file is rewritten in place with the same size
and its mtime set back (``os.utime``, ``touch -r``, ``cp -p``, a copy tool that keeps times): the call cache
would replay the old weights' answers for the new weights. :func:`stat_key` adds, as git's index does, what a
writer cannot set back: the inode change time (ctime; every write, ``utime`` and ``chmod`` moves it to now,
and only the system clock can move it elsewhere), the inode and the device. And as git does with "racily
clean" entries, a digest is not memoised while the file's last change is less than :data:`RACY_S` old
(a second rewrite within the same timestamp tick would keep the same key): it is read again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.localcache import cache_dir

DIGESTS_FILE = "digests.json"
"""The memo, in the call cache folder: resolved path -> [stat key, SHA-256 of the bytes]."""
RACY_S = 2.0
"""A file changed less than this long before it is read is not memoised (timestamp ticks of coarse
filesystems, 1-2 s; clock skew of network ones)."""


def stat_key(st: os.stat_result) -> str:
    """The version of a file as ``stat`` tells it: size, mtime, ctime, inode, device (all in ns or numbers).

    Equal keys mean equal bytes unless the file was changed within its filesystem's timestamp tick of the
    key's ctime (see :data:`RACY_S`); a key changes on any write, even one that restores size and mtime."""
    return f"{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}|{st.st_dev}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            h.update(block)
    return h.hexdigest()


class DigestMemo:
    """SHA-256 of files, memoised across processes in ``<call cache>/digests.json`` by :func:`stat_key` (best
    effort: an unreadable or unwritable memo only means hashing again). One entry per path: the newest
    version seen."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            path = Path(cache_dir()) / DIGESTS_FILE
        self.path = Path(path)
        try:
            known = json.loads(self.path.read_text())
        except (OSError, ValueError, RecursionError):
            known = {}
        self.known: dict[str, list[str]] = {
            k: v
            for k, v in (known.items() if isinstance(known, dict) else ())
            if isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
        }  # entries of another format (an older looptool's) are dropped
        self.changed = False

    def digest(self, f: Path) -> str:
        """The SHA-256 of ``f``'s bytes, from the memo when its stat key is the one memoised."""
        name = str(f.resolve())
        st = f.stat()
        key = stat_key(st)
        entry = self.known.get(name)
        if entry is not None and entry[0] == key:
            return entry[1]
        started = time.time_ns()
        digest = sha256_file(f)
        after = f.stat()
        settled = max(after.st_mtime_ns, after.st_ctime_ns) < started - int(RACY_S * 1e9)
        if stat_key(after) == key and settled:  # not written while read, nor too recently to tell
            self.known[name] = [key, digest]
            self.changed = True
        return digest

    def save(self) -> None:
        if not self.changed:
            return
        from looptool.storage import atomic_path

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path, mode=0o600) as tmp:  # beside the private call cache
                tmp.write_text(jsonutil.dumps(self.known))
            self.changed = False
        except OSError:
            pass


def file_digests(root: Path, files: Iterable[Path], memo: DigestMemo | None = None) -> list[list[Any]]:
    """``[[path relative to root, sha256], ...]`` of ``files`` (in the order given), memoised."""
    own = memo is None
    memo = memo or DigestMemo()
    out: list[list[Any]] = [[str(f.relative_to(root)), memo.digest(f)] for f in files]
    if own:
        memo.save()
    return out


def tree_digests(path: Path, skip: tuple[str, ...] = ()) -> list[list[Any]]:
    """:func:`file_digests` of a file, or of every file under a folder (sorted) but those named in ``skip``;
    ``[]`` when ``path`` does not exist (a hub id)."""
    if path.is_file():
        return file_digests(path.parent, [path])
    if path.is_dir():
        return file_digests(path, sorted(p for p in path.rglob("*") if p.is_file() and p.name not in skip))
    return []
