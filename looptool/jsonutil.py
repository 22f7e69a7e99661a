"""Canonical JSON: the one text form used for JSON columns, hashing and comparisons."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def dumps(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, unicode kept (stable across runs and machines)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(obj: Any, length: int = 16) -> str:
    """Hex SHA-256 of the canonical JSON of ``obj``, cut to ``length`` characters."""
    return hashlib.sha256(dumps(obj).encode("utf-8")).hexdigest()[:length]
