"""bench/grpo_signal_study.py: the study's report pairs each arm with the default of the same training seed on the
same rows, at equal steps and at the equal-rollouts checkpoint, and writes every scored row."""

import csv
import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("grpo_signal_study", ROOT / "bench/grpo_signal_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _eval(path: Path, correct: list[int]) -> None:
    """Rows r0..r5: r0-r3 call rows, r4-r5 no-call rows."""
    rows = [
        {"sample_id": f"r{i}", "call_row": i < 4, "correct": bool(c), "names": float(c), "arg_f1": 0.5 * c}
        for i, c in enumerate(correct)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rows": rows}))


def _train(d: Path, steps: int, resampled: list[int]) -> None:
    series = [
        {"step": i + 1, "zero_std_frac": 0.0 if i % 2 else 1.0, "resampled": r}
        for i, r in enumerate(resampled)
    ]
    rollouts = 4 * steps + 4 * sum(resampled)
    d.mkdir(parents=True, exist_ok=True)
    (d / "train_metrics.json").write_text(
        json.dumps({"steps": steps, "series": series, "rollouts_total": rollouts})
    )
    (d / "train_settings.json").write_text(
        json.dumps({"train": {"per_device_train_batch_size": 4, "grpo": {"num_generations": 4}}})
    )
    (d / "step_12").mkdir()
    (d / "step_12" / "saved.json").write_text(json.dumps({"step": 12, "wall_s": 100.0, "cpu_s": 190.0}))


def test_report_pairs_arms_with_the_same_seeds_default(tmp_path):
    w = tmp_path / "work"
    _eval(w / "model1" / "eval_step_0.json", [0, 0, 0, 0, 1, 1])
    for seed, default12, default16, bd in (
        (1, [1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 1, 0]),
        (2, [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 1, 1]),
    ):
        _train(w / f"s{seed}-default", 24, [0] * 24)
        _eval(w / f"s{seed}-default" / "eval_step_12.json", default12)
        _eval(w / f"s{seed}-default" / "eval_step_16.json", default16)
        _train(w / f"s{seed}-bd", 12, [1] * 4 + [0] * 8)
        _eval(w / f"s{seed}-bd" / "eval_step_12.json", bd)
        (w / f"s{seed}-equal-rollouts.json").write_text(json.dumps({"bd_rollouts": 64, "default_step": 16}))
    out = tmp_path / "out"
    r = CliRunner().invoke(_bench().main, ["--work", str(w), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    c = res["comparisons"]["bd"]
    # call rows: seed 1: bd 3/4 vs default 1/4 -> +0.5; seed 2: 1/4 vs 0/4 -> +0.25
    assert [p["diff"] for p in c["equal_steps/call"]["per_seed"]] == [0.5, 0.25]
    assert c["equal_steps/call"]["diff"] == pytest.approx(0.375)
    # equal rollouts: against step 16: seed 1 3/4 vs 2/4 -> +0.25; seed 2 +0.25
    assert [p["reference"] for p in c["equal_rollouts/call"]["per_seed"]] == [
        "default/seed1/step16",
        "default/seed2/step16",
    ]
    assert c["equal_rollouts/call"]["diff"] == pytest.approx(0.25)
    # no-call rows: seed 1 bd misses r5 -> -0.5; seed 2 0
    assert c["equal_steps/no_call"]["diff"] == pytest.approx(-0.25)
    assert res["training"]["bd/seed1"]["rollouts_to_12"] == 12 * 4 + 4 * 4
    assert res["training"]["default/seed1"]["rollouts_to_12"] == 48
    assert res["training"]["bd/seed1"]["signal_steps_to_12"] == 6
    with (out / "samples.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 * (1 + 2 * 3)  # model_1 and, per seed, default 12 and 16 and bd 12
    assert {r["model"] for r in rows} >= {"model_1", "bd/seed2/step12", "default/seed1/step16"}
