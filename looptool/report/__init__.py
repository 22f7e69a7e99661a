"""The loop at a glance: every stage's metrics per iteration in one JSON, plot data for ``dvc plots``, and a
self-contained HTML report.

Inputs are the small metrics files the stages write (any may be missing: a stage not run yet, a benchmark
not configured): ``metrics/eval/iter_j.json`` (j = 0 is the warm-up model, before any loop iteration) and
``metrics/{train,probe,verify,expand,merge,mechanisms}/iter_j.json``, plus ``metrics/seed.json`` and
``metrics/warmup.json``. Outputs:

* ``metrics/loop.json``: ``{"iterations": [{"iteration": j, "eval": ..., "train": ..., ...}], ...}``;
* plot data (JSON lists of rows, ``x = iteration``) read by the ``plots:`` section of dvc.yaml:
  ``accuracy.json`` (headline accuracy per benchmark; held-out also split into call rows, the primary figure, and
  no-call rows, with intervals, and the never-call score), ``verdicts.json`` (the judge's verdict counts),
  ``data_mix.json`` (the parts of D_j as fractions: Seed-new, error seeds, expansions, high-PPL),
  ``train_curve.json`` (per optimizer step: GRPO reward and zero-advantage fraction, or the SFT loss, at
  ``x = iteration - 1 + step / steps``, so training curves share the iteration axis of every other chart);
* ``reports/loop.html``: tables and matplotlib charts embedded as base64 PNG, one file to open, with a small table
  of mechanism figures per iteration (targeting, expansion fidelity, label purity: :mod:`looptool.mechanisms`).

Modules: :mod:`~looptool.report.figures` (collect the metrics; labels and cells of the figures),
:mod:`~looptool.report.plots` (plot data), :mod:`~looptool.report.charts` (the PNG charts),
:mod:`~looptool.report.page` (the HTML page), :mod:`~looptool.report.inputs` (the "Built from" digests). This
package re-exports their public names and runs the stage (:func:`run_report`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from looptool import storage
from looptool.report.charts import _n_tag, _png, charts
from looptool.report.figures import (
    ACCURACY_KEYS,
    ACCURACY_LABELS,
    HELDOUT_SPLIT_LABELS,
    PART_COLOURS,
    PART_LABELS,
    STAGES,
    collect,
    judge_ran,
    unchanged_model,
    unchanged_models,
)
from looptool.report.inputs import REPORT_INPUTS, input_digests
from looptool.report.page import _skipped_line, mechanisms_table, render_html
from looptool.report.plots import plot_rows, train_curve, write_plot_data

__all__ = [
    "ACCURACY_KEYS",
    "ACCURACY_LABELS",
    "HELDOUT_SPLIT_LABELS",
    "PART_COLOURS",
    "PART_LABELS",
    "REPORT_INPUTS",
    "STAGES",
    "_n_tag",
    "_png",
    "_skipped_line",
    "charts",
    "collect",
    "input_digests",
    "judge_ran",
    "mechanisms_table",
    "plot_rows",
    "render_html",
    "run_report",
    "train_curve",
    "unchanged_model",
    "unchanged_models",
    "write_plot_data",
]


def run_report(
    *,
    metrics_dir: str | Path,
    iterations: Iterable[int | str],
    plots_dir: str | Path,
    html: str | Path | None = None,
) -> dict[str, Any]:
    """Stage report: collect every stage's metrics per iteration, write the plot data and (optionally) the
    HTML report; return the loop figures (the caller writes them to metrics/loop.json)."""
    loop = collect(metrics_dir, iterations)
    rows = plot_rows(loop)
    write_plot_data(rows, plots_dir)
    if html is not None:
        inputs = input_digests(metrics_dir)
        storage.write_text(render_html(loop, rows, charts(rows, loop), inputs), html)
    return loop
