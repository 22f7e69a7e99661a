"""The one stage contract: ``run_<stage>(*, inputs..., cfg, backend) -> metrics`` (keyword-only), stage scripts
as click commands whose every option has a help text."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = [
    ("looptool.model", "run_prepare_model"),
    ("looptool.synth.build", "run_seed"),
    ("looptool.merge", "run_select"),
    ("looptool.probe", "run_probe"),
    ("looptool.verify", "run_verify"),
    ("looptool.expand", "run_expand"),
    ("looptool.merge", "run_merge"),
    ("looptool.mechanisms", "run_mechanisms"),
    ("looptool.evaluate", "run_evaluate"),
    ("looptool.report", "run_report"),
    ("looptool.headline", "run_headline"),
]


@pytest.mark.parametrize(("module", "name"), RUNS)
def test_run_functions_take_keywords_only(module, name):
    params = inspect.signature(getattr(importlib.import_module(module), name)).parameters.values()
    assert params and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "stages").glob("*.py")))
def test_stage_scripts_are_documented_click_commands(script):
    spec = importlib.util.spec_from_file_location(f"stage_{script[:-3]}", ROOT / "stages" / script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert isinstance(mod.main, click.Command)
    undocumented = [p.name for p in mod.main.params if isinstance(p, click.Option) and not p.help]
    assert not undocumented, f"{script}: options without help {undocumented}"
