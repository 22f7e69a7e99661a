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


HAND_WRITTEN = """\
# top comment
model:
  source: embedded:smollm2-135m-instruct   # c1
  gguf_file: ~
train:
  method: grpo
  max_steps: null    # keep
  lora:
    enabled: true
    r: 8
    target_modules:
        - q_proj       # q
        - v_proj
  grpo:
    num_generations: 4
  save_steps: 0
  seed: Null

# heading of probe
probe:
  limit: NULL
  stop:
      - "</s>"
"""


def test_profile_merges_key_by_key_and_leaves_other_text_byte_identical(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(HAND_WRITTEN)
    prof = tmp_path / "p.yaml"
    prof.write_text(
        "train:\n  lora:\n    r: 16\n    alpha: 32\n  grpo: {}\n  weight_decay: 0.1\n"
        "probe:\n  max_new_tokens: 64\n"
    )
    changes = apply_profile(str(prof), params)
    assert changes == [
        ("train.lora.r", 8, 16),
        ("train.lora.alpha", "<unset>", 32),
        ("train.weight_decay", "<unset>", 0.1),
        ("probe.max_new_tokens", "<unset>", 64),
    ]
    expected = (
        HAND_WRITTEN.replace("    r: 8\n", "    r: 16\n")
        .replace("        - v_proj\n", "        - v_proj\n    alpha: 32\n")  # lora merged, its list kept
        .replace("  seed: Null\n", "  seed: Null\n  weight_decay: 0.1\n")  # before the next heading
        .replace('      - "</s>"\n', '      - "</s>"\n  max_new_tokens: 64\n')
    )
    assert params.read_text() == expected  # nulls as spelled (~, null, Null, NULL), comments, indentation
    assert apply_profile(str(prof), params) == [] and params.read_text() == expected


@pytest.mark.parametrize(
    "profile,params_extra,message",
    [
        ("verify:\n  bogus: 1\n", "", r"verify: unknown key\(s\) \['bogus'\]"),
        ("merge:\n  dataset_size: -1\n", "", "dataset_size"),
        ("report:\n  title: x\n", "", r"section\(s\) \['report'\] that no stage reads"),
        ("backends:\n  judg: {model: x}\n", "", r"unknown role\(s\) \['judg'\]"),
        ("eval:\n  limit: -3\n", "", "eval: limit"),
        ("model:\n  dtype: int8\n", "", "dtype"),
        (
            "iterations:\n  '1': {train: {nope: 1}}\n",
            "iterations:\n  '1': {prev: '0', next: '2'}\n",
            r"iterations.1.train: unknown key\(s\) \['nope'\]",
        ),
        ("iterations:\n  '1': {next: '3'}\n", "iterations:\n  '1': {prev: '0', next: '2'}\n", "next"),
        # an old key: one line naming the keys to use
        (
            "train:\n  learning_rate: 1.0e-6\n",
            "",
            r"train.learning_rate: set train.grpo.learning_rate \(method grpo\) or train.sft.learning_rate",
        ),
        ("train:\n  weight_decay: 0.5\n", "", None),  # valid alone ...
        ("train:\n  lora: {enabled: maybe}\n", "", "lora"),
        # ... and an iteration override that the new base makes invalid is found too
        (
            "train:\n  rollouts: engine\n",
            "train:\n  rollouts: trl\niterations:\n  '1': {prev: '0', next: '2', train: {grpo: {use_vllm: true}}}\n",
            r"iterations.1.train.*use_vllm",
        ),
        (
            "backends:\n  judge: {timeout_s: 5}\n",
            "backends:\n  judge: &j {backend: none}\n  generator: *j\n",
            "anchor",
        ),
    ],
)
def test_profile_checks_every_section_and_writes_nothing_on_refusal(tmp_path, profile, params_extra, message):
    params = tmp_path / "params.yaml"
    params.write_text("model:\n  dtype: float32   # kept\nverify: {}\n" + params_extra)
    before = params.read_text()
    prof = tmp_path / "p.yaml"
    prof.write_text(profile)
    if message is None:
        assert apply_profile(str(prof), params, dry_run=True)
        return
    with pytest.raises(ProfileError, match=message):
        apply_profile(str(prof), params)
    r = CliRunner().invoke(main, ["profile", "apply", str(prof), "--params", str(params)])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1, r.output
    assert params.read_text() == before


BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
)  # 9**9 strings once expanded


def test_alias_bomb_in_profile_or_params_is_refused_before_any_walk(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("model:\n  dtype: float32\n")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("train:\n  extra_args:\n" + "".join(f"    {line}" for line in BOMB.splitlines(True)))
    with pytest.raises(ProfileError, match=rf"{bomb}: YAML holds more than \d+ nodes"):
        apply_profile(str(bomb), params)
    assert params.read_text() == "model:\n  dtype: float32\n"
    params.write_text(BOMB)
    prof = tmp_path / "p.yaml"
    prof.write_text("model:\n  dtype: float32\n")
    with pytest.raises(ProfileError, match=rf"{params}: YAML holds more than \d+ nodes"):
        apply_profile(str(prof), params)
    assert params.read_text() == BOMB
