"""Credentials never reach stored or printed text.

An API key can surface in an error (``Illegal header value b'Bearer sk-...'`` from the HTTP stack, a server
that echoes the request's headers in its error body or even in a completion). Every text a backend hands on
(completion text and error) goes through :func:`scrub`, which removes the keys this process has read
(:func:`register`) in every form they can be printed in, and anything shaped like a bearer token or an
``sk-`` key.

>>> register("sk-test-1234567890")
>>> scrub("HTTP 401: bad key sk-test-1234567890 (header Authorization: Bearer sk-test-1234567890)")
'HTTP 401: bad key *** (header Authorization: Bearer ***)'
"""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"
MIN_SECRET = 4  # shorter values would mask ordinary words

_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[^\s'\"<>,;()\[\]{}]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(
        r"(?i)(\b(?:api[_-]?key|authorization|x-api-key)[\"']?\s*[:=]\s*[\"']?)(?!bearer\b)[^\s'\"<>,;()\[\]{}]+"
    ),
)


def _forms(secret: str) -> set[str]:
    """The ways ``secret`` can appear in text: as is, escaped (repr, JSON) and each printable piece."""
    import json

    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    try:
        forms.add(repr(secret.encode("utf-8", "surrogateescape"))[2:-1])
    except UnicodeError:  # pragma: no cover
        pass
    # a key holding a control character is printed in pieces around it
    forms.update(p for p in re.split(r"[\x00-\x1f\x7f]", secret) if len(p) >= MIN_SECRET)
    return {f for f in forms if len(f) >= MIN_SECRET}


def register(secret: str | None) -> None:
    """Remember a credential so that :func:`scrub` removes it from any text."""
    if secret and len(secret) >= MIN_SECRET:
        with _lock:
            _secrets.update(_forms(secret))


def scrub(text: str | None) -> str | None:
    """``text`` without any registered credential or bearer-token-shaped string."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + MASK, text)
    text = _PATTERNS[1].sub(MASK, text)
    text = _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)
    return text
