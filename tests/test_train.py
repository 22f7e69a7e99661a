"""looptool.train on the tiny random Llama: configs, reward, datasets, and real GRPO / SFT steps (seconds)."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

from looptool.config import ConfigError
from looptool.schema import SAMPLE, TRAIN, frame, make_sample_id
from looptool.stage import section_config
from looptool.storage import write_parquet

WEATHER = {
    "name": "get_weather",
    "description": "Current weather of a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"],
    },
}
CONVERT = {
    "name": "convert_currency",
    "description": "Convert an amount of money.",
    "parameters": {
        "type": "object",
        "properties": {"amount": {"type": "number"}, "to": {"type": "string"}},
        "required": ["amount", "to"],
    },
}


def _sample(tools, messages, label, meta=None, part="seed_new"):
    return {
        "sample_id": make_sample_id(tools, messages),
        "tools": tools,
        "messages": messages,
        "label": label,
        "origin": "seed",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
        "meta": meta or {},
        "part": part,
    }


def _samples():
    out = []
    for i, city in enumerate(["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Nairobi"]):
        out.append(
            _sample(
                [WEATHER, CONVERT],
                [{"role": "user", "content": f"Weather in {city}?"}],
                [{"name": "get_weather", "arguments": {"city": city}}],
            )
        )
        out.append(
            _sample(
                [CONVERT],
                [{"role": "user", "content": f"Convert {10 * (i + 1)} USD to EUR"}],
                [{"name": "convert_currency", "arguments": {"amount": 10 * (i + 1), "to": "EUR"}}],
            )
        )
    # multi-turn: a tool result, then the next call
    out.append(
        _sample(
            [WEATHER, CONVERT],
            [
                {"role": "user", "content": "Weather in Paris, then convert 5 USD to EUR."},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                        }
                    ],
                },
                {"role": "tool", "content": '{"temp": 21}'},
            ],
            [{"name": "convert_currency", "arguments": {"amount": 5, "to": "EUR"}}],
        )
    )
    # irrelevant: answer in text
    out.append(
        _sample(
            [WEATHER],
            [{"role": "user", "content": "Book me a flight."}],
            [],
            {"reply": "I cannot book flights with these tools."},
        )
    )
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("train-data")
    rows = _samples()
    write_parquet(frame(rows, TRAIN), d / "train.parquet", TRAIN)
    write_parquet(frame(rows[:10], SAMPLE), d / "pool.parquet", SAMPLE)
    write_parquet(frame(rows[10:], SAMPLE), d / "heldout.parquet", SAMPLE)
    return d


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


# --- config ------------------------------------------------------------------------------------------------


def test_train_config_from_params_with_iteration_override():
    from looptool.train import TrainConfig

    params = {
        "train": {
            "grpo": {"learning_rate": 1e-5},
            "max_steps": 3,
            "lora": {"r": 4, "target_modules": ["q_proj", "v_proj"]},
        },
        "iterations": {
            "1": {"prev": "0", "next": "2"},
            "2": {"prev": "1", "next": "3", "train": {"grpo": {"learning_rate": 5e-6}}},
        },
    }
    c1 = section_config(TrainConfig, "train", key="1", params=params)
    c2 = section_config(TrainConfig, "train", key="2", params=params)
    assert (c1.learning_rate, c2.learning_rate) == (1e-5, 5e-6)
    assert c2.max_steps == 3 and c2.lora.r == 4 and c2.lora.target_modules == ["q_proj", "v_proj"]


def test_train_config_errors():
    from looptool.train import TrainConfig, WarmupConfig

    with pytest.raises(ConfigError, match="unknown key"):
        section_config(TrainConfig, "train", params={"train": {"learnig_rate": 1e-5}})
    with pytest.raises(ConfigError, match="unknown key"):
        section_config(TrainConfig, "train", params={"train": {"lora": {"rank": 8}}})
    with pytest.raises(ValueError, match="multiple of grpo.num_generations 4"):
        TrainConfig(per_device_train_batch_size=6, grpo={"num_generations": 4})
    TrainConfig(
        per_device_train_batch_size=2, gradient_accumulation_steps=2, grpo={"num_generations": 4}
    )  # 2 x 2 = 4: fine
    TrainConfig(method="sft", per_device_train_batch_size=3)  # the GRPO batch rule does not apply to sft
    with pytest.raises(ValueError, match="num_generations"):
        TrainConfig(grpo={"num_generations": 1}, per_device_train_batch_size=1)
    # TRL's fields are passed through, checked against TRL's dataclasses (not re-declared here)
    with pytest.raises(ConfigError, match=r"grpo: unknown GRPOConfig argument\(s\) \['num_generation'\]"):
        section_config(TrainConfig, "train", params={"train": {"grpo": {"num_generation": 4}}})
    with pytest.raises(ConfigError, match="unknown SFTConfig"):
        section_config(TrainConfig, "train", params={"train": {"sft": {"max_len": 4}}})
    with pytest.raises(ConfigError, match="set by looptool"):
        section_config(TrainConfig, "train", params={"train": {"grpo": {"output_dir": "x"}}})
    # one sentinel for "all": null
    assert TrainConfig(max_steps=None).max_steps is None
    with pytest.raises(ValueError, match="or null"):
        TrainConfig(max_steps=-1)
    with pytest.raises(ValueError, match="save_dtype"):
        WarmupConfig(save_dtype="int8")


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "params,key,line",
    [
        (
            {"train": {"learning_rate": 1e-5}},
            None,
            "params.yaml:train.learning_rate: set train.grpo.learning_rate (method grpo) or "
            "train.sft.learning_rate (method sft)",
        ),
        (  # named before the iteration's overrides are merged in
            {"train": {"learning_rate": 1e-5}, "iterations": {"2": {"prev": "1", "next": "3"}}},
            "2",
            "params.yaml:train.learning_rate: set train.grpo.learning_rate (method grpo) or "
            "train.sft.learning_rate (method sft)",
        ),
        (
            {"train": {}, "iterations": {"2": {"prev": "1", "next": "3", "train": {"learning_rate": 5e-6}}}},
            "2",
            "params.yaml:iterations.2.train.learning_rate: set iterations.2.train.grpo.learning_rate (method grpo) "
            "or iterations.2.train.sft.learning_rate (method sft)",
        ),
        (
            {"train": {"extra_args": {"learning_rate": 1e-5}}},
            None,
            "params.yaml:train: train.extra_args.learning_rate: set train.grpo.learning_rate (method grpo) or "
            "train.sft.learning_rate (method sft)",
        ),
    ],
)
def test_old_learning_rate_key_fails_with_one_line_naming_the_new_keys(params, key, line):
    from looptool.train import TrainConfig

    with pytest.raises(ConfigError) as e:
        section_config(TrainConfig, "train", key=key, params=params)
    assert str(e.value) == line


@pytest.mark.parametrize(
    "train,message",
    [
        (  # a loop key repeated in the active method's section: the section would silently win
            {"max_steps": 3, "grpo": {"max_steps": 5}},
            "train.grpo.max_steps duplicates train.max_steps (the loop's key, for both methods): keep train.max_steps",
        ),
        (  # the loop key's default counts: it is always passed to the trainer
            {"method": "sft", "sft": {"seed": 3}},
            "train.sft.seed duplicates train.seed",
        ),
        (
            {"grpo": {"beta": 0.1}, "extra_args": {"beta": 0.0}},
            "train.extra_args.beta and train.grpo.beta both set GRPOConfig.beta: keep one",
        ),
        (
            {"method": "sft", "sft": {"learning_rate": 1e-3}, "extra_args": {"learning_rate": 1e-3}},
            "train.extra_args.learning_rate: set train.grpo.learning_rate",
        ),
        (
            {"method": "sft", "sft": {"max_length": 512}, "extra_args": {"max_length": 256}},
            "train.extra_args.max_length and train.sft.max_length both set SFTConfig.max_length: keep one",
        ),
        (
            {"extra_args": {"per_device_train_batch_size": 8}},
            "train.extra_args.per_device_train_batch_size duplicates train.per_device_train_batch_size",
        ),
        (
            {"grpo": {"learning_rate": "2e-5"}},  # YAML reads 2e-5 (no dot) as a string
            "train.grpo.learning_rate: got '2e-5' (str), expected a number",
        ),
        ({"method": "sft", "sft": {"learning_rate": 0}}, "train.sft.learning_rate=0 must be > 0"),
    ],
)
def test_a_trl_option_set_in_two_places_is_an_error_naming_both(train, message):
    from looptool.train import TrainConfig

    with pytest.raises(ConfigError) as e:
        section_config(TrainConfig, "train", params={"train": train})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_warmup_extra_args_never_repeat_a_warmup_key():
    from looptool.train import WarmupConfig

    for key in ("learning_rate", "max_length", "max_steps"):
        with pytest.raises(ConfigError, match=rf"warmup.extra_args.{key} duplicates warmup.{key}"):
            section_config(WarmupConfig, "warmup", params={"warmup": {"extra_args": {key: 1}}})
    cfg = section_config(WarmupConfig, "warmup", params={"warmup": {"extra_args": {"bf16": False}}})
    assert cfg.extra_args == {"bf16": False}


def test_the_inactive_methods_fields_are_no_conflict():
    """train.grpo is not read with method sft (and train.sft not with grpo), so nothing there conflicts."""
    from looptool.train import TrainConfig

    sft = section_config(
        TrainConfig,
        "train",
        params={
            "train": {
                "method": "sft",
                "max_steps": 2,
                "grpo": {"max_steps": 5, "bf16": True, "learning_rate": 2e-5},
                "sft": {"learning_rate": 1e-3},
                "extra_args": {"bf16": False},
            }
        },
    )
    assert sft.learning_rate == 1e-3 and sft.max_steps == 2
    grpo = section_config(
        TrainConfig,
        "train",
        params={"train": {"grpo": {"learning_rate": 3e-5}, "sft": {"seed": 1, "learning_rate": 1e-3}}},
    )
    assert grpo.learning_rate == 3e-5
    assert TrainConfig().learning_rate == TrainConfig(method="sft").learning_rate == 2e-5  # the old default


@pytest.mark.parametrize("method,rate", [("grpo", 2e-5), ("sft", 1e-3)])
def test_demo_params_give_the_trainers_the_rates_they_had(tmp_path, method, rate):
    """params.yaml moved train.learning_rate (GRPO's 2e-5) to train.grpo.learning_rate; SFT's 1e-3 was already
    train.sft.learning_rate. The TRL configs get the same rates as before, in every iteration."""
    from looptool.config import load_params
    from looptool.train import TrainConfig
    from looptool.train.grpo import grpo_args
    from looptool.train.sft import sft_args

    params = load_params(ROOT / "params.yaml")
    params["train"]["method"] = method
    for key in params["iterations"]:
        cfg = section_config(TrainConfig, "train", key=key, params=params)
        assert cfg.learning_rate == rate
    if method == "grpo":
        args = grpo_args(cfg, tmp_path / "out", 0, on_cpu=True)
    else:
        args = sft_args(cfg, tmp_path / "out", 0, on_cpu=True, where="train")
    assert args.learning_rate == rate and args.max_steps == params["train"]["max_steps"]


def test_paper_gpu_profile_sets_the_papers_rate():
    from looptool.config import load_yaml
    from looptool.stage import deep_merge
    from looptool.train import TrainConfig

    profile = load_yaml((ROOT / "configs/profiles/paper-gpu.yaml").read_text(), "paper-gpu.yaml")
    assert "learning_rate" not in profile["train"]
    cfg = section_config(TrainConfig, "train", params=deep_merge({}, {"train": profile["train"]}))
    assert cfg.learning_rate == 1e-6 and cfg.grpo_fields()["learning_rate"] == 1e-6


def test_extra_args_are_checked(tmp_path):
    from trl import GRPOConfig

    from looptool.train.common import trl_config

    with pytest.raises(ConfigError, match="no_such_arg"):
        trl_config(GRPOConfig, "train", {"output_dir": str(tmp_path)}, {"no_such_arg": 1})


# --- reward and data -----------------------------------------------------------------------------------------


def test_reward_doctests():
    import looptool.train.rewards as rewards

    result = doctest.testmod(rewards)
    assert result.attempted >= 4 and result.failed == 0


def test_reward_on_samples():
    from looptool.calls import render_calls
    from looptool.train import tool_match_reward

    rows = _samples()
    label = [json.dumps(r["label"]) for r in rows]
    tools = [json.dumps(r["tools"]) for r in rows]
    right = [[{"role": "assistant", "content": render_calls(r["label"]) or "Sorry."}] for r in rows]
    assert tool_match_reward(None, right, label=label, tools=tools) == [1.0] * len(rows)
    wrong = [[{"role": "assistant", "content": '<tool_call>{"name": "get_weather"'}]] * len(rows)
    assert tool_match_reward(None, wrong, label=label, tools=tools) == [0.0] * len(rows)


def test_reward_choice_partial_credit_and_binary_default():
    """train.reward: toolmatch (default, the paper's) | partial; partial gives 1.0 exactly where ToolMatch does,
    credit in between on call labels, and exactly the binary reward on no-call labels."""
    from looptool.calls import render_calls
    from looptool.stage import section_config
    from looptool.train import TrainConfig, partial_reward, tool_match_reward
    from looptool.train.grpo import _reward
    from looptool.train.rewards import tool_match_reward_as

    assert TrainConfig().reward == "toolmatch"
    assert section_config(TrainConfig, "train", params={"train": {"reward": "partial"}}).reward == "partial"
    with pytest.raises(ConfigError, match=r"reward='toolrl' is not one of \['toolmatch', 'partial'\]"):
        section_config(TrainConfig, "train", params={"train": {"reward": "toolrl"}})
    assert _reward(TrainConfig(), None) is tool_match_reward
    assert _reward(TrainConfig(reward="partial"), None) is partial_reward

    rows = _samples()
    label = [json.dumps(r["label"]) for r in rows]
    tools = [json.dumps(r["tools"]) for r in rows]
    right = [[{"role": "assistant", "content": render_calls(r["label"]) or "Sorry."}] for r in rows]
    assert partial_reward(None, right, label=label, tools=tools) == [1.0] * len(rows)

    # every label's first call with one argument value changed: partial credit, never 1
    def off(r):
        calls = [dict(c, arguments=dict(c["arguments"])) for c in r["label"]]
        if calls and calls[0]["arguments"]:
            k = next(iter(calls[0]["arguments"]))
            calls[0]["arguments"][k] = "__wrong__"
        return [{"role": "assistant", "content": render_calls(calls) or "Sorry."}]

    got = partial_reward(None, [off(r) for r in rows], label=label, tools=tools)
    binary = tool_match_reward(None, [off(r) for r in rows], label=label, tools=tools)
    for r, p, b in zip(rows, got, binary, strict=True):
        assert (p == 1.0) == (b == 1.0)
        if r["label"] and r["label"][0]["arguments"]:
            assert 0.0 < p < 1.0
        if not r["label"]:  # no-call label: the binary reward exactly
            assert p == b
    assert any(0.0 < p < 1.0 for p in got)
    # a call on a no-call label and a text answer on a call label earn nothing
    call = [
        {"role": "assistant", "content": '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>'}
    ]
    assert partial_reward(None, [call, [{"role": "assistant", "content": "Sorry."}]],
                          label=["[]", label[[bool(r["label"]) for r in rows].index(True)]],
                          tools=[tools[0], tools[0]]) == [0.0, 0.0]  # fmt: skip
    # one family's format: same scores, the reward's name for TRL's logs
    fmt = tool_match_reward_as("hermes", "partial")
    assert fmt.__name__ == "partial_reward" and fmt(None, right, label=label, tools=tools) == [1.0] * len(
        rows
    )


def test_grpo_prompts_are_render_prompt(smollm2_tokenizer, data_dir):
    """TRL's own chat templating of the conversational prompts gives exactly render_prompt's text/tokens."""
    from trl.data_utils import apply_chat_template

    from looptool.prompts import render_prompt
    from looptool.train.data import grpo_rows, prompt_style, read_samples

    df = read_samples(data_dir / "train.parquet", TRAIN)
    rows = grpo_rows(df, smollm2_tokenizer)
    assert prompt_style(smollm2_tokenizer) == "conversational"
    expected = [
        render_prompt(smollm2_tokenizer, json.loads(t), json.loads(m))
        for t, m in df.select("tools", "messages").iter_rows()
    ]
    assert [
        apply_chat_template({"prompt": r["prompt"]}, smollm2_tokenizer)["prompt"] for r in rows
    ] == expected
    # the call GRPOTrainer._tokenize_prompts makes, batched
    ids = smollm2_tokenizer.apply_chat_template(
        conversation=[r["prompt"] for r in rows],
        tools=None,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    )["input_ids"]
    assert ids == [smollm2_tokenizer(t, add_special_tokens=False)["input_ids"] for t in expected]
    assert all(
        r["label"] == lab and r["tools"] == tl
        for r, lab, tl in zip(rows, df["label"], df["tools"], strict=True)
    )


def test_sft_rows_end_with_end_of_turn(smollm2_tokenizer, data_dir):
    from trl.data_utils import apply_chat_template

    from looptool.train.data import read_samples, sft_rows

    df = read_samples(data_dir / "train.parquet", TRAIN)
    rows = sft_rows(df, smollm2_tokenizer)
    text = apply_chat_template(rows[0], smollm2_tokenizer)
    assert (
        text["completion"]
        == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n'
    )
    assert rows[-1]["completion"][0]["content"] == "I cannot book flights with these tools."


TOOL_TEMPLATE = (
    "{% if tools %}<|im_start|>system\nTools: {{ tools | tojson }}<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{% if m.tool_calls %}{% for c in m.tool_calls %}"
    "<tool_call>\n{{ c.function | tojson }}\n</tool_call>{% endfor %}{% else %}{{ m.content }}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% if no_think %}<think></think>{% endif %}"
    "{% endif %}"
)


def test_text_prompts_for_templates_with_tools(smollm2_tokenizer_dir, data_dir):
    """A template that renders tools= gets text prompts (TRL's GRPO would drop per-row tools otherwise)."""
    from looptool.model import load_tokenizer
    from looptool.prompts import render_prompt
    from looptool.train.data import grpo_rows, prompt_style, read_samples, sft_rows

    tok = load_tokenizer(smollm2_tokenizer_dir)
    tok.chat_template = TOOL_TEMPLATE
    assert prompt_style(tok) == "text"
    df = read_samples(data_dir / "train.parquet", TRAIN)
    rows = grpo_rows(df, tok)
    first = df.row(0, named=True)
    assert rows[0]["prompt"] == render_prompt(tok, json.loads(first["tools"]), json.loads(first["messages"]))
    assert "get_weather" in rows[0]["prompt"]
    sft = sft_rows(df, tok)
    assert sft[0]["prompt"] == rows[0]["prompt"]
    assert sft[0]["completion"].endswith("<|im_end|>") and '"city": "Paris"' in sft[0]["completion"]
    # chat-template variables (e.g. Qwen3's enable_thinking) reach the rendered text
    kw = {"no_think": True}
    assert grpo_rows(df, tok, template_kwargs=kw)[0]["prompt"].endswith(
        "<|im_start|>assistant\n<think></think>"
    )
    assert sft_rows(df, tok, template_kwargs=kw)[0]["prompt"].endswith("<think></think>")


def test_conversational_sft_rows_carry_template_kwargs(smollm2_tokenizer, data_dir):
    from looptool.train.data import read_samples, sft_rows

    df = read_samples(data_dir / "train.parquet", TRAIN)
    assert "chat_template_kwargs" not in sft_rows(df, smollm2_tokenizer)[0]
    assert sft_rows(df, smollm2_tokenizer, template_kwargs={"x": 1})[0]["chat_template_kwargs"] == {"x": 1}


def test_read_samples_subset_is_seeded(data_dir):
    from looptool.train.data import read_samples

    a = read_samples(data_dir / "train.parquet", TRAIN, max_samples=5, seed=1)["sample_id"].to_list()
    b = read_samples(data_dir / "train.parquet", TRAIN, max_samples=5, seed=1)["sample_id"].to_list()
    c = read_samples(data_dir / "train.parquet", TRAIN, max_samples=5, seed=2)["sample_id"].to_list()
    assert a == b and len(a) == 5 and a != c


# --- GRPO ------------------------------------------------------------------------------------------------------


def _grpo_cfg(**over):
    from looptool.train import TrainConfig

    base = {
        "max_steps": 2,
        "grpo": {"max_completion_length": 8, "num_generations": 4, "learning_rate": 1e-3},
        "per_device_train_batch_size": 4,
        "lora": {"r": 4, "alpha": 8},
    }
    return section_config(TrainConfig, "train", params={"train": {**base, **over}})


@pytest.fixture(scope="module")
def grpo_run(tiny_model_dir, data_dir, tmp_path_factory):
    from looptool.train import completion_length_reward, train_grpo

    out = tmp_path_factory.mktemp("grpo") / "iter_1"
    metrics = train_grpo(
        model=tiny_model_dir,
        data=data_dir / "train.parquet",
        out=out,
        cfg=_grpo_cfg(),
        iteration=1,
        seed=1,
        reward_funcs=[completion_length_reward],
    )
    return out, metrics


def test_grpo_two_steps_move_weights_and_save_plain_checkpoint(grpo_run, tiny_model_dir):
    from looptool.train.common import load_trained

    out, m = grpo_run
    assert m["steps"] == 2 and len(m["series"]) == 2
    assert [r["step"] for r in m["series"]] == [1, 2]
    assert all({"step", "reward", "zero_std_frac", "loss", "grad_norm"} <= r.keys() for r in m["series"])
    assert not list(out.parent.glob("*.json"))  # the library returns its metrics; the stage writes them
    assert m["zero_std_frac_mean"] < 1 and m["no_signal"] is False and m["merged_lora"] is True
    assert 0 < m["trainable_params"] < m["total_params"] and m["cpu_compact_logprobs"] is True
    assert not (out / "adapter_config.json").exists() and (out / "tokenizer.json").exists()
    assert not out.with_name(out.name + ".work").exists()
    model = load_trained(out)  # a plain checkpoint: reloads without peft
    assert type(model).__name__ == "LlamaForCausalLM"
    assert _max_diff(_weights(out), _weights(tiny_model_dir)) > 1e-6
    assert set(_weights(out)) == set(_weights(tiny_model_dir))


def test_grpo_compact_logprobs_do_not_change_training(grpo_run, tiny_model_dir, data_dir, tmp_path):
    """The CPU compact-scoring switch: same rewards, loss and grad_norm, same weights."""
    from looptool.train import completion_length_reward, train_grpo

    out, m = grpo_run
    plain = train_grpo(
        model=tiny_model_dir,
        data=data_dir / "train.parquet",
        out=tmp_path / "iter_1",
        cfg=_grpo_cfg(cpu_compact_logprobs=False),
        iteration=1,
        seed=1,
        reward_funcs=[completion_length_reward],
    )
    assert plain["cpu_compact_logprobs"] is False
    for a, b in zip(m["series"], plain["series"], strict=True):
        assert a["reward"] == b["reward"]
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-3, abs=1e-6)
    assert _max_diff(_weights(out), _weights(tmp_path / "iter_1")) < 1e-5


class _FlatOnSomeSteps:
    """The completion-length reward, except on the generation batches listed in ``flat``, where every completion
    gets 0 (zero advantage everywhere)."""

    __name__ = "flat_on_some_steps"

    def __init__(self, flat):
        self.flat, self.calls = set(flat), 0

    def __call__(self, prompts, completions, **kw):
        from looptool.train import completion_length_reward

        self.calls += 1
        if self.calls in self.flat:
            return [0.0] * len(completions)
        return completion_length_reward(prompts, completions)


def test_grpo_skips_zero_advantage_steps_with_the_same_weights(
    tiny_model_dir, data_dir, tmp_path, monkeypatch
):
    """A step whose groups all have equal rewards skips the policy forward/backward; the optimizer still steps
    on zero gradients (AdamW's moments decay), so the weights equal TRL's own loss's to the bit."""
    import looptool.compat.trl as compat_trl
    from looptool.train import train_grpo

    runs = {}
    for name, losses in (("skip", compat_trl._ADVANTAGE_LOSSES), ("trl", frozenset())):
        # empty: never skippable, TRL's loss runs
        monkeypatch.setattr(compat_trl, "_ADVANTAGE_LOSSES", losses)
        runs[name] = train_grpo(
            model=tiny_model_dir,
            data=data_dir / "train.parquet",
            out=tmp_path / name,
            cfg=_grpo_cfg(max_steps=3),
            iteration=1,
            seed=1,
            reward_funcs=[_FlatOnSomeSteps({2})],
        )
    skip, trl = runs["skip"], runs["trl"]
    assert skip["zero_advantage_skipped"] == 1 and trl["zero_advantage_skipped"] == 0
    assert [r["zero_std_frac"] for r in skip["series"]][1] == 1.0
    assert [r["zero_std_frac"] for r in trl["series"]][1] == 1.0
    assert skip["series"][1]["entropy"] is None and trl["series"][1]["entropy"] is not None
    for a, b in zip(skip["series"], trl["series"], strict=True):
        assert (a["reward"], a["loss"], a["grad_norm"]) == (b["reward"], b["loss"], b["grad_norm"])
    assert _max_diff(_weights(tmp_path / "skip"), _weights(tmp_path / "trl")) == 0.0
    assert _max_diff(_weights(tmp_path / "skip"), _weights(tiny_model_dir)) > 1e-6  # steps 1 and 3 trained


def test_compact_switch_is_restored():
    import trl.trainer.utils as tu

    from looptool.compat.trl import compact_logprobs, compact_switch_available

    assert compact_switch_available()
    original = tu._use_triton
    with compact_logprobs(True) as on:
        assert on and tu._use_triton is not original
    assert tu._use_triton is original
    with pytest.raises(RuntimeError), compact_logprobs(True):
        raise RuntimeError
    assert tu._use_triton is original


# --- SFT warm-up ------------------------------------------------------------------------------------------------


def test_warmup_sft_lora_two_steps(tiny_model_dir, data_dir, tmp_path):
    from looptool.train import WarmupConfig, run_warmup
    from looptool.train.common import load_trained

    cfg = WarmupConfig(
        max_steps=2,
        per_device_train_batch_size=2,
        eval_samples=4,
        learning_rate=1e-2,
        lora={"r": 4, "alpha": 8},
    )
    out = tmp_path / "iter_0"
    m = run_warmup(
        model=tiny_model_dir,
        pool=data_dir / "pool.parquet",
        out=out,
        heldout=data_dir / "heldout.parquet",
        cfg=cfg,
    )
    assert m["enabled"] and m["steps"] == 2 and [r["step"] for r in m["series"]] == [1, 2]
    assert m["heldout_samples"] == 4 and m["heldout_loss_before"] > 0 and m["heldout_loss_after"] > 0
    assert m["merged_lora"] is True
    load_trained(out)
    assert _max_diff(_weights(out), _weights(tiny_model_dir)) > 1e-6


def test_warmup_weights_do_not_depend_on_the_split_its_loss_is_measured_on(
    tiny_model_dir, data_dir, tmp_path
):
    """The pipeline's warm-up measures its loss on the dev split now (it used the test split): the split is
    read for that loss only, so the trained weights are the same to the bit whichever split it is, and an
    empty dev split (seed.dev_domains: 0) measures nothing instead of failing."""
    from looptool.schema import SAMPLE, frame
    from looptool.storage import write_parquet
    from looptool.train import WarmupConfig, run_warmup

    empty = write_parquet(frame([], SAMPLE), tmp_path / "dev.parquet", SAMPLE)
    cfg = WarmupConfig(
        max_steps=2,
        per_device_train_batch_size=2,
        eval_samples=4,
        learning_rate=1e-2,
        lora={"r": 4, "alpha": 8},
    )
    runs = {
        name: run_warmup(
            model=tiny_model_dir, pool=data_dir / "pool.parquet", out=tmp_path / name, heldout=split, cfg=cfg
        )
        for name, split in (("test", data_dir / "heldout.parquet"), ("dev", empty), ("none", None))
    }
    assert runs["test"]["heldout_samples"] == 4 and runs["dev"]["heldout_samples"] == 0
    assert runs["dev"]["heldout_loss_before"] is None
    for name in ("dev", "none"):
        assert _max_diff(_weights(tmp_path / "test"), _weights(tmp_path / name)) == 0.0, name


def test_warmup_compact_logprobs_do_not_change_training(tiny_model_dir, data_dir, tmp_path):
    from looptool.train import WarmupConfig, run_warmup

    runs = {}
    for compact in (True, False):
        cfg = WarmupConfig(
            max_steps=2,
            per_device_train_batch_size=2,
            eval_samples=0,
            learning_rate=1e-2,
            lora={"enabled": False},
            cpu_compact_logprobs=compact,
        )
        runs[compact] = run_warmup(
            model=tiny_model_dir, pool=data_dir / "pool.parquet", out=tmp_path / f"c{compact}", cfg=cfg
        )
    assert runs[True]["cpu_compact_logprobs"] is True and runs[False]["cpu_compact_logprobs"] is False
    for a, b in zip(runs[True]["series"], runs[False]["series"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)
    assert _max_diff(_weights(tmp_path / "cTrue"), _weights(tmp_path / "cFalse")) < 1e-5


def test_warmup_full_finetune_saves_requested_dtype(tiny_model_dir, data_dir, tmp_path):
    from looptool.train import WarmupConfig, run_warmup

    cfg = WarmupConfig(
        max_steps=1,
        per_device_train_batch_size=2,
        eval_samples=0,
        save_dtype="bfloat16",
        lora={"enabled": False},
    )
    m = run_warmup(model=tiny_model_dir, pool=data_dir / "pool.parquet", out=tmp_path / "iter_0", cfg=cfg)
    assert m["merged_lora"] is False and m["trainable_params"] == m["total_params"]
    assert json.loads((tmp_path / "iter_0" / "config.json").read_text())["dtype"] == "bfloat16"


def test_warmup_disabled_links_the_base(tiny_model_dir, data_dir, tmp_path):
    from looptool.train import WarmupConfig, run_warmup

    m = run_warmup(
        model=tiny_model_dir,
        pool=data_dir / "pool.parquet",
        out=tmp_path / "iter_0",
        cfg=WarmupConfig(enabled=False),
    )
    assert m["enabled"] is False and m["steps"] == 0
    src, dst = tiny_model_dir / "model.safetensors", tmp_path / "iter_0" / "model.safetensors"
    assert dst.stat().st_ino == src.stat().st_ino  # hard link, no copy
