"""Model backends behind one interface (:class:`Backend`): ``transformers`` (in-process, CPU default),
``vllm`` (offline engine, GPU) and ``openai`` (any OpenAI-compatible server), with a content-addressed
call cache in front.

>>> from looptool.llm import BackendConfig, Request, Sampling, get_backend  # doctest: +SKIP
>>> with get_backend(BackendConfig(), model="models/iter_1") as student:  # doctest: +SKIP
...     [c] = student.generate([Request.chat(messages, tools)], Sampling(max_new_tokens=96, logprobs=True))
"""

from __future__ import annotations

import importlib
from typing import Any

# PEP 562: ``from looptool.llm import Request`` imports :mod:`.base` alone; :func:`get_backend` (which can
# import every backend) only when asked, so a module that needs the request types depends on those files.
_EXPORTS = {
    "Backend": "looptool.llm.base",
    "Completion": "looptool.llm.base",
    "Request": "looptool.llm.base",
    "Sampling": "looptool.llm.base",
    "BackendConfig": "looptool.llm.config",
    "cache_dir": "looptool.llm.config",
    "get_backend": "looptool.llm.factory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
