"""Guards for the files a command writes: never over an input, never onto a folder, no stale temporaries.

Every writer here is atomic (a ``.<name>.<random>.tmp`` beside the target, renamed into place), so a killed
process leaves the old file intact, but it also leaves its temporary behind. :func:`prepare_output` refuses a
target that is a folder or one of the command's inputs (``looptool export X.parquet --out X.parquet`` would
replace a dataset with JSONL), and removes temporaries of the same target that an interrupted earlier write
left (older than :data:`STALE_S`, so a concurrent writer's file is left alone).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from looptool.errors import InputError

STALE_S = 60.0


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def prepare_output(out: str | Path, inputs: Iterable[str | Path] = (), what: str = "--out") -> Path:
    """Check that ``out`` may be written by a command reading ``inputs``; clean its stale temporaries."""
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{what} {out}: is a folder; give a file name")
    if out.name in ("", ".", ".."):
        raise InputError(f"{what} {out}: not a file name")
    for src in inputs:
        if _same(out, Path(src)):
            raise InputError(f"{what} {out}: is also an input ({src}); write to another file")
    clean_stale_tmp(out)
    return out


def _declared_outs(node: Any) -> Iterator[str]:
    """Every path under an ``outs`` / ``metrics`` / ``plots`` list of a dvc.yaml / dvc.lock stage tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("outs", "metrics", "plots") and isinstance(value, list):
                for entry in value:
                    if isinstance(entry, str):
                        yield entry
                    elif isinstance(entry, dict):  # {path: {cache: false}} or dvc.lock's {path: ...}
                        yield entry["path"] if isinstance(entry.get("path"), str) else next(iter(entry), "")
            else:
                yield from _declared_outs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _declared_outs(value)


def dvc_output(path: str | Path) -> tuple[str, Path] | None:
    """(the output, the file declaring it) when ``path`` is, or lies inside, a stage output of the DVC
    project around it (``dvc.yaml``, ``${...}`` matching any name, or ``dvc.lock``), or a ``dvc add``-ed
    path; else None. Writing into such a path makes DVC see a changed output and re-run its stage."""
    import re

    import yaml

    target = Path(path).resolve()
    chain = [target, *target.parents]
    for p in chain:
        if p.name and p.with_name(p.name + ".dvc").is_file():
            return str(p), p.with_name(p.name + ".dvc")
    for root in chain:
        for f in (root / "dvc.lock", root / "dvc.yaml"):
            if not f.is_file():
                continue
            try:
                data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError, UnicodeDecodeError):
                continue
            rel = target.relative_to(root).as_posix()
            for out in _declared_outs(data.get("stages") if isinstance(data, dict) else None):
                parts = re.split(r"\$\{[^}]*\}", out.strip().rstrip("/"))
                pattern = "[^/]*".join(re.escape(p) for p in parts)
                if out.strip() and re.fullmatch(f"(?:{pattern})(?:/.*)?", rel):
                    return out, f
    return None


def clean_stale_tmp(target: str | Path, older_than_s: float = STALE_S) -> list[Path]:
    """Remove ``.<target name>.*.tmp`` files beside ``target`` not touched for ``older_than_s`` seconds."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        return []
    removed, now = [], time.time()
    for p in folder.glob(f".{target.name}.*.tmp"):
        try:
            if p.is_file() and now - p.stat().st_mtime > older_than_s:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed
