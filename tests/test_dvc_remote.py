"""docs/pipeline.md's recipe for sharing data through a DVC remote, run for real: `dvc remote add`, `dvc push`, then
`looptool diff REV:...` in a fresh clone that has no DVC cache (as on another machine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_lineage import build_loop  # the lineage tests' 3-iteration loop fixture

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _run(cmd: list[str], cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0"}
    for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(k, None)
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def test_push_to_a_remote_then_diff_revisions_in_a_fresh_clone(tmp_path):
    dvc = [sys.executable, "-m", "dvc"]
    repo, remote, clone = tmp_path / "repo", tmp_path / "remote", tmp_path / "elsewhere"
    repo.mkdir()
    for cmd in (
        ["git", "init", "-q"],
        ["git", "config", "user.email", "t@example.com"],
        ["git", "config", "user.name", "t"],
    ):
        _run(cmd, repo)
    _run([*dvc, "init", "-q"], repo)
    build_loop(repo / "data")
    _run([*dvc, "add", "-q", "data/iter_1/train.parquet", "data/iter_2/train.parquet"], repo)
    # the recipe's lines: a default remote (here a folder; s3://, gs://, ssh://... work the same), push
    _run([*dvc, "remote", "add", "-d", "storage", str(remote)], repo)
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "D_1 and D_2"], repo)
    _run([*dvc, "push", "-q"], repo)
    assert any(p.is_file() for p in remote.rglob("*"))

    _run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert (
        not (clone / "data" / "iter_2" / "train.parquet").exists() and not (clone / ".dvc" / "cache").exists()
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1"}
    p = subprocess.run(
        [sys.executable, "-m", "looptool.cli", "diff", "HEAD:iter_1", "HEAD:iter_2", "--format", "json"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    counts = json.loads(p.stdout)["counts"]
    assert counts["relabeled"] == 1 and sum(counts.values()) > 0
