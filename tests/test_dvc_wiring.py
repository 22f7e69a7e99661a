"""dvc.yaml's wiring against the code: every stage depends on every looptool file it can import.

A stage's code deps are the import closure of its script inside looptool/ (and helpers in stages/): a static
walk of every ``import`` and ``from ... import`` in the script and, transitively, in the modules it reaches
(imports inside functions, which the stages use to keep start-up light, and PEP 562 lazy export maps such as
``looptool.train._EXPORTS``; ``if TYPE_CHECKING:`` blocks are skipped). Importing ``looptool.a.b`` runs
``looptool/__init__.py`` and ``looptool/a/__init__.py`` too, so those count. A directory dep covers the files
under it. If this test fails after moving or renaming a module, add the file it names to that stage's deps.

A module that reads package data declares it: ``DATA_FILES = ("data/x.json", ...)`` at module level, paths
relative to its folder (e.g. :mod:`looptool.synth.datafiles`). Those files are deps of every stage whose closure
holds the module, and every package-data file (pyproject.toml's ``[tool.setuptools.package-data]``) must be
declared by some module.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = "looptool"


def _module_file(mod: str) -> Path | None:
    """looptool/a/b.py or looptool/a/b/__init__.py for ``looptool.a.b``, relative to ROOT."""
    base = Path(*mod.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if (ROOT / cand).is_file():
            return cand
    return None


def _package_of(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts)
    return ".".join(parts[:-1])


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, module_level: bool = False):
    """Every import statement of ``tree``; with ``module_level``, only those that run at import time (not the
    ones inside a function)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if module_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _lazy_exports(tree: ast.AST) -> dict[str, str]:
    """Literal ``{"Name": "looptool.module", ...}`` maps in a package's __init__ (PEP 562 ``__getattr__``)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if (
                    isinstance(k, ast.Constant)
                    and isinstance(k.value, str)
                    and isinstance(v, ast.Constant)
                    and isinstance(v.value, str)
                    and (v.value == PKG or v.value.startswith(PKG + "."))
                ):
                    out[k.value] = v.value
    return out


def _with_parents(mod: str) -> list[str]:
    parts = mod.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported_files(path: Path, module_level: bool = False) -> set[Path]:
    """looptool files that importing/running ``path`` (relative to ROOT) executes directly (with
    ``module_level``: at import time, leaving out imports inside functions)."""
    tree = ast.parse((ROOT / path).read_text(), filename=str(path))
    mods: set[str] = set()
    for node in _import_nodes(tree, module_level):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
            mods.update(m for n in names for m in _with_parents(n))
            continue
        if node.level:
            pkg = _package_of(path).split(".")
            base = ".".join(pkg[: len(pkg) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        mods.update(_with_parents(base))
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if _module_file(sub) is not None:
                mods.add(sub)
            else:
                init = _module_file(base)
                if init is not None and init.name == "__init__.py":
                    lazy = _lazy_exports(ast.parse((ROOT / init).read_text())).get(alias.name)
                    if lazy:
                        mods.update(_with_parents(lazy))
    out = set()
    for m in mods:
        if m == PKG or m.startswith(PKG + "."):
            f = _module_file(m)
            assert f is not None, f"{path}: imports {m}, which is not a file under {PKG}/"
            out.add(f)
        elif path.parts[0] == "stages" and (ROOT / "stages" / f"{m.split('.')[0]}.py").is_file():
            # a helper module beside the stage scripts (stages/ is first on their sys.path)
            out.add(Path("stages", f"{m.split('.')[0]}.py"))
    return out


def declared_data_files(path: Path) -> list[Path]:
    """The data files module ``path`` declares it reads: its module-level ``DATA_FILES``, a literal tuple or list of
    paths relative to its folder (returned relative to ROOT)."""
    tree = ast.parse((ROOT / path).read_text(), filename=str(path))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "DATA_FILES":
            value = node.value
            assert isinstance(value, (ast.Tuple, ast.List)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
            ), f"{path}: DATA_FILES must be a literal tuple of strings"
            return [path.parent / e.value for e in value.elts]
    return []


def import_closure(script: Path) -> dict[Path, list[Path]]:
    """Every looptool file ``script`` can import, with the chain of files that leads to it."""
    chains: dict[Path, list[Path]] = {script: [script]}
    todo = deque([script])
    while todo:
        cur = todo.popleft()
        for f in sorted(imported_files(cur)):
            if f not in chains:
                chains[f] = chains[cur] + [f]
                todo.append(f)
    del chains[script]
    return chains


def _stages() -> dict[str, dict]:
    """dvc.yaml's stages as written (a foreach stage's ``do`` body; ${...} left as is)."""
    raw = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: st.get("do", st) for name, st in raw.items()}


def _dep_paths(stage: dict) -> list[str]:
    return [d if isinstance(d, str) else next(iter(d)) for d in stage.get("deps", [])]


def _covered(f: Path, deps: list[str]) -> bool:
    s = f.as_posix()
    return any(s == d.rstrip("/") or s.startswith(d.rstrip("/") + "/") for d in deps)


STAGES = _stages()


def test_every_stage_runs_a_script():
    for name, st in STAGES.items():
        assert re.findall(r"\bstages/\w+\.py\b", st["cmd"]), (
            f"dvc.yaml stage {name!r}: no stages/*.py in its cmd"
        )


@pytest.mark.parametrize("name", sorted(STAGES))
def test_code_deps_cover_the_import_closure(name):
    st = STAGES[name]
    deps = _dep_paths(st)
    missing = []
    for script in sorted(set(re.findall(r"\bstages/\w+\.py\b", st["cmd"]))):
        assert (ROOT / script).is_file(), f"dvc.yaml stage {name!r} runs {script}, which does not exist"
        if not _covered(Path(script), deps):
            missing.append(f"  {script} (the stage's own script)")
        for f, chain in sorted(import_closure(Path(script)).items()):
            if not _covered(f, deps):
                missing.append(f"  {f.as_posix()}  (imported via {' -> '.join(p.as_posix() for p in chain)})")
            for data in declared_data_files(f):
                if not _covered(data, deps):
                    via = " -> ".join(p.as_posix() for p in chain)
                    missing.append(f"  {data.as_posix()}  (data file of {f.as_posix()}, imported via {via})")
    assert not missing, f"dvc.yaml stage {name!r} misses these deps:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_code_deps_exist(name):
    """A code dep that names a moved or deleted file is stale (DVC would refuse to run the stage)."""
    for d in _dep_paths(STAGES[name]):
        if d.startswith((PKG + "/", "stages/")):
            assert (ROOT / d).exists(), f"dvc.yaml stage {name!r}: dep {d} does not exist"


def test_closure_sees_lazy_and_package_imports():
    """The walker itself: function-level imports, parent packages and lazy export maps are followed."""
    verify = import_closure(Path("stages/verify.py"))
    assert Path("looptool/__init__.py") in verify
    assert Path("looptool/match/__init__.py") in verify  # looptool.verify -> looptool.match (BOTH_CORRECT)
    report = import_closure(Path("stages/report.py"))
    assert any(p.parts[:2] == ("looptool", "evaluate") for p in report)  # imported inside a function
    warmup = import_closure(Path("stages/warmup.py"))
    assert Path("looptool/train/sft.py") in warmup and Path("looptool/train/grpo.py") not in warmup


def _package_data_files() -> set[Path]:
    """Files under looptool/ that pyproject.toml ships as package data."""
    import tomllib

    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    out: set[Path] = set()
    for pkg, globs in spec.items():
        base = ROOT / Path(*pkg.split("."))
        for g in globs:
            out.update(p.relative_to(ROOT) for p in base.glob(g) if p.is_file())
    return out


def _all_declared_data_files() -> dict[Path, Path]:
    """Declared data file -> the module that declares it, over every module under looptool/."""
    out: dict[Path, Path] = {}
    for mod in sorted((ROOT / PKG).rglob("*.py")):
        rel = mod.relative_to(ROOT)
        for data in declared_data_files(rel):
            out[data] = rel
    return out


def test_declared_data_files_exist_and_ship():
    """Every declared data file exists and is package data (an installed wheel has it); every package-data file is
    declared, so the stages that read it depend on it."""
    declared = _all_declared_data_files()
    assert Path("looptool/synth/data/tree.json") in declared  # the walker finds the synthesizer's tables
    shipped = _package_data_files()
    for data, mod in sorted(declared.items()):
        assert (ROOT / data).is_file(), f"{mod}: DATA_FILES names {data}, which does not exist"
        assert data in shipped, (
            f"{mod}: {data} is not package data (pyproject.toml [tool.setuptools.package-data])"
        )
    undeclared = sorted(p.as_posix() for p in shipped - set(declared))
    assert not undeclared, f"package data no module declares in its DATA_FILES: {undeclared}"


def test_a_data_file_must_be_a_dep():
    """The dep check sees data files: a stage that lists synth's modules but not its data misses them."""
    closure = import_closure(Path("stages/seed.py"))
    datafiles = Path("looptool/synth/datafiles.py")
    assert datafiles in closure
    deps = [f.as_posix() for f in closure]  # every module, file by file, but no data
    missing = [d for f in closure for d in declared_data_files(f) if not _covered(d, deps)]
    assert Path("looptool/synth/data/slots.json") in missing


def suggested_deps(script: Path) -> list[str]:
    """The script and its looptool closure (with the data files its modules declare), a whole folder where the
    closure holds all of its .py files."""
    closure = import_closure(script)
    files = {p.as_posix() for p in closure} | {d.as_posix() for f in closure for d in declared_data_files(f)}
    out: set[str] = set(files)
    for d in sorted({str(Path(f).parent) for f in files}, key=len):
        every = {
            p.relative_to(ROOT).as_posix() for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts
        }
        if d != PKG and every <= files and not any(d.startswith(c + "/") for c in out if (ROOT / c).is_dir()):
            out = {f for f in out if not f.startswith(d + "/")} | {d}
    return [script.as_posix()] + sorted(out)


if __name__ == "__main__":  # python tests/test_dvc_wiring.py: the code deps each stage needs
    for name, st in STAGES.items():
        for script in sorted(set(re.findall(r"\bstages/\w+\.py\b", st["cmd"]))):
            print(f"{name}:\n" + "\n".join(f"  - {d}" for d in suggested_deps(Path(script))))


# --- params declarations, with the real dvc ------------------------------------------------------------------

ITERATION_READS = {  # section of an iteration item -> the stages of that iteration that read it
    "train": {"train"},
    "probe": {"probe", "mechanisms"},
    "verify": {"verify"},
    "expand": {"expand"},
    "merge": {"merge"},
    "eval": {"evaluate"},
    "loop": {"verify", "expand", "merge"},
    "backends": {"probe", "verify", "expand", "evaluate", "mechanisms"},
}
OVERRIDES = {  # a real override of each section
    "train": {"grpo": {"learning_rate": 1.0e-4}},
    "probe": {"max_new_tokens": 4},
    "verify": {"votes": 3},
    "expand": {"k": 2},
    "merge": {"hppl_value": 0.5},
    "eval": {"limit": 2},
    "loop": {"hppl": False},
    "backends": {"student": {"batch_size": 2}},
}


def _sh(args, cwd, env):
    import subprocess

    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, (
        f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    )
    return p.stdout


def _copy_project(dest: Path) -> dict:
    """The project's tracked files without data/models/metrics/reports in a fresh git repo; the env for dvc."""
    import os
    import shutil
    import subprocess
    import sys

    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in files:
        if (
            f.startswith(("data/", "models/", "metrics/", "reports/"))
            or f == "dvc.lock"
            or not (ROOT / f).is_file()
        ):
            continue
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)
    env = dict(
        os.environ,
        DVC_NO_ANALYTICS="1",
        PYTHONPATH=str(dest),
        LOOPTOOL_CACHE_DIR=str(dest / ".looptool-cache"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    _sh(["git", "init", "-q"], dest, env)
    return env


def _commit(repo: Path, env: dict) -> None:
    _sh(["git", "add", "-A"], repo, env)
    _sh(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "fixture"], repo, env)


def _status(repo: Path, env: dict) -> set[str]:
    import json

    return set(json.loads(_sh(["dvc", "status", "--json"], repo, env) or "{}"))


@pytest.fixture(scope="module")
def locked_repo(tmp_path_factory):
    """The project's dvc.yaml and params.yaml with every stage locked by ``dvc commit`` over placeholder outputs:
    what ``dvc status`` says then depends only on the declared deps and params, which is what is tested."""
    from dvc.repo import Repo

    repo = tmp_path_factory.mktemp("wiring") / "repo"
    repo.mkdir()
    env = _copy_project(repo)
    _commit(repo, env)
    with Repo(str(repo)) as r:
        outs = [Path(o.fs_path) for st in r.index.stages for o in st.outs]
    for o in outs:
        if o.suffix:
            o.parent.mkdir(parents=True, exist_ok=True)
            o.write_text(f"placeholder {o.name}\n")
        else:
            o.mkdir(parents=True, exist_ok=True)
            (o / "placeholder.txt").write_text("placeholder\n")
    _sh(["dvc", "commit", "-f", "-q"], repo, env)
    assert _status(repo, env) == set(), "dvc status is not clean right after dvc commit"
    return repo, env


@pytest.mark.dvc
@pytest.mark.parametrize("section", sorted(ITERATION_READS))
def test_iteration_override_invalidates_only_its_readers(locked_repo, section):
    repo, env = locked_repo
    path = repo / "params.yaml"
    original = path.read_text()
    params = yaml.safe_load(original)
    assert params["iterations"]["2"][section] == {}, f"params.yaml: iterations.2.{section} should be {{}}"
    params["iterations"]["2"][section] = OVERRIDES[section]
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        changed = _status(repo, env)
    finally:
        path.write_text(original)
    want = {f"{s}@2" for s in ITERATION_READS[section]} | {"report"}
    assert changed == want, (
        f"iterations.2.{section} changed: dvc status lists {sorted(changed)}, want {sorted(want)}"
    )
    assert _status(repo, env) == set()


@pytest.mark.dvc
def test_every_iteration_item_carries_every_declared_section():
    """DVC refuses a declared param that is absent: each item has each section dvc.yaml declares for it."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    declared = {
        p.split(".", 2)[2]
        for st in STAGES.values()
        for p in st.get("params", [])
        if isinstance(p, str) and p.startswith("iterations.${key}.")
    }
    assert declared == set(ITERATION_READS), declared
    for key, item in params["iterations"].items():
        missing = sorted(declared - set(item))
        assert not missing, f"params.yaml: iterations.{key} lacks {missing} (write them as {{}})"


def _leaves(node, where=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{where}.{k}" if where else str(k), k, v
            yield from _leaves(v, f"{where}.{k}" if where else str(k))


def test_no_param_key_named_size_or_nfiles():
    """DVC's run-cache drops every key named ``size`` or ``nfiles`` from its stage hash, params included
    (treeverse/dvc#10296): a stage whose only change is such a param is restored from an older run."""
    bad = []
    for f in [ROOT / "params.yaml", *sorted((ROOT / "configs").glob("*.yaml"))]:
        bad += [
            f"{f.name}: {path}"
            for path, k, _ in _leaves(yaml.safe_load(f.read_text()) or {})
            if k in ("size", "nfiles")
        ]
    for f in sorted((ROOT / PKG).rglob("*.py")):  # config dataclass fields, set or not in params.yaml
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "dataclass" in ast.unparse(d) for d in node.decorator_list
            ):
                bad += [
                    f"{f.relative_to(ROOT)}: {node.name}.{s.target.id}"
                    for s in node.body
                    if isinstance(s, ast.AnnAssign)
                    and isinstance(s.target, ast.Name)
                    and s.target.id in ("size", "nfiles")
                ]
    assert not bad, "params DVC cannot see (rename them):\n" + "\n".join(bad)


@pytest.mark.dvc
def test_changing_the_dataset_size_reruns_select(tmp_path):
    """seed + select with the real dvc; a new select.dataset_size gives a D_1 of that many rows (a key named
    ``size`` came back from the run-cache with the old rows), and going back restores the first run."""
    import pyarrow.parquet as pq

    repo = tmp_path / "repo"
    repo.mkdir()
    env = _copy_project(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["seed"].update(pool_size=24, heldout_size=4, label_noise=0.0, decontam_dirs=[])
    params["select"]["dataset_size"] = 8
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _commit(repo, env)
    rows = {}
    for n in (8, 6, 8):
        params["select"]["dataset_size"] = n
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        _sh(["dvc", "repro", "select"], repo, env)
        d1 = pq.read_table(repo / "data/iter_1/train.parquet")
        rows.setdefault(n, []).append(sorted(d1.column("sample_id").to_pylist()))
        assert d1.num_rows == n, f"select.dataset_size: {n} gave a D_1 of {d1.num_rows} rows"
    assert rows[8][0] == rows[8][1]


@pytest.mark.dvc
def test_rejected_expansion_shows_in_lineage(tmp_path):
    """merge@1 as dvc.yaml runs it gets expand's rejected file, so `looptool lineage PARENT` names the refused
    candidate (flag, don't drop)."""
    import sys

    from test_merge import _iteration, row

    from looptool import storage as io
    from looptool.schema import REJECTED, SAMPLE, frame

    repo = tmp_path / "repo"
    repo.mkdir()
    env = _copy_project(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["merge"]["dataset_size"] = 40
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    data = repo / "data"
    pool = io.write_parquet(
        frame([row(i, "single") for i in range(120)], SAMPLE), data / "seed" / "pool.parquet", SAMPLE
    )
    _, ids = _iteration(pool, data)  # D_1, its probe, verdicts and expansions at dvc.yaml's paths
    parent = ids[1]
    cand = {
        **row(5000, "single", "expansion", parent=parent, iteration=1),
        "reason": "schema",
        "detail": "label fails the tool schema",
    }
    io.write_parquet(frame([cand], REJECTED), data / "iter_1" / "expansions_rejected.parquet", REJECTED)
    _commit(repo, env)
    _sh(["dvc", "repro", "--single-item", "merge@1"], repo, env)

    out = _sh([sys.executable, "-m", "looptool.cli", "lineage", parent, "--data-dir", str(data)], repo, env)
    assert f"candidate expansion {cand['sample_id']} rejected" in out, out
    out = _sh(
        [sys.executable, "-m", "looptool.cli", "lineage", cand["sample_id"], "--data-dir", str(data)],
        repo,
        env,
    )
    assert f"of {parent}" in out and "rejected at expand: schema" in out, out
