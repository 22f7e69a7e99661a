"""Greedy Capability Probing with the real transformers backend on the tiny model."""

from __future__ import annotations

import json

import polars as pl
import pytest

from looptool import storage
from looptool.llm import BackendConfig, get_backend
from looptool.probe import ProbeConfig, probe, probe_metrics
from looptool.schema import PROBE, TRAIN, frame, make_sample_id

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def _data(n=6):
    rows = []
    for i in range(n):
        msgs = [{"role": "user", "content": f"Weather in city number {i}?"}]
        label = [] if i % 2 else [{"name": "get_weather", "arguments": {"city": f"c{i}"}}]
        rows.append(
            {
                "sample_id": make_sample_id(TOOLS, msgs),
                "tools": TOOLS,
                "messages": msgs,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {"pattern": "irrelevant" if i % 2 else "single"},
                "part": "seed_new",
            }
        )
    return frame(rows, TRAIN)


@pytest.fixture
def backend(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    with get_backend(BackendConfig(backend="transformers", batch_size=4), model=str(tiny_model_dir)) as b:
        yield b


def test_probe_rows(backend):
    data = _data()
    out = probe(data, backend, ProbeConfig(max_new_tokens=8), iteration=1)
    PROBE.validate(out, "probe.parquet")
    assert out["sample_id"].to_list() == data["sample_id"].to_list()  # order kept
    assert (out["n_tokens"] <= 8).all() and (out["n_tokens"] >= 1).all()
    assert out["ppl"].null_count() == 0 and (out["ppl"] > 1).all()  # from the decode's own log-probs
    # the random model writes text, never a tool call: [] labels are matched, call labels are not
    assert out["mastered"].to_list() == [False, True, False, True, False, True]
    m = probe_metrics(out, data, 1.0, backend.stats())
    assert m["mastered_by_pattern"] == {"irrelevant": 1.0, "single": 0.0}
    assert m["n"] == 6 and m["mastered"] == 3


def test_probe_stage_cli(tiny_model_dir, tmp_path, monkeypatch):
    import importlib.util

    from click.testing import CliRunner

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    spec = importlib.util.spec_from_file_location("probe_stage", "stages/probe.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    params = tmp_path / "params.yaml"
    params.write_text(
        'backends: {student: {backend: transformers, batch_size: 2}}\nprobe: {max_new_tokens: 4}\niterations: {"1": {prev: "0", next: "2"}}\n'
    )
    data = storage.write_parquet(_data(4), tmp_path / "d.parquet", TRAIN)
    res = CliRunner().invoke(
        mod.main,
        [
            "--params",
            str(params),
            "--iteration",
            "1",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(data),
            "--out",
            str(tmp_path / "p.parquet"),
            "--metrics",
            str(tmp_path / "m.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["n"] == 4 and m["iteration"] == 1
    assert pl.read_parquet(tmp_path / "p.parquet").height == 4


def test_probe_call_format_param(backend):
    from looptool.calls import call_format_of

    out = probe(_data(), backend, ProbeConfig(max_new_tokens=8, call_format="template"), iteration=1)
    assert out["mastered"].to_list() == [False, True, False, True, False, True]
    assert call_format_of(backend.tokenizer) in ("hermes", "auto")
    with pytest.raises(ValueError, match="call_format"):
        ProbeConfig(call_format="gemma")


def _interrupt_after(hf, rows: int):
    """Make the real engine raise KeyboardInterrupt (as Ctrl-C would) once ``rows`` requests have finished."""
    real = hf._drop
    finished = []

    def drop(state):
        finished.extend(r.index for r in state.rows if r.finish is not None)
        if len(finished) >= rows:
            raise KeyboardInterrupt
        return real(state)

    hf._drop = drop
    return finished


def test_interrupted_probe_keeps_finished_rows(tiny_model_dir, tmp_path, monkeypatch):
    """Issue 23, class 10: a probe under the default cache_chunk (128: one call for the demo's 48 samples, here
    24) interrupted after 8 rows finished. Before, the cache got nothing (rows were stored when the chunk
    returned); now the finished rows are stored as they finish, and the re-run decodes only the others."""
    data = _data(24)
    cfg = ProbeConfig(max_new_tokens=4)
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "clean"))
    with get_backend(BackendConfig(backend="transformers", batch_size=4), model=str(tiny_model_dir)) as b:
        clean = probe(data, b, cfg, iteration=1)
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    student = BackendConfig(backend="transformers", batch_size=4)
    assert student.cache_chunk == 128  # the default: the whole probe is one call to the engine
    with get_backend(student, model=str(tiny_model_dir)) as b:
        finished = _interrupt_after(b.inner.inner, 8)
        with pytest.raises(KeyboardInterrupt):
            probe(data, b, cfg, iteration=1)
    assert 8 <= len(finished) < 24
    with get_backend(student, model=str(tiny_model_dir)) as b:
        again = probe(data, b, cfg, iteration=1)
        assert b.stats() == {"hits": len(finished), "misses": 24 - len(finished), "errors": 0}
    assert again.equals(clean)
