"""requirements.lock against pyproject.toml and the Makefile: every package but torch pinned with hashes, each
of pyproject's requirements pinned inside its range, the NO_DEPS packages pinned at the Makefile's versions, and
`make install` installing it without resolving. A pyproject.toml edited without `make lock` fails here."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")  # Python 3.11+, as CI

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every requirement in the lock (``name==version \\`` then ``--hash=`` lines)."""
    out: dict[str, tuple[str, list[str]]] = {}
    text = LOCK.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)", line)
        assert m, f"requirements.lock: not `name==version --hash=sha256:...`: {line[:80]!r}"
        name = canonicalize_name(m.group(1))
        assert name not in out, f"requirements.lock: {name} pinned twice"
        out[name] = (m.group(2), re.findall(r"sha256:([0-9a-f]{64})", m.group(3)))
    return out


def _make_var(name: str) -> str:
    m = re.search(rf"^{name} \?= (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, f"Makefile: no {name} ?= line"
    return m.group(1).strip()


def test_every_line_is_pinned_with_hashes_and_torch_stays_out():
    locked = _locked()
    assert locked, "requirements.lock is empty"
    assert "torch" not in locked, "torch is installed first from TORCH, never from the lock"
    assert all(hashes for _, hashes in locked.values())


def test_pyproject_requirements_are_pinned_inside_their_ranges():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _locked()
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    bad = []
    for r in reqs:
        name = canonicalize_name(r.name)
        if name == "torch" or (r.marker is not None and not r.marker.evaluate()):
            continue
        if name not in locked:
            bad.append(f"{r} is not in requirements.lock")
        elif not r.specifier.contains(locked[name][0], prereleases=True):
            bad.append(f"{r}: requirements.lock pins {locked[name][0]}")
    assert not bad, "run `make lock`:\n" + "\n".join(bad)


def test_no_deps_packages_are_pinned_at_the_makefiles_versions():
    locked = _locked()
    for spec in _make_var("NO_DEPS").split():
        r = Requirement(spec)
        name = canonicalize_name(r.name)
        assert name in locked and r.specifier.contains(locked[name][0]), (
            f"{spec}: lock has {locked.get(name)}"
        )


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_install_takes_the_lock_without_resolving(tmp_path):
    venv = tmp_path / "venv"
    cmds = subprocess.run(
        ["make", "-s", "-n", "install", f"VENV={venv}", f"PYTHON={sys.executable}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    pips = [c for c in cmds if " -m pip install " in c]
    torch, lock, pkg = (
        next(i for i, c in enumerate(pips) if p in c) for p in (_make_var("TORCH"), "-r ", "-e .")
    )
    assert _make_var("TORCH") in pips[torch]
    assert "--no-deps --require-hashes -r requirements.lock" in pips[lock]
    assert "--no-deps" in pips[pkg]
    assert torch < lock < pkg, pips
    assert len(pips) == 4, pips  # pip itself, torch, the lock, the package: nothing else resolves
