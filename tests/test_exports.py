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
def test_round_trip_keeps_sample_ids_and_labels(pool, tmp_path, fmt, name):
    want = _ids_labels(pool)
    patterns = {json.loads(m)["pattern"] for m in pl.read_parquet(pool)["meta"]}
    assert {"multi_turn", "parallel", "irrelevant"} <= patterns
    rep = export_dataset(str(pool), tmp_path / name, fmt)
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
    rep = export_dataset(str(pool), tmp_path / "loop_d1.json", "sharegpt")
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert set(info) == {"other", "loop_d1"}  # merged, not overwritten
    entry = info["loop_d1"]
    assert entry["file_name"] == "loop_d1.json" and entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "conversations", "tools": "tools"}
    import yaml

    args = yaml.safe_load((tmp_path / "loop_d1.llamafactory.yaml").read_text())
    assert args == {"dataset": "loop_d1", "dataset_dir": str(tmp_path), "mask_history": True}
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

    export_dataset(str(pool), tmp_path / "trl", "trl")
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
