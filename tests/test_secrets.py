"""Credentials (issue 23, class 4): a key never gets into params, and every encoded form of a registered key is
scrubbed from what a backend hands on.

A key inside params.yaml (a URL's ``user:key@`` or ``?key=``, a key typed where ``api_key_env``'s variable NAME
belongs) is refused on load with one line naming the params key, never the value: DVC copies declared params
into ``dvc.lock`` and its run cache, and the judge's ``base_url`` is echoed into the verify metrics. A server
that echoes the request's credentials back (as ``Authorization: Basic base64(user:key)``, URL-encoded, HTML-
escaped, ...) has them masked before the text reaches the call cache or a verdict's rationale.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
import yaml
from test_faults import (
    ROOT,
    FaultServer,
    _verify_args,
    judge_reply,
    role,
    stage,
    verify_inputs,
    write_params,
)

from looptool.config import ConfigError, from_dict, load_params
from looptool.llm import BackendConfig, Request, Sampling, get_backend
from looptool.secrets import register, scrub

# Not shaped like an ``sk-`` key, and holding characters that URL-encoding, HTML and JSON each rewrite, so only
# the registration (api_key_env) can find its encoded forms.
KEY = "Live/Key+8Zq=&<ab>C3x9 \"w'Tm"
KEY_ENV = "LOOPTOOL_SECRETS_TEST_KEY"
LEAK = "Zq9xC3LEAKED77"  # a credential typed into params: must appear in no message or file


def _encodings(key: str) -> dict[str, str]:
    """Every form of ``key`` a server can echo: Basic headers for each offset of the key in the base64 (user
    lengths 0..5), URL-safe and unpadded base64, URL-encoding (both cases of hex), HTML, JSON, hex."""
    out = {
        "plain": key,
        "json": json.dumps(key)[1:-1],
        "json-slash": json.dumps(key)[1:-1].replace("/", "\\/"),
    }
    for user in ("", "u", "us", "usr", "user", "alice@example.com"):
        raw = f"{user}:{key}".encode()
        out[f"basic[{user}]"] = base64.b64encode(raw).decode()
        out[f"basic-urlsafe[{user}]"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    out["base64"] = base64.b64encode(key.encode()).decode()
    out["quote"] = urllib.parse.quote(key, safe="")
    out["quote-lower-hex"] = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), out["quote"])
    out["quote_plus"] = urllib.parse.quote_plus(key)
    out["html"] = html.escape(key)
    out["hex"] = key.encode().hex()
    return out


def _assert_clean(text: str, key: str = KEY) -> None:
    for name, form in _encodings(key).items():
        assert form not in text, (name, text)


# --- scrub: every encoded form of a registered key -----------------------------------------------------------


@pytest.mark.parametrize("form", sorted(_encodings(KEY)))
def test_scrub_masks_every_encoding_of_a_registered_key(form):
    register(KEY)
    value = _encodings(KEY)[form]
    for text in (f"upstream said: Authorization: Basic {value}", f"{value}", f"echo({value}) and more"):
        out = scrub(text)
        _assert_clean(out)
        assert "***" in out, out
    if form.startswith("basic["):  # the user part goes too: the whole base64 run is masked
        assert scrub(f"Authorization: Basic {value}") == "Authorization: Basic ***"


def test_scrub_masks_a_basic_credential_of_an_unregistered_key():
    token = base64.b64encode(b"someone:" + LEAK.encode()).decode()
    assert scrub(f"headers: Authorization: Basic {token}") == "headers: Authorization: Basic ***"
    assert scrub(f"proxy wants Basic {token}.") == "proxy wants Basic ***."


@pytest.mark.parametrize(
    "text",
    [
        "a basic task, basic information, the basic case",
        "https://x.openai.azure.com/openai/v1/chat/completions?api-version=2024-10-21",
        base64.b64encode(b"an unrelated attachment of some length").decode(),
        '{"analysis": "Paris is wrong", "verdict": "CANDIDATE_1_WRONG"}',
    ],
)
def test_scrub_leaves_ordinary_text(text):
    register(KEY)
    assert scrub(text) == text


# --- params: a credential is refused on load, the message names the key and not the value ------------------

REFUSED_URLS = {
    "userinfo": f"http://someone:{LEAK}@127.0.0.1:8000/v1",
    "userinfo-user-only": f"http://{LEAK}@127.0.0.1:8000/v1",
    "userinfo-no-scheme": f"someone:{LEAK}@127.0.0.1:8000/v1",
    "path-sk-key": f"http://127.0.0.1:8000/sk-{LEAK}/v1",
    "fragment": f"http://127.0.0.1:8000/v1#access_token={LEAK}",
    "query-semicolon": f"http://127.0.0.1:8000/v1?api-version=2024-10-21;key={LEAK}",
    "path-parameter": f"http://127.0.0.1:8000/v1;token={LEAK}",
}
QUERY_NAMES = [
    "key",
    "api_key",
    "api-key",
    "apiKey",
    "token",
    "access_token",
    "secret",
    "client_secret",
    "password",
    "sig",
    "X-Amz-Signature",
    "subscription-key",
]
for _name in QUERY_NAMES:
    REFUSED_URLS[f"query-{_name}"] = f"http://127.0.0.1:8000/v1?api-version=2024-10-21&{_name}={LEAK}"

REFUSED_ENV_NAMES = {
    "sk-key": f"sk-proj-{LEAK}",
    "hf-token": "hf_" + LEAK + "aB3dE5fG7hJ9kL2mN4",
    "hex": "a3f9" + "0c1d7e2b" * 3 + "55aa",
    "hex-upper": "A3F9" + "0C1D7E2B" * 3 + "55AA",
    "base64": LEAK + "+/==",
    "with-space": f"{LEAK} ",
}


def _refused(res, must: str) -> str:
    """Exit 1, one ``Error:`` line naming ``must``, no traceback, and the credential nowhere."""
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, res.output
    assert must in errors[0], errors[0]
    assert LEAK not in res.output, res.output
    return errors[0]


@pytest.mark.parametrize("case", sorted(REFUSED_URLS))
def test_credential_in_base_url_is_refused_before_any_call(tmp_path, case):
    data, probe = verify_inputs(tmp_path, 2)
    with FaultServer("ok", judge_reply) as srv:
        url = REFUSED_URLS[case].replace("127.0.0.1:8000", f"127.0.0.1:{srv.port}")
        params = write_params(tmp_path, backends={"judge": role(url)})
        res = stage("verify", _verify_args(tmp_path, params, data, probe))
        assert srv.requests == []  # refused before any request (with it, the key went to the server as Basic)
    line = _refused(res, "backends.judge.base_url")
    assert "credential" in line or "key-shaped" in line, line
    assert not (tmp_path / "verdicts.parquet").exists() and not (tmp_path / "verify.json").exists()


@pytest.mark.parametrize("case", sorted(REFUSED_ENV_NAMES))
def test_key_typed_as_api_key_env_is_refused(tmp_path, case):
    data, probe = verify_inputs(tmp_path, 2)
    value = REFUSED_ENV_NAMES[case]
    with FaultServer("ok", judge_reply) as srv:
        params = write_params(tmp_path, backends={"judge": role(srv.url, api_key_env=value)})
        res = stage("verify", _verify_args(tmp_path, params, data, probe))
    line = _refused(res, "backends.judge.api_key_env")
    for piece in (value, value.strip(), value[:12]):
        assert piece not in line, line
    assert not (tmp_path / "verify.json").exists()


@pytest.mark.parametrize(
    "where",
    [
        ("train", "grpo", "vllm_server_base_url"),  # a section the verify stage does not read
        ("iterations", "1", "backends", "generator", "base_url"),  # an override DVC copies for probe@1
        ("profiles",),  # any string anywhere that is a URL with a credential
    ],
)
def test_load_refuses_a_credential_anywhere_in_params(tmp_path, where):
    params: dict = {"iterations": {"1": {"prev": "0", "next": "2"}}}
    node = params
    for part in where[:-1]:
        node = node.setdefault(part, {})
    node[where[-1]] = f"http://127.0.0.1:8000/v1?token={LEAK}"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError) as e:
        load_params(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}:{'.'.join(where)}: holds a credential (query parameter 'token')"), msg
    assert LEAK not in msg and "\n" not in msg


def test_direct_config_and_cli_url_refuse_a_credential():
    """``BackendConfig`` built in code (``looptool eval --user-url``, notebooks) refuses it too."""
    with pytest.raises(ValueError, match=r"^base_url holds a credential \(user info") as e:
        BackendConfig(backend="openai", base_url=f"http://u:{LEAK}@h/v1", model="m")
    assert LEAK not in str(e.value)
    with pytest.raises(ConfigError, match=r"^backends.user \(params \+ options\).base_url: holds") as e:
        from_dict(
            BackendConfig,
            {"backend": "openai", "base_url": f"http://h/v1?key={LEAK}"},
            "backends.user (params + options)",
        )
    assert LEAK not in str(e.value)


@pytest.mark.parametrize(
    "name",
    ["OPENAI_API_KEY", "HF_TOKEN", "hf_token", "AzureOpenAIKey2024Prod", "openai_api_key_v2_prod", "K"],
)
def test_plain_env_names_are_accepted(name, monkeypatch):
    monkeypatch.delenv(name, raising=False)
    cfg = from_dict(
        BackendConfig,
        {"backend": "openai", "base_url": "http://127.0.0.1:8000/v1", "api_key_env": name},
        "params.yaml:backends.judge",
    )
    shown = f" {name}" if name.isupper() else ""  # a lower-case name might be a short key: not echoed
    with pytest.raises(ValueError) as e:
        cfg.api_key()
    assert (
        str(e.value) == f"params.yaml:backends.judge.api_key_env: the environment variable{shown} is not set"
    )


def test_api_version_query_is_allowed_and_reaches_the_server(tmp_path, monkeypatch):
    """``?api-version=`` is no credential: accepted, and the request path goes before the query."""
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAULT_KEY", "sk-live-FAULT7c1d9e2a44")
    data, probe = verify_inputs(tmp_path, 2)
    with FaultServer("ok", judge_reply) as srv:
        url = f"{srv.url}?api-version=2024-10-21"
        res = stage(
            "verify",
            _verify_args(tmp_path, write_params(tmp_path, backends={"judge": role(url)}), data, probe),
        )
        paths = {r["path"] for r in srv.requests}
    assert res.exit_code == 0, res.output
    assert paths == {"/v1/chat/completions?api-version=2024-10-21"}, paths
    assert pl.read_parquet(tmp_path / "verdicts.parquet")["verdict"].to_list() == ["PRED_WRONG"] * 2


# --- a real server echoing the credential in every encoding ------------------------------------------------


def _echoing_judge(body: dict) -> str:
    """The scripted judge, whose analysis quotes the credential the way a proxy's debug output would."""
    head, verdict = judge_reply(body).rsplit("\n", 1)
    quoted = " | ".join(f"{name}={form}" for name, form in _encodings(KEY).items())
    echo = f"upstream auth: Authorization: Basic {_encodings(KEY)['basic[user]']}; {quoted}"
    return f"{head} {echo}\n" + json.dumps({**json.loads(verdict), "analysis": echo})


def test_echoed_encodings_never_reach_cache_or_rationale(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(KEY_ENV, KEY)
    data, probe = verify_inputs(tmp_path, 2)
    with FaultServer("ok", _echoing_judge) as srv:
        params = write_params(tmp_path, backends={"judge": role(srv.url, api_key_env=KEY_ENV)})
        res = stage("verify", _verify_args(tmp_path, params, data, probe))
        seen = {r["headers"].get("Authorization") for r in srv.requests}
    assert res.exit_code == 0, res.output
    assert seen == {f"Bearer {KEY}"}  # the server did get the key, through the environment
    verdicts = pl.read_parquet(tmp_path / "verdicts.parquet")
    assert verdicts["decided_by"].to_list() == ["llm"] * 2
    rationale = " ".join(verdicts["rationale"].to_list())
    assert "Authorization: Basic ***" in rationale, rationale
    _assert_clean(rationale)
    with sqlite3.connect(tmp_path / "cache" / "calls.sqlite") as con:
        rows = [" ".join(str(v) for v in row) for row in con.execute("SELECT * FROM calls")]
    assert rows and all("***" in r for r in rows)
    for r in rows:
        _assert_clean(r)
    for path in tmp_path.rglob("*"):  # parquet, metrics, cache files: the raw bytes too
        if path.is_file():
            raw = path.read_bytes()
            for name, form in _encodings(KEY).items():
                assert form.encode() not in raw, (path, name)


# --- DVC: a refused params file leaves nothing in dvc.lock, the run cache or metrics -----------------------


@pytest.mark.dvc
def test_dvc_keeps_no_trace_of_a_credential_in_params(tmp_path):
    import shutil

    if shutil.which("dvc", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("dvc not installed")
    verify_inputs(tmp_path, 2)
    stage_def = {
        "cmd": f"{sys.executable} {ROOT / 'stages' / 'verify.py'} --params params.yaml --iteration 1 "
        "--data train.parquet --probe probe.parquet --out verdicts.parquet --metrics verify.json",
        "deps": ["train.parquet", "probe.parquet"],
        "params": ["backends", "loop", "verify"],
        "outs": ["verdicts.parquet"],
        "metrics": [{"verify.json": {"cache": False}}],
    }
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"verify": stage_def}}))
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        DVC_NO_ANALYTICS="1",
        LOOPTOOL_CACHE_DIR=str(tmp_path / "cache"),
        FAULT_KEY="sk-live-FAULT7c1d9e2a44",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=tmp_path, env=env, check=True, timeout=60)
    with FaultServer("ok", judge_reply) as srv:
        url = f"http://someone:{LEAK}@127.0.0.1:{srv.port}/v1"
        write_params(tmp_path, backends={"judge": role(url)}, loop={"jglv": True}, verify={"votes": 1})
        p = subprocess.run(
            ["dvc", "repro"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert srv.requests == []
    assert p.returncode != 0 and "Error: params.yaml:backends.judge.base_url: holds a credential" in p.stderr
    assert not (tmp_path / "dvc.lock").exists() and not (tmp_path / "verify.json").exists()
    (tmp_path / "params.yaml").unlink()  # the user's own file holds it; nothing else may
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert LEAK.encode() not in path.read_bytes(), path
    assert LEAK not in p.stdout + p.stderr


# --- an error body cut to its first few hundred characters: the key is masked before the cut -------------


class _Cut(BaseHTTPRequestHandler):
    """Answers ``status`` with ``pad`` filler characters, then the key: as text or as a reply's ``error``."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, pad, kind = self.server.script  # type: ignore[attr-defined]
        text = "x" * pad + KEY + " and the rest of the message"
        body = json.dumps({"error": text}).encode() if kind == "error-json" else text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize(
    "status, kind, limit",
    [(401, "text", 300), (200, "error-json", 500), (200, "text", 120)],
    ids=["4xx-body", "error-object", "not-json"],
)
def test_key_cut_by_an_error_message_leaves_no_head(tmp_path, monkeypatch, status, kind, limit):
    """The HTTP error body (300 characters), a reply's ``error`` object (500) and a non-JSON reply (120) are
    cut for the message: a key straddling the cut must not leave its first characters behind."""
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(KEY_ENV, KEY)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Cut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = BackendConfig(
        backend="openai",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        model="m",
        api_key_env=KEY_ENV,
        max_retries=0,
        timeout_s=5.0,
        cache=False,
        max_error_rate=1.0,
    )
    try:
        with get_backend(cfg) as backend:
            for pad in range(limit - 40, limit + 2, 3):
                server.script = (status, pad, kind)  # type: ignore[attr-defined]
                [c] = backend.generate([Request.chat([{"role": "user", "content": "hi"}])], Sampling())
                assert not c.ok
                for head in (KEY[:6], json.dumps(KEY)[1:7]):
                    assert head not in c.error, (pad, c.error)
    finally:
        server.shutdown()
        server.server_close()


def test_profile_with_a_credential_is_refused_and_writes_nothing(tmp_path):
    from looptool.profiles import ProfileError, apply_profile

    params = tmp_path / "params.yaml"
    params.write_text((ROOT / "params.yaml").read_text())
    before = params.read_text()
    prof = tmp_path / "hosted.yaml"
    prof.write_text(
        yaml.safe_dump({"backends": {"judge": {"backend": "openai", "base_url": f"https://h/v1?key={LEAK}"}}})
    )
    with pytest.raises(ProfileError) as e:
        apply_profile(str(prof), params)
    assert "backends.judge" in str(e.value) and "query parameter 'key'" in str(e.value)
    assert LEAK not in str(e.value) and params.read_text() == before


def test_eval_user_url_with_a_credential_is_one_line(tmp_path):
    from click.testing import CliRunner

    from looptool.cli import main

    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"backends": {"student": {"backend": "none"}}}))
    r = CliRunner().invoke(
        main,
        ["eval", "Qwen/Qwen3-8B", "--params", str(params), "--user-url", f"http://u:{LEAK}@127.0.0.1:9/v1"],
    )
    assert r.exit_code != 0 and LEAK not in r.output, r.output
    assert "backends.user (params + options).base_url: holds a credential" in r.output, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1, r.output


def test_numeric_key_typed_as_api_key_env_is_not_echoed():
    with pytest.raises(ConfigError) as e:
        from_dict(BackendConfig, {"api_key_env": 918273645546372819}, "params.yaml:backends.judge")
    assert str(e.value).startswith("params.yaml:backends.judge.api_key_env: is a number")
    assert "918273645546372819" not in str(e.value)


def test_any_error_line_is_scrubbed():
    """The one line a stage or command prints for any exception (an HTTP stack's, a library's) is scrubbed,
    before it is cut to its length limit."""
    from looptool.guard import MAX_CHARS, one_line

    register(KEY)
    token = base64.b64encode(f"user:{KEY}".encode()).decode()
    for e in (
        RuntimeError(f"proxy said: Authorization: Basic {token}"),
        ValueError(f"bad header value {KEY!r}"),
        OSError(f"{'x' * (MAX_CHARS - 10)}{KEY}"),
    ):
        line = one_line(e)
        _assert_clean(line)
        assert KEY[:6] not in line and "***" in line, line


@pytest.mark.parametrize(
    "where",
    [
        ("train", "grpo", "hub_token"),  # TRL's TrainingArguments field: echoed by metrics/train's config
        ("backends", "judge", "chat_template_kwargs", "api_key"),  # a free mapping sent with every request
        ("seed", "password"),
    ],
)
def test_credential_field_in_params_is_refused(tmp_path, where):
    params: dict = {"train": {"sft": {"pad_token": "<|pad|>"}, "grpo": {"max_completion_length": 64}}}
    node = params
    for part in where[:-1]:
        node = node.setdefault(part, {})
    node[where[-1]] = LEAK
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError) as e:
        load_params(path)
    assert str(e.value).startswith(f"{path}:{'.'.join(where)}: is a credential field"), str(e.value)
    assert LEAK not in str(e.value)
    node[where[-1]] = None  # unset (null) is fine, and so are pad_token and max_completion_length
    path.write_text(yaml.safe_dump(params))
    assert load_params(path)["train"]["sft"]["pad_token"] == "<|pad|>"
