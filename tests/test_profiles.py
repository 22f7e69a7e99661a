"""`looptool profile apply`: a named params set lands in params.yaml with its comments kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from looptool.cli import main
from looptool.profiles import ProfileError, apply_profile, available
from looptool.stage import section_config
from looptool.train.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]


def _comments(text: str) -> list[str]:
    return [line[line.index("#") :].strip() for line in text.splitlines() if "#" in line]


def test_apply_paper_gpu_keeps_comments_and_loads(tmp_path):
    assert "paper-gpu" in available()
    params = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", params)
    before = params.read_text()
    changes = apply_profile(ROOT / "configs" / "profiles" / "paper-gpu.yaml", params)
    after = params.read_text()
    assert _comments(after) == _comments(before)  # every comment, in order
    keys = {k for k, _, _ in changes}
    assert {
        "train.grpo.num_generations",
        "train.launcher",
        "warmup.enabled",
        "backends.judge.base_url",
    } <= keys
    p = yaml.safe_load(after)
    assert p["train"]["grpo"]["num_generations"] == 16 and p["train"]["lora"]["enabled"] is False
    assert p["train"]["grpo"]["epsilon_high"] == 0.28  # a nested mapping merged key by key
    assert p["train"]["lora"]["r"] == 16  # a nested mapping is merged, not replaced
    assert p["select"] == yaml.safe_load(before)["select"]  # untouched sections stay
    cfg = section_config(TrainConfig, "train", str(params))
    assert cfg.launcher == "zero3" and cfg.learning_rate == 1e-6
    assert apply_profile("paper-gpu", params) == []  # applying twice changes nothing
    assert params.read_text() == after


def test_bad_profile_is_refused_and_writes_nothing(tmp_path):
    params = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", params)
    before = params.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  num_generatoins: 16\n")  # a typo
    with pytest.raises(ProfileError, match="num_generatoins"):
        apply_profile(str(bad), params)
    bad.write_text("train:\n  grpo: {num_generations: 1}\n")
    with pytest.raises(ProfileError, match="num_generations"):
        apply_profile(str(bad), params)
    with pytest.raises(ProfileError, match="unknown profile"):
        apply_profile("paper-tpu", params)
    assert params.read_text() == before


def test_profile_cli_dry_run_and_apply(tmp_path):
    params = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", params)
    before = params.read_text()
    r = CliRunner().invoke(main, ["profile", "apply", "paper-gpu", "--params", str(params), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "train.grpo.num_generations: 4 -> 16" in r.output and "would change" in r.output
    assert params.read_text() == before
    r = CliRunner().invoke(main, ["profile", "apply", "paper-gpu", "--params", str(params)])
    assert r.exit_code == 0 and yaml.safe_load(params.read_text())["model"]["source"] == "Qwen/Qwen3-8B"
    r = CliRunner().invoke(main, ["profile", "apply", "nope", "--params", str(params)])
    assert r.exit_code == 1 and "unknown profile" in r.output
