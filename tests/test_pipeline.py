"""The whole DVC pipeline on the tiny model, end to end, then incrementality.

A copy of the repository (code, dvc.yaml, params.yaml) runs `dvc repro` with small params and the tiny model
as the base; then a change to iteration 2's params must leave every iteration-1 stage untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.dvc, pytest.mark.slow]


def _run(args, cwd, env, check=True):
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"
        )
    return p


def small_params(base: dict, model_dir: Path, benchmarks: bool) -> dict:
    """The demo's params at test size; ``benchmarks``: evaluate on bfcl-eval's package data and the ACEBench
    fixtures (paths relative to the repository root, where DVC runs the stages), else on the held-out split only."""
    p = json.loads(json.dumps(base))
    p["model"]["source"] = str(model_dir)
    p["backends"]["student"]["batch_size"] = 4
    p["seed"].update(pool_size=60, heldout_size=12, label_noise=0.2)
    p["select"]["dataset_size"] = 8
    p["warmup"].update(max_steps=1, eval_samples=0)
    p["train"].update(max_steps=1, per_device_train_batch_size=2)
    p["train"]["grpo"].update(num_generations=2, max_completion_length=8)
    p["probe"]["max_new_tokens"] = 8
    p["expand"].update(k=1, max_samples=4)
    p["merge"]["dataset_size"] = 8
    p["eval"].update(limit=1, heldout_limit=4, max_new_tokens=8)
    if benchmarks:
        p["eval"].update(bfcl_dir="auto", acebench_dir="tests/data/acebench/data_all/data_en")
        p["eval"]["bfcl_categories"] = ["simple", "irrelevance"]
        p["eval"]["acebench_categories"] = ["normal_single_turn_single_function"]
    else:
        p["eval"].update(bfcl_dir=None, acebench_dir=None)
    return p


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, tiny_model_dir):
    repo = tmp_path_factory.mktemp("pipeline") / "repo"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in files:
        if f.startswith(("data/", "models/", "metrics/", "reports/")) or not (ROOT / f).is_file():
            continue
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    params = small_params(yaml.safe_load((ROOT / "params.yaml").read_text()), tiny_model_dir, True)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(
        os.environ,
        DVC_NO_ANALYTICS="1",
        LOOPTOOL_CACHE_DIR=str(repo / ".looptool-cache"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    _run(["git", "init", "-q"], repo, env)
    _run(["git", "config", "user.email", "t@t"], repo, env)
    _run(["git", "config", "user.name", "t"], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-qm", "fixture"], repo, env)
    repro = _run(["dvc", "repro"], repo, env)
    return repo, env, repro.stdout


def test_full_run_writes_every_output(pipeline):
    repo, _, log = pipeline
    for j in (1, 2):
        for name in ("train", "probe", "verdicts", "expansions", "events", "mechanisms"):
            assert (repo / f"data/iter_{j}/{name}.parquet").exists(), name
        assert (repo / f"models/iter_{j}/config.json").exists()
        for stage in ("train", "probe", "verify", "expand", "merge", "mechanisms", "eval"):
            assert (repo / f"metrics/{stage}/iter_{j}.json").exists(), stage
    assert (repo / "data/iter_3/train.parquet").exists()
    assert (repo / "metrics/loop.json").exists() and (repo / "reports/loop.html").exists()
    # the headline stages: the only DVC metrics
    heads = {j: json.loads((repo / f"metrics/iter_{j}.json").read_text()) for j in (0, 1, 2)}
    assert heads[1]["rows"] == 8 and "rows" not in heads[0] and heads[2]["call_n"] == heads[0]["call_n"]
    verify = json.loads((repo / "metrics/verify/iter_1.json").read_text())
    assert "noise_recovery" in verify
    merge = json.loads((repo / "metrics/merge/iter_1.json").read_text())
    assert merge["size"] == 8 and sum(merge["parts"].values()) == 8
    mech = json.loads((repo / "metrics/mechanisms/iter_1.json").read_text())
    t = mech["targeting"]  # the random draw: as many pool rows as D_2's expansions and Seed-new rows
    assert t["random"]["n"] == t["targeted"]["n"] == merge["parts"]["expansion"] + merge["parts"]["seed_new"]
    assert sum(f["n"] for f in mech["parts"].values()) == 8  # model_1 on every row of D_1 (probe@1)
    assert "Mechanisms" in (repo / "reports/loop.html").read_text()


def test_changing_iteration_2_leaves_iteration_1_alone(pipeline):
    repo, env, _ = pipeline
    assert "up to date" in _run(["dvc", "status"], repo, env).stdout.lower() or _run(
        ["dvc", "status", "--json"], repo, env
    ).stdout.strip() in ("{}", "")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["iterations"]["2"]["train"] = {"grpo": {"learning_rate": 1.0e-4}}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    # Only the stages that read iterations.2.train (and report, which reads the iteration list) are changed; the
    # rest of iteration 2 re-runs if and when train@2's output changes (DVC compares hashes as it goes).
    status = json.loads(_run(["dvc", "status", "--json"], repo, env).stdout or "{}")
    assert set(status) == {"train@2", "report"}, set(status)
    dry = _run(["dvc", "repro", "--dry"], repo, env).stdout
    would_run = {line.split("'")[1] for line in dry.splitlines() if line.startswith("Running stage")}
    assert would_run == {"train@2", "report"}, would_run

    log = _run(["dvc", "repro"], repo, env).stdout
    ran = {line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage")}
    assert {"train@2", "report"} <= ran, ran
    assert not {s for s in ran if s.endswith("@1")}
    assert not ran & {"prepare_model", "seed", "select", "warmup", "evaluate_base"}
    assert _run(["dvc", "status", "--json"], repo, env).stdout.strip() in ("{}", "")


def test_own_data_recipe_runs_the_loop_and_returns_to_the_demo(pipeline, tmp_path):
    """docs/own-data.md "Run the loop on your own data" on a copy of the demo run (its D_1..D_3 and DVC cache there):
    D_1 from imported files warns in `looptool stats` beside the demo's D_2, D_3; the whole loop then runs on
    them with an empty held-out split; the way back in docs/own-data.md restores the demo with nothing stale."""
    src, env, _ = pipeline
    repo = tmp_path / "repo"
    shutil.copytree(src, repo, symlinks=True)
    env = dict(env, LOOPTOOL_CACHE_DIR=str(repo / ".looptool-cache"))
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-qm", "the demo's run"], repo, env)
    names = ["openai.jsonl", "hermes.jsonl", "sharegpt.json", "xlam.json"]
    for n in names:
        shutil.copy(ROOT / "tests" / "data" / "import" / n, repo / "imports" / n)
    own = ["-S", "seed.mode=import", "-S", f"seed.import_files=[{','.join('imports/' + n for n in names)}]"]
    own += ["-S", "seed.label_noise=0", "-S", "seed.import_heldout_fraction=0"]
    own += ["-S", "select.dataset_size=6", "-S", "merge.dataset_size=6"]
    looptool = [sys.executable, "-m", "looptool.cli", "stats"]

    _run(["dvc", "exp", "run", *own, "select"], repo, env)
    stats = _run(looptool, repo, env)
    assert stats.stderr.startswith("warning: these datasets come from different runs: "), stats.stderr
    assert "of iter_2 do not follow from iter_1 and the pool" in stats.stderr

    _run(["dvc", "exp", "run", *own], repo, env)
    stats = _run(looptool, repo, env)
    assert "different runs" not in stats.stderr, stats.stderr
    import polars as pl

    d3 = pl.read_parquet(repo / "data/iter_3/train.parquet")
    assert d3.height == 6 and set(d3["origin"]) <= {"import", "expansion"}, d3["origin"].to_list()
    ev = json.loads((repo / "metrics/eval/iter_1.json").read_text())
    assert ev["heldout"] == {"skipped": "held-out split data/seed/heldout.parquet is empty"}
    assert (
        "heldout skipped: held-out split data/seed/heldout.parquet is empty"
        in (repo / "reports/loop.html").read_text()
    )

    for n in names:  # back to the demo, as docs/own-data.md says
        (repo / "imports" / n).unlink()
    _run(["git", "checkout", "--", "params.yaml", "dvc.lock", "metrics", "reports"], repo, env)
    _run(["dvc", "checkout"], repo, env)
    assert _run(["dvc", "status", "--json"], repo, env).stdout.strip() in ("{}", "")
    assert set(pl.read_parquet(repo / "data/seed/pool.parquet")["origin"]) == {"seed"}
    assert "different runs" not in _run(looptool, repo, env).stderr
