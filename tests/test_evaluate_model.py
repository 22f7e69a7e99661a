"""The evaluation path end to end with a real model: the tiny random Llama through the student backend, a few
entries per category, the stage script's wiring (params -> metrics + results) and ``looptool eval``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from looptool import storage
from looptool.evaluate import EVAL_RESULT, EvalConfig, run_evaluate
from looptool.llm.config import BackendConfig
from looptool.llm.factory import opened_backend


def _cfg(bfcl_data_dir, acebench_data_dir, **kw) -> EvalConfig:
    return EvalConfig(
        bfcl_dir=str(bfcl_data_dir),
        acebench_dir=str(acebench_data_dir),
        bfcl_categories=["simple", "parallel", "irrelevance", "live_relevance"],
        acebench_categories=["normal_single_turn_single_function", "special_incomplete"],
        limit=2,
        max_new_tokens=8,
        **kw,
    )


def test_evaluate_tiny_model_end_to_end(bfcl_data_dir, acebench_data_dir, tiny_model_dir, tmp_path):
    pytest.importorskip("looptool.llm", reason="student backends not available").get_backend  # noqa: B018
    student = BackendConfig(backend="transformers", batch_size=4, device="cpu", cache=False)
    with opened_backend(student, model=str(tiny_model_dir)) as backend:
        m = run_evaluate(
            model=str(tiny_model_dir),
            heldout=None,
            results=tmp_path / "r.parquet",
            cfg=_cfg(bfcl_data_dir, acebench_data_dir),
            iteration=0,
            backend=backend,
        )
    assert m["run"]["prompts"] == 12 and m["run"]["backend_errors"] == 0
    assert m["iteration"] == 0 and m["model"] == str(tiny_model_dir)
    assert list(tmp_path.iterdir()) == [
        tmp_path / "r.parquet"
    ]  # the caller writes the metrics, not the library
    results = storage.read_parquet(tmp_path / "r.parquet", EVAL_RESULT)
    assert results.height == 12
    assert set(results["benchmark"].unique()) == {"bfcl", "acebench"}
    assert (results["n_tokens"] <= 8).all() and (results["n_tokens"] > 0).all()
    # a random model makes no well-formed call: AST categories fail, irrelevance passes
    cats = m["bfcl"]["categories"]
    assert cats["simple"]["accuracy"] == 0.0 and cats["irrelevance"]["accuracy"] == 1.0
    assert cats["live_relevance"]["accuracy"] == 0.0
    assert m["acebench"]["categories"]["special_incomplete"]["accuracy"] == 0.0
    assert "skipped" in m["heldout"]
    for key in ("bfcl_single_turn", "bfcl_non_live", "bfcl_live", "acebench_normal", "acebench_special"):
        assert m["summary"][key] is not None


def test_eval_command(bfcl_data_dir, acebench_data_dir, tiny_model_dir, tmp_path, monkeypatch):
    pytest.importorskip("looptool.llm", reason="student backends not available").get_backend  # noqa: B018
    from looptool.cli import main

    monkeypatch.chdir(tmp_path)  # no params.yaml here: the command's own defaults
    (tmp_path / "params.yaml").write_text(
        "backends:\n  student: {backend: transformers, batch_size: 4, device: cpu, cache: false}\n"
        "eval: {max_new_tokens: 8, bfcl_categories: [simple, irrelevance], acebench_categories: [special_irrelevant]}\n"
    )
    res = CliRunner().invoke(
        main,
        [
            "eval",
            str(tiny_model_dir),
            "--bfcl",
            str(bfcl_data_dir),
            "--acebench",
            str(acebench_data_dir),
            "--limit",
            "1",
            "--out",
            "out/m.json",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "out" / "m.json").read_text())
    assert m["run"]["prompts"] == 3
    assert set(m["bfcl"]["categories"]) == {"simple", "irrelevance"}
    assert '"summary"' in res.output


def test_evaluate_stage_script(bfcl_data_dir, tiny_model_dir, tmp_path):
    """stages/evaluate.py reads ``eval`` (with the iteration's overrides) and ``backends.student``."""
    pytest.importorskip("looptool.llm", reason="student backends not available").get_backend  # noqa: B018
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "stage_evaluate", Path(__file__).parents[1] / "stages" / "evaluate.py"
    )
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    params = tmp_path / "params.yaml"
    params.write_text(
        "backends:\n  student: {backend: transformers, batch_size: 4, device: cpu, cache: false}\n"
        f"eval: {{bfcl_dir: {bfcl_data_dir}, acebench_dir: null, limit: 1, max_new_tokens: 4,\n"
        "       bfcl_categories: [simple, irrelevance]}\n"
        "iterations:\n  '1': {prev: '0', next: '2', eval: {bfcl_categories: [irrelevance]}}\n"
    )
    for j, expected in ((0, {"simple", "irrelevance"}), (1, {"irrelevance"})):
        res = CliRunner().invoke(
            stage.main,
            [
                "--params",
                str(params),
                "--iteration",
                str(j),
                "--model",
                str(tiny_model_dir),
                "--metrics",
                str(tmp_path / f"iter_{j}.json"),
                "--results",
                str(tmp_path / f"iter_{j}.parquet"),
            ],
            catch_exceptions=False,
        )
        assert res.exit_code == 0, res.output
        m = json.loads((tmp_path / f"iter_{j}.json").read_text())
        assert set(m["bfcl"]["categories"]) == expected and m["iteration"] == j
        assert "no acebench data folder" in m["acebench"]["skipped"]
