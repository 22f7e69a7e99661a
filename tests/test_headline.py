"""The headline metrics (looptool.headline, stage ``headline``): what DVC shows and compares as metrics."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import looptool.headline as hl
from looptool.errors import InputError
from looptool.headline import headline, run_headline
from looptool.stage import write_metrics

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("call", "no_call", "heldout")
KEYS = [
    *(f"{f}{s}" for f in FIGURES for s in ("", "_n", "_lo", "_hi")),
    "bfcl_overall",
    "bfcl_single_turn",
    "bfcl_non_live",
    "bfcl_live",
    "bfcl_multi_turn",
]
LOOP_KEYS = ["rows", "mastered", "relabeled"]


def _eval(**heldout) -> dict:
    base = {
        "accuracy": 0.5,
        "correct": 3,
        "n": 6,
        "ci95": [0.1876, 0.8124],
        "call_rows": {"accuracy": 0.75, "correct": 3, "n": 4, "ci95": [0.3006, 0.9544]},
        "no_call_rows": {"accuracy": 0.0, "correct": 0, "n": 2, "ci95": [0.0, 0.6576]},
    }
    base.update(heldout)
    return {
        "heldout": {k: v for k, v in base.items() if v is not None},
        "summary": {"bfcl_overall": None, "bfcl_single_turn": 0.25, "bfcl_live": 0.1, "heldout": 0.5},
        "run": {"backend": {"weights": "sha256:abc", "model": "models/iter_1"}},
        "wall_s": 12.5,
    }


def test_doctests():
    assert doctest.testmod(hl).failed == 0


def test_shape_order_and_values():
    h = headline(evaluation=_eval(), probe={"n": 48, "mastered": 4, "wall_s": 3.0}, verify={"relabeled": 2})
    assert list(h) == KEYS + LOOP_KEYS
    assert [h["call"], h["call_n"], h["call_lo"], h["call_hi"]] == [0.75, 4, 0.3006, 0.9544]
    assert [h["no_call"], h["no_call_n"], h["heldout"], h["heldout_n"]] == [0.0, 2, 0.5, 6]
    assert (h["bfcl_single_turn"], h["bfcl_live"], h["bfcl_overall"], h["bfcl_multi_turn"]) == (
        0.25,
        0.1,
        None,
        None,
    )
    assert (h["rows"], h["mastered"], h["relabeled"]) == (48, 4, 2)
    # results only: numbers or null, nothing of the run (wall time, paths, hashes)
    assert all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in h.values())
    assert not {k for k in h if re.search(r"wall|path|model|weights|hash|seconds", k)}


def test_iteration_zero_has_no_dataset_figures():
    assert list(headline(evaluation=_eval())) == KEYS


def test_missing_figures_are_null_and_missing_intervals_are_computed():
    ev = _eval(call_rows=None, ci95=None)  # metrics older than the call / no-call split and the intervals
    h = headline(evaluation=ev, probe={"n": 8, "mastered": 1}, verify={})
    assert list(h) == KEYS + LOOP_KEYS
    assert [h["call"], h["call_n"], h["call_lo"], h["call_hi"], h["relabeled"]] == [None] * 5
    assert (h["heldout_lo"], h["heldout_hi"]) == (0.1876, 0.8124)  # Wilson of 3 / 6
    no_summary = dict(ev)
    del no_summary["summary"]  # derived from the figures, as the report does
    assert headline(evaluation=no_summary)["heldout"] == 0.5


@pytest.mark.parametrize(
    ("evaluation", "needle"),
    [
        (_eval(n="6"), "heldout.n: expected an integer"),
        (_eval(call_rows={"accuracy": "high", "n": 4}), "heldout.call_rows.accuracy: expected a number"),
        (_eval(ci95=[0.1]), "heldout.ci95 must be [lo, hi]"),
        (_eval(no_call_rows=[1, 2]), "heldout.no_call_rows must be an object"),
        (_eval(correct=9, ci95=None), "heldout: need 0 <= correct <= n"),
        ({"heldout": "all good"}, "heldout must be an object"),
    ],
)
def test_bad_evaluation_metrics_name_the_file_and_key(evaluation, needle):
    with pytest.raises(InputError) as e:
        headline(evaluation=evaluation, names={"evaluation": "metrics/eval/iter_1.json"})
    assert e.value.message.startswith("metrics/eval/iter_1.json: ") and needle in e.value.message
    assert "\n" not in e.value.message


def test_run_headline_names_the_bad_file(tmp_path):
    ev, probe, verify = tmp_path / "eval.json", tmp_path / "probe.json", tmp_path / "verify.json"
    ev.write_text(json.dumps(_eval()))
    probe.write_text(json.dumps({"n": 48, "mastered": 4.5}))
    verify.write_text("{not json")
    with pytest.raises(InputError, match=r"verify\.json: not valid JSON"):
        run_headline(evaluation=ev, probe=probe, verify=verify)
    verify.write_text(json.dumps({"relabeled": 1}))
    with pytest.raises(InputError, match=r"probe\.json: mastered: expected an integer"):
        run_headline(evaluation=ev, probe=probe, verify=verify)
    with pytest.raises(InputError, match=r"nope\.json: not found"):
        run_headline(evaluation=tmp_path / "nope.json")


def test_stage_script_writes_the_headline_in_its_order(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("stage_headline", ROOT / "stages" / "headline.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    (tmp_path / "eval.json").write_text(json.dumps(_eval()))
    out = tmp_path / "iter_0.json"
    r = CliRunner().invoke(mod.main, ["--eval", str(tmp_path / "eval.json"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert list(json.loads(text)) == KEYS and text.endswith("}\n")
    write_metrics(json.loads(text), tmp_path / "again.json", sort_keys=False)
    assert (tmp_path / "again.json").read_text() == text  # byte-stable: a re-run changes nothing


def test_committed_headlines_match_the_committed_stage_metrics(tmp_path):
    """metrics/iter_j.json in git is what the headline stage makes of the committed stage metrics."""
    metrics = ROOT / "metrics"
    found = sorted(metrics.glob("iter_*.json"))
    if not found:
        pytest.skip("no committed headline metrics")
    for path in found:
        j = int(re.fullmatch(r"iter_(\d+)\.json", path.name).group(1))
        loop = (
            {}
            if j == 0
            else {"probe": metrics / f"probe/iter_{j}.json", "verify": metrics / f"verify/iter_{j}.json"}
        )
        want = run_headline(evaluation=metrics / f"eval/iter_{j}.json", **loop)
        write_metrics(want, tmp_path / path.name, sort_keys=False)
        assert path.read_text() == (tmp_path / path.name).read_text(), f"{path}: stale; dvc repro headline"
        assert list(want) == (KEYS if j == 0 else KEYS + LOOP_KEYS)


# --- dvc.yaml: only the headline files are DVC metrics ----------------------------------------------------------


def _dvc_yaml() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def _entries(items) -> dict[str, dict]:
    return {
        next(iter(e)) if isinstance(e, dict) else e: (next(iter(e.values())) if isinstance(e, dict) else {})
        for e in items or []
    }


def test_only_the_headline_files_are_metrics():
    dvc = _dvc_yaml()
    declared = {}
    for name, st in dvc["stages"].items():
        body = st.get("do", st)
        for path, opts in _entries(body.get("metrics")).items():
            declared[path] = (name, opts)
    top = dvc.get("metrics") or []
    assert sorted(declared) == ["metrics/iter_${key}.json", "metrics/iter_0.json"], declared
    assert declared["metrics/iter_0.json"][0] == "headline_base"
    assert declared["metrics/iter_${key}.json"][0] == "headline"
    assert all(opts.get("cache") is False for _, opts in declared.values())
    assert all(re.fullmatch(r"metrics/iter_(\d+|\$\{key\})\.json", p) for p in top), top


def test_stage_metrics_stay_uncached_outs():
    """Every stage's own metrics JSON (config echoes, wall_s for `looptool times`) is still written and tracked,
    as an out with cache: false, so its dvc.lock entry is what it was as a metric."""
    stage_json = {}
    for st in _dvc_yaml()["stages"].values():
        body = st.get("do", st)
        for path, opts in _entries(body.get("outs")).items():
            if path.startswith("metrics/"):
                stage_json[path] = opts
    for want in (
        "metrics/prepare_model.json",
        "metrics/seed.json",
        "metrics/select.json",
        "metrics/warmup.json",
        "metrics/loop.json",
        *(
            f"metrics/{s}/iter_${{key}}.json"
            for s in ("train", "probe", "verify", "expand", "merge", "mechanisms", "eval")
        ),
        "metrics/eval/iter_0.json",
    ):
        assert stage_json.get(want) == {"cache": False}, want


def test_headline_stages_read_what_they_declare():
    stages = _dvc_yaml()["stages"]
    for name in ("headline_base", "headline"):
        body = stages[name].get("do", stages[name])
        deps = set(_entries(body["deps"]))
        read = re.findall(r"--(?:eval|probe|verify) (\S+)", body["cmd"])
        assert read and set(read) <= deps, (name, read)
        out = re.search(r"--out (\S+)", body["cmd"]).group(1)
        assert out in _entries(body["metrics"]), (name, out)
