"""Evaluation of a checkpoint: the held-out synthetic split, BFCL-v3 (single- and multi-turn) and ACEBench
(English).

Every prompt of every benchmark goes through the student backend in one batched, greedy pass
(:meth:`looptool.llm.base.Backend.generate`); the answers are parsed once with :func:`looptool.calls.parse` and
scored with each benchmark's own rules (:mod:`looptool.match.bfcl`, :mod:`looptool.match.acebench`, ToolMatch
for the held-out split). A benchmark whose data folder is not configured or not there is skipped with the
reason in the metrics, so the pipeline runs for someone without the benchmark files. BFCL multi-turn
categories are conversations with BFCL's executable environments (:mod:`looptool.evaluate.bfcl_multi`): all
open conversations advance together, one batched ``generate`` a round, through the same backend and call cache.

Outputs: a small metrics JSON (per-category accuracies, the benchmarks' own aggregates, a flat ``summary`` for
``dvc metrics`` and the report) and, optionally, one Parquet row per answer (:data:`EVAL_RESULT`) to read the
failures.
"""

from __future__ import annotations

import importlib
from typing import Any

# PEP 562: ``from looptool.evaluate import run_evaluate`` imports :mod:`.run` (and every benchmark) only when
# asked, so a module that needs one benchmark, or the summary, depends on that file alone.
_EXPORTS = {
    "EVAL_RESULT": "looptool.evaluate.run",
    "EvalConfig": "looptool.evaluate.run",
    "evaluate": "looptool.evaluate.run",
    "run_evaluate": "looptool.evaluate.run",
    "HELDOUT_SPLIT": "looptool.evaluate.summary",
    "heldout_figure": "looptool.evaluate.summary",
    "skipped_of": "looptool.evaluate.summary",
    "summary_of": "looptool.evaluate.summary",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
