"""Shared fixtures: the SmolLM2 tokenizer (from the embedded GGUF, cached) and a tiny random Llama."""

from __future__ import annotations

from pathlib import Path

import pytest

ACEBENCH_FIXTURE = Path(__file__).resolve().parent / "data" / "acebench"
"""ACEBench-format fixtures written here (data in ``data_all/data_en``, scenario code in ``model_inference``)."""


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except Exception:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def bfcl_data_dir() -> Path:
    """The BFCL data of the bfcl-eval package (``BFCL_v4_*.json`` with ``possible_answer/``)."""
    from looptool.evaluate.bfcl_multi import package_data_dir

    found = package_data_dir()
    if found is None:
        pytest.fail("the bfcl-eval package is not installed (make install adds it with --no-deps)")
    return found


@pytest.fixture(scope="session")
def acebench_data_dir() -> Path:
    """ACEBench's English data layout with a few entries per category (our fixtures, no checkout needed)."""
    return ACEBENCH_FIXTURE / "data_all" / "data_en"


@pytest.fixture(scope="session")
def smollm2_tokenizer_dir(request) -> Path:
    """The SmolLM2-135M-Instruct tokenizer, read once from the GGUF (8 s) and cached by pytest."""
    from transformers import AutoTokenizer

    from looptool.model import smollm2_gguf_path

    cache = Path(request.config.cache.mkdir("smollm2-tokenizer"))
    if not (cache / "tokenizer.json").exists():
        gguf = smollm2_gguf_path()
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tok.save_pretrained(cache)
    return cache


@pytest.fixture(scope="session")
def smollm2_tokenizer(smollm2_tokenizer_dir):
    from looptool.model import load_tokenizer

    return load_tokenizer(smollm2_tokenizer_dir)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smollm2_tokenizer) -> Path:
    """A 2-layer random Llama (hidden 64) with the SmolLM2 tokenizer: loads and generates in well under 1 s."""
    from looptool.model import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), smollm2_tokenizer)
