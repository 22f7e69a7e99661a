"""Import datasets from other tools' formats, and export D_j for other trainers; one module per format.

Import reads files into SAMPLE rows (origin ``import``, iteration 0, ``sample_id = make_sample_id(tools,
messages)``); export writes D_j (or the pool) in another trainer's format. Both stream in chunks: import
never holds more than a chunk of rows, export reads record batches from DuckDB.

Modules: :mod:`~.normalize` (canonical tools/messages, decision points), :mod:`~.records` (errors, rows,
JSON Lines / JSON array reading); one per format: :mod:`~.openai` (and TRL prompt-completion rows),
:mod:`~.sharegpt` (LLaMA-Factory), :mod:`~.hermes`, :mod:`~.xlam`, :mod:`~.bfcl`, :mod:`~.tables` (Parquet:
ours and verl's; ``datasets`` folders), :mod:`~.trl` and :mod:`~.verl` (exports; verl's ``compute_score``);
:mod:`~.dispatch` (which reader a record needs), :mod:`~.importer`, :mod:`~.exporter`, :mod:`~.writer`
(chunked Parquet).
"""

from __future__ import annotations

from looptool.interchange.bfcl import bfcl_category, bfcl_schema, read_bfcl
from looptool.interchange.exporter import EXPORT_FORMATS, ExportReport, export_dataset
from looptool.interchange.hermes import read_hermes
from looptool.interchange.importer import (
    IMPORT_FORMATS,
    ImportReport,
    detect_format,
    import_files,
    rejected_path_for,
)
from looptool.interchange.normalize import decision_points, normalize_messages, normalize_tools
from looptool.interchange.openai import pairing_problems, read_openai, to_openai
from looptool.interchange.records import FieldError, InterchangeError, Item
from looptool.interchange.sharegpt import dataset_info, read_sharegpt, to_sharegpt
from looptool.interchange.tables import read_hf_dataset, read_parquet_rows
from looptool.interchange.trl import to_trl
from looptool.interchange.verl import compute_score, to_verl
from looptool.interchange.writer import ChunkWriter
from looptool.interchange.xlam import read_xlam

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "ChunkWriter",
    "ExportReport",
    "FieldError",
    "ImportReport",
    "InterchangeError",
    "Item",
    "bfcl_category",
    "compute_score",
    "dataset_info",
    "bfcl_schema",
    "decision_points",
    "detect_format",
    "export_dataset",
    "import_files",
    "normalize_messages",
    "normalize_tools",
    "pairing_problems",
    "read_bfcl",
    "read_hermes",
    "read_hf_dataset",
    "read_openai",
    "read_parquet_rows",
    "read_sharegpt",
    "read_xlam",
    "rejected_path_for",
    "to_openai",
    "to_sharegpt",
    "to_trl",
    "to_verl",
]
