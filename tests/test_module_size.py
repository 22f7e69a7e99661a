"""No module of looptool/ or stages/ over 600 lines: a longer one is split into modules named for what they do
(as looptool/report/, looptool/lineage/ and looptool/card/ were), not grown further.

The ports of upstream checkers stay whole, so that they can be compared with the code they port line by line.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 600
PORTS = {
    "looptool/match/bfcl.py",  # BFCL's AST checker, ported
    "looptool/match/acebench.py",  # ACEBench's checker, ported
}


def oversized(root: Path, folders: tuple[str, ...] = ("looptool", "stages")) -> dict[str, int]:
    """``{path: lines}`` of every .py file under ``root/<folder>`` longer than :data:`LIMIT` lines."""
    out = {}
    for folder in folders:
        for p in sorted((root / folder).rglob("*.py")):
            if "__pycache__" in p.parts:
                continue
            n = len(p.read_text(encoding="utf-8").splitlines())
            if n > LIMIT:
                out[p.relative_to(root).as_posix()] = n
    return out


def test_no_module_over_the_limit():
    long = {p: n for p, n in oversized(ROOT).items() if p not in PORTS}
    assert not long, f"modules over {LIMIT} lines (split them by what they do): {long}"


def test_the_ported_checkers_are_still_there():
    """An exception that names no file is stale (a port moved or renamed: move its exception with it)."""
    for p in PORTS:
        assert (ROOT / p).is_file(), f"{p}: listed as a port in {Path(__file__).name} but not there"


def test_oversized_counts_lines(tmp_path):
    (tmp_path / "looptool" / "a").mkdir(parents=True)
    (tmp_path / "stages").mkdir()
    (tmp_path / "looptool" / "a" / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "looptool" / "short.py").write_text("x = 1\n" * LIMIT)
    (tmp_path / "stages" / "s.py").write_text("\n" * (LIMIT + 5))
    assert oversized(tmp_path) == {"looptool/a/long.py": LIMIT + 1, "stages/s.py": LIMIT + 5}
