"""What a command may write: never over an input, never over something it did not create, no stale temporaries.

The rule (docs/reliability.md, "When things go wrong"): a command never deletes or overwrites a file it did not create,
except an earlier output of its own that it recognises: a folder it wrote holds the
marker file :data:`MARKER` (listed in ``.dvcignore``, so a DVC output's hash and a data file's bytes stay as they were); a
single file (an export, an import's Parquet) is replaced only with ``--overwrite``. Otherwise the command
refuses with one line and writes nothing. DVC removes a stage's outputs before it runs the stage, so a stage
never meets its own earlier outputs there; run by hand, it replaces them when they carry the marker.

Every writer here is atomic (a ``.<name>.<random>.tmp`` file or folder beside the target, renamed into
place), so a killed process leaves the old output intact, but it also leaves its temporary behind:
:func:`clean_stale_tmp` removes those (older than :data:`STALE_S`, so a concurrent writer's is left alone).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from looptool.errors import InputError

STALE_S = 60.0
MARKER = ".looptool-output"
"""File in every folder a looptool command wrote (JSON: which command); its presence lets a later run replace
the folder. Listed in ``.dvcignore``, so DVC's directory hashes do not see it."""


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _inside(a: Path, b: Path) -> bool:
    """Whether ``a`` lies inside the folder ``b`` (resolved: links and ``..`` followed)."""
    try:
        return b.is_dir() and a.resolve().is_relative_to(b.resolve())
    except OSError:
        return False


def _check_inputs(out: Path, inputs: Iterable[str | Path], what: str) -> None:
    for src in inputs:
        src = Path(src)
        if _same(out, src):
            raise InputError(f"{what} {out}: is also an input ({src}); write to another path")
        if _inside(out, src):
            raise InputError(f"{what} {out}: lies inside the input folder {src}; write outside it")
        if _inside(src, out):
            raise InputError(f"{what} {out}: holds the input {src}; write to another folder")


def prepare_output(
    out: str | Path,
    inputs: Iterable[str | Path] = (),
    what: str = "--out",
    overwrite: bool = False,
    ours: Callable[[Path], bool] | None = None,
) -> Path:
    """Check that the file ``out`` may be written by a command reading ``inputs``; clean its stale temporaries.

    An existing ``out`` is replaced only with ``overwrite`` (the command's ``--overwrite``) or when ``ours``
    recognises it as this command's own earlier output; an input never (not even with ``overwrite``).
    """
    out = Path(out)
    if out.name in ("", ".", ".."):
        raise InputError(f"{what} {out}: not a file name")
    if out.is_dir():
        raise InputError(f"{what} {out}: is a folder; give a file name")
    _check_inputs(out, inputs, what)
    if (out.exists() or out.is_symlink()) and not overwrite and not (ours is not None and ours(out)):
        raise InputError(
            f"{what} {out}: exists and this command did not create it; pass --overwrite to replace it, "
            "or choose another file"
        )
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


def umask() -> int:
    """The process's file-mode creation mask, read without changing it where Linux shows it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not atomic; fine outside threads creating files)
    os.umask(mask)
    return mask


def honour_umask(path: str | Path) -> Path:
    """Give ``path`` (a file, or a folder and everything in it) the modes ``open()`` / ``mkdir`` give: 0666 /
    0777 less the umask. For writers that make private files whatever the umask (safetensors writes model
    weights 0600), so a checkpoint is readable by other users and containers as its umask intends."""
    path = Path(path)
    mask = umask()
    items = [path, *path.rglob("*")] if path.is_dir() else [path]
    for p in items:
        if p.is_symlink():
            continue
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)
    return path


def is_own_dir(path: str | Path, also: Iterable[str] = ()) -> bool:
    """Whether ``path`` is a folder a looptool command wrote (:data:`MARKER`, or one of the files ``also``
    names, e.g. a training work area's run stamp, inside it)."""
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in (MARKER, *also))


def prepare_dir(
    out: str | Path, inputs: Iterable[str | Path] = (), what: str = "--out", also: Iterable[str] = ()
) -> Path:
    """Check that the folder ``out`` may be (re)written: absent, empty, or written by looptool
    (:func:`is_own_dir`), and neither an input nor holding or inside one. Writes nothing."""
    out = Path(out)
    if out.name in ("", ".", ".."):
        raise InputError(f"{what} {out}: not a folder name")
    if out.is_symlink():
        raise InputError(f"{what} {out}: is a link; give a folder path")
    if out.exists() and not out.is_dir():
        raise InputError(f"{what} {out}: is a file; give a folder path")
    _check_inputs(out, inputs, what)
    if out.is_dir() and any(out.iterdir()) and not is_own_dir(out, also):
        raise InputError(
            f"{what} {out}: folder exists and looptool did not write it (no {MARKER} in it); "
            "remove it yourself or choose another folder"
        )
    return out


def mark(folder: str | Path, by: str) -> Path:
    """Put :data:`MARKER` into ``folder`` (naming the command ``by``)."""
    path = Path(folder) / MARKER
    path.write_text(json.dumps({"written_by": by}) + "\n", encoding="utf-8")
    return path


def remove_own_dir(path: str | Path, what: str = "folder", also: Iterable[str] = ()) -> None:
    """Remove a folder looptool wrote (or an empty one); refuse, removing nothing, any other."""
    path = prepare_dir(path, what=what, also=also)
    if path.is_dir():
        shutil.rmtree(path)


def claim_dir(path: str | Path, by: str, what: str = "folder", also: Iterable[str] = ()) -> Path:
    """A fresh, empty, marked folder at ``path`` (an earlier one of looptool's is removed; any other refused):
    a working area the command owns."""
    path = Path(path)
    remove_own_dir(path, what, also)
    path.mkdir(parents=True)
    mark(path, by)
    return path


def temp_dir(out: str | Path) -> Path:
    """A new empty temporary folder beside ``out`` (``.<name>.<random>.tmp``; same filesystem, so the final
    rename is atomic); stale ones of ``out`` are removed first."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(out)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))


def publish_dir(tmp: str | Path, out: str | Path, by: str, what: str = "--out") -> Path:
    """Mark the finished folder ``tmp`` and move it to ``out``; an ``out`` already there must be looptool's
    own (checked again now) and is removed only after the new one is in place."""
    tmp, out = Path(tmp), Path(out)
    prepare_dir(out, what=what)
    mark(tmp, by)
    honour_umask(tmp)  # mkdtemp makes the folder 0700 and safetensors writes weights 0600, whatever the umask
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        os.replace(out, old / "old")
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


@contextmanager
def written_dir(out: str | Path, by: str, what: str = "--out") -> Iterator[Path]:
    """A temporary folder to write ``out``'s content to; marked and moved onto ``out`` (:func:`publish_dir`)
    when the block ends normally, removed when it raises. Call :func:`prepare_dir` before the work starts."""
    tmp = temp_dir(out)
    try:
        yield tmp
        publish_dir(tmp, out, by, what)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def clean_stale_tmp(target: str | Path, older_than_s: float = STALE_S) -> list[Path]:
    """Remove ``.<target name>.*.tmp`` files and folders beside ``target`` not touched for ``older_than_s``
    seconds (left by a killed earlier write of the same target)."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        return []
    removed, now = [], time.time()
    for p in folder.glob(f".{target.name}.*.tmp"):
        try:
            if now - p.lstat().st_mtime <= older_than_s:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed
