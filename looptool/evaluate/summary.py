"""The headline figures and skip reasons of an evaluation's metrics: plain dicts, so the report reads them
without importing a benchmark."""

from __future__ import annotations

from typing import Any

HELDOUT_SPLIT = {
    "heldout_call": ("call_rows",),
    "heldout_call_names": ("call_rows", "names"),
    "heldout_call_arg_f1": ("call_rows", "arg_f1"),
    "heldout_no_call": ("no_call_rows",),
    "heldout_never_call": ("never_call",),
}
"""Summary keys of the held-out split by kind of answer (:func:`looptool.evaluate.heldout.by_kind`) -> where
their figure (``{accuracy | mean, n, ci95, ...}``) sits under the metrics' ``heldout``."""


def heldout_figure(metrics: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The figure behind summary key ``key`` of :data:`HELDOUT_SPLIT` (None: not in these metrics, e.g. written
    before the split existed)."""
    fig: Any = metrics.get("heldout") or {}
    for part in HELDOUT_SPLIT[key]:
        fig = fig.get(part) if isinstance(fig, dict) else None
    return fig if isinstance(fig, dict) else None


def summary_of(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The flat headline figures of an evaluation (for ``dvc metrics``, the loop report and plots)."""
    h, b, a = metrics.get("heldout", {}), metrics.get("bfcl", {}), metrics.get("acebench", {})
    split = {k: (heldout_figure(metrics, k) or {}) for k in HELDOUT_SPLIT}
    return {
        "heldout": h.get("accuracy"),
        **{k: f.get("mean", f.get("accuracy")) for k, f in split.items()},
        "bfcl_overall": b.get("overall"),
        "bfcl_single_turn": b.get("overall_single_turn"),
        "bfcl_non_live": (b.get("non_live") or {}).get("overall"),
        "bfcl_live": (b.get("live") or {}).get("overall"),
        "bfcl_multi_turn": (b.get("multi_turn") or {}).get("overall"),
        "acebench_overall": a.get("summary"),
        "acebench_normal": a.get("normal_summary"),
        "acebench_special": a.get("special_summary"),
    }


def skipped_of(metrics: dict[str, Any]) -> dict[str, str]:
    """Benchmarks (and BFCL / ACEBench category groups) that were not evaluated, with the reason."""
    out = {}
    for bench in ("heldout", "bfcl", "acebench"):
        why = (metrics.get(bench) or {}).get("skipped")
        if why:
            out[bench] = why
    b = metrics.get("bfcl") or {}
    if "skipped" not in b and b and b.get("overall") is None:
        out["bfcl overall (v3)"] = f"{b.get('overall_kind')}: needs non-live, live and multi-turn categories"
    a = metrics.get("acebench") or {}
    if a.get("agent_skipped"):
        out["acebench agent"] = a["agent_skipped"]
    return out
