"""bench/stage_limits.py: the per-row FLOP formula is counted (not assumed) and predicts a fourth shape exactly, CPU
attention is counted, the forward log sees training forwards only, and the warm-up and GRPO commands run the
stages' code end to end on a tiny model."""

import doctest
import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from test_train import data_dir  # noqa: F401 - the training tests' data fixture (pool, heldout, train)

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("stage_limits", ROOT / "bench/stage_limits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_doctests():
    assert doctest.testmod(_bench()).failed == 0


def _lora_model(tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    lm = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    add_fused_lm_head(lm)
    return get_peft_model(lm, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))


def test_calibrated_formula_predicts_a_fresh_shape_and_counts_attention(tiny_model_dir):
    from looptool.compat.trl import compact_logprobs

    sl = _bench()
    model = _lora_model(tiny_model_dir)
    with compact_logprobs(True):
        cal = sl.calibrate(model, model.get_input_embeddings().weight.shape[0])
    a, b, g = cal["coef"]
    assert cal["check"]["measured"] == pytest.approx(cal["check"]["predicted"], rel=1e-6)
    assert a > 0 and g > 0
    assert b > 0  # the L^2 term is attention: zero would mean the CPU kernels went uncounted
    dims = sl.base_dims(model)
    assert not any(min(shape) == 4 for shape in dims["linears"])  # the LoRA (r=4) layers are not base linears
    assert sl.lora_flops_per_token(model) > 0


def test_forward_log_records_forwards_with_gradients_only(tiny_model_dir):
    import torch

    sl = _bench()
    model = _lora_model(tiny_model_dir)
    log = sl.ForwardLog()
    log.attach(model)
    ids = torch.randint(0, 100, (2, 7))
    mask = torch.tensor([[1] * 7, [0, 0] + [1] * 5])
    labels = torch.full((2, 7), -100)
    labels[:, -3:] = ids[:, -3:]
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask)
    model(input_ids=ids, attention_mask=mask, labels=labels)
    log.detach()
    model(input_ids=ids, attention_mask=mask, labels=labels)
    assert log.rows == [{"lengths": [7, 5], "padded": 7, "supervised": 6}]


def test_warmup_and_grpo_commands_run_the_stage_code(tiny_model_dir, data_dir, tmp_path):  # noqa: F811
    from click.testing import CliRunner

    sl = _bench()
    params = {
        "warmup": {
            "max_steps": 4,
            "per_device_train_batch_size": 2,
            "eval_samples": 0,
            "learning_rate": 1e-2,
            "lora": {"r": 4, "alpha": 8},
        },
        "train": {
            "method": "grpo",
            "max_steps": 4,
            "per_device_train_batch_size": 4,
            "rollouts": "engine",
            "lora": {"r": 4, "alpha": 8},
            "grpo": {"num_generations": 4, "max_completion_length": 8},
        },
    }
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params))
    out = tmp_path / "warm.json"
    r = CliRunner().invoke(
        sl.cli,
        ["warmup", "--model", str(tiny_model_dir), "--pool", str(data_dir / "pool.parquet"), "--heldout",
         str(data_dir / "heldout.parquet"), "--params", str(p), "--profile-steps", "1", "--json-out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text())
    (row,) = got["rows"]
    assert row["tflop"] > 0 and row["seconds"] > 0 and row["share"] > 0 and row["padding_share"] >= 0
    assert set(got["profile_split"]) == set(sl.CATEGORIES)
    assert sum(got["profile_split"].values()) == pytest.approx(1.0, abs=0.02)
    assert got["top_ops"] and all(o["op"].startswith("aten::") for o in got["top_ops"])

    out = tmp_path / "grpo.json"
    r = CliRunner().invoke(
        sl.cli,
        ["grpo", "--model", str(tiny_model_dir), "--data", str(data_dir / "train.parquet"), "--params", str(p),
         "--json-out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text())
    parts = [row["part"] for row in got["rows"]]
    assert parts == ["GRPO: forward + backward (done)", "GRPO: rollouts (decode)", "GRPO: whole steps"]
    rollouts = got["rows"][1]
    assert rollouts["tflop"] > 0 and rollouts["seconds"] > 0
    # the tiny model's rewards are all equal: TRL's loss is skipped, so no forward is recorded, and the table says so
    assert got["rows"][0]["tflop"] == 0 and "steps with a loss forward: 0 of 4" in got["notes"]


def test_decode_command_runs_evaluates_requests_with_the_stage_config(tiny_model_dir, data_dir, tmp_path):  # noqa: F811
    from click.testing import CliRunner

    sl = _bench()
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump({"eval": {"heldout_limit": 4, "max_new_tokens": 6}}))
    out = tmp_path / "decode.json"
    r = CliRunner().invoke(
        sl.cli,
        ["decode", "--what", "evaluate", "--model", str(tiny_model_dir), "--data", str(data_dir / "heldout.parquet"),
         "--params", str(p), "--json-out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text())
    (row,) = got["rows"]
    assert (
        row["part"] == "evaluate: decode (4 requests)"
        and row["seconds"] > 0
        and sum(got["flops"].values()) > 0
    )
    assert "max_new_tokens 6" in got["notes"][0]
