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
