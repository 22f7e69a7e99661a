"""Native exports: our Parquet -> OpenAI / ShareGPT (LLaMA-Factory) / TRL datasets folder / verl parquet ->
re-import gives the same sample ids and labels; OpenAI call ids pair up; TRL's trainers load the folder;
verl's compute_score is the ToolMatch reward."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from looptool.interchange import export_dataset, import_files
from looptool.interchange.openai import pairing_problems
from looptool.interchange.verl import compute_score
from looptool.synth import load_seed_config, run_seed

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    """A synthesized seed pool: every pattern, multi-turn rows with tool results, parallel calls, [] labels."""
    out = tmp_path_factory.mktemp("seed")
    cfg = replace(load_seed_config(ROOT / "params.yaml"), pool_size=60, heldout_size=0, label_noise=0.0)
    run_seed(out_dir=out, cfg=cfg, progress=False)
    return out / "pool.parquet"


def _ids_labels(path: Path) -> dict[str, list]:
    df = pl.read_parquet(path)
    return {r["sample_id"]: json.loads(r["label"]) for r in df.iter_rows(named=True)}


@pytest.mark.parametrize(
    "fmt,name", [("openai", "d.jsonl"), ("sharegpt", "d.json"), ("trl", "d_trl"), ("verl", "d.parquet")]
)
def test_round_trip_keeps_sample_ids_and_labels(pool, tmp_path, fmt, name, smollm2_tokenizer):
    want = _ids_labels(pool)
    patterns = {json.loads(m)["pattern"] for m in pl.read_parquet(pool)["meta"]}
    assert {"multi_turn", "parallel", "irrelevant"} <= patterns
    rep = export_dataset(str(pool), tmp_path / name, fmt, tokenizer=smollm2_tokenizer)
    assert (rep.rows, rep.skipped) == (len(want), 0)
    back = import_files(tmp_path / name, tmp_path / "back.parquet", on_error="fail")
    assert back.rows == len(want)
    assert _ids_labels(tmp_path / "back.parquet") == want


def test_openai_export_pairs_call_ids(pool, tmp_path):
    export_dataset(str(pool), tmp_path / "d.jsonl", "openai")
    recs = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    multi = [r for r in recs if any(m["role"] == "tool" for m in r["messages"])]
    assert multi, "the pool has multi-turn rows with tool results"
    for r in recs:
        assert pairing_problems(r) == []
        final = r["messages"][-1]
        assert final["weight"] == 1 and all(tc["id"] for tc in final.get("tool_calls") or [])
    # the check itself fails on unpaired replies
    bad = json.loads(json.dumps(multi[0]))
    for m in bad["messages"]:
        m.pop("tool_call_id", None)
    assert any("without tool_call_id" in p for p in pairing_problems(bad))
    bad = json.loads(json.dumps(multi[0]))
    next(m for m in bad["messages"] if m["role"] == "tool")["tool_call_id"] = "nope"
    assert any("names no earlier call" in p for p in pairing_problems(bad))


def test_sharegpt_export_writes_dataset_info_and_history_masking(pool, tmp_path):
    (tmp_path / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "o.json"}}))
    rep = export_dataset(str(pool), tmp_path / "loop_d1.json", "sharegpt", template="smollm2")
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert set(info) == {"other", "loop_d1"}  # merged, not overwritten
    entry = info["loop_d1"]
    assert entry["file_name"] == "loop_d1.json" and entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "conversations", "tools": "tools"}
    import yaml

    args = yaml.safe_load((tmp_path / "loop_d1.llamafactory.yaml").read_text())
    assert args == {
        "dataset": "loop_d1",
        "dataset_dir": str(tmp_path),
        "mask_history": True,
        "template": "smollm2",
    }
    assert sorted(map(str, rep.extra_files)) == sorted(
        [str(tmp_path / "dataset_info.json"), str(tmp_path / "loop_d1.llamafactory.yaml")]
    )


def test_verl_rows_and_compute_score(pool, tmp_path):
    export_dataset(str(pool), tmp_path / "d.parquet", "verl")
    df = pl.read_parquet(tmp_path / "d.parquet")
    assert {"data_source", "prompt", "ability", "reward_model", "extra_info"} <= set(df.columns)
    from looptool.calls import render_calls

    scored = 0
    for r in df.iter_rows(named=True):
        assert all(isinstance(m["content"], str) for m in r["prompt"])  # plain chat messages
        assert r["prompt"][0]["role"] == "system"  # the tools, folded into the system prompt
        assert all(t["name"] in r["prompt"][0]["content"] for t in json.loads(r["extra_info"]["tools"]))
        gt, extra = r["reward_model"]["ground_truth"], r["extra_info"]
        label = json.loads(gt)
        right = render_calls(label) if label else "I can't do that."
        assert compute_score(r["data_source"], right, gt, extra) == 1.0
        if label:
            wrong = render_calls([{**label[0], "name": label[0]["name"] + "_x"}] + label[1:])
            assert compute_score(r["data_source"], wrong, gt, extra) == 0.0
            # the same calls in Llama-3's and Mistral's formats score 1 too
            llama = "<|python_tag|>" + "; ".join(
                json.dumps({"name": c["name"], "parameters": c["arguments"]}) for c in label
            )
            mistral = "[TOOL_CALLS]" + json.dumps(label)
            assert compute_score("looptool", llama, gt, {**extra, "call_format": "llama3"}) == 1.0
            assert compute_score("looptool", mistral, gt, extra) == 1.0
            # train.reward: partial, through verl's reward_kwargs: the same function as training's reward
            assert compute_score("looptool", right, gt, extra, reward="partial") == 1.0
            assert compute_score("looptool", wrong, gt, extra, reward="partial") < 1.0
            scored += 1
        else:  # a no-call label: exactly the binary reward
            call = render_calls([{"name": "f", "arguments": {}}])
            assert compute_score("looptool", call, gt, extra, reward="partial") == 0.0
            assert compute_score("looptool", right, gt, extra, reward="partial") == 1.0
    assert scored > 10
    with pytest.raises(ValueError, match="reward='toolrl'"):
        compute_score("looptool", "hi", "[]", reward="toolrl")
    from looptool.interchange import verl
    from looptool.train.config import REWARDS

    assert verl.REWARDS == REWARDS


def test_trl_folder_loads_in_sft_and_grpo_trainers(pool, tmp_path, tiny_model_dir):
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, SFTConfig, SFTTrainer

    from looptool.train.rewards import tool_match_reward

    export_dataset(str(pool), tmp_path / "trl", "trl", tokenizer=tiny_model_dir)
    ds = load_from_disk(str(tmp_path / "trl"))
    assert {"prompt", "completion", "tools", "label", "sample_id"} <= set(ds.column_names)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    common = dict(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
    )
    sft = SFTTrainer(
        model=model,
        args=SFTConfig(**common, max_length=256),
        train_dataset=ds.select(range(4)),
        processing_class=tok,
    )
    assert sft.train().global_step == 1
    grpo = GRPOTrainer(
        model=model,
        reward_funcs=tool_match_reward,
        args=GRPOConfig(**common, num_generations=2, max_completion_length=8),
        train_dataset=ds.select(range(4)).remove_columns(["completion"]),
        processing_class=tok,
    )
    assert grpo.train().global_step == 1


# Qwen2.5-Instruct's chat template (tools and calls part; its system default shortened): it applies ``tojson``
# to a call's arguments unconditionally, so JSON-text arguments would be encoded twice.
QWEN25_TEMPLATE = """{%- if tools %}
{{- '<|im_start|>system\\n' }}
{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen.' }}{%- endif %}
{{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n<tools>" }}
{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
{{- "\\n</tools>\\n\\nFor each function call, return a json object within <tool_call></tool_call> XML tags.<|im_end|>\\n" }}
{%- else %}
{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
{%- else %}{{- '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- for message in messages %}
{%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
{%- elif message.role == "assistant" %}
{{- '<|im_start|>' + message.role }}
{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\\n<tool_call>\\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\\n' }}
{%- elif message.role == "tool" %}
{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}
{{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}
{%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
"""


@pytest.fixture(params=["smollm2", "qwen2.5"])
def target_tokenizer(request, smollm2_tokenizer_dir):
    """SmolLM2's own template (ignores tools=) and a Qwen2.5-style one (renders tools, tojson arguments)."""
    from looptool.model import load_tokenizer
    from looptool.prompts.render import supports_tools

    tok = load_tokenizer(smollm2_tokenizer_dir)  # a fresh object: supports_tools caches on it
    if request.param == "qwen2.5":
        tok.chat_template = QWEN25_TEMPLATE
    assert supports_tools(tok) == (request.param == "qwen2.5")
    return tok


def test_trl_rows_render_the_tools_and_the_calls_with_the_target_template(pool, tmp_path, target_tokenizer):
    """The export's rows, read back from disk and rendered as SFTTrainer does: the prompt names every tool and
    the completion parses back to the label exactly (no argument encoded twice, no other call's keys as
    nulls)."""
    from datasets import load_from_disk

    from looptool.calls import parse
    from looptool.prompts.render import render_prompt

    tok = target_tokenizer
    rep = export_dataset(str(pool), tmp_path / "trl", "trl", tokenizer=tok)
    ds = load_from_disk(str(tmp_path / "trl"))
    assert len(ds) == rep.rows == pl.read_parquet(pool).height
    samples = {r["sample_id"]: r for r in pl.read_parquet(pool).iter_rows(named=True)}
    calls = keys = 0
    for row in ds:
        tools = json.loads(row["tools"]) or None
        prompt = tok.apply_chat_template(
            row["prompt"], tools=tools, tokenize=False, add_generation_prompt=True
        )
        full = tok.apply_chat_template(row["prompt"] + row["completion"], tools=tools, tokenize=False)
        assert full.startswith(prompt)
        completion = full[len(prompt) :]
        assert completion.endswith("<|im_end|>\n")
        label = json.loads(row["label"])
        parsed = parse(completion.removesuffix("<|im_end|>\n"))
        assert parsed.ok and parsed.label() == label, completion
        s = samples[row["sample_id"]]
        # the prompt is the loop's own rendering of the sample (what probe and train show the student)
        assert prompt == render_prompt(tok, json.loads(s["tools"]), json.loads(s["messages"]))
        assert all(t["function"]["name"] in prompt for t in tools or [])
        calls += len(label)
        keys += len({k for c in label for k in c["arguments"]})
    assert calls > 30 and keys > 10  # calls of many tools with different argument names
    # whatever the template, the folder re-imports to the same samples (from their sample_messages)
    back = import_files(tmp_path / "trl", tmp_path / "back.parquet", on_error="fail")
    assert back.rows == len(ds) and _ids_labels(tmp_path / "back.parquet") == _ids_labels(pool)


def test_trl_export_needs_its_tokenizer(pool, tmp_path, monkeypatch):
    from looptool.interchange import InterchangeError

    monkeypatch.chdir(tmp_path)  # no models/base here
    with pytest.raises(InterchangeError, match=r"^models/base: no model folder \(the pipeline's student"):
        export_dataset(str(pool), tmp_path / "trl", "trl")
    assert not (tmp_path / "trl").exists()


def test_export_cli_names_the_llamafactory_template(pool, tmp_path, monkeypatch):
    import yaml
    from click.testing import CliRunner

    from looptool.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("model:\n  source: Qwen/Qwen2.5-0.5B-Instruct\n")
    r = CliRunner().invoke(main, ["export", str(pool), "--format", "sharegpt", "--out", "d.json"])
    assert r.exit_code == 0, r.output
    assert yaml.safe_load((tmp_path / "d.llamafactory.yaml").read_text())["template"] == "qwen"
    (tmp_path / "params.yaml").write_text("seed: {}\n")  # model.source unset: the embedded SmolLM2
    r = CliRunner().invoke(main, ["export", str(pool), "--format", "sharegpt", "--out", "e.json"])
    assert r.exit_code == 0, r.output
    assert yaml.safe_load((tmp_path / "e.llamafactory.yaml").read_text())["template"] == "smollm2"
