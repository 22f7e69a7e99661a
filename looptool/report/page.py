"""The self-contained HTML page (``reports/loop.html``): headline table, charts, data mix, verdicts, mechanism
figures, per-category tables and what it was built from."""

from __future__ import annotations

import hashlib
import html
from typing import Any

from looptool.report.figures import (
    ACCURACY_KEYS,
    ACCURACY_LABELS,
    HELDOUT_SPLIT_LABELS,
    PART_LABELS,
    _cell,
    _group,
    _group_cell,
    _heldout_ci,
    _judge_note,
    _parts_in,
    _probe_cell,
    _relabeled_cell,
    _split_figure,
    _summary,
    _train_cell,
    judge_ran,
    unchanged_models,
)
from looptool.schema import VERDICTS


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
