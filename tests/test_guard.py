"""A user's mistake ends as one line on stderr, a non-zero exit code and no traceback (looptool.guard).

Each test runs the command a user would type and checks the message, the exit code and that no traceback was
printed; ``--debug`` / ``LOOPTOOL_DEBUG=1`` bring the traceback back.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from looptool.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str] | None = None):
    res = CliRunner(env=env).invoke(main, args)
    return res, [line for line in res.stderr.splitlines() if line.strip()]


def _one_line(res, lines, code: int = 1) -> str:
    assert res.exit_code == code, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    assert len(lines) == 1, lines
    assert isinstance(res.exception, SystemExit)  # handled, not an escaped exception
    return lines[0]


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) every outgoing connection made in this process."""
    attempts: list = []

    def refuse(self, address, *a, **k):
        attempts.append(address)
        raise OSError("network disabled in this test")

    def refuse_create(address, *a, **k):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_create)
    # with the hub online, a lookup would try the network: the tests assert none is tried
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return attempts


def test_eval_missing_absolute_path(no_network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res, lines = _run(["eval", "/nonexistent"])
    line = _one_line(res, lines)
    assert line == (
        "Error: model /nonexistent: no such folder (expected a checkpoint folder with config.json, e.g. "
        "models/iter_1; a local path is never looked up on the model hub)"
    )
    assert no_network == []


@pytest.mark.parametrize("ref", ["models/iter_9", "./iter_9", "ckpt/a/b"])
def test_eval_mistyped_local_folder_makes_no_network_call(no_network, tmp_path, monkeypatch, ref):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "iter_1").mkdir(parents=True)
    res, lines = _run(["eval", ref])
    assert _one_line(res, lines).startswith(f"Error: model {ref}: no such folder")
    assert no_network == []  # never handed to the hub


def test_eval_folder_that_is_no_checkpoint(no_network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "iter_1").mkdir(parents=True)
    res, lines = _run(["eval", "models/iter_1"])
    assert "folder exists but is no checkpoint" in _one_line(res, lines)
    assert no_network == []


def test_hub_ids_are_not_taken_for_paths():
    from looptool.model import looks_local

    assert not looks_local("Qwen/Qwen3-8B") and not looks_local("gpt2")
    assert all(looks_local(p) for p in ("models/iter_9", "/abs", "./x", "../x", "a/b/c", "m.gguf", "~/m"))


def test_eval_explicit_benchmark_folders_must_exist(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.chdir(tmp_path)
    for opt, value, code, expected in (
        (
            "--bfcl",
            "no_bfcl",
            2,
            "Error: Invalid value for '--bfcl': no_bfcl: no such folder (expected a data",
        ),
        (
            "--acebench",
            "no_ace",
            2,
            "Error: Invalid value for '--acebench': no_ace: no such folder (expected",
        ),
        (
            "--heldout",
            "h.parquet",
            2,
            "Error: Invalid value for '--heldout': File 'h.parquet' does not exist.",
        ),
    ):
        res, lines = _run(["eval", str(tiny_model_dir), opt, value])
        line = _one_line(res, lines, code=code)
        assert line.startswith(expected), line


def test_eval_params_error_is_one_line(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("eval:\n  limt: 3\n")
    res, lines = _run(["eval", str(tiny_model_dir)])
    line = _one_line(res, lines)
    assert line.startswith("Error: eval (params + options): unknown key(s) ['limt']; known keys: [")
    res, lines = _run(["eval", str(tiny_model_dir), "--params", "other.yaml"])
    assert _one_line(res, lines, code=2).startswith(
        "Error: Invalid value for --params: other.yaml: no such file"
    )


def test_debug_shows_the_traceback(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("eval:\n  limt: 3\n")
    for args, env in (
        (["--debug", "eval", str(tiny_model_dir)], {}),
        (["eval", str(tiny_model_dir)], {"LOOPTOOL_DEBUG": "1"}),
    ):
        res = CliRunner(env=env).invoke(main, args)
        assert res.exit_code == 1 and "Traceback" in res.stderr and "ConfigError" in res.stderr, res.stderr


def test_stats_not_parquet_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.parquet").write_text("not parquet at all\n" * 10)
    res, lines = _run(["stats", "bad.parquet"])
    line = _one_line(res, lines)
    assert line.startswith("Error: bad.parquet: not a Parquet file (")
    assert line.count("bad.parquet") <= 2 and "LINE 1" not in line and "SELECT" not in line
    res, lines = _run(["stats", "missing.parquet"])
    assert _one_line(res, lines) == (
        "Error: missing.parquet: no such file (expected a .parquet file, iter_J, J, seed/pool or REV:PATH)"
    )
    res, lines = _run(["stats", "data/iter_7/train.parquet"])
    assert "no such file" in _one_line(res, lines)


def test_closed_server_is_one_line(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "params.yaml").write_text(
        "backends:\n  student:\n    backend: openai\n"
        f"    base_url: http://127.0.0.1:{port}/v1\n    max_retries: 0\n"
    )
    res, lines = _run(["eval", "served-model", "--heldout", str(_heldout(tmp_path))])
    line = _one_line(res, lines)  # the role's error budget (looptool.llm.budget) stops the command
    assert (
        line.startswith("Error: backends.student: ")
        and "calls to openai backend 'served-model' failed" in line
    )
    assert "Connection refused" in line


def _heldout(tmp_path: Path) -> Path:
    from looptool.schema import SAMPLE, frame, make_sample_id

    tools = [{"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}]
    msgs = [{"role": "user", "content": "call f"}]
    row = {
        "sample_id": make_sample_id(tools, msgs),
        "tools": json_dumps(tools),
        "messages": json_dumps(msgs),
        "label": json_dumps([{"name": "f", "arguments": {}}]),
        "origin": "seed",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
        "meta": "{}",
    }
    path = tmp_path / "heldout.parquet"
    frame([row], SAMPLE).write_parquet(path)
    return path


def json_dumps(x) -> str:
    import json

    return json.dumps(x)


def _stage(script: str, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    e.pop("LOOPTOOL_DEBUG", None) if "LOOPTOOL_DEBUG" not in env else None
    return subprocess.run(
        [sys.executable, str(ROOT / "stages" / script), *args], cwd=cwd, env=e, capture_output=True, text=True
    )


def test_stage_script_params_error_is_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text("probe:\n  limt: 3\n")
    args = ["--iteration", "1", "--model", "m", "--data", "d.parquet", "--out", "o", "--metrics", "m.json"]
    p = _stage("probe.py", args, tmp_path)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert lines == [
        "Error: params.yaml:probe: unknown key(s) ['limt']; known keys: ['call_format', 'limit', 'max_new_tokens', "
        "'samples', 'seed', 'stop', 'temperature', 'top_p']"
    ]
    p = _stage("probe.py", args, tmp_path, LOOPTOOL_DEBUG="1")
    assert p.returncode == 1 and "Traceback" in p.stderr and "ConfigError" in p.stderr


def test_stage_script_usage_error_is_one_line(tmp_path):
    p = _stage("probe.py", ["--iteration", "1"], tmp_path)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert (
        p.returncode == 2
        and len(lines) == 1
        and lines[0].startswith("Error: Missing option '--")
        and "python stages/probe.py --help" in lines[0]
    )


def test_one_line_formats():
    from looptool.guard import one_line

    assert one_line(FileNotFoundError(2, "No such file or directory", "x.parquet")) == (
        "x.parquet: no such file or directory"
    )
    assert one_line(ValueError("a\n  b\n\nc")) == "a b c"
    assert one_line(RuntimeError("boom")) == "RuntimeError: boom (LOOPTOOL_DEBUG=1 shows the traceback)"
    assert len(one_line(ValueError("x" * 5000))) == 600


def test_every_help_text_has_an_example():
    from looptool.cli import COMMANDS

    for name in ["", *COMMANDS]:
        res = CliRunner().invoke(main, [name, "--help"] if name else ["--help"])
        assert res.exit_code == 0, (name, res.output)
        assert "Example" in res.output, name


def test_top_level_help_describes_every_command():
    from looptool.cli import _SHORT_HELP, COMMANDS

    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0, res.output
    for name in COMMANDS:
        assert _SHORT_HELP.get(name), name
        line = next(x for x in res.output.splitlines() if x.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 20, line  # the command and its description


def test_eval_skips_absent_defaults_with_a_note(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "params.yaml").write_text(
        "eval: {bfcl_dir: null, acebench_dir: null, max_new_tokens: 4}\n"
        "backends: {student: {backend: transformers, batch_size: 2}}\n"
    )
    res = CliRunner().invoke(main, ["eval", str(tiny_model_dir), "--heldout", str(_heldout(tmp_path))])
    assert res.exit_code == 0, res.output
    assert "note: bfcl skipped:" in res.stderr and "note: acebench skipped:" in res.stderr


def test_stage_script_help_has_an_example(tmp_path):
    p = _stage("merge.py", ["--help"], tmp_path)
    assert p.returncode == 0 and "Example: dvc repro" in p.stdout


def test_log_level_switches(monkeypatch):
    import logging

    import click

    from looptool.guard import setup_logging

    monkeypatch.delenv("LOOPTOOL_LOG_LEVEL", raising=False)
    assert setup_logging(0) == logging.INFO and setup_logging(1) == logging.DEBUG
    monkeypatch.setenv("LOOPTOOL_LOG_LEVEL", "warning")
    assert (
        setup_logging(0) == logging.WARNING
        and logging.getLogger("looptool.x").getEffectiveLevel() == logging.WARNING
    )
    assert setup_logging(1) == logging.DEBUG  # -v wins over the environment
    monkeypatch.setenv("LOOPTOOL_LOG_LEVEL", "loud")
    with pytest.raises(click.UsageError, match="LOOPTOOL_LOG_LEVEL='loud': expected DEBUG"):
        setup_logging(0)
    monkeypatch.delenv("LOOPTOOL_LOG_LEVEL")
    res, lines = _run(["-v", "stats", "missing.parquet"])
    assert _one_line(res, lines).startswith("Error: missing.parquet: no such file")


def test_run_stage_reports_click_and_other_errors_in_one_line(capsys, monkeypatch):
    import click

    from looptool.guard import run_stage

    monkeypatch.delenv("LOOPTOOL_DEBUG", raising=False)

    @click.command()
    @click.option("--iteration", type=int)
    @click.option("--kind")
    def stage(iteration, kind):
        if kind == "click":
            raise click.ClickException("D_2 has 3 rows\nwith duplicate ids")
        raise RuntimeError("boom")

    for kind, expected in (
        ("click", "Error: D_2 has 3 rows with duplicate ids"),
        ("other", "Error: RuntimeError: boom (LOOPTOOL_DEBUG=1 shows the traceback)"),
    ):
        with pytest.raises(SystemExit) as e:
            run_stage(stage, name="merge", args=["--iteration", "2", "--kind", kind])
        assert e.value.code == 1
        assert capsys.readouterr().err.splitlines() == [expected]
