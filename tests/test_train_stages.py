"""stages/train.py and stages/warmup.py: the click commands DVC runs, on the tiny model (seconds)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from looptool.schema import SAMPLE, TRAIN, frame, make_sample_id
from looptool.storage import read_json, write_parquet

ROOT = Path(__file__).resolve().parents[1]


def _stage(name: str):
    spec = importlib.util.spec_from_file_location(f"stage_{name}", ROOT / "stages" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


TOOLS = [
    {
        "name": "get_time",
        "description": "Time in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("stage-data")
    rows = []
    for city in ["Paris", "Rome", "Oslo", "Lima"]:
        msgs = [{"role": "user", "content": f"Time in {city}?"}]
        rows.append(
            {
                "sample_id": make_sample_id(TOOLS, msgs),
                "tools": TOOLS,
                "messages": msgs,
                "label": [{"name": "get_time", "arguments": {"city": city}}],
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {},
                "part": "seed_new",
            }
        )
    write_parquet(frame(rows, TRAIN), d / "train.parquet", TRAIN)
    write_parquet(frame(rows, SAMPLE), d / "pool.parquet", SAMPLE)
    return d


def _params(path: Path, **sections) -> Path:
    params = {"iterations": {"1": {"prev": "0", "next": "2", "train": {"seed": 7}}}, **sections}
    path.write_text(yaml.safe_dump(params))
    return path


def test_train_stage_toolmatch_no_signal(tiny_model_dir, data_dir, tmp_path, caplog):
    """The stage with the real ToolMatch reward: a random model never calls right, so every group has zero
    advantage; the stage still writes a checkpoint and metrics, and warns."""
    params = _params(
        tmp_path / "params.yaml",
        train={
            "max_steps": 2,
            "grpo": {"max_completion_length": 8},
            "no_signal_patience": 2,
            "lora": {"r": 2, "alpha": 4},
        },
    )
    out, metrics = tmp_path / "models" / "iter_1", tmp_path / "metrics" / "train" / "iter_1.json"
    with caplog.at_level(logging.WARNING, logger="looptool"):
        res = CliRunner().invoke(
            _stage("train"),
            [
                "--iteration",
                "1",
                "--model",
                str(tiny_model_dir),
                "--data",
                str(data_dir / "train.parquet"),
                "--out",
                str(out),
                "--metrics",
                str(metrics),
                "--params",
                str(params),
            ],
            catch_exceptions=False,
        )
    assert res.exit_code == 0, res.output
    m = read_json(metrics)
    assert m["iteration"] == 1 and m["seed"] == 7 and m["steps"] == 2
    assert [r["zero_std_frac"] for r in m["series"]] == [1.0, 1.0] and m["reward_mean"] == 0.0
    assert m["no_signal"] is True and "zero advantage" in caplog.text
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()


def _train_args(tiny_model_dir, data_dir, out, metrics, params):
    return [
        "--iteration", "1", "--model", str(tiny_model_dir), "--data", str(data_dir / "train.parquet"),
        "--out", str(out), "--metrics", str(metrics), "--params", str(params),
    ]  # fmt: skip


def test_train_stage_dynamic_sampling(tiny_model_dir, data_dir, tmp_path):
    """``train.dynamic_sampling`` through the stage: with ToolMatch on a random model no prompt has a signal, so
    the one group per step tries ``max_resample`` other prompts and stays unreplaced; the counts are in the
    metrics and the stage's summary line. With ``rollouts: trl`` the stage refuses it in one line."""
    train = {
        "max_steps": 1,
        "grpo": {"max_completion_length": 8},
        "lora": {"r": 2, "alpha": 4},
        "rollouts": "engine",
        "dynamic_sampling": True,
        "max_resample": 2,
    }
    params = _params(tmp_path / "params.yaml", train=train)
    out, metrics = tmp_path / "models" / "iter_1", tmp_path / "m.json"
    res = CliRunner().invoke(
        _stage("train"), _train_args(tiny_model_dir, data_dir, out, metrics, params), catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    m = read_json(metrics)
    assert m["dynamic_sampling"] == {"empty": 1, "resampled": 2, "replaced": 0, "unreplaced": 1}
    assert m["series"][0]["resampled"] == 2 and m["signal_steps"] == 0
    assert "dynamic sampling replaced 0 of 1 equal-reward group(s) (2 prompt(s) tried)" in res.output

    params = _params(tmp_path / "params.yaml", train={**train, "rollouts": "trl"})
    res = CliRunner().invoke(_stage("train"), _train_args(tiny_model_dir, data_dir, out, metrics, params))
    assert res.exit_code != 0, res.output
    assert "dynamic_sampling: true needs rollouts: engine" in res.output + str(res.exception), res.output


def test_train_stage_rejects_unknown_param(tiny_model_dir, data_dir, tmp_path):
    params = _params(tmp_path / "params.yaml", train={"grpo": {"num_generation": 4}})
    res = CliRunner().invoke(
        _stage("train"),
        [
            "--iteration",
            "1",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(data_dir / "train.parquet"),
            "--out",
            str(tmp_path / "o"),
            "--metrics",
            str(tmp_path / "m.json"),
            "--params",
            str(params),
        ],
    )
    assert res.exit_code != 0 and "num_generation" in (
        res.output + str(res.exception)
    )  # one-line ConfigError


def test_warmup_stage_disabled(tiny_model_dir, data_dir, tmp_path):
    params = _params(tmp_path / "params.yaml", warmup={"enabled": False})
    out = tmp_path / "models" / "iter_0"
    res = CliRunner().invoke(
        _stage("warmup"),
        [
            "--model",
            str(tiny_model_dir),
            "--pool",
            str(data_dir / "pool.parquet"),
            "--out",
            str(out),
            "--metrics",
            str(tmp_path / "warmup.json"),
            "--params",
            str(params),
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0 and "disabled" in res.output
    assert (out / "model.safetensors").stat().st_ino == (tiny_model_dir / "model.safetensors").stat().st_ino


def test_warmup_stage_trains(tiny_model_dir, data_dir, tmp_path):
    params = _params(
        tmp_path / "params.yaml",
        warmup={
            "max_steps": 1,
            "per_device_train_batch_size": 2,
            "eval_samples": 2,
            "lora": {"r": 2, "alpha": 4},
        },
    )
    out = tmp_path / "models" / "iter_0"
    res = CliRunner().invoke(
        _stage("warmup"),
        [
            "--model",
            str(tiny_model_dir),
            "--pool",
            str(data_dir / "pool.parquet"),
            "--heldout",
            str(data_dir / "pool.parquet"),
            "--out",
            str(out),
            "--metrics",
            str(tmp_path / "warmup.json"),
            "--params",
            str(params),
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    m = read_json(tmp_path / "warmup.json")
    assert m["steps"] == 1 and m["heldout_samples"] == 2 and (out / "model.safetensors").exists()


def test_train_stage_method_sft(tiny_model_dir, data_dir, tmp_path):
    """train.method: sft fine-tunes on D_j's labels with its own rate (train.sft.learning_rate), moves the
    weights and saves a plain checkpoint; GRPO-only fields are ignored."""
    from looptool.train.common import load_trained

    params = _params(
        tmp_path / "params.yaml",
        train={
            "method": "sft",
            "max_steps": 2,
            "per_device_train_batch_size": 2,
            "grpo": {"num_generations": 4},  # GRPO-only: ignored by sft (batch 2 would not hold a GRPO group)
            "sft": {"max_length": 256, "learning_rate": 1e-2},
            "lora": {"r": 2, "alpha": 4},
        },
    )
    out, metrics = tmp_path / "models" / "iter_1", tmp_path / "metrics" / "train" / "iter_1.json"
    args = ["--iteration", "1", "--model", str(tiny_model_dir), "--data", str(data_dir / "train.parquet")]
    args += ["--out", str(out), "--metrics", str(metrics), "--params", str(params)]
    res = CliRunner().invoke(_stage("train"), args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    m = read_json(metrics)
    assert m["method"] == "sft" and m["steps"] == 2 and m["seed"] == 7 and m["loss_first"] > 0
    assert m["samples"] == sum(m["parts"].values()) and m["merged_lora"] is True
    load_trained(out)
    before = load_trained(tiny_model_dir).state_dict()
    after = load_trained(out).state_dict()
    assert max(float((after[k] - before[k]).abs().max()) for k in before) > 1e-6


def test_train_method_is_checked():
    from looptool.config import ConfigError
    from looptool.stage import section_config
    from looptool.train import TrainConfig

    with pytest.raises((ConfigError, ValueError), match="method"):
        section_config(TrainConfig, "train", params={"train": {"method": "ppo"}})
    with pytest.raises((ConfigError, ValueError), match="max_lenght"):
        section_config(TrainConfig, "train", params={"train": {"method": "sft", "sft": {"max_lenght": 4}}})


def test_sft_checkpoints_resume_past_a_truncated_one(tiny_model_dir, data_dir, tmp_path, monkeypatch, caplog):
    """train.save_steps under method: sft writes resumable checkpoints (it used to be ignored). A truncated
    newest checkpoint (a kill mid-write) is skipped with one warning naming it; when no checkpoint loads,
    the stage fails with one line naming the working area and what to do, and deletes nothing."""
    import looptool.train.common as common

    params = _params(
        tmp_path / "params.yaml",
        train={
            "method": "sft",
            "max_steps": 2,
            "save_steps": 1,
            "save_total_limit": 2,
            "per_device_train_batch_size": 2,
            "sft": {"max_length": 256, "learning_rate": 1e-2},
            "lora": {"r": 2, "alpha": 4},
        },
    )
    out, metrics = tmp_path / "models" / "iter_1", tmp_path / "metrics" / "train" / "iter_1.json"
    work = out.with_name("iter_1.work")
    args = ["--iteration", "1", "--model", str(tiny_model_dir), "--data", str(data_dir / "train.parquet")]
    args += ["--out", str(out), "--metrics", str(metrics), "--params", str(params)]

    def crash_before_saving():
        with monkeypatch.context() as m:
            m.setattr(common, "save_final", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed")))
            with pytest.raises(RuntimeError, match="killed"):
                CliRunner().invoke(_stage("train"), args, catch_exceptions=False)
        assert sorted(p.name for p in work.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]

    def truncate(ckpt: str) -> None:
        for f in (work / ckpt).glob("*.safetensors"):
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])

    crash_before_saving()
    truncate("checkpoint-2")
    with caplog.at_level(logging.WARNING, logger="looptool.train.launch"):
        res = CliRunner().invoke(_stage("train"), args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    m = read_json(metrics)
    assert m["resumed_from"] == "checkpoint-1" and m["steps"] == 2 and [r["step"] for r in m["series"]] == [2]
    skipped = [r.getMessage() for r in caplog.records if "skipping damaged" in r.getMessage()]
    assert len(skipped) == 1 and str(work / "checkpoint-2") in skipped[0] and "checkpoint-1" in skipped[0]
    assert not work.exists() and (out / "config.json").exists()

    metrics.unlink()
    crash_before_saving()
    truncate("checkpoint-1")
    truncate("checkpoint-2")
    res = CliRunner().invoke(_stage("train"), args)
    assert res.exit_code == 1 and not metrics.exists()
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in line, res.output
    assert f"{work}: no checkpoint of this run loads" in line and "train.resume: false" in line
    assert "checkpoint-1" in line and "checkpoint-2" in line
    assert sorted(p.name for p in work.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
