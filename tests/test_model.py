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


def test_gguf_parsed_once_reuses_the_reader_and_gives_the_same_tensors(smollm2_tokenizer):
    """Loading the embedded GGUF parses the file once (:func:`looptool.compat.transformers.gguf_parsed_once`):
    within the block every ``load_gguf_checkpoint`` call shares one reader, and the tensors, config and
    tokenizer fields it returns equal those of a fresh parse outside it; on exit gguf's names are restored."""
    import gguf
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    from looptool.compat.transformers import gguf_parsed_once
    from looptool.model import smollm2_gguf_path

    path = str(smollm2_gguf_path())
    config = load_gguf_checkpoint(path)["config"]
    skeleton = AutoModelForCausalLM.from_config(LlamaConfig(**config))  # names the tensors; weights unused
    fresh = load_gguf_checkpoint(path, return_tensors=True, model_to_load=skeleton)
    built: list[str] = []
    original = gguf.GGUFReader

    class Counting(original):  # counts the parses the block lets through
        def __init__(self, *args, **kwargs):
            built.append(str(args[0]))
            super().__init__(*args, **kwargs)

    gguf.GGUFReader = Counting
    try:
        with gguf_parsed_once():
            meta = load_gguf_checkpoint(path)
            shared = load_gguf_checkpoint(path, return_tensors=True, model_to_load=skeleton)
            assert gguf.get_tensor_name_map(*[gguf.MODEL_ARCH.LLAMA, 2]) is gguf.get_tensor_name_map(
                gguf.MODEL_ARCH.LLAMA, 2
            )
        assert gguf.GGUFReader is Counting and not hasattr(gguf.get_tensor_name_map, "cache_info")
    finally:
        gguf.GGUFReader = original
    assert built == [path]
    assert meta["config"] == fresh["config"] == shared["config"]
    assert meta["tokenizer"]["tokens"] == fresh["tokenizer"]["tokens"]
    assert fresh["tensors"].keys() == shared["tensors"].keys() and len(fresh["tensors"]) > 100
    for name, t in fresh["tensors"].items():
        assert torch.equal(torch.as_tensor(t), torch.as_tensor(shared["tensors"][name])), name
