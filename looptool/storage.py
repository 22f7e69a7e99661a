"""Parquet in and out, atomically and validated; DuckDB over Parquet files.

Writes go to a temporary file in the target folder and are renamed into place, so a stage killed half-way
never leaves a truncated Parquet file that the next run would take for finished work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from looptool.outputs import clean_stale_tmp, honour_umask, umask  # noqa: F401  (storage's names too)
from looptool.schema import Schema, SchemaError


def temp_path(path: Path, mode: int = 0o666) -> Path:
    """A new empty temporary file next to ``path`` (same folder, so the final rename is atomic); parent
    folders are created (DVC removes outputs before a stage runs, folders included).

    Created with ``mode`` less the umask, as ``open()`` would (0644 under umask 022), so outputs are readable
    by other programs and users; ``tempfile.mkstemp`` would make every output 0600. ``mode=0o600`` for a
    private file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(path)  # left by a killed earlier write
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"{path.parent}: no free temporary name for {path.name}")


@contextmanager
def atomic_path(path: str | Path, mode: int = 0o666) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed onto ``path`` when the block ends normally,
    removed when it raises. The one atomic write of the package (``mode``: as :func:`temp_path`)."""
    path = Path(path)
    tmp = temp_path(path, mode)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def make_private(path: str | Path) -> Path:
    """Create ``path`` if absent, and make it readable and writable by its owner only (0600): files that may
    hold private prompts (the call cache)."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return path


def write_parquet(df: pl.DataFrame, path: str | Path, schema: Schema | None = None) -> Path:
    """Validate ``df`` against ``schema`` (if given) and write it to ``path`` atomically."""
    path = Path(path)
    if schema is not None:
        df = schema.validate(df, where=str(path))
    with atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="zstd", statistics=True)
    return path


def read_parquet(path: str | Path, schema: Schema | None = None, deep: bool = True) -> pl.DataFrame:
    """Read one Parquet file and validate it against ``schema``; errors name the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such Parquet file")
    try:
        df = pl.read_parquet(path)
    except Exception as e:
        raise SchemaError(f"{path}: not a readable Parquet file ({e})") from None
    return schema.validate(df, where=str(path), deep=deep) if schema is not None else df


def write_json(obj: Any, path: str | Path, *, sort_keys: bool = True) -> Path:
    """Write a small JSON file (metrics) atomically, pretty-printed and (unless ``sort_keys`` is False)
    key-sorted for readable diffs."""
    text = json.dumps(obj, indent=2, sort_keys=sort_keys, ensure_ascii=False, default=_json_default)
    return write_text(text + "\n", path)


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file (UTF-8) atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def connect(threads: int | None = None, memory_limit: str | None = None):
    """A fresh in-memory DuckDB connection (one per call site: DuckDB connections are not thread-safe)."""
    import duckdb

    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def parquet_source(paths: str | Path | Iterable[str | Path]) -> str:
    """A ``read_parquet(...)`` SQL expression over one path, a glob or a list of paths.

    Paths are inlined as SQL string literals (quotes escaped), because DuckDB table functions in a FROM
    clause cannot take prepared parameters for their file list.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    lits = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{lits}], union_by_name = true)"


def query(sql: str, params: dict[str, Any] | list[Any] | None = None, con=None) -> pl.DataFrame:
    """Run SQL in DuckDB and return a polars DataFrame."""
    own = con is None
    con = con or connect()
    try:
        # The relation API: DuckDB 2.0's execute() result has no .pl(); con.sql(...).pl() works in 1.x and 2.x.
        rel = con.sql(sql, params=params) if params is not None else con.sql(sql)
        if rel is None:  # a statement without a result set
            return pl.DataFrame()
        return rel.pl()
    finally:
        if own:
            con.close()
