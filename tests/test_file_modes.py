"""Every output honours the umask (0644 files, 0755 folders under umask 022; 0600 / 0700 under 077), so other
programs, users and containers can read what the pipeline writes; the call cache, which may hold private
prompts, stays 0600 whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from looptool import storage

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def mask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _assert_modes(mask: int, *paths: Path) -> int:
    """Every file (and folder) at or under ``paths`` has the mode open() / mkdir give under ``mask``."""
    seen = 0
    for root in paths:
        for p in [root, *root.rglob("*")] if root.is_dir() else [root]:
            want = (0o777 if p.is_dir() else 0o666) & ~mask
            assert _mode(p) == want, f"{p}: {oct(_mode(p))}, want {oct(want)}"
            seen += 1
    return seen


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    from looptool.synth import load_seed_config, run_seed

    out = tmp_path_factory.mktemp("seed")
    cfg = replace(load_seed_config(ROOT / "params.yaml"), pool_size=12, heldout_size=0, label_noise=0.0)
    run_seed(out_dir=out, cfg=cfg, progress=False)
    return out / "pool.parquet"


def test_umask_is_read_without_changing_it(mask):
    assert storage.umask() == mask
    assert os.umask(mask) == mask  # still set


def test_parquet_json_and_text_outputs(mask, tmp_path):
    from looptool.schema import EVENT

    tmp_path = tmp_path / "out"  # pytest's own folder is 0700

    storage.write_parquet(pl.DataFrame({"x": [1]}), tmp_path / "a.parquet")
    events = pl.DataFrame(
        {"sample_id": ["s"], "iteration": [1], "event": ["selected"], "parent_id": [None], "detail": ["{}"]},
        schema_overrides={"parent_id": pl.String},
    )
    storage.write_parquet(events, tmp_path / "data" / "iter_1" / "events.parquet", EVENT)
    storage.write_json({"a": 1}, tmp_path / "metrics" / "m.json")
    storage.write_text("x", tmp_path / "t.txt")
    assert _assert_modes(mask, tmp_path) == 8  # four folders, four files
    assert not list(tmp_path.rglob("*.tmp"))


def test_exports_and_imports(mask, tmp_path, pool, smollm2_tokenizer):
    from looptool.interchange import export_dataset, import_files

    out = tmp_path / "exports"
    export_dataset(str(pool), out / "d.jsonl", "openai")
    export_dataset(str(pool), out / "d.json", "sharegpt", template="smollm2")
    export_dataset(str(pool), out / "d_trl", "trl", tokenizer=smollm2_tokenizer)
    export_dataset(str(pool), out / "d.parquet", "verl")
    import_files(out / "d.jsonl", tmp_path / "imported" / "back.parquet", on_error="fail")
    names = {p.name for p in out.iterdir()}
    assert names >= {"d.jsonl", "d.json", "dataset_info.json", "d.llamafactory.yaml", "d_trl", "d.parquet"}
    assert _assert_modes(mask, out, tmp_path / "imported") > 10


def test_report_and_cards(mask, tmp_path, monkeypatch):
    from looptool.card import CardInputs, write_cards
    from looptool.cli import main
    from looptool.report import run_report

    if not (ROOT / "metrics" / "train" / "iter_2.json").exists():
        pytest.skip("committed pipeline metrics not found")
    shutil.copytree(ROOT / "metrics", tmp_path / "metrics")
    for f in ("params.yaml", "dvc.lock"):
        shutil.copy(ROOT / f, tmp_path / f)
    monkeypatch.chdir(tmp_path)
    iterations = list(yaml.safe_load(Path("params.yaml").read_text())["iterations"])
    run_report(
        metrics_dir="metrics", iterations=iterations, plots_dir="reports/plots", html="reports/loop.html"
    )
    written = write_cards(iterations, "reports/cards", CardInputs())
    assert written and Path("reports/loop.html").stat().st_size > 1000
    Path("publish/iter_2").mkdir(parents=True)
    res = CliRunner().invoke(main, ["card", "2", "--into", "publish/iter_2"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["card", "1", "--out", "elsewhere/README.md"])
    assert res.exit_code == 0, res.output
    assert _assert_modes(mask, Path("reports"), Path("publish"), Path("elsewhere")) > 8


def test_model_weights(mask, tmp_path, tiny_model_dir):
    """The train stages' checkpoint writer (save_final): safetensors alone would write the weights 0600."""
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from looptool.train.common import save_final

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    trainer = Trainer(
        model=model, args=TrainingArguments(output_dir=str(tmp_path / "work"), use_cpu=True, report_to=[])
    )
    save_final(trainer, tiny_model_dir, tmp_path / "models" / "iter_1", "base")
    weights = list((tmp_path / "models" / "iter_1").glob("*.safetensors"))
    assert weights
    assert _assert_modes(mask, tmp_path / "models") > 4


def test_adapter_weights(mask, tmp_path, tiny_model_dir):
    """``train.save: adapter`` (save_adapter): peft's adapter file is safetensors too."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from looptool.train.adapter import save_adapter

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM"),
    )
    trainer = Trainer(
        model=model, args=TrainingArguments(output_dir=str(tmp_path / "work"), use_cpu=True, report_to=[])
    )
    save_adapter(trainer, tiny_model_dir, tmp_path / "models" / "iter_1")
    assert list((tmp_path / "models" / "iter_1").glob("adapter_model.safetensors"))
    assert _assert_modes(mask, tmp_path / "models") > 4


def test_call_cache_stays_private(mask, tmp_path):
    from looptool.llm.cache import DB_NAME, CallCache

    cache = CallCache(tmp_path / "cache")
    cache.put_many([("k", "hf", "m", "generate", {"text": "secret prompt's answer", "token_ids": [1]})])
    assert cache.get_many(["k"])["k"]["text"] == "secret prompt's answer"
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert DB_NAME in files and f"{DB_NAME}-wal" in files
    for name in files:
        assert _mode(tmp_path / "cache" / name) == 0o600, name
    cache.db.close()
    # a cache file an earlier version left readable by others is made private on the next open
    os.chmod(tmp_path / "cache" / DB_NAME, 0o644)
    CallCache(tmp_path / "cache").db.close()
    assert _mode(tmp_path / "cache" / DB_NAME) == 0o600
