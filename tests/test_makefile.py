"""The Makefile explains itself: `make help` lists every target with one line, and `make bench` runs benches."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def _make(*args: str) -> str:
    return subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_help_lists_every_declared_target_once():
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    listed = {}
    for line in _make("help").splitlines():
        name, _, text = line.strip().partition(" ")
        assert name not in listed, f"{name} listed twice"
        listed[name] = text.strip()
    assert set(listed) == set(phony)
    assert all(listed.values()), listed  # one line of text each


def test_bench_runs_the_bench_scripts():
    # -n: print the commands without running them (nor the install they depend on)
    cmds = [c for c in _make("-n", "bench").splitlines() if "bench/" in c]
    scripts = [re.search(r"(bench/\S+\.py)", c).group(1) for c in cmds]
    assert scripts and all((ROOT / s).is_file() for s in scripts), scripts


def test_acebench_target_fetches_the_pinned_commit_and_checks_it(tmp_path):
    """`make acebench` against a local upstream in ACEBench's layout (our fixtures): the pinned commit lands in
    the folder, a second run keeps it, and a commit without a file the evaluation reads fails in one line."""
    import os
    import sys

    from looptool.evaluate import acebench_checkout

    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    upstream = tmp_path / "upstream"
    shutil.copytree(ROOT / "tests" / "data" / "acebench", upstream)
    (upstream / "LICENSE.md").write_text("MIT License (test upstream)\n")
    subprocess.run(["git", "init", "-q", str(upstream)], check=True)
    subprocess.run([*git, "-C", str(upstream), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(upstream), "commit", "-qm", "v1"], check=True)
    good = subprocess.run(
        ["git", "-C", str(upstream), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(["git", "-C", str(upstream), "rm", "-q", "model_inference/prompt_en.py"], check=True)
    subprocess.run([*git, "-C", str(upstream), "commit", "-qm", "v2"], check=True)
    broken = subprocess.run(
        ["git", "-C", str(upstream), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    dest = tmp_path / "third_party" / "ACEBench"

    def make(commit: str, where: Path = dest) -> subprocess.CompletedProcess:
        args = ["make", "-s", "-o", "install", "acebench", f"BIN={Path(sys.executable).parent}"]
        args += [f"ACEBENCH_URL={upstream}", f"ACEBENCH_COMMIT={commit}", f"ACEBENCH_DIR={where}"]
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)

    for _ in range(2):  # a second run finds the checkout and leaves it as it is
        r = make(good)
        assert r.returncode == 0, r.stderr
        assert f"@ {good[:7]}" in r.stdout and not acebench_checkout.missing_files(dest)
        assert acebench_checkout.head_commit(dest) == good
    r = make(broken)
    assert r.returncode != 0
    [line] = [x for x in r.stderr.splitlines() if x.startswith("Error:")]
    assert "missing model_inference/prompt_en.py" in line and "make acebench" in line

    other = tmp_path / "not_a_checkout"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    r = make(good, other)
    assert r.returncode != 0 and "is not a git checkout" in r.stderr
    assert [p.name for p in other.iterdir()] == ["mine.txt"]  # nothing of the user's touched


def test_acebench_target_uses_the_pinned_source_said_once():
    from looptool.evaluate import acebench_checkout as ac

    cmds = _make("-n", "-o", "install", "acebench")
    assert f'fetch -q --depth 1 "{ac.URL}" "{ac.COMMIT}"' in cmds
    assert f'acebench_checkout "{ac.DEFAULT_DIR}" --commit "{ac.COMMIT}"' in cmds
    top = "/" + ac.DEFAULT_DIR.split("/")[0] + "/"
    assert top in (ROOT / ".gitignore").read_text().splitlines()  # the checkout is never committed here
