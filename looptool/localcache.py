"""The local cache folder: ``$LOOPTOOL_CACHE_DIR`` or ``.looptool-cache`` in the working directory.

It holds what only makes re-runs cheap and can always be rebuilt: the call cache (:mod:`looptool.llm.cache`),
the memo of checkpoint file digests (:mod:`looptool.filedigest`) and merged adapters
(:func:`looptool.model.merged_adapter`). Git-ignored and outside DVC's outputs.
"""

from __future__ import annotations

import os

CACHE_ENV = "LOOPTOOL_CACHE_DIR"


def cache_dir() -> str:
    """Where the local cache lives: ``$LOOPTOOL_CACHE_DIR`` or ``.looptool-cache``."""
    return os.environ.get(CACHE_ENV, ".looptool-cache")
