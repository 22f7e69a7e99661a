"""Chunked, atomic Parquet writer (import never holds more than a chunk of rows)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from looptool.schema import Schema
from looptool.storage import atomic_path


class _Aborted(Exception):
    """What :meth:`ChunkWriter.abort` leaves :func:`~looptool.storage.atomic_path` with (never raised)."""


class ChunkWriter:
    """Rows appended in chunks to a temporary Parquet file (:func:`~looptool.storage.atomic_path`), renamed into
    place on :meth:`close`, removed on :meth:`abort`."""

    def __init__(self, path: str | Path, schema: Schema, chunk_rows: int = 5000, deep: bool = True):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.schema = schema
        self.chunk_rows = chunk_rows
        self.deep = deep
        self.rows = 0
        self._buf: list[dict[str, Any]] = []
        self._atomic = contextlib.ExitStack()
        self._tmp = self._atomic.enter_context(atomic_path(self.path))
        self._arrow = schema.empty().to_arrow().schema
        self._writer = pq.ParquetWriter(self._tmp, self._arrow, compression="zstd")

    def append(self, row: dict[str, Any]) -> None:
        self._buf.append(row)
        if len(self._buf) >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        from looptool.schema import frame

        df = self.schema.validate(
            frame(self._buf, self.schema), where=f"{self.path} (rows {self.rows}+)", deep=self.deep
        )
        self._writer.write_table(df.to_arrow().cast(self._arrow))
        self.rows += len(self._buf)
        self._buf = []

    def close(self) -> Path:
        self._flush()
        self._writer.close()
        self._atomic.close()  # the rename onto self.path
        return self.path

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:  # leaving atomic_path with an error removes the temporary (nothing once close has renamed it)
            self._atomic.__exit__(_Aborted, _Aborted(), None)
