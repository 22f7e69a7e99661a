"""bench/repro_pairs.py: `time` runs `make repro` in each folder and stamps its lines; `table` splits the wall
time into stage spans (each from its "Running stage" line to the next) and leaves named stages out of a second
total; a folder already timed, or an existing folder for `prepare`, is refused."""

import importlib.util
import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]

MAKEFILE = """repro:
\t@echo "Running stage 'seed':"
\t@sleep 0.3
\t@echo "Running stage 'mechanisms@1':"
\t@sleep 0.6
\t@echo "Running stage 'report':"
\t@sleep 0.1
"""


def _bench():
    spec = importlib.util.spec_from_file_location("repro_pairs", ROOT / "bench/repro_pairs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _clone(path: Path) -> Path:
    path.mkdir()
    (path / "Makefile").write_text(MAKEFILE)
    git = ["git", "-C", str(path), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "add", "Makefile"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    return path


def test_time_and_table(tmp_path):
    bench = _bench()
    runs = [_clone(tmp_path / "a"), _clone(tmp_path / "b")]
    runner = CliRunner()
    res = runner.invoke(bench.cli, ["time", *map(str, runs)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "t.json"
    res = runner.invoke(
        bench.cli, ["table", *map(str, runs), "--without", "mechanisms", "--json-out", str(out)]
    )
    assert res.exit_code == 0, res.output
    for rec in json.loads(out.read_text()):
        spans = rec["stages"]
        assert set(spans) == {"seed", "mechanisms@1", "report", "(before the first stage)"}
        assert abs(sum(spans.values()) - rec["wall_s"]) < 0.2
        assert spans["mechanisms@1"] >= 0.55 and spans["seed"] >= 0.25
        assert abs(rec["wall_without_s"] - (rec["wall_s"] - spans["mechanisms@1"])) < 0.2
        assert rec["returncode"] == 0 and len(rec["commit"]) >= 7
    again = runner.invoke(bench.cli, ["time", str(runs[0])])
    assert again.exit_code != 0 and "already timed" in again.output
    taken = runner.invoke(bench.cli, ["prepare", "--commit", "HEAD", "--dir", str(runs[0])])
    assert taken.exit_code != 0 and "exists" in taken.output
