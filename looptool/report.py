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
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from looptool import storage
from looptool.schema import LOOP_PARTS, PARTS, VERDICTS
from looptool.stats import add_ci, wilson

STAGES = ("train", "probe", "verify", "expand", "merge", "mechanisms")
ACCURACY_KEYS = (
    "heldout",
    "bfcl_overall",
    "bfcl_single_turn",
    "bfcl_non_live",
    "bfcl_live",
    "bfcl_multi_turn",
    "acebench_overall",
    "acebench_normal",
    "acebench_special",
)
ACCURACY_LABELS = {
    "heldout": "held-out (ToolMatch)",
    "bfcl_overall": "BFCL overall (v3)",
    "bfcl_single_turn": "BFCL single-turn overall",
    "bfcl_multi_turn": "BFCL multi-turn",
    "acebench_overall": "ACEBench overall",
    "bfcl_non_live": "BFCL non-live",
    "bfcl_live": "BFCL live",
    "acebench_normal": "ACEBench normal",
    "acebench_special": "ACEBench special",
}
PART_LABELS = {
    "seed_new": "Seed-new",
    "error_seed": "ES (error seeds)",
    "expansion": "EE (expansions)",
    "high_ppl": "HPPL (high perplexity)",
    "boundary": "Boundary (pass rate < 1)",
}
PART_COLOURS = {"boundary": "tab:purple"}
"""The opt-in part's own colour (stacked last, so the paper's four keep the default cycle's)."""


def _parts_in(mix: list[dict[str, Any]]) -> tuple[str, ...]:
    """The paper's parts, and ``boundary`` where a dataset holds that opt-in part."""
    return LOOP_PARTS if any("boundary" in r for r in mix) else PARTS


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return storage.read_json(path)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def collect(metrics_dir: str | Path, iterations: Iterable[int | str]) -> dict[str, Any]:
    """Every metrics file there is, per iteration (0 = the warm-up model's evaluation)."""
    root = Path(metrics_dir)
    keys = sorted({0, *(int(k) for k in iterations)})
    rows = []
    for j in keys:
        row: dict[str, Any] = {"iteration": j}
        ev = _read(root / "eval" / f"iter_{j}.json")
        if ev is not None:
            row["eval"] = ev
        for stage in STAGES:
            m = _read(root / stage / f"iter_{j}.json")
            if m is not None:
                row[stage] = m
        rows.append(row)
    setup = {
        name: m for name in ("seed", "select", "warmup") if (m := _read(root / f"{name}.json")) is not None
    }
    # no wall-clock timestamp: metrics/loop.json is git-tracked and must not change when nothing else did;
    # every {accuracy, correct, n} gets its Wilson 95% interval (ci95), including metrics written before stats existed
    return {"setup": setup, "iterations": add_ci(rows)}


def _summary(ev: dict[str, Any]) -> dict[str, Any]:
    if "summary" in ev:
        return ev["summary"]
    from looptool.evaluate.summary import summary_of

    return summary_of(ev)


HELDOUT_SPLIT_LABELS = {
    "heldout_call": "held-out call rows (ToolMatch)",
    "heldout_call_names": "call rows: function names",
    "heldout_call_arg_f1": "call rows: argument F1",
    "heldout_no_call": "held-out no-call rows (ToolMatch)",
    "heldout_never_call": "never-call score (share of no-call rows)",
}
"""The held-out split (:data:`looptool.evaluate.HELDOUT_SPLIT`): call-row ToolMatch is the primary figure."""


def _split_figure(ev: dict[str, Any], key: str) -> dict[str, Any]:
    from looptool.evaluate.summary import heldout_figure

    return heldout_figure(ev, key) or {}


def _cell(fig: dict[str, Any]) -> str | None:
    """``0.200 [0.057, 0.510] n=10`` of a figure with ``accuracy`` (or ``mean``), ``ci95`` and ``n``."""
    v = fig.get("mean", fig.get("accuracy"))
    if v is None:
        return None
    ci = fig.get("ci95")
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] n={fig.get('n')}" if ci else f"{v:.3f} n={fig.get('n')}"


def _heldout_ci(ev: dict[str, Any]) -> tuple[float | None, float | None, int | None]:
    h = ev.get("heldout") or {}
    if not isinstance(h.get("n"), int) or not h["n"] or not isinstance(h.get("correct"), int):
        return None, None, None
    lo, hi = h.get("ci95") or wilson(h["correct"], h["n"])
    return lo, hi, h["n"]


def _group(ev: dict[str, Any], key: str) -> dict[str, Any] | None:
    from looptool.evaluate.summary import group_figure

    return group_figure(ev, key)


def _group_cell(ev: dict[str, Any], key: str) -> str | None:
    """``0.007 n=7`` of a benchmark group figure; ``0.200 n=5, 5 of 7 categories`` when built from part of its
    categories (no interval: a mean of category accuracies is not one proportion)."""
    from looptool.evaluate.summary import group_label

    g = _group(ev, key)
    return None if g is None else f"{g['value']:.3f} {group_label(g)}"


def _probe_cell(probe: dict[str, Any]) -> str | None:
    """Probe's mastered share with its Wilson interval and n (the rate alone when the counts are absent)."""
    rate, k, n = probe.get("mastered_rate"), probe.get("mastered"), probe.get("n")
    if isinstance(k, int) and isinstance(n, int) and n > 0:
        lo, hi = wilson(k, n)
        return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}] n={n}"
    return None if rate is None else f"{rate:.3f}"


def _train_cell(train: dict[str, Any]) -> str | None:
    """The last step's mean reward (SFT: the last loss) and how many optimizer steps had a reward signal."""
    if not train:
        return None
    if train.get("reward_last") is None:
        loss = train.get("loss_last", train.get("loss"))
        return None if loss is None else f"loss {loss:.3f}, {train.get('steps')} steps"
    out = f"{train['reward_last']:.3f}"
    if isinstance(train.get("signal_steps"), int) and train.get("steps") is not None:
        out += f"; signal on {train['signal_steps']} of {train['steps']} steps"
    return out


def _relabeled_cell(verify: dict[str, Any]) -> str | None:
    """LABEL_WRONG verdicts out of the failed samples judged."""
    k = (verify.get("verdicts") or {}).get("LABEL_WRONG")
    if k is None:
        return None
    n = verify.get("failed")
    if not isinstance(n, int):
        n = sum(int(v) for v in (verify.get("verdicts") or {}).values())
    return f"{k} of {n} failed"


def _weights(ev: dict[str, Any] | None) -> str | None:
    w = (((ev or {}).get("run") or {}).get("backend") or {}).get("weights")
    return w if isinstance(w, str) and w else None


def unchanged_model(
    j: int, ev: dict[str, Any] | None, prev_ev: dict[str, Any] | None, train: dict[str, Any] | None
) -> str | None:
    """Why model_j is model_{j-1} (None: it changed, or nothing says it did not). Evidence, strongest first: the
    two evaluations scored the same weights (``run.backend.weights``, a SHA-256 of the checkpoint's files);
    unless the digests differ, GRPO@j with no reward signal on any step (every group's rewards equal: zero
    advantage, no gradient).

    >>> unchanged_model(1, {"run": {"backend": {"weights": "sha256:ab"}}},
    ...                 {"run": {"backend": {"weights": "sha256:ab"}}}, None)
    'model_1 has the same weights as model_0 (sha256:ab in both evaluations)'
    >>> unchanged_model(2, None, None, {"no_signal": True, "steps": 4}) is not None
    True
    """
    w, pw = _weights(ev), _weights(prev_ev)
    if w is not None and pw is not None:
        if w == pw:
            return f"model_{j} has the same weights as model_{j - 1} ({w} in both evaluations)"
        return None
    if (train or {}).get("no_signal") is True:
        return (
            f"model_{j} equals model_{j - 1}: GRPO@{j} had no reward signal on any of its {train.get('steps')} "
            "steps (every group's rewards were equal: zero advantage, no gradient)"
        )
    return None


def unchanged_models(loop: dict[str, Any]) -> dict[int, str]:
    """:func:`unchanged_model` of every iteration j >= 1 of the loop figures."""
    by = {r["iteration"]: r for r in loop["iterations"]}
    out = {}
    for j, r in by.items():
        if j < 1:
            continue
        why = unchanged_model(j, r.get("eval"), (by.get(j - 1) or {}).get("eval"), r.get("train"))
        if why:
            out[j] = why
    return out


def judge_ran(loop: dict[str, Any]) -> bool | None:
    """Whether a judge decided any verdict (``verify.decided_by.llm``); None when the verify metrics do not say
    (written before ``decided_by`` existed) or there are none."""
    seen = [r["verify"] for r in loop["iterations"] if r.get("verify")]
    known = [v for v in seen if isinstance(v.get("decided_by"), dict)]
    if not known:
        return None
    return any(int(v["decided_by"].get("llm") or 0) > 0 for v in known)


def _judge_note(loop: dict[str, Any]) -> str:
    judges = {str(r["verify"]["judge"]) for r in loop["iterations"] if (r.get("verify") or {}).get("judge")}
    if judges:
        return f"judge configured ({', '.join(sorted(judges))}) but no verdict came from it: verdicts by rule"
    return "no judge configured: verdicts by rule"


def _dvc_md5(path: Path) -> tuple[str, int]:
    """DVC's md5 of a file (of its bytes) or a folder (``<md5>.dir``: of the JSON list of its files' md5 and
    relative path, as dvc-data's ``Tree``), and how many files; the values ``dvc.lock`` records."""
    if path.is_file():
        return hashlib.md5(path.read_bytes()).hexdigest(), 1
    entries = [
        {"md5": hashlib.md5(f.read_bytes()).hexdigest(), "relpath": f.relative_to(path).as_posix()}
        for f in sorted(path.rglob("*"))
        if f.is_file()
    ]
    entries.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest() + ".dir", len(entries)


REPORT_INPUTS = ("seed.json", "select.json", "warmup.json", "eval", *STAGES)
"""What the report (and its cards) read under the metrics folder: the report stage's metrics deps in dvc.yaml."""


def input_digests(metrics_dir: str | Path) -> list[dict[str, Any]]:
    """``[{path, md5, files}]`` of every report input under ``metrics_dir`` that exists, hashed as DVC hashes
    them, so the page names what it was built from by content (compare with the report stage's deps in
    ``dvc.lock``); paths start with the metrics folder's name."""
    root = Path(metrics_dir)
    out = []
    for name in REPORT_INPUTS:
        p = root / name
        if p.exists():
            md5, files = _dvc_md5(p)
            out.append({"path": f"{root.name}/{name}", "md5": md5, "files": files})
    return out


def train_curve(loop: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per logged optimizer step of every iteration's training, at ``x = j - 1 + step / steps``."""
    out = []
    for row in loop["iterations"]:
        tr, j = row.get("train"), row["iteration"]
        if not tr or not tr.get("series"):
            continue
        steps = max(int(tr.get("steps") or 0), max(int(r.get("step") or 0) for r in tr["series"]), 1)
        for r in tr["series"]:
            out.append(
                {
                    "x": round(j - 1 + int(r.get("step") or 0) / steps, 4),
                    "iteration": j,
                    "step": r.get("step"),
                    "reward": r.get("reward"),
                    "zero_std_frac": r.get("zero_std_frac"),
                    "loss": r.get("loss"),
                }
            )
    return out


def plot_rows(loop: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows of the plot files (missing figures are null)."""
    accuracy, verdicts, mix = [], [], []
    for row in loop["iterations"]:
        j = row["iteration"]
        if "eval" in row:
            s = _summary(row["eval"])
            lo, hi, n = _heldout_ci(row["eval"])
            split: dict[str, Any] = {k: s.get(k) for k in HELDOUT_SPLIT_LABELS}
            for k in ("heldout_call", "heldout_no_call"):
                f = _split_figure(row["eval"], k)
                ci = f.get("ci95") or [None, None]
                split |= {f"{k}_ci95_lo": ci[0], f"{k}_ci95_hi": ci[1], f"{k}_n": f.get("n")}
            split["heldout_never_call_n"] = _split_figure(row["eval"], "heldout_never_call").get("n")
            accuracy.append(
                {
                    "iteration": j,
                    **{k: s.get(k) for k in ACCURACY_KEYS},
                    "heldout_ci95_lo": lo,
                    "heldout_ci95_hi": hi,
                    "heldout_n": n,
                    **split,
                    **{f"{k}_n": (_group(row["eval"], k) or {}).get("n") for k in ACCURACY_KEYS[1:]},
                }
            )
        if "verify" in row:
            counts = row["verify"].get("verdicts") or {}
            verdicts.append({"iteration": j, **{k: int(counts.get(k, 0)) for k in VERDICTS}})
        if "merge" in row:  # merge of iteration j builds D_{j+1}
            parts = row["merge"].get("parts") or {}
            names = LOOP_PARTS if "boundary" in parts else PARTS
            total = sum(int(parts.get(k, 0)) for k in names)
            mix.append(
                {
                    "iteration": j + 1,
                    **{k: round(int(parts.get(k, 0)) / total, 4) if total else None for k in names},
                    "rows": total,
                }
            )
    if mix and not any(r["iteration"] == 1 for r in mix):
        # D_1 is a sample of the seed pool: all Seed-new by construction (stage select).
        size = (loop.get("setup", {}).get("select") or {}).get("size")
        mix.insert(
            0,
            {
                "iteration": 1,
                "seed_new": 1.0,
                "error_seed": 0.0,
                "expansion": 0.0,
                "high_ppl": 0.0,
                "rows": size,
            },
        )
    return {"accuracy": accuracy, "verdicts": verdicts, "data_mix": mix, "train_curve": train_curve(loop)}


def write_plot_data(rows: dict[str, list[dict[str, Any]]], plots_dir: str | Path) -> dict[str, Path]:
    """One JSON file per plot (a list of row objects, as ``dvc plots`` reads them)."""
    out = {}
    for name, data in rows.items():
        path = Path(plots_dir) / f"{name}.json"
        storage.write_json(data, path)
        out[name] = path
    return out


# --- charts -----------------------------------------------------------------------------------------------


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


# --- HTML -------------------------------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _category_table(loop: dict[str, Any], bench: str) -> str:
    """Per category and iteration: accuracy [Wilson 95%] n; the last column is the category's size (entries in
    its data file), of which ``eval.limit`` may have scored only the first n."""
    evals = [(r["iteration"], r["eval"]) for r in loop["iterations"] if "eval" in r]
    cats: list[str] = []
    for _, ev in evals:
        for c, v in ((ev.get(bench) or {}).get("categories") or {}).items():
            if "accuracy" in v and c not in cats:
                cats.append(c)
    if not cats:
        return ""
    rows = []
    for c in cats:
        cells: list[Any] = [c]
        size = None
        for _, ev in evals:
            v = ((ev.get(bench) or {}).get("categories") or {}).get(c) or {}
            cells.append(_cell(v))
            size = v.get("n_total", size)
        rows.append([*cells, size])
    return _table(["category", *[f"iter {j} [95% CI] n" for j, _ in evals], "entries in the data file"], rows)


def _share_cells(fig: dict[str, Any] | None) -> list[Any]:
    """``rate [lo, hi]`` and ``k / n`` of a :func:`looptool.mechanisms.share` figure."""
    if not fig or not fig.get("n"):
        return ["–", f"0 / {fig.get('n', 0)}" if fig else "–"]
    lo, hi = fig["ci95"]
    return [f"{fig['rate']:.3f} [{lo:.3f}, {hi:.3f}]", f"{fig['k']} / {fig['n']}"]


def _diff_cells(fig: dict[str, Any] | None, n: Any = None) -> list[Any]:
    """``diff [lo, hi]`` of a difference figure (Newcombe or paired bootstrap) and its ``n``."""
    if not fig or fig.get("diff") is None:
        return ["–", "–"]
    lo, hi = fig["ci95"]
    return [f"{fig['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}]", f"n={fig.get('n', n)}" if fig.get("n", n) else "–"]


def mechanisms_table(row: dict[str, Any], nxt: dict[str, Any] | None) -> str:
    """Iteration j's mechanism figures (``row["mechanisms"]``) as a table: targeting, expansion fidelity (overall
    and per pattern), model_{j+1} on each part of D_{j+1} (``nxt``: iteration j+1's row, whose mechanisms hold
    probe@{j+1}'s failures by part, when there is a next probe) and label purity. Every rate is a failure (or still-wrong) share with its Wilson 95% interval."""
    m = row.get("mechanisms")
    if not m:
        return ""
    j, n1 = row["iteration"], row["iteration"] + 1
    t, fid = m.get("targeting") or {}, m.get("fidelity") or {}
    static = bool((row.get("merge") or {}).get("static"))
    lines: list[list[Any]] = [
        [f"targeting: model_{j} fails D_{n1}'s expansions", *_share_cells(t.get("expansion"))],
        [f"targeting: model_{j} fails D_{n1}'s Seed-new rows", *_share_cells(t.get("seed_new"))],
        [f"targeting: model_{j} fails both (targeted rows)", *_share_cells(t.get("targeted"))],
        ["targeting: random pool draw, same size and pattern mix", *_share_cells(t.get("random"))],
        [
            "targeting: targeted − random (Newcombe)",
            *_diff_cells(
                t.get("targeted_minus_random"),
                f"{(t.get('targeted') or {}).get('n')} vs {(t.get('random') or {}).get('n')}",
            ),
        ],
    ]
    short = (m.get("random_draw") or {}).get("pool_short") or {}
    if short:
        lines.append(
            [
                "targeting: the unused pool lacked rows for the draw",
                ", ".join(f"{p}: {n}" for p, n in short.items()),
                "–",
            ]
        )
    for name, f in [("all patterns", fid.get("overall"))] + sorted((fid.get("by_pattern") or {}).items()):
        if not f:
            continue
        lines += [
            [f"fidelity ({name}): model_{j} fails the expansions", *_share_cells(f.get("expansion"))],
            [f"fidelity ({name}): model_{j} fails their error seeds", *_share_cells(f.get("seed"))],
            [f"fidelity ({name}): expansion − seed (paired)", *_diff_cells(f.get("expansion_minus_seed"))],
        ]
    for part, f in (((nxt or {}).get("mechanisms") or {}).get("parts") or {}).items():
        lines.append(
            [f"model_{n1} fails D_{n1}'s {PART_LABELS.get(part, part)} (probe@{n1})", *_share_cells(f)]
        )
    arm = " (static arm: D_j = D_1)" if static else ""
    for key, d in (("d_j", j), ("d_next", n1)):
        f = (m.get("purity") or {}).get(key)
        if f is not None:
            lines.append([f"purity: noisy rows of D_{d} whose label is still wrong{arm}", *_share_cells(f)])
    return f"<h3>Iteration {j}</h3>" + _table(["figure", "rate or difference [95% CI]", "k / n"], lines)


def _skipped_line(iterations: list[dict[str, Any]]) -> str:
    """Under the headline table: the benchmarks the latest evaluation did not run, and why."""
    from looptool.evaluate.summary import skipped_of

    evals = [r["eval"] for r in iterations if r.get("eval")]
    if not evals:
        return ""
    skipped = skipped_of(evals[-1])
    if not skipped:
        return ""
    items = "".join(
        f"<li><b>{html.escape(k)}</b> not evaluated: {html.escape(v)}</li>" for k, v in skipped.items()
    )
    return f"<ul class='notes'>{items}</ul>"


def _notes(loop: dict[str, Any]) -> list[str]:
    notes = []
    for r in loop["iterations"]:
        ev = r.get("eval")
        if not ev:
            continue
        for bench in ("heldout", "bfcl", "acebench"):
            why = (ev.get(bench) or {}).get("skipped")
            if why:
                notes.append(f"iteration {r['iteration']}: {bench} skipped: {why}")
        ag = (ev.get("acebench") or {}).get("agent_skipped")
        if ag:
            notes.append(f"iteration {r['iteration']}: ACEBench agent categories skipped: {ag}")
        run = ev.get("run") or {}
        if run.get("limit"):
            notes.append(
                f"iteration {r['iteration']}: at most {run['limit']} entries per benchmark category "
                f"({run.get('prompts')} prompts, {ev.get('wall_s', run.get('seconds'))} s)"
            )
    return list(dict.fromkeys(notes))


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:14px} th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left} thead th{background:#f3f3f3}
.charts{display:flex;flex-wrap:wrap;gap:1em} .charts>div{flex:0 1 calc(50% - 1em);min-width:420px}
.charts img{width:100%;border:1px solid #eee}
.muted{color:#777;font-size:13px} ul.notes{font-size:13px;color:#555}
"""


def _groups_table(its: list[dict[str, Any]]) -> str:
    """What each benchmark group figure of the latest evaluation was computed from: its n, how many of its
    categories, which are missing, and how the categories combine."""
    from looptool.evaluate.summary import GROUPS

    evals = [r for r in its if r.get("eval")]
    if not evals:
        return ""
    ev, j = evals[-1]["eval"], evals[-1]["iteration"]
    lines = []
    for key in GROUPS:
        g = _group(ev, key)
        if g is None:
            continue
        scored = f"{len(g['categories'])} of {g['of']}" + (" (partial)" if g["partial"] else " (all)")
        lines.append(
            [
                ACCURACY_LABELS.get(key, key),
                g["value"],
                g["n"],
                "–" if g["correct"] is None else g["correct"],
                scored,
                ", ".join(g["missing"]) or "–",
                g["how"]
                + (
                    "; fewer entries than the data file in some category (eval.limit)" if g["limited"] else ""
                ),
            ]
        )
    if not lines:
        return ""
    return (
        f"<h3>Benchmark group figures of iteration {j}: what each was computed from</h3>"
        "<p class='muted'>A group figure is a mean of category accuracies, not one proportion: it has an n "
        "(entries scored) but no interval; each category's interval is in the per-category tables below. A "
        "group scored on part of its categories is marked in the headline with how many.</p>"
        + _table(["figure", "value", "n", "correct", "categories scored", "missing", "combined as"], lines)
    )


def _inputs_section(inputs: list[dict[str, Any]]) -> str:
    if not inputs:
        return ""
    whole = hashlib.md5("".join(f"{i['path']} {i['md5']}\n" for i in inputs).encode("utf-8")).hexdigest()
    return (
        "<h2>Built from</h2><p class='muted'>The metrics this page was built from, by content: md5 as DVC "
        "computes it (a folder: <code>&lt;md5&gt;.dir</code>), the values the report stage's deps carry in "
        f"<code>dvc.lock</code>. Inputs digest (md5 of the lines path md5): <code>{whole}</code>.</p>"
        + _table(["input", "md5", "files"], [[i["path"], i["md5"], i["files"]] for i in inputs])
    )


def render_html(
    loop: dict[str, Any],
    rows: dict[str, list[dict[str, Any]]],
    pngs: dict[str, str],
    inputs: list[dict[str, Any]] | None = None,
) -> str:
    """The report page: headline table, charts, per-category tables, notes; ``inputs``
    (:func:`input_digests`): what it was built from."""
    its = loop["iterations"]
    same = unchanged_models(loop)
    head_rows = []
    for r in its:
        if len(r) == 1:  # nothing measured for this iteration yet
            continue
        s = _summary(r["eval"]) if "eval" in r else {}
        lo, hi, n = _heldout_ci(r["eval"]) if "eval" in r else (None, None, None)
        held = (
            f"{s['heldout']:.3f} [{lo:.3f}, {hi:.3f}] n={n}"
            if s.get("heldout") is not None and n
            else s.get("heldout")
        )
        probe, train, verify, merge = (r.get(k) or {} for k in ("probe", "train", "verify", "merge"))
        ev = r.get("eval") or {}
        split = [_cell(_split_figure(ev, k)) for k in HELDOUT_SPLIT_LABELS if k != "heldout_never_call"]
        j = r["iteration"]
        head_rows.append(
            [
                f"{j} (= model_{j - 1})" if j in same else j,
                *split,
                _cell(_split_figure(ev, "heldout_never_call")),
                held,
                *[_group_cell(ev, k) for k in ACCURACY_KEYS[1:]],
                _train_cell(train),
                _probe_cell(probe),
                _relabeled_cell(verify),
                merge.get("size"),
            ]
        )
    headline = _table(
        [
            "iteration",
            *[
                HELDOUT_SPLIT_LABELS[k] + " [95% CI] n"
                for k in HELDOUT_SPLIT_LABELS
                if k != "heldout_never_call"
            ],
            HELDOUT_SPLIT_LABELS["heldout_never_call"] + " n",
            ACCURACY_LABELS["heldout"] + " (all rows) [95% CI] n",
            *[ACCURACY_LABELS[k] + " n" for k in ACCURACY_KEYS[1:]],
            "train reward (last step)",
            "probe mastered [95% CI] n",
            "relabeled (LABEL_WRONG)",
            "|D_j+1|",
        ],
        head_rows,
    )
    headline += _skipped_line(its) + _groups_table(its)
    judged = judge_ran(loop)
    imgs = "".join(
        f'<div><img alt="{html.escape(k)}" src="data:image/png;base64,{v}"></div>' for k, v in pngs.items()
    )
    if rows["verdicts"] and judged is False:
        imgs += f"<div><p><b>{html.escape(_judge_note(loop))}</b> (no judge chart).</p></div>"
    shown = _parts_in(rows["data_mix"])
    mix = _table(
        ["dataset", "rows", *[PART_LABELS[k] for k in shown]],
        [[f"D_{r['iteration']}", r.get("rows"), *[r.get(k) for k in shown]] for r in rows["data_mix"]],
    )
    by_iter = {r["iteration"]: r for r in its}
    verd_rows = []
    for r in rows["verdicts"]:
        v = by_iter.get(r["iteration"], {}).get("verify") or {}
        by = v.get("decided_by") if isinstance(v.get("decided_by"), dict) else {}
        verd_rows.append(
            [
                r["iteration"],
                *[r[k] for k in VERDICTS],
                sum(int(r[k]) for k in VERDICTS),
                *[by.get(k) for k in ("rule", "llm", "abstain")],
            ]
        )
    verd = _table(
        ["iteration", *VERDICTS, "failed samples (n)", "by rule", "by judge", "abstained"], verd_rows
    )
    notes = [f"iteration {j}: {why}" for j, why in same.items()] + _notes(loop)
    sections = [
        "<h1>LoopTool: the loop at a glance</h1><p class='muted'>"
        "Iteration 0 is the warm-up model before any loop iteration. Every figure carries its n. Intervals are "
        "Wilson 95% intervals of one proportion (argument F1: a bootstrap interval of the mean); benchmark "
        "group figures (BFCL live, ACEBench normal, ...) are means of category accuracies with an n and no "
        "interval. A difference between two iterations needs a "
        "paired interval (bench/efficacy.py). Held-out call rows (the label makes calls) are the primary figure: "
        "ToolMatch gives full marks to any reply without a call on a no-call row, so a model that never calls "
        "scores the never-call score overall and 0 on call rows.</p>",
    ]
    if notes:  # read before the figures, not below them
        sections.append("<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    sections += [
        "<h2>Headline figures</h2>" + headline,
        f"<h2>Charts</h2><div class='charts'>{imgs or '<p>No metrics yet.</p>'}</div>",
    ]
    if rows["data_mix"]:
        sections.append("<h2>Data mix of D_j</h2>" + mix)
    if rows["verdicts"]:
        title = "Verdicts" if judged is not False else f"Verdicts ({html.escape(_judge_note(loop))})"
        sections.append(f"<h2>{title}</h2>" + verd)
    mech = "".join(mechanisms_table(r, by_iter.get(r["iteration"] + 1)) for r in its)
    if mech:
        sections.append(
            "<h2>Mechanisms</h2><p class='muted'>Does each step do what it claims? From stage mechanisms@j: "
            "model_j's failure share on the rows of D_{j+1} it was not probed on against a random pool draw "
            "(targeting), on the expansions against their error seeds (expansion fidelity), and the share of "
            "noisy labels still wrong (label purity).</p>" + mech
        )
    for bench, title in (("bfcl", "BFCL per category"), ("acebench", "ACEBench per category")):
        t = _category_table(loop, bench)
        if t:
            sections.append(f"<h2>{title}</h2>{t}")
    hp = [(r["iteration"], (r["eval"].get("heldout") or {}).get("by_pattern")) for r in its if "eval" in r]
    pats = sorted({p for _, bp in hp if bp for p in bp})
    if pats:
        sections.append(
            "<h2>Held-out accuracy per pattern</h2>"
            + _table(
                ["pattern", *[f"iter {j} [95% CI] n" for j, _ in hp]],
                [[p, *[_cell((bp or {}).get(p) or {}) for _, bp in hp]] for p in pats],
            )
        )
    sections.append(_inputs_section(inputs or []))
    body = "\n".join(s for s in sections if s)
    return f"<!doctype html><html><head><meta charset='utf-8'><title>LoopTool report</title><style>{_CSS}</style></head><body>{body}</body></html>\n"


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
