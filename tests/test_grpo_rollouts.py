"""train.rollouts: the engine rollout_func samples from the current policy (LoRA included), with TRL's prompt
tokens, and GRPO trains through it; the config refuses what the engine cannot do. Tiny random Llama (seconds)."""

from __future__ import annotations

import pytest
from test_train import _grpo_cfg, _max_diff, _weights, data_dir  # noqa: F401 - data_dir is a fixture

from looptool.config import ConfigError
from looptool.stage import section_config


def test_rollouts_config():
    from looptool.train import TrainConfig

    with pytest.raises(ConfigError, match=r"params.yaml:train: rollouts='vllm' is not one of"):
        section_config(TrainConfig, "train", params={"train": {"rollouts": "vllm"}})
    with pytest.raises(ConfigError, match=r"grpo.top_k=5 is not implemented by rollouts: engine"):
        section_config(TrainConfig, "train", params={"train": {"rollouts": "engine", "grpo": {"top_k": 5}}})
    with pytest.raises(ValueError, match="grpo.use_vllm: true needs rollouts: trl"):
        TrainConfig(rollouts="engine", grpo={"use_vllm": True})
    with pytest.raises(ValueError, match="set rollouts: continuous instead"):
        TrainConfig(grpo={"use_transformers_continuous_batching": True})
    assert TrainConfig(rollouts="continuous").grpo_fields()["use_transformers_continuous_batching"] is True
    assert "use_transformers_continuous_batching" not in TrainConfig(rollouts="engine").grpo_fields()
    TrainConfig(rollouts="engine", grpo={"temperature": 0.7, "top_p": 0.9, "top_k": 0})  # what it implements
    TrainConfig(method="sft", rollouts="engine", grpo={"top_k": 5})  # GRPO-only checks do not apply to sft


@pytest.fixture(scope="module")
def engine_trainer(tiny_model_dir, data_dir, tmp_path_factory):  # noqa: F811
    """A GRPOTrainer on the tiny model with a fresh LoRA adapter and the engine rollout_func."""
    from trl import GRPOTrainer

    from looptool.model import load_tokenizer, resolve_model
    from looptool.schema import TRAIN
    from looptool.train.data import grpo_rows, read_samples, to_dataset
    from looptool.train.grpo import grpo_args
    from looptool.train.rollouts import EngineRollouts

    cfg = _grpo_cfg(
        rollouts="engine",
        per_device_train_batch_size=8,
        grpo={"max_completion_length": 12, "num_generations": 4},
    )
    tok = load_tokenizer(tiny_model_dir)
    ds = to_dataset(grpo_rows(read_samples(data_dir / "train.parquet", TRAIN), tok))
    trainer = GRPOTrainer(
        model=resolve_model(tiny_model_dir),
        reward_funcs=[lambda completions, **_: [0.0] * len(completions)],
        args=grpo_args(cfg, tmp_path_factory.mktemp("engine-trainer"), 3, on_cpu=True),
        train_dataset=ds,
        processing_class=tok,
        peft_config=cfg.lora.peft_config(),
        rollout_func=EngineRollouts(),
    )
    return trainer, [ds[0]["prompt"]] * 4 + [ds[1]["prompt"]] * 4


def _teacher_forced_logprobs(model, prompt_ids, completion_ids):
    import torch

    ids = torch.tensor([prompt_ids + completion_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    logp = torch.log_softmax(logits[len(prompt_ids) - 1 : -1], dim=-1)
    return logp.gather(-1, torch.tensor(completion_ids)[:, None])[:, 0].tolist()


def test_engine_rollouts_follow_the_current_weights(engine_trainer):
    import torch

    trainer, prompts = engine_trainer
    hook = trainer.rollout_func
    model = trainer.model
    before = hook(prompts, trainer)
    # TRL's own prompt tokens, one completion per prompt entry, at most max_completion_length tokens each
    assert before["prompt_ids"] == [list(p) for p in trainer._tokenize_prompts(prompts)[0]]
    assert len(before["completion_ids"]) == len(prompts) == len(before["logprobs"])
    assert all(
        0 < len(c) <= 12 and len(c) == len(lp) for c, lp in zip(before["completion_ids"], before["logprobs"])
    )
    assert len({tuple(c) for c in before["completion_ids"][:4]}) > 1  # a group holds independent draws
    assert (
        hook(prompts, trainer)["completion_ids"] == before["completion_ids"]
    )  # same weights, same step: same
    assert model.training is True  # the hook restores the mode it found (it decodes in eval mode)

    # move the adapter (LoRA B starts at zero, so until now the adapter changed nothing)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    after = hook(prompts, trainer)
    assert after["prompt_ids"] == before["prompt_ids"]
    assert after["completion_ids"] != before["completion_ids"]
    # the returned log-probs are the current policy's (adapter on), not the base model's
    for p_ids, c_ids, lps in zip(after["prompt_ids"], after["completion_ids"], after["logprobs"]):
        assert lps == pytest.approx(_teacher_forced_logprobs(model, p_ids, c_ids), abs=2e-4)
    p_ids, c_ids, lps = after["prompt_ids"][0], after["completion_ids"][0], after["logprobs"][0]
    with model.disable_adapter():
        base = _teacher_forced_logprobs(model, p_ids, c_ids)
    assert max(abs(a - b) for a, b in zip(lps, base)) > 1e-3


def test_engine_rollouts_draw_anew_each_step(engine_trainer):
    trainer, prompts = engine_trainer
    first = trainer.rollout_func(prompts, trainer)
    trainer.state.global_step += 1
    try:
        second = trainer.rollout_func(prompts, trainer)
    finally:
        trainer.state.global_step -= 1
    assert second["completion_ids"] != first["completion_ids"]


def test_grpo_trains_through_engine_rollouts(tiny_model_dir, data_dir, tmp_path):  # noqa: F811
    from looptool.train import completion_length_reward, train_grpo

    out = tmp_path / "iter_1"
    m = train_grpo(
        model=tiny_model_dir,
        data=data_dir / "train.parquet",
        out=out,
        cfg=_grpo_cfg(rollouts="engine"),
        iteration=1,
        seed=1,
        reward_funcs=[completion_length_reward],
    )
    assert m["rollouts"] == "engine" and m["steps"] == 2 and [r["step"] for r in m["series"]] == [1, 2]
    assert all(r["reward"] is not None and r["zero_std_frac"] is not None for r in m["series"])
    assert all(0 < r["completion_length"] <= 8 for r in m["series"])
    assert m["zero_std_frac_mean"] < 1 and m["no_signal"] is False
    assert _max_diff(_weights(out), _weights(tiny_model_dir)) > 1e-6


def test_engine_rollouts_sample_at_the_trainers_temperature(engine_trainer):
    """At a near-zero temperature every member of a group is the greedy completion (at 1.0 they differ)."""
    trainer, prompts = engine_trainer
    old = trainer.args.temperature
    trainer.args.temperature = 1e-4
    try:
        cold = trainer.rollout_func(prompts, trainer)["completion_ids"]
    finally:
        trainer.args.temperature = old
    assert len({tuple(c) for c in cold[:4]}) == 1 and len({tuple(c) for c in cold[4:]}) == 1


# --- dynamic sampling (train.dynamic_sampling) -----------------------------------------------------------------


def test_dynamic_sampling_config():
    from looptool.train import TrainConfig

    for mode in ("trl", "continuous"):
        with pytest.raises(
            ConfigError, match=rf"dynamic_sampling: true needs rollouts: engine .*rollouts: {mode}"
        ):
            section_config(
                TrainConfig, "train", params={"train": {"rollouts": mode, "dynamic_sampling": True}}
            )
    with pytest.raises(ConfigError, match=r"max_resample=0 must be >= 1"):
        section_config(TrainConfig, "train", params={"train": {"rollouts": "engine", "max_resample": 0}})
    with pytest.raises(ConfigError, match=r"dynamic_sampling"):
        section_config(TrainConfig, "train", params={"train": {"dynamic_sampling": "yes"}})
    cfg = TrainConfig(rollouts="engine", dynamic_sampling=True, max_resample=2)
    assert (cfg.dynamic_sampling, cfg.max_resample) == (True, 2)
    assert TrainConfig().dynamic_sampling is False  # the paper's GRPO by default
    TrainConfig(method="sft", dynamic_sampling=True)  # GRPO-only checks do not apply to sft


class _SignalOn:
    """A reward that varies inside a group (a checksum of the completion's token ids) only for the prompts whose
    ``sample_id`` is in ``ids``, and is 0 for every other prompt (an always-equal group). Counts the completions
    it scores, and records the completion each caller (TRL, the rollout hook) passed for the same token ids."""

    __name__ = "signal_on_some"

    def __init__(self, ids):
        self.ids, self.scored, self.seen = set(ids), 0, {}

    def __call__(self, prompts, completions, completion_ids, sample_id, **_):
        self.scored += len(completions)
        for ids, c in zip(completion_ids, completions):
            self.seen.setdefault(tuple(ids), set()).add(repr(c))
        return [(sum(c) % 97) / 97 if s in self.ids else 0.0 for c, s in zip(completion_ids, sample_id)]


def _sample_ids(data_dir, city_rows_only):  # noqa: F811
    import polars as pl

    df = pl.read_parquet(data_dir / "train.parquet")
    if city_rows_only:
        df = df.filter(pl.col("messages").str.contains("Weather in"))
    return df["sample_id"].to_list()


def _dyn_run(tiny_model_dir, data_dir, out, reward, **over):  # noqa: F811
    from looptool.train import train_grpo

    cfg = _grpo_cfg(rollouts="engine", per_device_train_batch_size=8, **over)
    return train_grpo(
        model=tiny_model_dir, data=data_dir / "train.parquet", out=out, cfg=cfg, iteration=1, seed=1,
        reward_funcs=[reward],
    )  # fmt: skip


def test_dynamic_sampling_replaces_groups_without_signal(tiny_model_dir, data_dir, tmp_path):  # noqa: F811
    """Half the prompts always get reward 0: each step's equal groups are replaced by prompts whose rewards
    differ, so every step has a learning signal, and TRL scores the replacement (its own zero-std fraction is 0)."""
    reward = _SignalOn(_sample_ids(data_dir, city_rows_only=True))  # 7 of the 14 rows
    m = _dyn_run(
        tiny_model_dir, data_dir, tmp_path / "dyn", reward, max_steps=3, dynamic_sampling=True, max_resample=8
    )
    series = m["series"]
    assert [r["step"] for r in series] == [1, 2, 3]
    assert all(r["zero_std_frac"] == 0.0 for r in series)  # no step, no group without signal
    assert m["signal_steps"] == 3 and m["no_signal"] is False
    assert all(r["replaced"] == r["empty"] and r["unreplaced"] == 0 for r in series)
    assert all(r["replaced"] <= r["resampled"] <= 8 for r in series)
    assert m["dynamic_sampling"] == {
        k: sum(r[k] for r in series) for k in ("empty", "resampled", "replaced", "unreplaced")
    }
    assert m["dynamic_sampling"]["replaced"] > 0
    # the hook read each completion exactly as TRL handed it to the reward function
    assert all(len(v) == 1 for v in reward.seen.values())
    assert _max_diff(_weights(tmp_path / "dyn"), _weights(tiny_model_dir)) > 1e-6


def test_dynamic_sampling_cost_is_bounded_when_no_prompt_has_signal(tiny_model_dir, data_dir, tmp_path):  # noqa: F811
    reward = _SignalOn(set())  # every group of every prompt is equal
    m = _dyn_run(
        tiny_model_dir,
        data_dir,
        tmp_path / "flat",
        reward,
        max_steps=2,
        dynamic_sampling=True,
        max_resample=3,
    )
    assert [(r["empty"], r["resampled"], r["replaced"], r["unreplaced"]) for r in m["series"]] == [
        (2, 3, 0, 2)
    ] * 2
    assert all(r["zero_std_frac"] == 1.0 for r in m["series"]) and m["no_signal"] and m["signal_steps"] == 0
    # per step: TRL scores the batch's 8 completions, the hook the same 8 and 3 tried prompts x 4 completions
    assert reward.scored == 2 * (8 + 8 + 3 * 4)
    assert m["dynamic_sampling"] == {"empty": 4, "resampled": 6, "replaced": 0, "unreplaced": 4}


def test_dynamic_sampling_off_or_idle_trains_the_same(tiny_model_dir, data_dir, tmp_path):  # noqa: F811
    """With every group already carrying a signal the switch replaces nothing and changes nothing: same rewards,
    losses and weights as the run with it off (which records no counts)."""
    every = _sample_ids(data_dir, city_rows_only=False)
    off = _dyn_run(tiny_model_dir, data_dir, tmp_path / "off", _SignalOn(every))
    on = _dyn_run(tiny_model_dir, data_dir, tmp_path / "on", _SignalOn(every), dynamic_sampling=True)
    assert off["dynamic_sampling"] is None and "replaced" not in off["series"][0]
    assert on["dynamic_sampling"] == {"empty": 0, "resampled": 0, "replaced": 0, "unreplaced": 0}
    for a, b in zip(off["series"], on["series"], strict=True):
        assert (a["reward"], a["loss"], a["grad_norm"]) == (b["reward"], b["loss"], b["grad_norm"])
    assert _max_diff(_weights(tmp_path / "off"), _weights(tmp_path / "on")) == 0.0


def test_dynamic_sampling_refuses_one_prompt_with_two_labels():
    """The hook knows a group's row by its prompt: two rows with one prompt and different labels are refused in
    one line (equal duplicates are fine)."""
    from datasets import Dataset

    from looptool.train.resample import ResamplingRollouts

    rows = [{"prompt": "p", "label": "[]", "tools": "[]", "sample_id": "a"}] * 2
    hook = ResamplingRollouts(Dataset.from_list(rows), [lambda completions, **_: [0.0] * len(completions)], 2)
    assert len(hook.rows) == 2 and set(hook.index.values()) == {0}
    rows.append({**rows[0], "label": '[{"name": "f", "arguments": {}}]'})
    with pytest.raises(
        ValueError,
        match=r"^train.dynamic_sampling: training rows 0 and 2 have the same prompt but different label;",
    ):
        ResamplingRollouts(Dataset.from_list(rows), [], 2)
