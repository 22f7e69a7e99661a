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


# Category lists of the group figures, as plain tuples (the benchmark modules' NON_LIVE, LIVE, MULTI_TURN,
# NORMAL, SPECIAL, AGENT; tests/test_report.py checks they agree), so the report reads them without
# importing a benchmark.
_BFCL_NON_LIVE = ("simple", "java", "javascript", "multiple", "parallel", "parallel_multiple", "irrelevance")
_BFCL_LIVE = (
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)
_BFCL_MULTI_TURN = (
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
)
_ACE_NORMAL = (
    "normal_single_turn_single_function",
    "normal_single_turn_parallel_function",
    "normal_multi_turn_user_switch",
    "normal_multi_turn_user_adjust",
    "normal_similar_api",
    "normal_preference",
    "normal_atom_bool",
    "normal_atom_enum",
    "normal_atom_number",
    "normal_atom_list",
    "normal_atom_object_deep",
    "normal_atom_object_short",
)
_ACE_SPECIAL = ("special_incomplete", "special_error_param", "special_irrelevant")
_ACE_AGENT = ("agent_multi_turn", "agent_multi_step")

GROUPS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "bfcl_overall": (
        "bfcl",
        _BFCL_NON_LIVE + _BFCL_LIVE + _BFCL_MULTI_TURN,
        "unweighted mean of non-live, live and multi-turn",
    ),
    "bfcl_single_turn": ("bfcl", _BFCL_NON_LIVE + _BFCL_LIVE, "unweighted mean of non-live and live"),
    "bfcl_non_live": (
        "bfcl",
        _BFCL_NON_LIVE,
        "unweighted mean of simple (python, java, javascript), multiple, parallel, parallel_multiple, irrelevance",
    ),
    "bfcl_live": (
        "bfcl",
        _BFCL_LIVE,
        "mean weighted by each category's full size (entries in its data file)",
    ),
    "bfcl_multi_turn": ("bfcl", _BFCL_MULTI_TURN, "unweighted mean of the categories"),
    "acebench_overall": (
        "acebench",
        _ACE_NORMAL + _ACE_SPECIAL + _ACE_AGENT,
        "0.578 normal + 0.2676 special + 0.1545 agent",
    ),
    "acebench_normal": ("acebench", _ACE_NORMAL, "unweighted mean of the categories"),
    "acebench_special": ("acebench", _ACE_SPECIAL, "unweighted mean of the categories"),
}
"""Summary key of a benchmark group figure -> (benchmark, the categories it is defined over, how it combines
their accuracies). A group figure is a mean of category accuracies, not one proportion: it has an n (the
entries scored) but no Wilson interval; each category's interval is in the per-category figures."""


def group_figure(metrics: dict[str, Any], key: str) -> dict[str, Any] | None:
    """What a group figure of :data:`GROUPS` was computed from: ``{value, n, correct, categories, missing,
    of, partial, limited, how}`` (None when the figure is absent). ``categories``: those of the group that were
    scored; ``missing``: the rest (``partial`` when any), ``of``: how many the group has; ``limited``: some
    category was scored on fewer entries than its data file holds (``eval.limit``).

    >>> m = {"bfcl": {"live": {"overall": 0.0071}, "categories": {
    ...     "live_simple": {"accuracy": 0.0, "correct": 0, "n": 1, "n_total": 258},
    ...     "live_relevance": {"accuracy": 1.0, "correct": 1, "n": 1, "n_total": 16}}}}
    >>> g = group_figure(m, "bfcl_live")
    >>> g["value"], g["n"], g["correct"], g["of"], g["missing"][:2], g["partial"], g["limited"]
    (0.0071, 2, 1, 6, ['live_multiple', 'live_parallel'], True, True)
    """
    value = summary_of(metrics).get(key)
    if key not in GROUPS or value is None:
        return None
    bench, members, how = GROUPS[key]
    cats = (metrics.get(bench) or {}).get("categories") or {}
    scored = [c for c in members if isinstance(cats.get(c), dict) and "accuracy" in cats[c]]
    figs = [cats[c] for c in scored]
    n = sum(int(f.get("n") or 0) for f in figs)
    correct = sum(int(f["correct"]) for f in figs) if all("correct" in f for f in figs) else None
    missing = [c for c in members if c not in scored]
    limited = any(f.get("n_total") is not None and int(f.get("n") or 0) < int(f["n_total"]) for f in figs)
    return {
        "value": value,
        "n": n,
        "correct": correct,
        "categories": scored,
        "missing": missing,
        "of": len(members),
        "partial": bool(missing),
        "limited": limited,
        "how": how,
    }


def group_label(g: dict[str, Any]) -> str:
    """``n=7`` or, for a group built from part of its categories, ``n=5, 5 of 7 categories``.

    >>> group_label({"n": 5, "categories": ["a"] * 5, "of": 7, "partial": True})
    'n=5, 5 of 7 categories'
    """
    out = f"n={g['n']}"
    if g["partial"]:
        out += f", {len(g['categories'])} of {g['of']} categories"
    return out
