"""looptool.compat: the one door for private TRL / transformers / peft interfaces.

The installed versions must be ones the private uses were checked against (and the check itself must fail on a
version outside that set), an unchecked version warns once at run time, and no private use lives outside
``looptool/compat/``."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

import looptool.compat as compat

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ("trl", "transformers", "peft")
EXPERIMENTAL = ("rollout_func", "environment_factory")  # GRPOTrainer arguments TRL 1.16.0 marks experimental

# Underscore names looptool reaches for outside compat on objects that are neither TRL's, transformers' nor
# peft's, each with its owner.
NOT_UPSTREAM = {
    "_load_scenario": "ACEBench's API classes (looptool/evaluate/acebench_agent.py)",
    "_looptool": "a marker on looptool's own handler of a stdlib logger (looptool/guard.py)",
}


def check_installed_versions() -> None:
    """Fail, one line per library, when an installed library is outside the versions its private uses in
    looptool/compat/ were checked against."""
    lines = [line for lib in compat.CHECKED if (line := compat.unchecked(lib, compat.installed(lib)))]
    if lines:
        pytest.fail(
            "\n".join(lines)
            + "\nRead each use in that module against the installed version's source, run the tests its docstring"
            " names, then add the version to looptool.compat.CHECKED.",
            pytrace=False,
        )


def test_installed_versions_are_the_checked_ones():
    check_installed_versions()


def test_the_version_check_fails_on_a_version_outside_the_checked_set(monkeypatch):
    real = compat.installed
    monkeypatch.setattr(compat, "installed", lambda lib: "99.0.0" if lib == "trl" else real(lib))
    with pytest.raises(pytest.fail.Exception) as failed:
        check_installed_versions()
    message = str(failed.value)
    assert "trl 99.0.0 is not a version" in message and "(1.16.0)" in message
    assert "looptool/compat/trl.py" in message and "transformers" not in message.splitlines()[0]


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "looptool.compat" and r.levelno == logging.WARNING
    ]


def test_an_unchecked_version_gives_one_warning_line_at_run_time(monkeypatch, caplog):
    from looptool.compat.trl import rollout_func_kwargs

    monkeypatch.setattr(compat, "_warned", set())
    monkeypatch.setattr(compat, "installed", lambda lib: "99.0.0")
    with caplog.at_level(logging.WARNING, logger="looptool.compat"):
        hook = object()
        assert rollout_func_kwargs(hook) == {"rollout_func": hook}
        rollout_func_kwargs(hook)  # once per process, not per use
    (line,) = _warnings(caplog)
    assert "\n" not in line
    assert line.startswith("trl 99.0.0 is not a version looptool's private uses of trl were checked against")


def test_the_cache_internals_warn_on_an_unchecked_transformers(monkeypatch, caplog):
    from transformers import LlamaConfig

    from looptool.compat.transformers import new_cache

    config = LlamaConfig(
        vocab_size=32, hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2
    )
    monkeypatch.setattr(compat, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="looptool.compat"):
        new_cache(config)  # the installed, checked version: silent
    assert _warnings(caplog) == []
    monkeypatch.setattr(compat, "_warned", set())
    monkeypatch.setattr(compat, "installed", lambda lib: None)
    with caplog.at_level(logging.WARNING, logger="looptool.compat"):
        new_cache(config)
        new_cache(config)
    (line,) = _warnings(caplog)
    assert (
        line.startswith("transformers (not installed) is not a version") and "compat/transformers.py" in line
    )


# --- no private use outside looptool/compat ------------------------------------------------------------------


def _sources() -> list[Path]:
    files = sorted((ROOT / "looptool").rglob("*.py")) + sorted((ROOT / "stages").rglob("*.py"))
    return [f for f in files if not f.is_relative_to(ROOT / "looptool" / "compat")]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _upstream_names(tree: ast.AST) -> set[str]:
    """Names a module binds to TRL / transformers / peft objects by importing them (in any scope)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in UPSTREAM:
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] in UPSTREAM
            )
    return names


def _foreign_classes(tree: ast.AST) -> list[ast.ClassDef]:
    """Classes whose base is an upstream class (imported from TRL / transformers / peft) or a class only known
    at run time (a function's argument, as in ``def patched(base): class X(base): ...``)."""
    upstream = _upstream_names(tree)
    found: list[ast.ClassDef] = []

    def visit(node: ast.AST, args: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = args | {a.arg for a in node.args.args + node.args.kwonlyargs}
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                root = base
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and (root.id in upstream or root.id in args):
                    found.append(node)
                    break
        for child in ast.iter_child_nodes(node):
            visit(child, args)

    visit(tree, set())
    return found


def _defined(trees: list[ast.AST]) -> set[str]:
    """Names looptool itself defines (outside compat): functions, classes, variables, ``self.``/``cls.``
    attributes; not the members of a subclass of an upstream class (overriding ``_compute_loss`` does not make
    the name looptool's)."""
    names: set[str] = set()
    for tree in trees:
        foreign = {id(n) for c in _foreign_classes(tree) for n in ast.walk(c) if n is not c}
        for node in ast.walk(tree):
            if id(node) in foreign:
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return names


def private_uses(files: dict[str, str]) -> list[str]:
    """``path:line: what`` for each use of a private upstream interface in ``files`` (path -> source): an
    import of anything but the top-level trl / transformers / peft package or of an underscore name from it, an
    import of ``trl.experimental`` or an argument TRL marks experimental, ``inspect.getsource`` (patches matched by source), and an underscore
    attribute (``x._name``, ``getattr(x, "_name")``, ``setattr``, ``hasattr``) that looptool does not define."""
    trees = {path: ast.parse(src) for path, src in files.items()}
    ours = _defined(list(trees.values()))
    found: list[str] = []
    for path, tree in trees.items():
        for cls in _foreign_classes(tree):
            for node in cls.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
                    found.append(
                        f"{path}:{node.lineno}: {node.name} defined in a subclass of an upstream class"
                    )
        for node in ast.walk(tree):
            what = None
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                if top in UPSTREAM and (node.module != top or any(_private(a.name) for a in node.names)):
                    what = f"from {node.module} import {', '.join(a.name for a in node.names)}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] in UPSTREAM and "." in a.name:
                        what = f"import {a.name}"
            elif isinstance(node, ast.Attribute):
                if node.attr == "getsource":
                    what = "inspect.getsource (a patch matched by source)"
                elif (
                    _private(node.attr)
                    and node.attr not in ours
                    and node.attr not in NOT_UPSTREAM
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                ):
                    what = f".{node.attr} on an object looptool does not define"
            elif (isinstance(node, ast.keyword) and node.arg in EXPERIMENTAL) or (
                isinstance(node, ast.Constant) and node.value in EXPERIMENTAL
            ):
                what = f"TRL's experimental {node.arg if isinstance(node, ast.keyword) else node.value}"
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _private(node.args[1].value)
                and node.args[1].value not in ours
                and node.args[1].value not in NOT_UPSTREAM
            ):
                what = f'{node.func.id}(..., "{node.args[1].value}")'
            if what:
                found.append(f"{path}:{node.lineno}: {what}")
    return found


def test_no_private_upstream_interface_outside_compat():
    files = {str(f.relative_to(ROOT)): f.read_text() for f in _sources()}
    found = private_uses(files)
    assert not found, (
        "private TRL / transformers / peft interfaces belong in looptool/compat/ (one function each, with the "
        "versions it was checked against and why no public interface serves):\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import trl.trainer.utils as tu\ntu._use_triton = f\n", "import trl.trainer.utils"),
        ("from transformers.cache_utils import DynamicLayer\n", "from transformers.cache_utils import"),
        ("from trl.experimental.gkd import GKDTrainer\n", "from trl.experimental.gkd import"),
        ("from trl import _private\n", "from trl import _private"),
        ("kwargs = {'rollout_func': hook}\n", "TRL's experimental rollout_func"),
        ("t = GRPOTrainer(rollout_func=hook)\n", "TRL's experimental rollout_func"),
        ("import inspect\nok = 'x' in inspect.getsource(f)\n", "inspect.getsource"),
        ("ids = trainer._tokenize_prompts(prompts)\n", "._tokenize_prompts on an object"),
        ("def f(t):\n    return super()._compute_loss(t)\n", "._compute_loss on an object"),
        ("on = getattr(trainer, '_entropy_bonus_enabled', True)\n", 'getattr(..., "_entropy_bonus_enabled")'),
        ("tok._looptool_supports_tools = True\n", "._looptool_supports_tools on an object"),
        (
            "def skip(base):\n    class S(base):\n        def _compute_loss(self, m, i):\n            return 0\n",
            "_compute_loss defined in a subclass of an upstream class",
        ),
        (
            "from transformers import DynamicLayer\nclass G(DynamicLayer):\n    _buf = None\n"
            "def f(layer):\n    return layer._buf\n",
            "._buf on an object",
        ),
    ],
)
def test_the_scan_finds_each_kind_of_private_use(source, expected):
    found = private_uses({"looptool/x.py": source})
    assert found and expected in found[0], found


def test_the_scan_leaves_public_and_own_names_alone():
    source = (
        "from trl import GRPOTrainer\nimport transformers\n\n"
        "class A:\n    def _own(self):\n        return self._state\n\n"
        "def g(a):\n    return a._own() + getattr(a, '_own')\n"
    )
    assert private_uses({"looptool/x.py": source}) == []
