"""No import cycle among looptool's modules, nor between its packages.

Two graphs, both from the static walk of tests/test_dvc_wiring.py (the one DVC's code deps are checked with):

- modules, imports that run at import time (module level, class bodies; not inside functions, not under
  ``if TYPE_CHECKING:``): a cycle there makes import order matter and breaks on a partly initialised module.
  A module's edge to its own parent packages is left out: Python runs ``looptool/a/__init__.py`` before
  ``looptool/a/b.py`` whatever ``b`` imports, so that edge can never close a cycle at run time.
- packages (``looptool.synth``, ``looptool.checks``, ... and each top-level module), every import, the lazy ones
  inside functions included: a lazy import defers the cost, not the dependency. A stage that imports either
  side of a package cycle depends on both, so a change to one re-runs the stages of the other (the
  ``checks`` -> ``synth`` back-arrow made verify depend on 15 synthesizer files).
"""

from __future__ import annotations

from pathlib import Path

from test_dvc_wiring import PKG, ROOT, imported_files


def _modules() -> list[Path]:
    return sorted(p.relative_to(ROOT) for p in (ROOT / PKG).rglob("*.py") if "__pycache__" not in p.parts)


def _parents(f: Path) -> set[Path]:
    """``looptool/a/__init__.py`` and ``looptool/__init__.py`` for ``looptool/a/b.py`` (and for ``looptool/a/``'s
    own ``__init__``, the packages above it)."""
    pkgs = f.parent.parents if f.name == "__init__.py" else [f.parent, *f.parent.parents]
    return {p / "__init__.py" for p in pkgs if p != Path(".")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (its nodes in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m) :] + [m]
            if m not in state and (found := visit(m)):
                return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def module_graph() -> dict[str, set[str]]:
    return {
        f.as_posix(): {t.as_posix() for t in imported_files(f, module_level=True) - _parents(f) - {f}}
        for f in _modules()
    }


def _package(f: Path) -> str:
    """``looptool.synth`` for looptool/synth/apis.py, ``looptool.verify`` for looptool/verify.py."""
    parts = f.with_suffix("").parts
    return ".".join(parts[:2])


def package_graph() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in _modules():
        if f == Path(PKG, "__init__.py"):
            continue
        out.setdefault(_package(f), set()).update(
            _package(t)
            for t in imported_files(f)
            if t != Path(PKG, "__init__.py") and _package(t) != _package(f)
        )
    return out


def test_no_import_cycle_among_modules():
    cycle = find_cycle(module_graph())
    assert cycle is None, "import cycle at module level: " + " -> ".join(cycle)


def test_no_import_cycle_between_packages():
    cycle = find_cycle(package_graph())
    assert cycle is None, "packages import each other (lazy imports included): " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    """The checker itself, on the shape of the back-arrow it replaced (checks -> synth -> checks)."""
    graph = {"checks": {"surface"}, "surface": set(), "synth": {"checks"}}
    assert find_cycle(graph) is None
    graph["checks"].add("synth")
    assert find_cycle(graph) == ["checks", "synth", "checks"]
