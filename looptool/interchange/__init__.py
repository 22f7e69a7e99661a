"""Import datasets from other tools' formats, and export D_j for other trainers; one module per format.

Import reads files into SAMPLE rows (origin ``import``, iteration 0, ``sample_id = make_sample_id(tools,
messages)``); export writes D_j (or the pool) in another trainer's format. Both stream in chunks: import
never holds more than a chunk of rows, export reads record batches from DuckDB.

Modules: :mod:`~.normalize` (canonical tools/messages, decision points), :mod:`~.records` (errors, rows),
:mod:`~.openai`, :mod:`~.bfcl`, :mod:`~.sharegpt` (one per format), :mod:`~.importer`, :mod:`~.exporter`,
:mod:`~.writer` (chunked Parquet).
"""

from __future__ import annotations

from looptool.interchange.bfcl import BFCL_TYPES, bfcl_category, bfcl_schema, read_bfcl
from looptool.interchange.exporter import EXPORT_FORMATS, ExportReport, export_dataset
from looptool.interchange.importer import (
    IMPORT_FORMATS,
    ImportReport,
    detect_format,
    import_files,
    rejected_path_for,
)
from looptool.interchange.normalize import decision_points, normalize_messages, normalize_tools
from looptool.interchange.openai import read_openai, to_openai
from looptool.interchange.records import FieldError, InterchangeError, Item
from looptool.interchange.sharegpt import to_sharegpt
from looptool.interchange.writer import ChunkWriter

__all__ = [
    "BFCL_TYPES",
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "ChunkWriter",
    "ExportReport",
    "FieldError",
    "ImportReport",
    "InterchangeError",
    "Item",
    "bfcl_category",
    "bfcl_schema",
    "decision_points",
    "detect_format",
    "export_dataset",
    "import_files",
    "normalize_messages",
    "normalize_tools",
    "read_bfcl",
    "read_openai",
    "rejected_path_for",
    "to_openai",
    "to_sharegpt",
]
