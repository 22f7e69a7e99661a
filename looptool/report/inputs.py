"""What the report was built from: the metrics it reads, hashed as DVC hashes them ("Built from")."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from looptool.report.figures import STAGES


def _dvc_md5(path: Path) -> tuple[str, int]:
    """DVC's md5 of a file (of its bytes) or a folder (``<md5>.dir``: of the JSON list of its files' md5 and
    relative path, as dvc-data's ``Tree``), and how many files; the values ``dvc.lock`` records."""
    if path.is_file():
        return hashlib.md5(path.read_bytes()).hexdigest(), 1
    entries = [
        {"md5": hashlib.md5(f.read_bytes()).hexdigest(), "relpath": f.relative_to(path).as_posix()}
        for f in sorted(path.rglob("*"))
        if f.is_file()
    ]
    entries.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest() + ".dir", len(entries)


REPORT_INPUTS = ("seed.json", "select.json", "warmup.json", "eval", *STAGES)
"""What the report (and its cards) read under the metrics folder: the report stage's metrics deps in dvc.yaml."""


def input_digests(metrics_dir: str | Path) -> list[dict[str, Any]]:
    """``[{path, md5, files}]`` of every report input under ``metrics_dir`` that exists, hashed as DVC hashes
    them, so the page names what it was built from by content (compare with the report stage's deps in
    ``dvc.lock``); paths start with the metrics folder's name."""
    root = Path(metrics_dir)
    out = []
    for name in REPORT_INPUTS:
        p = root / name
        if p.exists():
            md5, files = _dvc_md5(p)
            out.append({"path": f"{root.name}/{name}", "md5": md5, "files": files})
    return out
