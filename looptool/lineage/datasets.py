"""Dataset references (``iter_J``, ``seed``, a path, ``REV:PATH``) resolved to local Parquet files, and the
small DuckDB helpers every lineage query shares."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looptool.storage import parquet_source

_ITER_RE = re.compile(r"^(?:iter_?|D_?)?(\d+)$")
_POOL_NAMES = ("seed", "pool")


class DatasetError(ValueError):
    """A dataset reference that cannot be resolved or read; the message says what was tried."""


# --- datasets ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A resolved dataset reference: ``path`` is a local Parquet file (a temporary copy for ``REV:PATH``)."""

    ref: str
    name: str
    path: Path
    rev: str | None = None


def find_datasets(data_dir: str | Path = "data") -> list[tuple[str, Path]]:
    """Every dataset under ``data_dir``: the pool, then D_1, D_2, ... in iteration order."""
    data_dir = Path(data_dir)
    out: list[tuple[str, Path]] = []
    pool = data_dir / "seed" / "pool.parquet"
    if pool.exists():
        out.append(("pool", pool))
    iters = []
    for p in data_dir.glob("iter_*/train.parquet"):
        m = re.fullmatch(r"iter_(\d+)", p.parent.name)
        if m:
            iters.append((int(m.group(1)), p))
    out.extend((f"iter_{j}", p) for j, p in sorted(iters))
    return out


def event_files(data_dir: str | Path = "data") -> list[Path]:
    """The lineage event files: ``seed/events.parquet`` then ``iter_j/events.parquet`` by iteration."""
    data_dir = Path(data_dir)
    files = []
    seed = data_dir / "seed" / "events.parquet"
    if seed.exists():
        files.append(seed)
    iters = []
    for p in data_dir.glob("iter_*/events.parquet"):
        m = re.fullmatch(r"iter_(\d+)", p.parent.name)
        if m:
            iters.append((int(m.group(1)), p))
    files.extend(p for _, p in sorted(iters))
    return files


def _named_path(name: str, data_dir: Path) -> tuple[str, Path] | None:
    """``iter_J``/``J``/``seed``/``pool`` -> (canonical name, path under data_dir); None if not a name."""
    if name in _POOL_NAMES:
        return "pool", data_dir / "seed" / "pool.parquet"
    m = _ITER_RE.match(name)
    if m:
        j = int(m.group(1))
        return f"iter_{j}", data_dir / f"iter_{j}" / "train.parquet"
    return None


@contextlib.contextmanager
def open_dataset(
    ref: str, data_dir: str | Path = "data", repo: str | Path | None = None
) -> Iterator[Dataset]:
    """Resolve a dataset reference to a local Parquet file for the duration of the ``with`` block.

    ``repo`` is the git/DVC repository for ``REV:PATH`` references (default: the one containing the current
    directory); PATH is relative to its root.
    """
    data_dir = Path(data_dir)
    ref = str(ref).strip()
    if not ref:
        raise DatasetError("empty dataset reference")
    local = Path(ref)
    if local.suffix == ".parquet" and local.exists():
        yield Dataset(ref, str(local), local)
        return
    named = _named_path(ref, data_dir)
    if named is not None:
        name, path = named
        if not path.exists():
            have = ", ".join(n for n, _ in find_datasets(data_dir)) or "none"
            raise DatasetError(f"dataset '{ref}': {path} does not exist (datasets under {data_dir}: {have})")
        yield Dataset(ref, name, path)
        return
    if ":" not in ref and (local.suffix == ".parquet" or "/" in ref) and not local.exists():
        raise DatasetError(
            f"{ref}: no such file (expected a .parquet file, iter_J, J, seed/pool or REV:PATH)"
        )
    if ":" in ref:
        rev, _, rpath = ref.partition(":")
        if not rev or not rpath:
            raise DatasetError(f"dataset '{ref}': expected REV:PATH, e.g. HEAD~1:data/iter_2/train.parquet")
        named = _named_path(rpath, data_dir)
        if named is not None:
            rpath = named[1].as_posix()
        with tempfile.TemporaryDirectory(prefix="looptool-rev-") as tmp:
            path = Path(tmp) / "dataset.parquet"
            _fetch_revision(rpath, rev, repo, path)
            yield Dataset(ref, f"{rev}:{rpath}", path, rev=rev)
        return
    if local.exists():
        raise DatasetError(f"dataset '{ref}': not a .parquet file")
    raise DatasetError(
        f"dataset '{ref}' not found: expected iter_J, J, seed/pool, a path to a .parquet file, or REV:PATH"
    )


def _fetch_revision(path: str, rev: str, repo: str | Path | None, dest: Path) -> None:
    """Copy ``path`` as of git revision ``rev`` to ``dest`` (DVC-tracked files come from the DVC cache)."""
    import dvc.api

    try:
        with (
            dvc.api.open(path, repo=None if repo is None else str(repo), rev=rev, mode="rb") as src,
            open(dest, "wb") as out,
        ):
            shutil.copyfileobj(src, out, length=1 << 20)
    except Exception as e:  # dvc raises many kinds (PathMissingError, RevError, SCMError, ...)
        raise DatasetError(f"cannot read {path} at revision {rev}: {type(e).__name__}: {e}") from None


def _columns(con, source: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def _check_columns(con, ds: Dataset, needed: tuple[str, ...]) -> list[str]:
    try:
        cols = _columns(con, parquet_source(ds.path))
    except Exception as e:
        # DuckDB's message repeats the query (and the path) on further lines: keep its first line only
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        where = str(ds.path) if ds.name == str(ds.path) else f"{ds.name} ({ds.path})"
        raise DatasetError(f"{where}: not a Parquet file ({why})") from None
    missing = [c for c in needed if c not in cols]
    if missing:
        raise DatasetError(f"{ds.name} ({ds.path}): missing column(s) {missing} (has {cols})")
    return cols


def _records(rel) -> list[dict[str, Any]]:
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return text
