"""The loop at a glance: every stage's metrics per iteration in one JSON, plot data for ``dvc plots``, and a
self-contained HTML report.

Inputs are the small metrics files the stages write (any may be missing: a stage not run yet, a benchmark
not configured): ``metrics/eval/iter_j.json`` (j = 0 is the warm-up model, before any loop iteration) and
``metrics/{train,probe,verify,expand,merge}/iter_j.json``, plus ``metrics/seed.json`` and
``metrics/warmup.json``. Outputs:

* ``metrics/loop.json``: ``{"iterations": [{"iteration": j, "eval": ..., "train": ..., ...}], ...}``;
* plot data (JSON lists of rows, ``x = iteration``) read by the ``plots:`` section of dvc.yaml:
  ``accuracy.json`` (headline accuracy per benchmark), ``verdicts.json`` (the judge's verdict counts),
  ``data_mix.json`` (the parts of D_j as fractions: Seed-new, error seeds, expansions, high-PPL);
* ``reports/loop.html``: tables and matplotlib charts embedded as base64 PNG, one file to open.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from looptool import storage
from looptool.schema import PARTS, VERDICTS

STAGES = ("train", "probe", "verify", "expand", "merge")
ACCURACY_KEYS = ("heldout", "bfcl_overall", "bfcl_non_live", "bfcl_live", "acebench_normal", "acebench_special")
ACCURACY_LABELS = {
    "heldout": "held-out (ToolMatch)",
    "bfcl_overall": "BFCL single-turn overall",
    "bfcl_non_live": "BFCL non-live",
    "bfcl_live": "BFCL live",
    "acebench_normal": "ACEBench normal",
    "acebench_special": "ACEBench special",
}
PART_LABELS = {"seed_new": "Seed-new", "error_seed": "ES (error seeds)", "expansion": "EE (expansions)",
               "high_ppl": "HPPL (high perplexity)"}


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
    setup = {name: m for name in ("seed", "warmup") if (m := _read(root / f"{name}.json")) is not None}
    # no wall-clock timestamp: metrics/loop.json is git-tracked and must not change when nothing else did
    return {"setup": setup, "iterations": rows}


def _summary(ev: dict[str, Any]) -> dict[str, Any]:
    if "summary" in ev:
        return ev["summary"]
    from looptool.evaluate import summary_of

    return summary_of(ev)


def plot_rows(loop: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows of the three plot files (missing figures are null)."""
    accuracy, verdicts, mix = [], [], []
    for row in loop["iterations"]:
        j = row["iteration"]
        if "eval" in row:
            s = _summary(row["eval"])
            accuracy.append({"iteration": j, **{k: s.get(k) for k in ACCURACY_KEYS}})
        if "verify" in row:
            counts = row["verify"].get("verdicts") or {}
            verdicts.append({"iteration": j, **{k: int(counts.get(k, 0)) for k in VERDICTS}})
        if "merge" in row:  # merge of iteration j builds D_{j+1}
            parts = row["merge"].get("parts") or {}
            total = sum(int(parts.get(k, 0)) for k in PARTS)
            mix.append({"iteration": j + 1, **{k: round(int(parts.get(k, 0)) / total, 4) if total else None
                                              for k in PARTS}})
    if mix and not any(r["iteration"] == 1 for r in mix):
        # D_1 is a sample of the seed pool: all Seed-new by construction (stage select).
        mix.insert(0, {"iteration": 1, "seed_new": 1.0, "error_seed": 0.0, "expansion": 0.0, "high_ppl": 0.0})
    return {"accuracy": accuracy, "verdicts": verdicts, "data_mix": mix}


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


def charts(rows: dict[str, list[dict[str, Any]]], loop: dict[str, Any]) -> dict[str, str]:
    """Base64 PNG charts: accuracy per benchmark, verdict mix, data mix, probe mastery."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    acc = rows["accuracy"]
    if acc:
        fig, ax = plt.subplots(figsize=(7.5, 4))
        for k in ACCURACY_KEYS:
            pts = [(r["iteration"], r[k]) for r in acc if r.get(k) is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=ACCURACY_LABELS[k])
        ax.set_xlabel("iteration (0 = warm-up model)")
        ax.set_ylabel("accuracy")
        ax.set_xticks(sorted({r["iteration"] for r in acc}))
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title("Accuracy per iteration")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
        out["accuracy"] = _png(fig)
    for name, keys, labels, title, ylabel in (
        ("verdicts", VERDICTS, {k: k for k in VERDICTS}, "Judge verdicts on failed samples", "samples"),
        ("data_mix", PARTS, PART_LABELS, "Composition of D_j", "fraction of D_j"),
    ):
        data = rows[name]
        if not data:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        xs = [r["iteration"] for r in data]
        bottom = [0.0] * len(data)
        for k in keys:
            vals = [float(r.get(k) or 0) for r in data]
            ax.bar(xs, vals, bottom=bottom, label=labels[k], width=0.6)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_xticks(xs)
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
        ax.grid(axis="y", alpha=0.3)
        out[name] = _png(fig)
    probe = [(r["iteration"], r["probe"]) for r in loop["iterations"] if "probe" in r]
    if probe:
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        ax.plot([j for j, _ in probe], [p.get("mastered_rate") for _, p in probe], marker="o", label="mastered (D_j)")
        ax.set_xticks([j for j, _ in probe])
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("iteration")
        ax.set_ylabel("fraction of D_j")
        ax.set_title("Greedy capability probing: mastered samples")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        out["probe"] = _png(fig)
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
        n = None
        for _, ev in evals:
            v = ((ev.get(bench) or {}).get("categories") or {}).get(c) or {}
            cells.append(v.get("accuracy"))
            n = v.get("n", n)
        rows.append([*cells, n])
    return _table(["category", *[f"iter {j}" for j, _ in evals], "entries"], rows)


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
            notes.append(f"iteration {r['iteration']}: at most {run['limit']} entries per benchmark category "
                         f"({run.get('prompts')} prompts, {run.get('seconds')} s)")
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


def render_html(loop: dict[str, Any], rows: dict[str, list[dict[str, Any]]], pngs: dict[str, str]) -> str:
    """The report page: headline table, charts, per-category tables, notes."""
    its = loop["iterations"]
    head_rows = []
    for r in its:
        if len(r) == 1:  # nothing measured for this iteration yet
            continue
        s = _summary(r["eval"]) if "eval" in r else {}
        probe, train, verify, merge = (r.get(k) or {} for k in ("probe", "train", "verify", "merge"))
        head_rows.append([
            r["iteration"],
            *[s.get(k) for k in ACCURACY_KEYS],
            train.get("reward_last"),
            probe.get("mastered_rate"),
            (verify.get("verdicts") or {}).get("LABEL_WRONG"),
            merge.get("size"),
        ])
    headline = _table(
        ["iteration", *[ACCURACY_LABELS[k] for k in ACCURACY_KEYS], "train reward (last)", "probe mastered",
         "relabeled (LABEL_WRONG)", "|D_j+1|"],
        head_rows,
    )
    imgs = "".join(
        f'<div><img alt="{html.escape(k)}" src="data:image/png;base64,{v}"></div>' for k, v in pngs.items()
    )
    mix = _table(["dataset", *[PART_LABELS[k] for k in PARTS]],
                 [[f"D_{r['iteration']}", *[r.get(k) for k in PARTS]] for r in rows["data_mix"]])
    verd = _table(["iteration", *VERDICTS], [[r["iteration"], *[r[k] for k in VERDICTS]] for r in rows["verdicts"]])
    sections = [
        "<h1>LoopTool: the loop at a glance</h1><p class='muted'>"
        "Iteration 0 is the warm-up model before any loop iteration.</p>",
        "<h2>Headline figures</h2>" + headline,
        f"<h2>Charts</h2><div class='charts'>{imgs or '<p>No metrics yet.</p>'}</div>",
    ]
    if rows["data_mix"]:
        sections.append("<h2>Data mix of D_j</h2>" + mix)
    if rows["verdicts"]:
        sections.append("<h2>Verdicts</h2>" + verd)
    for bench, title in (("bfcl", "BFCL per category"), ("acebench", "ACEBench per category")):
        t = _category_table(loop, bench)
        if t:
            sections.append(f"<h2>{title}</h2>{t}")
    hp = [(r["iteration"], (r["eval"].get("heldout") or {}).get("by_pattern")) for r in its if "eval" in r]
    pats = sorted({p for _, bp in hp if bp for p in bp})
    if pats:
        sections.append("<h2>Held-out accuracy per pattern</h2>" + _table(
            ["pattern", *[f"iter {j}" for j, _ in hp]],
            [[p, *[((bp or {}).get(p) or {}).get("accuracy") for _, bp in hp]] for p in pats],
        ))
    notes = _notes(loop)
    if notes:
        sections.append("<h2>Notes</h2><ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    body = "\n".join(sections)
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
        storage.write_text(render_html(loop, rows, charts(rows, loop)), html)
    return loop
