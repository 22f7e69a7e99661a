"""The loop report: loop.json from fixture metrics, plot data, the HTML page, and ``dvc plots show`` on the
project's own plots definitions."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from looptool import storage
from looptool.report import collect, plot_rows, run_report

ROOT = Path(__file__).resolve().parents[1]


def _split(correct: int) -> dict:
    """10 held-out rows, 6 call rows and 4 no-call rows, ``correct`` of them right: no-call rows first."""
    from looptool.evaluate.heldout import by_kind

    rows = [
        {"call_row": True, "correct": i < correct - 4, "names": i < 3, "arg_f1": 0.5 if i < 3 else 0.0}
        for i in range(6)
    ]
    rows += [{"call_row": False, "correct": i < correct, "names": True, "arg_f1": 1.0} for i in range(4)]
    return by_kind(rows)


def _eval(heldout: float | None, bfcl: float, skipped_ace: bool = False) -> dict:
    m = {
        "model": "models/iter_x",
        "heldout": {
            "accuracy": heldout,
            "n": 10,
            "correct": round(heldout * 10),
            "by_pattern": {"single": {"accuracy": heldout, "n": 10, "correct": round(heldout * 10)}},
            **_split(round(heldout * 10)),
        }
        if heldout is not None
        else {"skipped": "held-out split not found"},
        "bfcl": {
            "categories": {
                "simple": {"accuracy": bfcl, "n": 20, "correct": round(bfcl * 20), "n_total": 400}
            },
            "overall_single_turn": bfcl,
            "non_live": {"overall": bfcl},
            "live": {"overall": None},
        },
        "acebench": {"skipped": "no acebench data folder configured"}
        if skipped_ace
        else {
            "categories": {"special_irrelevant": {"accuracy": 0.5, "n": 20}},
            "normal_summary": 0.2,
            "special_summary": 0.5,
            "agent_skipped": "needs a simulated user",
        },
        "wall_s": 12.5,
        "run": {"prompts": 40, "limit": 20},
    }
    from looptool.evaluate import summary_of

    m["summary"] = summary_of(m)
    return m


def _fixture(metrics: Path) -> None:
    storage.write_json(_eval(0.2, 0.1), metrics / "eval" / "iter_0.json")
    storage.write_json(_eval(0.3, 0.15), metrics / "eval" / "iter_1.json")
    storage.write_json(_eval(None, 0.2, skipped_ace=True), metrics / "eval" / "iter_2.json")
    for j in (1, 2):
        series = [
            {"step": s, "reward": 0.1 * s, "zero_std_frac": 1.0 - 0.25 * s, "loss": None} for s in (1, 2)
        ]
        storage.write_json(
            {
                "iteration": j,
                "reward_first": 0.1,
                "reward_last": 0.2 * j,
                "steps": 2,
                "signal_steps": j,
                "no_signal": False,
                "series": series,
            },
            metrics / "train" / f"iter_{j}.json",
        )
        storage.write_json(
            {"iteration": j, "mastered_rate": 0.3 * j, "mastered": 15 * j, "n": 50},
            metrics / "probe" / f"iter_{j}.json",
        )
        storage.write_json(
            {
                "iteration": j,
                "verdicts": {
                    "PRED_WRONG": 10,
                    "LABEL_WRONG": 3 * j,
                    "BOTH_CORRECT": 1,
                    "BOTH_WRONG": 2,
                    "ABSTAIN": 0,
                },
            },
            metrics / "verify" / f"iter_{j}.json",
        )
        storage.write_json(
            {
                "iteration": j,
                "size": 100,
                "parts": {
                    "seed_new": 100 - 40 * j,
                    "error_seed": 20 * j,
                    "expansion": 15 * j,
                    "high_ppl": 5 * j,
                },
            },
            metrics / "merge" / f"iter_{j}.json",
        )
    # expand has no file for iteration 2: a missing stage is not an error
    storage.write_json({"iteration": 1, "accepted": 12}, metrics / "expand" / "iter_1.json")


def test_report_from_fixture_metrics(tmp_path):
    metrics = tmp_path / "metrics"
    _fixture(metrics)
    loop = run_report(
        metrics_dir=metrics, iterations=["1", "2"], plots_dir=tmp_path / "plots", html=tmp_path / "loop.html"
    )

    assert [r["iteration"] for r in loop["iterations"]] == [0, 1, 2]
    it1 = loop["iterations"][1]
    assert set(it1) == {"iteration", "eval", "train", "probe", "verify", "expand", "merge"}
    assert "expand" not in loop["iterations"][2] and set(loop["iterations"][0]) == {"iteration", "eval"}
    assert loop["iterations"][2]["merge"]["parts"]["seed_new"] == 20
    assert not (metrics / "loop.json").exists()  # the stage script writes the metrics, not the library

    acc = json.loads((tmp_path / "plots" / "accuracy.json").read_text())
    assert [r["iteration"] for r in acc] == [0, 1, 2]
    assert acc[0]["heldout"] == 0.2 and acc[2]["heldout"] is None and acc[1]["bfcl_single_turn"] == 0.15
    assert acc[1]["bfcl_overall"] is None  # no multi-turn: no v3 overall
    assert acc[2]["acebench_normal"] is None
    # Wilson 95% of 2/10, in the plot rows and on every {accuracy, correct, n} of loop.json
    assert (acc[0]["heldout_ci95_lo"], acc[0]["heldout_ci95_hi"], acc[0]["heldout_n"]) == (0.0567, 0.5098, 10)
    assert loop["iterations"][0]["eval"]["heldout"]["ci95"] == [0.0567, 0.5098]
    # held-out split: iteration 0 got 2 of 4 no-call rows and none of the 6 call rows; iteration 1 3 no-call rows
    assert (acc[0]["heldout_call"], acc[0]["heldout_call_n"], acc[0]["heldout_call_ci95_hi"]) == (
        0.0,
        6,
        0.3903,
    )
    assert (acc[0]["heldout_no_call"], acc[0]["heldout_no_call_n"]) == (0.5, 4)
    assert acc[0]["heldout_never_call"] == 0.4 and acc[1]["heldout_no_call"] == 0.75
    assert (acc[0]["heldout_call_names"], acc[0]["heldout_call_arg_f1"]) == (0.5, 0.25)
    assert acc[2]["heldout_call"] is None and acc[2]["heldout_call_n"] is None  # held-out skipped
    it0 = loop["iterations"][0]["eval"]["heldout"]
    assert it0["call_rows"]["ci95"] == [0.0, 0.3903] and it0["no_call_rows"]["n"] == 4  # in metrics/loop.json
    curve = json.loads((tmp_path / "plots" / "train_curve.json").read_text())
    assert [(r["x"], r["iteration"], r["step"]) for r in curve] == [
        (0.5, 1, 1),
        (1.0, 1, 2),
        (1.5, 2, 1),
        (2.0, 2, 2),
    ]
    assert curve[1]["zero_std_frac"] == 0.5 and curve[1]["reward"] == 0.2
    verd = json.loads((tmp_path / "plots" / "verdicts.json").read_text())
    assert verd == [
        {
            "iteration": 1,
            "PRED_WRONG": 10,
            "LABEL_WRONG": 3,
            "BOTH_CORRECT": 1,
            "BOTH_WRONG": 2,
            "ABSTAIN": 0,
        },
        {
            "iteration": 2,
            "PRED_WRONG": 10,
            "LABEL_WRONG": 6,
            "BOTH_CORRECT": 1,
            "BOTH_WRONG": 2,
            "ABSTAIN": 0,
        },
    ]
    mix = json.loads((tmp_path / "plots" / "data_mix.json").read_text())
    assert [r["iteration"] for r in mix] == [1, 2, 3]  # D_1 by construction, then merge j -> D_{j+1}
    assert mix[0]["seed_new"] == 1.0 and mix[1] == {
        "iteration": 2,
        "seed_new": 0.6,
        "error_seed": 0.2,
        "expansion": 0.15,
        "high_ppl": 0.05,
        "rows": 100,  # n of the fractions
    }

    page = (tmp_path / "loop.html").read_text()
    assert page.startswith("<!doctype html>") and "</html>" in page
    imgs = page.count("data:image/png;base64,")
    assert imgs == 5  # accuracy, verdicts, data mix, probe, training curve
    assert page.index("acebench skipped") < page.index("Headline figures")  # notes above the figures
    assert "0.200 [0.057, 0.510] n=10" in page
    # the headline leads with call-row ToolMatch, then names, argument F1, no-call rows, the never-call score
    row0 = page.split("<h2>Headline figures</h2>")[1].split("<tr><td>0</td>")[1].split("</tr>")[0]
    assert row0.startswith("<td>0.000 [0.000, 0.390] n=6</td><td>0.500 [0.188, 0.812] n=6</td><td>0.250 [")
    assert "<td>0.500 [0.150, 0.850] n=4</td><td>0.400 n=10</td><td>0.200 [0.057, 0.510] n=10</td>" in row0
    assert "held-out call rows (ToolMatch) [95% CI] n" in page
    first = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "acebench skipped: no acebench data folder configured" in page
    assert "heldout skipped" in page and "BFCL per category" in page
    # the headline says what the latest evaluation left out
    head = page.split("<h2>Charts</h2>")[0]
    assert "<b>acebench</b> not evaluated: no acebench data folder configured" in head
    assert "<b>bfcl overall (v3)</b> not evaluated" in head
    assert "http" not in page.split("<body>")[1]  # self-contained: nothing fetched


def test_report_with_no_metrics_yet(tmp_path):
    loop = collect(tmp_path / "metrics", ["1"])
    assert loop["iterations"] == [{"iteration": 0}, {"iteration": 1}]
    assert plot_rows(loop) == {"accuracy": [], "verdicts": [], "data_mix": [], "train_curve": []}
    run_report(
        metrics_dir=tmp_path / "metrics",
        iterations=["1"],
        plots_dir=tmp_path / "plots",
        html=tmp_path / "r.html",
    )
    assert "No metrics yet" in (tmp_path / "r.html").read_text()


def test_bad_metrics_file_is_named(tmp_path):
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "iter_0.json").write_text("{oops")
    with pytest.raises(ValueError, match="iter_0.json"):
        collect(tmp_path, [])


@pytest.mark.dvc
def test_dvc_plots_show_renders_the_project_plots(tmp_path):
    """The plots: section of dvc.yaml reads the files the report stage writes."""
    dvc = shutil.which("dvc") or str(Path(sys.executable).parent / "dvc")
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=tmp_path, check=True, env=env)
    _fixture(tmp_path / "metrics")
    run_report(
        metrics_dir=tmp_path / "metrics", iterations=["1", "2"], plots_dir=tmp_path / "reports" / "plots"
    )
    out = subprocess.run(
        [dvc, "plots", "show", "--json"], cwd=tmp_path, check=True, env=env, capture_output=True, text=True
    )
    shown = json.loads(out.stdout)
    titles = set(shown.get("data", shown))
    assert {
        "Accuracy per iteration (0 = warm-up model)",
        "Verdicts on failed samples (by rule or judge)",
        "Data mix of D_j (fractions)",
    } <= titles, titles
    rendered = subprocess.run(
        [dvc, "plots", "show", "-o", str(tmp_path / "html")],
        cwd=tmp_path,
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (tmp_path / "html" / "index.html").exists(), rendered.stdout
    body = (tmp_path / "html" / "index.html").read_text()
    assert "bfcl_overall" in body and "LABEL_WRONG" in body and "high_ppl" in body
    # what docs/pipeline.md says: dvc's page draws with Vega fetched from a CDN (blank offline); reports/loop.html is the
    # offline view (test_report_page_loads_nothing_from_the_network)
    assert '<script src="https://' in body


def test_report_outputs_carry_no_wall_clock_time(tmp_path):
    """metrics/loop.json, the plot data and reports/loop.html are git-tracked: building the report again from the
    same metrics gives the same bytes (durations in the metrics are measurements and stay)."""
    import re
    import time

    metrics = tmp_path / "metrics"
    _fixture(metrics)
    outs = []
    for run in ("a", "b"):
        d = tmp_path / run
        from looptool.report import run_report

        summary = run_report(
            metrics_dir=metrics, iterations=["1", "2"], plots_dir=d / "plots", html=d / "loop.html"
        )
        storage.write_json(summary, d / "loop.json")
        outs.append(
            {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}
        )
        time.sleep(1.1)  # a timestamp to the second would differ
    assert outs[0] == outs[1], [k for k in outs[0] if outs[0][k] != outs[1].get(k)]
    for name, data in outs[0].items():
        assert not re.search(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d", data), f"{name} carries a timestamp"


def test_report_shows_mechanism_figures(tmp_path):
    """metrics/mechanisms/iter_j.json becomes a table per iteration with k / n and intervals; iteration 1's table
    shows model_2 on D_2's parts, read from iteration 2's figures (probe@2)."""
    from looptool.mechanisms import share
    from looptool.stats import newcombe, paired_bootstrap

    metrics = tmp_path / "metrics"
    _fixture(metrics)
    storage.write_json({**json.loads((metrics / "merge" / "iter_2.json").read_text()), "static": True},
                       metrics / "merge" / "iter_2.json")  # fmt: skip
    pair = paired_bootstrap([1, 1, 0, 1], [1, 1, 1, 1], resamples=200)
    fid = {"expansion": share(3, 4), "seed": share(2, 2), "expansion_minus_seed": pair}
    for j in (1, 2):
        storage.write_json(
            {
                "iteration": j,
                "targeting": {
                    "expansion": share(3, 4),
                    "seed_new": share(1, 6),
                    "targeted": share(4, 10),
                    "random": share(2, 10),
                    "targeted_minus_random": newcombe(4, 10, 2, 10),
                    "expansion_minus_random": newcombe(3, 4, 2, 10),
                },
                "fidelity": {"overall": fid, "by_pattern": {"single": fid}, "unpaired": 0},
                "parts": {"error_seed": share(5, 5), "seed_new": share(7 * j, 20)},
                "purity": {"d_j": share(4, 5), "d_next": share(j, 5)},
                "random_draw": {
                    "asked": 10,
                    "drawn": 10 - 2 * (j - 1),
                    "pool_short": {"single": 2} if j == 2 else {},
                },
            },
            metrics / "mechanisms" / f"iter_{j}.json",
        )
    loop = run_report(
        metrics_dir=metrics, iterations=["1", "2"], plots_dir=tmp_path / "p", html=tmp_path / "h.html"
    )
    assert loop["iterations"][1]["mechanisms"]["targeting"]["random"]["n"] == 10  # in metrics/loop.json
    page = (tmp_path / "h.html").read_text()
    mech = page.split("<h2>Mechanisms</h2>")[1].split("<h2>")[0]
    it1, it2 = mech.split("<h3>Iteration 1</h3>")[1].split("<h3>Iteration 2</h3>")
    assert (
        "<td>targeting: model_1 fails D_2&#x27;s expansions</td><td>0.750 [0.301, 0.954]</td><td>3 / 4</td>"
        in it1
    )
    assert (
        "random pool draw, same size and pattern mix</td><td>0.200 [0.057, 0.510]</td><td>2 / 10</td>" in it1
    )
    d = newcombe(4, 10, 2, 10)
    assert f"<td>{d['diff']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]</td><td>n=10 vs 10</td>" in it1
    assert "fidelity (single): expansion − seed (paired)</td><td>-0.250 [" in it1
    # model_2 on D_2, from iteration 2's figures; iteration 2 has no next probe
    assert "model_2 fails D_2&#x27;s Seed-new (probe@2)</td><td>0.700 [" in it1 and "14 / 20" in it1
    assert "(probe@3)" not in it2
    assert "the unused pool lacked rows for the draw</td><td>single: 2</td>" in it2 and "lacked" not in it1
    assert "noisy rows of D_1 whose label is still wrong</td><td>0.800 [" in it1
    assert "noisy rows of D_3 whose label is still wrong (static arm: D_j = D_1)</td><td>0.400 [" in it2


# --- small n, said: every figure carries its n; group figures say what they were computed from ---------------


def _page(tmp_path: Path, metrics: Path, iterations=("1", "2")) -> str:
    run_report(
        metrics_dir=metrics,
        iterations=list(iterations),
        plots_dir=tmp_path / "plots",
        html=tmp_path / "loop.html",
    )
    return (tmp_path / "loop.html").read_text()


def _section(page: str, title: str) -> str:
    return page.split(f"<h2>{title}</h2>")[1].split("<h2>")[0]


def _row(section: str, first: str) -> str:
    return section.split(f"<tr><td>{first}</td>")[1].split("</tr>")[0]


def test_every_figure_carries_its_n(tmp_path):
    from looptool.stats import wilson

    metrics = tmp_path / "metrics"
    _fixture(metrics)
    page = _page(tmp_path, metrics)
    head = _section(page, "Headline figures")
    row1 = _row(head, "1")
    # BFCL non-live from 1 of its 7 categories: n and the coverage, no interval (a mean of category accuracies)
    assert "<td>0.150 n=20, 1 of 7 categories</td>" in row1
    assert "<td>0.150 n=20, 1 of 13 categories</td>" in row1  # single-turn overall: of non-live + live
    # probe: mastered 15 of 50 with its Wilson interval; train: signal steps; relabeled: of the failed samples
    lo, hi = wilson(15, 50)
    assert f"<td>0.300 [{lo:.3f}, {hi:.3f}] n=50</td>" in row1
    assert "<td>0.200; signal on 1 of 2 steps</td>" in row1 and "<td>3 of 16 failed</td>" in row1
    # what each group figure of the latest evaluation was computed from
    groups = head.split("what each was computed from</h3>")[1]
    non_live = groups.split("<td>BFCL non-live</td>")[1].split("</tr>")[0]
    assert "<td>20</td><td>4</td><td>1 of 7 (partial)</td>" in non_live
    assert "java, javascript, multiple, parallel, parallel_multiple, irrelevance" in non_live
    assert "(eval.limit)" in non_live  # 20 of the category's 400 entries
    # per-category and per-pattern tables: accuracy [95% CI] n in every cell
    lo, hi = wilson(3, 20)
    assert f"<td>0.150 [{lo:.3f}, {hi:.3f}] n=20</td>" in _row(_section(page, "BFCL per category"), "simple")
    assert "<td>400</td>" in _row(_section(page, "BFCL per category"), "simple")  # the category's size
    pat = _row(_section(page, "Held-out accuracy per pattern"), "single")
    assert pat.startswith("<td>0.200 [0.057, 0.510] n=10</td><td>0.300 [")
    # data mix: rows of D_j; verdicts: the failed samples they are shares of
    assert _row(_section(page, "Data mix of D_j"), "D_2").startswith("<td>100</td>")
    assert "<td>16</td>" in _row(_section(page, "Verdicts"), "1")
    # the plot rows carry the group's n (chart legends read it)
    acc = json.loads((tmp_path / "plots" / "accuracy.json").read_text())
    assert acc[1]["bfcl_non_live_n"] == 20 and acc[1]["bfcl_live_n"] is None
    from looptool.report import _n_tag

    assert _n_tag(acc, "bfcl_non_live", "1 of 7 categories") == " (n=20, 1 of 7 categories)"
    assert _n_tag(acc, "heldout") == " (n=10)" and _n_tag(acc, "bfcl_live") == ""
    assert _n_tag(acc, "heldout_never_call") == " (n=10)"  # a share of all held-out rows


def test_group_figure_of_all_its_categories_is_not_labelled_partial():
    from looptool.evaluate.summary import group_figure, group_label

    cats = {
        c: {
            "accuracy": float(c == "live_relevance"),
            "correct": int(c == "live_relevance"),
            "n": 1,
            "n_total": 9,
        }
        for c in (
            "live_simple",
            "live_multiple",
            "live_parallel",
            "live_parallel_multiple",
            "live_irrelevance",
        )
        + ("live_relevance",)
    }
    m = {"bfcl": {"categories": cats, "live": {"overall": 0.0071}}}
    g = group_figure(m, "bfcl_live")
    assert (g["n"], g["correct"], g["partial"], g["missing"], g["limited"]) == (6, 1, False, [], True)
    assert group_label(g) == "n=6"
    del cats["live_parallel"]
    assert group_label(group_figure(m, "bfcl_live")) == "n=5, 5 of 6 categories"
    assert group_figure(m, "bfcl_non_live") is None  # no figure: nothing to label


def test_group_categories_agree_with_the_benchmarks():
    """The report reads the group definitions without importing a benchmark: they must be the benchmarks' own."""
    from looptool.evaluate import acebench, bfcl
    from looptool.evaluate.summary import GROUPS

    assert GROUPS["bfcl_non_live"][1] == bfcl.NON_LIVE and GROUPS["bfcl_live"][1] == bfcl.LIVE
    assert GROUPS["bfcl_multi_turn"][1] == bfcl.MULTI_TURN
    assert GROUPS["bfcl_overall"][1] == bfcl.ALL_CATEGORIES + bfcl.MULTI_TURN
    assert (
        GROUPS["acebench_normal"][1] == acebench.NORMAL and GROUPS["acebench_special"][1] == acebench.SPECIAL
    )
    assert GROUPS["acebench_overall"][1] == acebench.ALL_CATEGORIES


def _decided(metrics: Path, llm: int, judge: str | None) -> None:
    for j in (1, 2):
        path = metrics / "verify" / f"iter_{j}.json"
        v = json.loads(path.read_text())
        v |= {"decided_by": {"rule": 13 + 3 * j - llm, "llm": llm, "abstain": 3}, "judge": judge}
        storage.write_json(v, path)


def test_no_judge_chart_without_judge_verdicts(tmp_path):
    metrics = tmp_path / "metrics"
    _fixture(metrics)
    _decided(metrics, llm=0, judge=None)
    page = _page(tmp_path, metrics)
    charts = _section(page, "Charts")
    assert charts.count("data:image/png;base64,") == 4 and 'alt="verdicts"' not in charts
    assert "no judge configured: verdicts by rule" in charts
    assert "<h2>Verdicts (no judge configured: verdicts by rule)</h2>" in page
    assert (
        "<td>1</td><td>10</td><td>3</td><td>1</td><td>2</td><td>0</td><td>16</td><td>16</td><td>0</td>"
        in page
    )

    _decided(metrics, llm=0, judge="openai:Qwen/Qwen3-32B")  # a judge that decided nothing
    page = _page(tmp_path, metrics)
    assert "judge configured (openai:Qwen/Qwen3-32B) but no verdict came from it: verdicts by rule" in page
    assert 'alt="verdicts"' not in page

    _decided(metrics, llm=5, judge="openai:Qwen/Qwen3-32B")
    page = _page(tmp_path, metrics)
    assert 'alt="verdicts"' in _section(page, "Charts") and "verdicts by rule" not in page


def _weights(metrics: Path, j: int, digest: str | None) -> None:
    path = metrics / "eval" / f"iter_{j}.json"
    m = json.loads(path.read_text())
    m["run"]["backend"] = {"weights": digest} if digest else {}
    storage.write_json(m, path)


def test_an_iteration_that_changed_nothing_is_flagged(tmp_path):
    metrics = tmp_path / "metrics"
    _fixture(metrics)
    _weights(metrics, 0, "sha256:aa")
    _weights(metrics, 1, "sha256:aa")
    _weights(metrics, 2, "sha256:bb")
    page = _page(tmp_path, metrics)
    notes = page.split("<h2>Headline figures</h2>")[0]
    assert "iteration 1: model_1 has the same weights as model_0 (sha256:aa in both evaluations)" in notes
    assert "model_2" not in notes
    head = _section(page, "Headline figures")
    assert "<tr><td>1 (= model_0)</td>" in head and "<tr><td>2</td>" in head

    # no weight digests recorded: GRPO without a reward signal on any step says the same
    for j in (0, 1, 2):
        _weights(metrics, j, None)
    train = json.loads((metrics / "train" / "iter_2.json").read_text())
    storage.write_json({**train, "no_signal": True, "signal_steps": 0}, metrics / "train" / "iter_2.json")
    page = _page(tmp_path, metrics)
    assert "iteration 2: model_2 equals model_1: GRPO@2 had no reward signal on any of its 2 steps" in page
    assert "<tr><td>2 (= model_1)</td>" in page and "<tr><td>1</td>" in page

    # digests that differ win over the train metrics' no-signal flag
    _weights(metrics, 1, "sha256:aa")
    _weights(metrics, 2, "sha256:cc")
    assert "(= model_1)" not in _page(tmp_path, metrics)


def test_report_names_its_inputs_by_content(tmp_path):
    """The page lists each metrics input with the md5 DVC records for it in dvc.lock (a folder: dvc-data's
    ``Tree`` digest), so it names what it was built from; changing an input changes the page."""
    import hashlib

    from looptool.report import input_digests

    metrics = tmp_path / "metrics"
    _fixture(metrics)
    digests = {d["path"]: d for d in input_digests(metrics)}
    assert set(digests) == {f"metrics/{s}" for s in ("eval", "train", "probe", "verify", "expand", "merge")}
    assert digests["metrics/eval"]["files"] == 3 and digests["metrics/eval"]["md5"].endswith(".dir")
    tree_mod = pytest.importorskip("dvc_data.hashfile.tree")
    hash_info = pytest.importorskip("dvc_data.hashfile.hash_info")
    tree = tree_mod.Tree()
    for f in sorted((metrics / "eval").iterdir()):
        tree.add((f.name,), None, hash_info.HashInfo("md5", hashlib.md5(f.read_bytes()).hexdigest()))
    tree.digest()
    assert digests["metrics/eval"]["md5"] == tree.hash_info.value  # what dvc.lock says of metrics/eval
    storage.write_json({"stages": 3}, metrics / "seed.json")
    assert input_digests(metrics)[0] == {
        "path": "metrics/seed.json",
        "md5": hashlib.md5((metrics / "seed.json").read_bytes()).hexdigest(),
        "files": 1,
    }
    page = _page(tmp_path, metrics)
    built = _section(page, "Built from")
    assert f"<td>metrics/eval</td><td>{tree.hash_info.value}</td><td>3</td>" in built
    before = built.split("Inputs digest")[1].split("</code>")[0]
    _weights(metrics, 2, "sha256:dd")
    after = _section(_page(tmp_path, metrics), "Built from").split("Inputs digest")[1].split("</code>")[0]
    assert before != after


def test_report_page_loads_nothing_from_the_network(tmp_path):
    """reports/loop.html is the offline view: no script, stylesheet link, font or image from elsewhere."""
    import re

    metrics = tmp_path / "metrics"
    _fixture(metrics)
    page = _page(tmp_path, metrics)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", text) and "http" not in text


def test_report_and_group_doctests():
    import doctest
    import importlib
    import pkgutil

    from looptool import report
    from looptool.commands import eval as eval_cmd
    from looptool.evaluate import summary

    # every module of the report package (its examples live where the functions do, not in __init__)
    parts = [
        importlib.import_module(m.name) for m in pkgutil.iter_modules(report.__path__, "looptool.report.")
    ]
    assert {"looptool.report.figures", "looptool.report.page"} <= {m.__name__ for m in parts}
    results = {mod.__name__: doctest.testmod(mod) for mod in (report, *parts)}
    assert all(r.failed == 0 for r in results.values()), results
    assert sum(r.attempted for r in results.values()) > 0
    for mod in (summary, eval_cmd):
        result = doctest.testmod(mod)
        assert result.failed == 0 and result.attempted > 0, mod.__name__


def test_report_inputs_are_the_report_stages_metrics_deps():
    """The "Built from" section hashes exactly the metrics the report stage depends on in dvc.yaml."""
    import yaml

    from looptool.report import REPORT_INPUTS

    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["report"]["deps"]
    assert sorted(f"metrics/{n}" for n in REPORT_INPUTS) == sorted(
        d for d in deps if d.startswith("metrics/")
    )


def test_report_shows_the_boundary_part_only_where_a_merge_made_one(tmp_path):
    metrics = tmp_path / "metrics"
    _fixture(metrics)
    run_report(
        metrics_dir=metrics, iterations=["1", "2"], plots_dir=tmp_path / "p0", html=tmp_path / "a.html"
    )
    assert "Boundary" not in (tmp_path / "a.html").read_text()
    assert all("boundary" not in r for r in json.loads((tmp_path / "p0" / "data_mix.json").read_text()))
    merge = storage.read_json(metrics / "merge" / "iter_2.json")
    merge["parts"] = {"seed_new": 10, "error_seed": 40, "expansion": 30, "high_ppl": 10, "boundary": 10}
    storage.write_json(merge, metrics / "merge" / "iter_2.json")
    run_report(
        metrics_dir=metrics, iterations=["1", "2"], plots_dir=tmp_path / "p1", html=tmp_path / "b.html"
    )
    mix = json.loads((tmp_path / "p1" / "data_mix.json").read_text())
    assert "boundary" not in mix[1] and mix[2]["boundary"] == 0.1 and mix[2]["seed_new"] == 0.1
    page = (tmp_path / "b.html").read_text()
    assert "Boundary (pass rate &lt; 1)" in page
