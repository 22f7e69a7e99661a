"""Dataset lineage: where a sample came from, what the loop did to it, and how two datasets differ.

Everything here is DuckDB SQL over the Parquet files the stages write (DESIGN.md, "Records"): D_j =
``<data>/iter_j/train.parquet``, the pool ``<data>/seed/pool.parquet``, and the lineage events
``<data>/seed/events.parquet`` (select, iteration 0) and ``<data>/iter_j/events.parquet`` (merge@j). No
function loads a whole dataset into Python: only aggregates and a few example rows come back, so ``diff`` of
two million-row iterations runs in well under a gigabyte.

Datasets are named by a *reference*:

* ``iter_J`` or ``J`` -> ``<data>/iter_J/train.parquet``; ``seed`` or ``pool`` -> the pool;
* a path to a Parquet file;
* ``REV:PATH`` -> that file at a git revision (``HEAD~1:data/iter_2/train.parquet``, or ``HEAD~1:iter_2``),
  read with ``dvc.api.open`` so DVC-tracked outputs are fetched from the DVC cache or remote.

Event kinds (written by select and merge; ``detail`` is a JSON object):

=============  ==========================================  ===========================================
event          detail                                      meaning
=============  ==========================================  ===========================================
``created``    ``{origin}`` (parent_id for expansions)     the row came into existence
``selected``   ``{into, part}``                            it entered D_into as that part
``probed``     ``{mastered, ppl, parse_error}``            greedy probing of D_j
``judged``     ``{verdict, decided_by, rationale}``        label verification of a failed sample
``relabeled``  ``{old_label, new_label, label_rev}``       the judge replaced the label
``expanded``   ``{children: [ids]}``                       error-driven expansion of this sample
``rejected``   ``{reason, stage}`` (parent_id = parent)    a candidate refused by a stage
``dropped``    ``{into, part, reason, dataset_size}``      a candidate of D_into (error seed,
                                                           expansion, high PPL) left out: the parts
                                                           offered more than ``merge.dataset_size``
=============  ==========================================  ===========================================

Modules: :mod:`~looptool.lineage.datasets` (references resolved to Parquet files),
:mod:`~looptool.lineage.compare` (``diff``), :mod:`~looptool.lineage.history` (a sample's events),
:mod:`~looptool.lineage.composition` (``stats``, one run or several); this package re-exports their names.
"""

from __future__ import annotations

from looptool.lineage.compare import STATUSES, DiffResult, diff
from looptool.lineage.composition import STATS_DIMENSIONS, mixed_runs, mixed_runs_line, stats, stats_all
from looptool.lineage.datasets import Dataset, DatasetError, event_files, find_datasets, open_dataset
from looptool.lineage.history import Lineage, describe_event, format_label, lineage, resolve_sample_id

__all__ = [
    "Dataset",
    "DatasetError",
    "DiffResult",
    "Lineage",
    "STATS_DIMENSIONS",
    "STATUSES",
    "describe_event",
    "diff",
    "event_files",
    "find_datasets",
    "format_label",
    "lineage",
    "mixed_runs",
    "mixed_runs_line",
    "open_dataset",
    "resolve_sample_id",
    "stats",
    "stats_all",
]
