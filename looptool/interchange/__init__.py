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

import importlib
from typing import Any

# PEP 562: names are imported on first use, so a stage that imports one format (the seed stage imports
# :mod:`~.importer`) does not depend on the exporters, nor they on it.
_EXPORTS = {
    "bfcl_category": "looptool.interchange.bfcl",
    "bfcl_schema": "looptool.interchange.bfcl",
    "read_bfcl": "looptool.interchange.bfcl",
    "EXPORT_FORMATS": "looptool.interchange.exporter",
    "ExportReport": "looptool.interchange.exporter",
    "export_dataset": "looptool.interchange.exporter",
    "read_hermes": "looptool.interchange.hermes",
    "IMPORT_FORMATS": "looptool.interchange.importer",
    "ImportReport": "looptool.interchange.importer",
    "detect_format": "looptool.interchange.importer",
    "import_files": "looptool.interchange.importer",
    "rejected_path_for": "looptool.interchange.importer",
    "decision_points": "looptool.interchange.normalize",
    "normalize_messages": "looptool.interchange.normalize",
    "normalize_tools": "looptool.interchange.normalize",
    "pairing_problems": "looptool.interchange.openai",
    "read_openai": "looptool.interchange.openai",
    "to_openai": "looptool.interchange.openai",
    "FieldError": "looptool.interchange.records",
    "InterchangeError": "looptool.interchange.records",
    "Item": "looptool.interchange.records",
    "dataset_info": "looptool.interchange.sharegpt",
    "read_sharegpt": "looptool.interchange.sharegpt",
    "to_sharegpt": "looptool.interchange.sharegpt",
    "read_hf_dataset": "looptool.interchange.tables",
    "read_parquet_rows": "looptool.interchange.tables",
    "to_trl": "looptool.interchange.trl",
    "compute_score": "looptool.interchange.verl",
    "to_verl": "looptool.interchange.verl",
    "ChunkWriter": "looptool.interchange.writer",
    "read_xlam": "looptool.interchange.xlam",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
