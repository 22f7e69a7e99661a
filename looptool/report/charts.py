"""The report's matplotlib charts as base64 PNG, embedded in the page (which loads nothing from elsewhere)."""

from __future__ import annotations

import base64
import io
from typing import Any

from looptool.report.figures import (
    ACCURACY_KEYS,
    ACCURACY_LABELS,
    HELDOUT_SPLIT_LABELS,
    PART_COLOURS,
    PART_LABELS,
    _group,
    _parts_in,
    judge_ran,
)
from looptool.schema import VERDICTS


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _n_tag(acc: list[dict[str, Any]], key: str, part: str | None = None) -> str:
    """`` (n=7)`` for a chart legend: the n of ``key``'s figure per iteration (``n=36`` when all equal,
    ``n=36/40`` when they differ; empty when the rows carry none), then ``part`` (``5 of 7 categories``)."""
    ns = [r.get(f"{key}_n") for r in acc if r.get(key) is not None]
    ns = [n for n in ns if n is not None]
    if not ns:
        return ""
    return f" (n={'/'.join(str(n) for n in dict.fromkeys(ns))}{', ' + part if part else ''})"


def charts(rows: dict[str, list[dict[str, Any]]], loop: dict[str, Any]) -> dict[str, str]:
    """Base64 PNG charts: accuracy per benchmark, verdict mix, data mix, probe mastery."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    acc = rows["accuracy"]
    # one x axis for every chart: iterations 0 (warm-up model) .. the last one anything was measured for
    xs_all = [r["iteration"] for name in ("accuracy", "verdicts", "data_mix") for r in rows[name]]
    xs_all += [r["iteration"] for r in rows.get("train_curve", [])]
    ticks = list(range(0, max(xs_all, default=0) + 1))

    def axis(ax: Any) -> None:
        ax.set_xticks(ticks)
        ax.set_xlim(-0.5, ticks[-1] + 0.5)
        ax.set_xlabel("iteration (0 = warm-up model)")

    if acc:
        evals = [r["eval"] for r in loop["iterations"] if r.get("eval")]
        partial = {}  # group figures of the latest evaluation computed from part of their categories
        for k in ACCURACY_KEYS[1:]:
            g = _group(evals[-1], k) if evals else None
            if g and g["partial"]:
                partial[k] = f"{len(g['categories'])} of {g['of']} categories"
        fig, ax = plt.subplots(figsize=(7.5, 4))
        for k in ACCURACY_KEYS:
            pts = [(r["iteration"], r[k]) for r in acc if r.get(k) is not None]
            if not pts:
                continue
            if k == "heldout" and all(
                r.get("heldout_ci95_lo") is not None for r in acc if r.get(k) is not None
            ):
                ci = [(r["heldout_ci95_lo"], r["heldout_ci95_hi"]) for r in acc if r.get(k) is not None]
                err = [
                    [p[1] - c[0] for p, c in zip(pts, ci, strict=True)],
                    [c[1] - p[1] for p, c in zip(pts, ci, strict=True)],
                ]
                ax.errorbar(
                    [p[0] for p in pts],
                    [p[1] for p in pts],
                    yerr=err,
                    marker="o",
                    capsize=4,
                    label=ACCURACY_LABELS[k] + " (95% CI)" + _n_tag(acc, k),
                )
            else:
                ax.plot(
                    [p[0] for p in pts],
                    [p[1] for p in pts],
                    marker="o",
                    label=ACCURACY_LABELS[k] + _n_tag(acc, k, partial.get(k)),
                )
        for k, style in (("heldout_call", "s-"), ("heldout_no_call", "^:"), ("heldout_never_call", "k--")):
            pts = [(r["iteration"], r[k], r.get(f"{k}_ci95_lo"), r.get(f"{k}_ci95_hi")) for r in acc]
            pts = [p for p in pts if p[1] is not None]
            if not pts:
                continue
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            if k != "heldout_never_call" and all(p[2] is not None for p in pts):
                err = [
                    [y - p[2] for y, p in zip(ys, pts, strict=True)],
                    [p[3] - y for y, p in zip(ys, pts, strict=True)],
                ]
                ax.errorbar(
                    xs,
                    ys,
                    yerr=err,
                    fmt=style,
                    capsize=3,
                    label=HELDOUT_SPLIT_LABELS[k] + " (95% CI)" + _n_tag(acc, k),
                )
            else:
                ax.plot(xs, ys, style, label=HELDOUT_SPLIT_LABELS[k] + _n_tag(acc, k), alpha=0.7)
        ax.set_ylabel("accuracy")
        axis(ax)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title("Accuracy per iteration")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
        out["accuracy"] = _png(fig)
    for name, keys, labels, title, ylabel in (
        (
            "verdicts",
            VERDICTS,
            {k: k for k in VERDICTS},
            "Judge verdicts on failed samples (and rule verdicts)"
            if judge_ran(loop)
            else "Verdicts on failed samples (by rule or judge)",
            "samples",
        ),
        (
            "data_mix",
            _parts_in(rows["data_mix"]),
            PART_LABELS,
            "Composition of D_j"
            + (
                " (rows: " + ", ".join(f"D_{r['iteration']} {r['rows']}" for r in rows["data_mix"]) + ")"
                if rows["data_mix"] and all(r.get("rows") is not None for r in rows["data_mix"])
                else ""
            ),
            "fraction of D_j",
        ),
    ):
        data = rows[name]
        if not data:
            continue
        if name == "verdicts" and judge_ran(loop) is False:
            continue  # no judge verdict to chart: the page says so where the chart would be
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        xs = [r["iteration"] for r in data]
        bottom = [0.0] * len(data)
        for k in keys:
            vals = [float(r.get(k) or 0) for r in data]
            ax.bar(xs, vals, bottom=bottom, label=labels[k], width=0.6, color=PART_COLOURS.get(k))
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        axis(ax)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
        ax.grid(axis="y", alpha=0.3)
        out[name] = _png(fig)
    probe = [(r["iteration"], r["probe"]) for r in loop["iterations"] if "probe" in r]
    if probe:
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        ns = sorted({p.get("n") for _, p in probe if p.get("n") is not None})
        ax.plot(
            [j for j, _ in probe],
            [p.get("mastered_rate") for _, p in probe],
            marker="o",
            label="mastered (D_j" + (", n=" + "/".join(map(str, ns)) if ns else "") + ")",
        )
        axis(ax)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("fraction of D_j")
        ax.set_title("Greedy capability probing: mastered samples")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        out["probe"] = _png(fig)
    curve = rows.get("train_curve") or []
    if curve:
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        for key, label in (
            ("reward", "GRPO reward"),
            ("zero_std_frac", "zero-advantage fraction"),
            ("loss", "SFT loss"),
        ):
            if key == "loss" and any(r.get("reward") is not None for r in curve):
                continue  # GRPO's loss is not comparable across steps; its reward and signal are shown
            pts = [(r["x"], r[key]) for r in curve if r.get(key) is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=label)
        axis(ax)
        ax.set_title("Training per optimizer step (iteration j spans x = j-1 .. j)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        out["train_curve"] = _png(fig)
    return out
