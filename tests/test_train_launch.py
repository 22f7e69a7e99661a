"""train.launcher (accelerate launch from params), checkpoints and resume, adapter-only saves; on the tiny
model, on CPU."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from looptool.schema import TRAIN, frame, make_sample_id
from looptool.storage import read_json, write_parquet
from looptool.train.config import TrainConfig
from looptool.train.launch import complete_checkpoints, launch_command, should_launch

ROOT = Path(__file__).resolve().parents[1]
TOOLS = [
    {
        "name": "get_time",
        "description": "Time in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
CITIES = ["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Doha", "Pune", "Bern"]


@pytest.fixture(scope="module")
def d_j(tmp_path_factory) -> Path:
    rows = []
    for city in CITIES:
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
    return write_parquet(frame(rows, TRAIN), tmp_path_factory.mktemp("dj") / "train.parquet", TRAIN)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_args(tmp_path: Path, model: Path, data: Path, train: dict) -> tuple[list[str], dict, Path, Path]:
    params = {"iterations": {"1": {"prev": "0", "next": "2", "train": {"seed": 7}}}, "train": train}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out, metrics = tmp_path / "models" / "iter_1", tmp_path / "metrics.json"
    cmd = [
        sys.executable,
        str(ROOT / "stages" / "train.py"),
        "--iteration",
        "1",
        "--model",
        str(model),
        "--data",
        str(data),
        "--out",
        str(out),
        "--metrics",
        str(metrics),
        "--params",
        str(tmp_path / "params.yaml"),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("LOOPTOOL_LAUNCHED", None)
    return cmd, env, out, metrics


SMALL = {
    "per_device_train_batch_size": 2,
    "grpo": {"max_completion_length": 8, "num_generations": 2},
    "lora": {"r": 2, "alpha": 4},
}


def test_launch_command_names_the_shipped_configs():
    cfg = TrainConfig(launcher="zero2", num_processes=8, launcher_args=["--num_machines", "2"])
    cmd = launch_command(cfg, "stages/train.py", ["--iteration", "1"], root=ROOT)
    i = cmd.index("--config_file")
    assert cmd[i + 1] == str(ROOT / "configs" / "accelerate_zero2.yaml")
    assert cmd[i + 2 :] == [
        "--num_processes",
        "8",
        "--num_machines",
        "2",
        "stages/train.py",
        "--iteration",
        "1",
    ]
    for name in ("ddp", "zero3"):
        assert Path(launch_command(TrainConfig(launcher=name), "s.py", [], root=ROOT)[i + 1]).is_file()
    with pytest.raises(FileNotFoundError, match="no accelerate config"):
        launch_command(TrainConfig(launcher="zero9"), "s.py", [], root=ROOT)
    assert not should_launch(TrainConfig()) and should_launch(cfg)
    zero2 = yaml.safe_load((ROOT / "configs" / "accelerate_zero2.yaml").read_text())
    assert (ROOT / zero2["deepspeed_config"]["deepspeed_config_file"]).is_file()


@pytest.mark.slow
def test_two_processes_on_cpu_split_the_data_and_write_one_checkpoint(tiny_model_dir, d_j, tmp_path):
    """`accelerate launch --cpu --num_processes 2` (gloo) from params: 2 GRPO steps; each rank scores other
    prompts; the main process writes the one checkpoint (save_steps 2)."""
    train = {
        **SMALL,
        "max_steps": 2,
        "save_steps": 2,
        "launcher": "ddp",
        "num_processes": 2,
        "launcher_args": ["--mixed_precision", "no", "--main_process_port", str(_free_port())],
    }
    cmd, env, out, metrics = _run_args(tmp_path, tiny_model_dir, d_j, train)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-5000:]
    assert "accelerate" in p.stdout.splitlines()[0] and "--num_processes 2" in p.stdout
    m = read_json(metrics)
    assert m["steps"] == 2 and m["ranks"]["processes"] == 2
    a, b = m["ranks"]["prompts_per_rank"]
    assert a > 0 and b > 0 and m["ranks"]["prompts_on_several_ranks"] == 0  # different data on each rank
    assert m["checkpoints"] == ["checkpoint-2"]
    assert (out / "model.safetensors").exists() and not out.with_name("iter_1.work").exists()


@pytest.mark.slow
def test_killed_train_stage_resumes_from_its_checkpoint(tiny_model_dir, d_j, tmp_path):
    train = {**SMALL, "max_steps": 8, "save_steps": 1, "save_total_limit": 2}
    cmd, env, out, metrics = _run_args(tmp_path, tiny_model_dir, d_j, train)
    work = out.with_name("iter_1.work")
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and not complete_checkpoints(work):
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before a checkpoint could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = complete_checkpoints(work)
    assert done and not metrics.exists() and not (out / "model.safetensors").exists()
    killed_at = int(done[-1].name.split("-")[1])
    assert killed_at < 8
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-5000:]
    m = read_json(metrics)
    assert m["resumed_from"].startswith("checkpoint-") and int(m["resumed_from"].split("-")[1]) >= killed_at
    resumed = int(m["resumed_from"].split("-")[1])
    assert m["steps"] == 8
    assert [r["step"] for r in m["series"]] == list(range(resumed + 1, 9))  # the step count continues
    # a changed config does not resume from another run's checkpoints
    train["grpo"] = {**train.get("grpo", {}), "learning_rate": 1e-4}
    train["max_steps"] = 2
    cmd, env, out, metrics = _run_args(tmp_path, tiny_model_dir, d_j, train)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    while proc.poll() is None and not complete_checkpoints(work):
        time.sleep(0.05)
    proc.wait()
    assert read_json(metrics)["resumed_from"] is None


@pytest.mark.slow
def test_adapter_saves_are_cumulative_and_load_like_checkpoints(tiny_model_dir, d_j, tmp_path):
    from looptool.model import load_causal_lm, resolve_model
    from looptool.train.adapter import adapter_base, is_adapter

    train = {**SMALL, "max_steps": 1, "save": "adapter"}
    (tmp_path / "a").mkdir()
    cmd, env, out1, _ = _run_args(tmp_path / "a", tiny_model_dir, d_j, train)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-4000:]
    assert is_adapter(out1) and not (out1 / "model.safetensors").exists()
    assert adapter_base(out1) == str(tiny_model_dir)
    # iteration 2 from iteration 1's adapter: it keeps training that adapter on the same base
    (tmp_path / "b").mkdir()
    cmd, env, out2, m2 = _run_args(tmp_path / "b", out1, d_j, train)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-4000:]
    assert is_adapter(out2) and adapter_base(out2) == str(tiny_model_dir)
    os.environ["LOOPTOOL_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        merged = resolve_model(out2)
        assert (Path(merged) / "config.json").is_file() and resolve_model(out2) == merged  # merged once
        model = load_causal_lm(out2, device="cpu")
        assert model is not None
    finally:
        os.environ.pop("LOOPTOOL_CACHE_DIR")
    w1 = json.loads((out1 / "adapter_config.json").read_text())
    assert w1["r"] == 2


def test_bad_launcher_args_fail_in_one_line_before_launching(tiny_model_dir, d_j, tmp_path):
    """accelerate's own parser checks train.launcher_args first: one line naming the key, not its usage text."""
    train = {**SMALL, "launcher": "ddp", "num_processes": 1, "launcher_args": ["--bogus"]}
    cmd, env, out, metrics = _run_args(tmp_path, tiny_model_dir, d_j, train)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        "Error: train.launcher_args ['--bogus']: accelerate launch: unrecognized arguments: --bogus"
    ]
    assert "usage" not in p.stdout + p.stderr and not out.exists()


@pytest.mark.slow
def test_a_failed_launch_ends_in_one_line_without_accelerates_traceback(d_j, tmp_path):
    """The launched stage fails (its model folder is missing): its one-line error, then the launcher's,
    and none of accelerate's traceback."""
    train = {
        **SMALL,
        "launcher": "ddp",
        "num_processes": 1,
        "launcher_args": ["--cpu", "--mixed_precision", "no"],
    }
    cmd, env, out, metrics = _run_args(tmp_path, tmp_path / "no_such_model", d_j, train)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, p.stderr
    errors = [x for x in p.stderr.splitlines() if x.startswith("Error: ")]
    assert "no_such_model" in errors[0] and errors[-1].startswith("Error: train: accelerate launch exited")
    assert "Traceback" not in p.stderr and "CalledProcessError" not in p.stderr.replace(errors[-1], "")
    assert p.stderr.splitlines()[-1] == errors[-1]


def test_relay_passes_the_run_through_and_holds_the_launchers_traceback():
    import io

    from looptool.train.launch import _launcher_error, relay_stderr

    text = (
        b"INFO looptool: step 1\rbar 50%\rbar 100%\n"
        b"Error: model nowhere: no such folder\n"
        b"RuntimeError: Error: model nowhere\n\nTraceback (most recent call last):\n  File 'x'\n"
        b"subprocess.CalledProcessError: Command ['python'] returned non-zero exit status 1.\n"
    )
    r, w = os.pipe()
    os.write(w, text)
    os.close(w)
    out, held = io.BytesIO(), []
    relay_stderr(r, out, held)
    os.close(r)
    assert (
        out.getvalue() == b"INFO looptool: step 1\rbar 50%\rbar 100%\nError: model nowhere: no such folder\n"
    )
    assert b"".join(held).startswith(b"RuntimeError") and _launcher_error(b"".join(held).decode()) == ""
    usage = "usage: accelerate <command> [<args>]\nAccelerate CLI tool: error: unrecognized arguments: --x\n"
    assert _launcher_error(usage) == ": Accelerate CLI tool: error: unrecognized arguments: --x"
