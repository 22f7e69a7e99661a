"""Credentials never reach stored or printed text.

An API key can surface in an error (``Illegal header value b'Bearer sk-...'`` from the HTTP stack, a server
that echoes the request's headers in its error body or even in a completion). Every text a backend hands on
(completion text and error) goes through :func:`scrub`, which removes the keys this process has read
(:func:`register`) in every form they can be printed in (escaped, URL-encoded, HTML-escaped, hex, and base64
wherever the key sits in the encoded bytes, as in a Basic header's ``base64(user:key)``), and anything shaped
like a bearer token, a Basic credential or an ``sk-`` key.

>>> register("sk-test-1234567890")
>>> scrub("HTTP 401: bad key sk-test-1234567890 (header Authorization: Bearer sk-test-1234567890)")
'HTTP 401: bad key *** (header Authorization: Bearer ***)'

A key never belongs in params.yaml, which DVC copies into ``dvc.lock`` and metrics may echo:
:func:`credential_problem` says (without the value) why a params value holds one.

>>> url_credential("http://user:pw@127.0.0.1:8000/v1"), url_credential("https://h/v1?sig=abc&sv=2024")
("holds a credential (user info before '@' in the URL)", "holds a credential (query parameter 'sig')")
>>> url_credential("https://x.openai.azure.com/v1?api-version=2024-10-21") is None
True
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import threading
import urllib.parse

_lock = threading.Lock()
_secrets: set[str] = set()
_b64_cores: set[str] = set()
MASK = "***"
MIN_SECRET = 4  # shorter values would mask ordinary words
MIN_B64_CORE = 8  # base64 characters that depend on the key's bytes alone (48 bits), so no false positives

_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[^\s'\"<>,;()\[\]{}]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(
        r"(?i)(\b(?:api[_-]?key|authorization|x-api-key)[\"']?\s*[:=]\s*[\"']?"
        r"(?:(?:basic|bearer|digest|token|apikey|api-key|key)\s+)?)[^\s'\"<>,;()\[\]{}]+"
    ),
)
_BASIC = re.compile(r"(?i)(\bbasic\s+)([A-Za-z0-9+/]{8,}={0,2})")
_B64_ALPHABET = {"std": "A-Za-z0-9+/", "url": "A-Za-z0-9_\\-", "either": "A-Za-z0-9+/_\\-"}


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _lower_hex(quoted: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)


# How text gets escaped on its way into other text; a key can go through two of them (JSON quoting a
# JSON-escaped key, as a judge's JSON verdict quoting a server's JSON error does).
_ESCAPES = (
    lambda s: repr(s)[1:-1],
    lambda s: repr(_raw(s))[2:-1],
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),  # JSON writers that escape '/' (PHP, some Java)
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1].replace("/", "\\/"),
    lambda s: urllib.parse.quote(_raw(s), safe=""),
    lambda s: _lower_hex(urllib.parse.quote(_raw(s), safe="")),
    lambda s: urllib.parse.quote(_raw(s)),
    lambda s: urllib.parse.quote_plus(_raw(s)),
    lambda s: _lower_hex(urllib.parse.quote_plus(_raw(s))),
    html.escape,
    lambda s: html.escape(s, quote=False),
)


def _forms(secret: str) -> set[str]:
    """The ways ``secret`` can appear in text: as is, through up to two escapes (repr, JSON, HTML, URL
    encoding), as hex, and each printable piece."""
    once = {secret} | {escape(secret) for escape in _ESCAPES}
    forms = once | {escape(form) for form in once for escape in _ESCAPES}
    forms.update({_raw(secret).hex(), _raw(secret).hex().upper()})
    # a key holding a control character is printed in pieces around it
    forms.update(p for p in re.split(r"[\x00-\x1f\x7f]", secret) if len(p) >= MIN_SECRET)
    return {f for f in forms if len(f) >= MIN_SECRET}


def _base64_cores(raw: bytes) -> set[str]:
    """Base64 text that encodes ``raw`` wherever it sits in the encoded bytes.

    Base64 turns 3 bytes into 4 characters, so the key's encoding depends on its offset modulo 3 in the
    whole (``user:key`` puts it at ``len(user) + 1``). For each offset, the characters that depend on the
    key's bytes alone (not on what comes before or after) are the same in every text that contains it.
    """
    cores = set()
    for shift, start in ((0, 0), (1, 2), (2, 3)):
        end = 4 * ((shift + len(raw)) // 3)
        std = base64.b64encode(b"\0" * shift + raw).decode("ascii")[start:end]
        for core in (std, std.replace("+", "-").replace("/", "_")):
            if len(core) >= MIN_B64_CORE:
                cores.add(core)
    return cores


def register(secret: str | None) -> None:
    """Remember a credential so that :func:`scrub` removes it from any text."""
    if secret and len(secret) >= MIN_SECRET:
        forms = _forms(secret)
        cores = _base64_cores(_raw(secret))
        with _lock:
            _secrets.update(forms)
            _b64_cores.update(cores)


def _mask_base64(text: str, core: str) -> str:
    """``text`` with every base64 run that contains ``core`` masked whole (the user part of ``user:key``
    and the key's first and last bits included)."""
    if any(c in core for c in "+/"):
        alphabet = _B64_ALPHABET["std"]
    elif any(c in core for c in "-_"):
        alphabet = _B64_ALPHABET["url"]
    else:
        alphabet = _B64_ALPHABET["either"]
    run = re.compile(f"[{alphabet}]*{re.escape(core)}[{alphabet}]*=*")
    return run.sub(MASK, text)


def _basic(m: re.Match[str]) -> str:
    """A Basic credential (``base64(user:password)``) is masked whatever the password."""
    try:
        decoded = base64.b64decode(m.group(2), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError: not base64 of text
        return m.group(0)
    return m.group(1) + MASK if ":" in text else m.group(0)


def scrub(text: str | None) -> str | None:
    """``text`` without any registered credential or bearer-token-shaped string."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
        cores = sorted(_b64_cores, key=len, reverse=True)
    for core in cores:
        if core in text:
            text = _mask_base64(text, core)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    text = _BASIC.sub(_basic, text)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + MASK, text)
    text = _PATTERNS[1].sub(MASK, text)
    text = _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)
    return text


def clip(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, scrubbed before the cut (a key cut in two by an error
    message's length limit would leave its head unmatched). Looks at most 64 KiB in."""
    return scrub(text[: max(limit, 65536)])[:limit]


# --- credentials in params ---------------------------------------------------------------------------------

# Query parameters that carry a credential (``?key=``, ``access_token``, Azure SAS ``sig``, S3 / GCS
# signatures); matched word by word, so ``api-version`` or ``keyword`` pass.
_CREDENTIAL_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "pass",
        "sig",
        "signature",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "jwt",
        "bearer",
    }
)
# Params keys whose value is a credential (TRL's ``hub_token``, a free mapping's ``api_key``); ``pad_token`` or
# ``max_new_tokens`` are no credentials.
_CREDENTIAL_FIELD = re.compile(
    r"(?i)(^|[_-])(api_?key|secret|password|passwd|(access|auth|api|hub|hf|bearer|refresh)_?token)$|^token$"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def _credential_param(name: str) -> bool:
    words = re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name)
    return any(w.lower() in _CREDENTIAL_WORDS for w in words) or name.lower() in _CREDENTIAL_WORDS


def url_credential(url: str) -> str | None:
    """Why ``url`` carries a credential (user info, a credential-like query or fragment parameter, a key
    shaped string), never the value; None when it carries none."""
    # "//" + url: without a scheme, "user:key@host" would parse as scheme "user"; a ValueError (an unbalanced
    # '[' in the host) leaves the key-shape check below, and the backend says what is wrong with the URL
    try:
        parts = urllib.parse.urlsplit(url if "://" in url else "//" + url)
    except ValueError:
        parts = None
    if parts is not None and "@" in parts.netloc:
        return "holds a credential (user info before '@' in the URL)"
    if parts is not None:
        matrix = "&".join(seg.split(";", 1)[1] for seg in parts.path.split("/") if ";" in seg)  # /v1;key=x
        for where, part in (("query", parts.query), ("fragment", parts.fragment), ("path", matrix)):
            # ';' separates parameters too for some servers (parse_qsl splits on '&' only)
            for name, value in urllib.parse.parse_qsl(part.replace(";", "&"), keep_blank_values=True):
                if value and _credential_param(name):
                    return f"holds a credential ({where} parameter {name!r})"
    if scrub(url) != url:
        return "holds a key-shaped string"
    return None


def env_name_problem(name: str) -> str | None:
    """Why ``name`` is not the NAME of an environment variable (a key typed in its place), without echoing
    it; None for a plausible name such as ``OPENAI_API_KEY``."""
    if not _ENV_NAME.fullmatch(name):
        return "is not an environment variable name (letters, digits and '_', not starting with a digit)"
    if (len(name) >= 16 and _key_shaped(name)) or scrub(name) != name:
        return "looks like a key, not the name of the environment variable that holds it"
    return None


def _key_shaped(name: str) -> bool:
    """Random base62 (``hf_...``, ``ghp_...``), hex or base32 rather than words joined by '_': a name such
    as ``OPENAI_API_KEY`` or ``AzureOpenAIKey2024`` has few switches between lower case, upper case and
    digits; 16+ random base62 characters have many (about 0.6 per character)."""
    lower = any(c.islower() for c in name)
    upper = any(c.isupper() for c in name)
    digits = sum(c.isdigit() for c in name)
    if digits and re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", name):
        return True  # hex
    if not lower and "_" not in name and digits >= 3:
        return True  # base32 / upper-case alphanumerics with no word separator
    kinds = ["l" if c.islower() else "u" if c.isupper() else "d" if c.isdigit() else "_" for c in name]
    switches = sum(a != b for a, b in zip(kinds, kinds[1:]))
    return lower and upper and digits > 0 and switches >= 0.4 * len(name)


def credential_problem(key: str, value: object) -> str | None:
    """Why the params value ``value`` at dotted ``key`` holds a credential (never echoing it), or None.

    Checked: every string that looks like a URL (user info, credential query parameters, key-shaped
    strings) and every ``*_env`` value, which must be a variable's name, not the key itself.
    """
    leaf = key.rsplit(".", 1)[-1]
    if leaf.endswith("_env") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return (
            "is a number, not the name of an environment variable"  # a numeric key: the type error echoes it
        )
    if not isinstance(value, str) or not value:
        return None
    if _CREDENTIAL_FIELD.search(leaf):
        return (
            "is a credential field (e.g. TRL's hub_token); keys stay out of params (DVC copies them into "
            "dvc.lock, metrics echo configs): set it in the environment (HF_TOKEN for the hub)"
        )
    if leaf.endswith("_env"):
        problem = env_name_problem(value)
        if problem:
            return f"{problem}; set the key in an environment variable and give that variable's name here"
        return None
    if "://" in value or leaf.endswith("url"):
        problem = url_credential(value)
        if problem:
            return (
                f"{problem}; keys stay out of params (DVC copies them into dvc.lock): pass it in an "
                "environment variable (backends: api_key_env)"
            )
    return None
