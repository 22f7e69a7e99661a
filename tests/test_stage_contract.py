"""The one stage contract: ``run_<stage>(*, inputs..., cfg, backend) -> metrics`` (keyword-only, writing no
metrics), stage scripts as click commands of one shape (the shared options of :mod:`looptool.stage`, every
option with a help text, imports at the top, metrics written by :func:`looptool.stage.write_metrics`), and no
library function that writes a metrics file itself."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = [
    ("looptool.model", "run_prepare_model"),
    ("looptool.synth.build", "run_seed"),
    ("looptool.synth.imported", "run_import_seed"),
    ("looptool.merge", "run_select"),
    ("looptool.train.sft", "run_warmup"),
    ("looptool.train.run", "run_train"),
    ("looptool.probe", "run_probe"),
    ("looptool.verify", "run_verify"),
    ("looptool.expand", "run_expand"),
    ("looptool.merge", "run_merge"),
    ("looptool.mechanisms", "run_mechanisms"),
    ("looptool.evaluate", "run_evaluate"),
    ("looptool.report", "run_report"),
    ("looptool.headline", "run_headline"),
]

MAX_KEYWORDS = 9
"""More than this and a stage's input files go into one ``*Inputs`` dataclass (``LoopInputs``,
``ExpandInputs``)."""

SCRIPTS = sorted(p.name for p in (ROOT / "stages").glob("*.py"))
ALIASES = {"prepare_model.py"}
"""Scripts that are a CLI command themselves (``looptool prepare-model``): checked as commands, not as
files."""


def _load(script: str):
    spec = importlib.util.spec_from_file_location(f"stage_{script[:-3]}", ROOT / "stages" / script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(("module", "name"), RUNS)
def test_run_functions_take_keywords_only_and_return_metrics(module, name):
    fn = getattr(importlib.import_module(module), name)
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    assert params and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name
    assert sig.return_annotation in ("dict[str, Any]", dict), f"{name} must return its metrics (a dict)"
    assert len(params) <= MAX_KEYWORDS, f"{name} takes {len(params)} keywords; group its inputs"
    assert not {p.name for p in params} & {"metrics", "metrics_path"}, f"{name}: the stage writes the metrics"


def test_every_run_function_is_listed():
    """A new ``run_<stage>`` joins RUNS (so the checks above see it)."""
    found = set()
    for path in (ROOT / "looptool").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("run_"):
                found.add(node.name)
    helpers = {"run_stage", "run_counted", "run_fingerprint"}  # guard, progress, launch: not stages
    assert found - helpers == {name for _, name in RUNS}


@pytest.mark.parametrize("script", SCRIPTS)
def test_stage_scripts_are_documented_click_commands(script):
    mod = _load(script)
    assert isinstance(mod.main, click.Command)
    undocumented = [p.name for p in mod.main.params if isinstance(p, click.Option) and not p.help]
    assert not undocumented, f"{script}: options without help {undocumented}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_stage_scripts_share_option_names_and_types(script):
    """``--params`` -> ``params_path`` (default params.yaml), ``--iteration`` -> a required int,
    ``--metrics`` -> ``metrics``, ``--data`` -> ``data``: the same in every script (:mod:`looptool.stage`'s
    options)."""
    opts = {o.opts[0]: o for o in _load(script).main.params if isinstance(o, click.Option)}
    if "--params" in opts:
        p = opts["--params"]
        assert (p.name, p.default, p.type) == ("params_path", "params.yaml", click.STRING), script
    if "--iteration" in opts:
        it = opts["--iteration"]
        assert it.type is click.INT and it.required and it.name == "iteration", script
    if "--metrics" in opts:
        assert opts["--metrics"].name == "metrics", script
    if "--data" in opts:
        assert opts["--data"].name == "data" and opts["--data"].required, script


def _calls(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            out.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
    return out


@pytest.mark.parametrize("script", sorted(set(SCRIPTS) - ALIASES))
def test_stage_scripts_have_one_shape(script):
    """Imports at the top (the looptool modules import torch and friends lazily themselves), logging left to
    ``run_stage``, one ``run_<stage>`` called, its metrics written by ``looptool.stage.write_metrics``, and
    the ``run_stage(main)`` guard."""
    tree = ast.parse((ROOT / "stages" / script).read_text())
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    inner = [n for n in ast.walk(main) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not inner, (
        f"{script}: import inside main (line {inner[0].lineno if inner else 0}); import at the top"
    )
    imported = {a.name for n in tree.body if isinstance(n, ast.ImportFrom) and n.module for a in n.names} | {
        a.asname for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names if a.asname
    }
    calls = _calls(main)
    assert "basicConfig" not in calls and "setup_logging" not in calls, f"{script}: run_stage sets up logging"
    assert not calls & {"write_json", "write_text", "dump"}, f"{script}: write metrics with write_metrics"
    runs = sorted(c for c in calls if c.startswith("run_") and c in imported)
    want = 2 if script == "seed.py" else 1  # seed: run_seed, or run_import_seed with seed.mode: import
    assert len(runs) == want, (
        f"{script}: calls {runs or 'no run_<stage>'}; a stage calls one library function"
    )
    assert "write_metrics" in calls and "write_metrics" in imported, (
        f"{script}: metrics not via write_metrics"
    )
    guard = tree.body[-1]
    assert isinstance(guard, ast.If) and "run_stage" in _calls(guard), (
        f"{script}: ends without run_stage(main)"
    )


# --- the library writes no metrics ------------------------------------------------------------------------

WRITERS = {"write_json", "write_text", "dump"}
"""How a JSON file gets written (``storage.write_json``/``write_text``, ``json.dump``, ``Path.write_text``;
the last writes looptool's own small markers and pointers, named by the path, never a metrics variable)."""

NOT_METRICS = {
    ("looptool/stage.py", "write_metrics"),  # the one writer of metrics files
    ("looptool/storage.py", "write_json"),  # the generic writer itself
    ("looptool/report/plots.py", "write_plot_data"),  # dvc plots' data files, reports/plots/*.json
    ("looptool/interchange/exporter.py", "_write_llamafactory"),  # LLaMA-Factory's dataset_info.json
}
"""Library functions that call ``write_json``, each writing something that is not a stage's metrics."""


def _library():
    for path in sorted((ROOT / "looptool").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        yield rel, ast.parse(path.read_text(), filename=rel)


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_no_library_function_takes_a_metrics_path():
    bad = [
        f"{rel}:{fn.name}({a.arg})"
        for rel, tree in _library()
        if rel != "looptool/stage.py"
        for fn in _functions(tree)
        for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs
        if a.arg in ("metrics_path", "metrics_out", "metrics_file")
    ]
    assert not bad, f"return the metrics, let the stage write them (looptool.stage.write_metrics): {bad}"


def test_no_library_function_writes_metrics_itself():
    """Every ``write_json`` call in looptool/ is in :data:`NOT_METRICS`, no writer call names a metrics
    variable, and no JSON goes out through ``write_text(json.dumps(...))`` (which would dodge both)."""
    bad = []
    for rel, tree in _library():
        for fn in _functions(tree):
            for node in ast.walk(fn):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if name not in WRITERS:
                    continue
                where = f"{rel}:{fn.name} line {node.lineno}"
                if name == "write_json" and (rel, fn.name) not in NOT_METRICS:
                    bad.append(f"{where}: write_json outside {sorted(NOT_METRICS)}")
                if (rel, fn.name) != ("looptool/stage.py", "write_metrics") and any(
                    "metric" in ast.unparse(a).lower()
                    for a in [*node.args, *(k.value for k in node.keywords)]
                ):
                    bad.append(f"{where}: writes {ast.unparse(node)[:80]}")
                storage_call = isinstance(f, ast.Name) or ast.unparse(f) == "storage.write_text"
                if (
                    name == "write_text"
                    and storage_call
                    and any(
                        isinstance(a, ast.Call) and ast.unparse(a.func).endswith("dumps")
                        for arg in node.args
                        for a in ast.walk(arg)
                    )
                ):
                    bad.append(f"{where}: JSON through write_text")
    assert not bad, "metrics files are written by looptool.stage.write_metrics only:\n" + "\n".join(bad)


def test_the_checks_catch_a_library_that_writes_metrics():
    """The scan above on the shape it replaced (``train_grpo(..., metrics_path)`` writing through
    ``write_json``; the headline written with ``write_text(json.dumps(...))``)."""
    src = (
        "def train(cfg, metrics_path=None):\n    write_json(metrics, metrics_path)\n"
        "def head(h, path):\n    return write_text(json.dumps(dict(h)) + '\\n', path)\n"
    )
    tree = ast.parse(src)
    calls = [n for fn in _functions(tree) for n in ast.walk(fn) if isinstance(n, ast.Call)]
    assert any(a.arg == "metrics_path" for fn in _functions(tree) for a in fn.args.args)
    assert any(
        "metric" in ast.unparse(a) for c in calls if ast.unparse(c.func) == "write_json" for a in c.args
    )
    assert any(
        ast.unparse(c.func) == "write_text" and "json.dumps" in ast.unparse(c.args[0])
        for c in calls
        if c.args
    )


def test_write_metrics_writes_on_the_main_process_only(tmp_path, monkeypatch):
    from looptool.stage import write_metrics

    m = {"b": 1, "a": [1.5, None], "é": "ü"}
    write_metrics(m, tmp_path / "sorted.json")
    write_metrics(m, tmp_path / "kept.json", sort_keys=False)
    write_metrics(m, None)  # an optional --metrics not given: nothing
    assert (tmp_path / "sorted.json").read_text() == json.dumps(
        m, indent=2, sort_keys=True, ensure_ascii=False
    ) + "\n"
    assert (tmp_path / "kept.json").read_text() == json.dumps(m, indent=2, ensure_ascii=False) + "\n"
    monkeypatch.setenv("RANK", "1")  # another process of an accelerate launch
    write_metrics(m, tmp_path / "rank1.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json", "sorted.json"]
