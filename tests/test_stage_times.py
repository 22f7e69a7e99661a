"""looptool.stagetimes / `looptool times`: the per-stage time table from a run's metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from looptool.stagetimes import collect, gnu_time_total, stage_seconds, table

ROOT = Path(__file__).resolve().parents[1]


def _write(root: Path, rel: str, data: dict) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data))


def _run(root: Path) -> Path:
    m = root / "metrics"
    _write(m, "prepare_model.json", {"kind": "converted", "wall_s": 20.0})
    _write(m, "seed.json", {"wall_s": 2.0})
    _write(m, "select.json", {"seconds": 0.5})  # a run from before the key was unified
    _write(m, "warmup.json", {"wall_s": 300.0, "train_runtime_s": 280.0})
    _write(m, "eval/iter_0.json", {"run": {"seconds": 100.0}})  # older evaluate: run.seconds
    for j in (1, 2):
        _write(m, f"train/iter_{j}.json", {"wall_s": 50.0})
        _write(m, f"probe/iter_{j}.json", {"wall_s": 60.0})
        _write(m, f"verify/iter_{j}.json", {"wall_s": 0.1})
        _write(m, f"expand/iter_{j}.json", {"wall_s": 0.2})
        _write(m, f"merge/iter_{j}.json", {"wall_s": 0.2})
        _write(m, f"mechanisms/iter_{j}.json", {"wall_s": 30.0})
        _write(m, f"eval/iter_{j}.json", {"wall_s": 80.0, "run": {"prompts": 3}})
    _write(m, "loop.json", {"iterations": []})  # the report's aggregate: not a stage
    return m


def test_rows_in_pipeline_order_with_their_keys(tmp_path):
    rows = collect(_run(tmp_path))
    got = [(r.stage, r.iteration) for r in rows]
    assert got[:5] == [
        ("prepare_model", None),
        ("seed", None),
        ("select", None),
        ("warmup", None),
        ("evaluate_base", 0),
    ]
    assert got[5:12] == [
        (s, 1) for s in ("train", "probe", "verify", "expand", "merge", "mechanisms", "evaluate")
    ]
    assert len(rows) == 19
    keys = {(r.stage, r.iteration): r.key for r in rows}
    assert keys[("select", None)] == "seconds"
    assert keys[("evaluate_base", 0)] == "run.seconds"
    assert keys[("warmup", None)] == "wall_s"  # wall_s wins over train_runtime_s
    assert sum(r.seconds for r in rows) == pytest.approx(20 + 2 + 0.5 + 300 + 100 + 2 * 220.5)


def test_table_shares_and_other_row(tmp_path):
    rows = collect(_run(tmp_path))
    total = 1000.0
    text = table(rows, total)
    summed = sum(r.seconds for r in rows)
    assert "warmup" in text and "30.0%" in text  # 300 of 1000
    assert f"{total - summed:9.1f}" in text  # the 'other' row
    assert "by stage, all iterations: warmup 300 s" in text


def test_missing_time_and_bad_files(tmp_path):
    assert stage_seconds({"kind": "x"}) == (None, None)
    assert stage_seconds({"wall_s": True}) == (None, None)
    m = tmp_path / "metrics"
    _write(m, "probe/iter_1.json", {"wall_s": 1.0})
    (m / "probe" / "notes.json").write_text("{}")  # not iter_<j>.json: ignored by the glob
    (m / "seed.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="seed.json: expected a JSON object"):
        collect(m)
    with pytest.raises(ValueError, match="not a folder"):
        collect(tmp_path / "nope")


def test_gnu_time_total():
    assert gnu_time_total("\tElapsed (wall clock) time (h:mm:ss or m:ss): 27:03.51\n") == pytest.approx(
        1623.51
    )
    assert gnu_time_total("Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03\n") == pytest.approx(3723)
    assert gnu_time_total("nothing here") is None


def test_times_command_prints_the_table(tmp_path):
    _run(tmp_path)
    log = tmp_path / "time.log"
    log.write_text("\tElapsed (wall clock) time (h:mm:ss or m:ss): 16:40.00\n")
    out = subprocess.run(
        [sys.executable, "-m", "looptool.cli", "times", str(tmp_path), "--time-log", str(log)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "evaluate_base" in out.stdout and "other" in out.stdout and "1000.0" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "looptool.cli", "times", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and "not a folder" in bad.stderr
