"""Model preparation: embedded GGUF -> checkpoint, pass-through pointers, the tiny test model."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from looptool.model import POINTER, ModelConfig, link_or_copy_tree, resolve_model, run_prepare_model
from looptool.outputs import MARKER


def test_tiny_model_builds_and_generates(tiny_model_dir, smollm2_tokenizer):
    import torch

    from looptool.model import load_causal_lm

    t0 = time.perf_counter()
    model = load_causal_lm(tiny_model_dir, device="cpu")
    ids = smollm2_tokenizer("hello", return_tensors="pt").input_ids
    with torch.inference_mode():
        out = model.generate(
            ids, max_new_tokens=5, do_sample=False, pad_token_id=smollm2_tokenizer.pad_token_id
        )
    assert out.shape[1] == ids.shape[1] + 5
    assert time.perf_counter() - t0 < 60  # a generous sanity bound, not a speed test
    assert model.num_parameters() < 5_000_000


def test_pointer_for_local_dir(tiny_model_dir, tmp_path):
    info = run_prepare_model(out=tmp_path / "base", cfg=ModelConfig(source=str(tiny_model_dir)))
    assert info["kind"] == "pointer"
    ptr = json.loads((tmp_path / "base" / POINTER).read_text())
    assert "model.safetensors" in ptr["files"]
    assert resolve_model(tmp_path / "base") == str(tiny_model_dir.resolve())
    assert resolve_model(tiny_model_dir) == str(tiny_model_dir)


def test_pointer_for_hub_id(tmp_path):
    info = run_prepare_model(out=tmp_path / "base", cfg=ModelConfig(source="Qwen/Qwen3-8B"))
    assert info == {"kind": "pointer", "source": "Qwen/Qwen3-8B"}
    assert resolve_model(tmp_path / "base") == "Qwen/Qwen3-8B"


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype"):
        ModelConfig(dtype="int8")


def test_link_or_copy_tree(tiny_model_dir, tmp_path):
    link_or_copy_tree(tiny_model_dir, tmp_path / "copy")
    copied = sorted(p.name for p in (tmp_path / "copy").iterdir())
    assert copied == sorted([MARKER, *(p.name for p in tiny_model_dir.iterdir())])  # + looptool's marker


@pytest.mark.slow
def test_prepare_model_cli_embedded_gguf_generates(tmp_path):
    """`looptool prepare-model` converts the shipped GGUF into a checkpoint that greedy-generates text."""
    out = tmp_path / "base"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "looptool.cli",
            "prepare-model",
            "--params",
            str(tmp_path / "none.yaml"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
    import torch

    from looptool.model import load_causal_lm, load_tokenizer

    tok = load_tokenizer(out)
    model = load_causal_lm(out, device="cpu")
    assert model.num_parameters() == 134_515_008
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    ids = tok(prompt, return_tensors="pt")
    with torch.inference_mode():
        gen = model.generate(**ids, max_new_tokens=12, do_sample=False)
    text = tok.decode(gen[0, ids.input_ids.shape[1] :], skip_special_tokens=True)
    assert "Paris" in text
