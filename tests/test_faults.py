"""Fault injection (issue 12): a scripted OpenAI-compatible server on loopback, driven against the probe,
verify, expand and seed stages.

Every stage must either succeed with correct data or exit non-zero with a one-line reason and write nothing
(so DVC records nothing and the next ``dvc repro`` retries); failed calls are never cached. The server binds
127.0.0.1 only; every loop in it is bounded, and the clients use timeouts of about a second.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from looptool import storage
from looptool.llm import BackendConfig, Request, Sampling, get_backend
from looptool.schema import PROBE, TRAIN, VERDICT, frame, make_sample_id

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-live-FAULT7c1d9e2a44"
FAULT_TIMEOUT_S = 0.5  # the deadline in the fault-mode runs (hang, drip): short, so the suite stays fast
FAULTS = ("closed", "hang", "drip", "drip_headers", "5xx", "html", "empty", "deep", "echo401")


# --- the scripted server ----------------------------------------------------------------------------------


def completion_body(content: str) -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
        }
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        srv: FaultServer = self.server.fault  # type: ignore[attr-defined]
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        headers = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        with srv.lock:
            srv.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        mode = srv.mode
        try:
            if srv.refuse_schema and "response_format" in body:
                self._send(400, b'{"error": "unsupported parameter: response_format"}')
            elif mode == "hang":  # accepted, never answered (until the test ends)
                srv.stop.wait(10)
                self.close_connection = True
            elif mode == "drip":  # headers at once, then one byte every 0.2 s
                payload = completion_body("x" * 100)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                for i in range(len(payload)):
                    if srv.stop.wait(0.2):
                        break
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()
            elif mode == "drip_headers":  # the status line, then the headers one byte every 0.2 s
                head = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "
                    + b"y" * 200
                    + b"\r\n\r\n"
                )
                self.close_connection = True
                for i in range(len(head)):
                    if srv.stop.wait(0.2):
                        break
                    self.wfile.write(head[i : i + 1])
                    self.wfile.flush()
            elif mode == "5xx":
                self._send(503, b'{"error": {"message": "overloaded"}}')
            elif mode == "html":
                self._send(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
            elif mode == "empty":
                self._send(200, completion_body(""))
            elif mode == "deep":
                self._send(200, b'{"choices": ' + b"[" * 5000 + b"]" * 5000 + b"}")
            elif mode == "echo":  # a completion whose text is the request's headers (the API key among them)
                self._send(200, completion_body(headers))
            elif mode == "echo401":  # an error body quoting the key
                self._send(
                    401, json.dumps({"error": f"invalid key; request headers were {headers}"}).encode()
                )
            else:  # ok
                self._send(200, completion_body(srv.reply(body)))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (deadline): fine
            pass


class FaultServer:
    """An OpenAI-compatible server on 127.0.0.1 with one fault mode (or ``ok``: answers from ``reply``)."""

    def __init__(self, mode: str = "ok", reply=None, refuse_schema: bool = False):
        self.mode = mode
        self.refuse_schema = refuse_schema
        self.reply = reply or (lambda body: "hello")
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        if mode == "closed":  # a port where nothing listens
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
            self.httpd = None
            return
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fault = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.stop.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def role(url: str, **over) -> dict:
    cfg = {
        "backend": "openai",
        "base_url": url,
        "model": "m",
        "timeout_s": 1.0,
        "max_retries": 0,
        "max_concurrency": 4,
        "api_key_env": "FAULT_KEY",
    }
    cfg.update(over)
    return cfg


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAULT_KEY", SECRET)


def cache_rows(tmp_path: Path) -> int:
    db = tmp_path / "cache" / "calls.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*) FROM calls").fetchone()[0]


_MODULES: dict[str, object] = {}


class Ran:
    """What a stage run left: exit code, stdout + stderr."""

    def __init__(self, exit_code: int, output: str):
        self.exit_code, self.output = exit_code, output


def stage(name: str, args: list[str]) -> Ran:
    """Run ``stages/<name>.py`` in-process exactly as its ``__main__`` does under DVC (``guard.run_stage``)."""
    import contextlib
    import io as _io

    from looptool.guard import run_stage

    if name not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"stage_{name}", ROOT / "stages" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _MODULES[name] = mod
    out, err = _io.StringIO(), _io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run_stage(_MODULES[name].main, name=name, args=args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return Ran(code, out.getvalue() + err.getvalue())


def assert_one_line_failure(res, *, must: str = "") -> str:
    """Exit status 1, no traceback, exactly one ``Error: ...`` line (naming ``must``), no secret."""
    assert res.exit_code == 1, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, res.output
    assert must in errors[0], errors[0]
    assert SECRET not in res.output and "FAULT7c1d9e2a44" not in res.output
    return errors[0]


def expected(mode: str, budget_message: str) -> str:
    """Every fault, a closed port included, is counted against the role's error budget, whose one line names
    the role, the failed share and the first error."""
    return budget_message


def write_params(tmp_path: Path, **sections) -> Path:
    import yaml

    sections.setdefault("iterations", {"1": {"prev": "0", "next": "2"}})
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(sections))
    return p


# --- data -------------------------------------------------------------------------------------------------

WEATHER = [
    {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def probe_data(n: int = 4) -> pl.DataFrame:
    rows = []
    for i in range(n):
        msgs = [{"role": "user", "content": f"Weather in city number {i}?"}]
        label = [] if i % 2 else [{"name": "get_weather", "arguments": {"city": f"c{i}"}}]
        rows.append(
            {
                "sample_id": make_sample_id(WEATHER, msgs),
                "tools": WEATHER,
                "messages": msgs,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {"pattern": "irrelevant" if i % 2 else "single"},
                "part": "seed_new",
            }
        )
    return frame(rows, TRAIN)


def student_reply(body: dict) -> str:
    """The scripted student: calls get_weather for even-numbered cities, answers in text otherwise."""
    n = int(re.search(r"number (\d+)", body["messages"][-1]["content"]).group(1))
    if n % 2:
        return "I can only look up the weather."
    return '<tool_call>{"name": "get_weather", "arguments": {"city": "c' + str(n) + '"}}</tool_call>'


def verify_inputs(tmp_path: Path, n: int = 4) -> tuple[Path, Path]:
    """D_j whose labels say Lima and whose predictions say Paris, both said by the user: rules cannot decide."""
    data, probe = [], []
    for i in range(n):
        msgs = [{"role": "user", "content": f"Weather in Paris, or else Lima? (#{i})"}]
        sid = make_sample_id(WEATHER, msgs)
        label = [{"name": "get_weather", "arguments": {"city": "Lima"}}]
        pred = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
        data.append(
            {
                "sample_id": sid,
                "tools": WEATHER,
                "messages": msgs,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {"pattern": "single"},
                "part": "seed_new",
            }
        )
        probe.append(
            {
                "sample_id": sid,
                "iteration": 1,
                "prediction": json.dumps(pred),
                "calls": pred,
                "parse_error": None,
                "mastered": False,
                "ppl": 1.5,
                "n_tokens": 20,
                "error": None,
            }
        )
    d = storage.write_parquet(frame(data, TRAIN), tmp_path / "train.parquet", TRAIN)
    p = storage.write_parquet(frame(probe, PROBE), tmp_path / "probe.parquet", PROBE)
    return d, p


def judge_reply(body: dict) -> str:
    """The scripted judge: the candidate that says Paris is wrong."""
    text = body["messages"][-1]["content"]
    first = text.split("<candidate_1>")[1].split("</candidate_1>")[0]
    wrong = "CANDIDATE_1_WRONG" if "Paris" in first else "CANDIDATE_2_WRONG"
    return "Paris was not asked for first.\n" + json.dumps({"analysis": "Paris is wrong", "verdict": wrong})


# --- probe (student) --------------------------------------------------------------------------------------


def _probe_args(tmp_path, params, data):
    return [
        "--params",
        str(params),
        "--iteration",
        "1",
        "--model",
        "m",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "probe.parquet"),
        "--metrics",
        str(tmp_path / "probe.json"),
    ]


def test_probe_ok_and_echoed_key_is_scrubbed(tmp_path):
    data = storage.write_parquet(probe_data(), tmp_path / "train.parquet", TRAIN)
    with FaultServer("ok", student_reply) as srv:
        res = stage(
            "probe", _probe_args(tmp_path, write_params(tmp_path, backends={"student": role(srv.url)}), data)
        )
    assert res.exit_code == 0, res.output
    out = pl.read_parquet(tmp_path / "probe.parquet")
    assert out["mastered"].to_list() == [
        True,
        True,
        True,
        True,
    ]  # even: the right call; odd: text for label []
    assert out["error"].null_count() == 4 and cache_rows(tmp_path) == 4
    with FaultServer("echo") as srv:
        res = stage(
            "probe", _probe_args(tmp_path, write_params(tmp_path, backends={"student": role(srv.url)}), data)
        )
        assert srv.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"  # the server did see the key
    assert res.exit_code == 0, res.output
    preds = pl.read_parquet(tmp_path / "probe.parquet")["prediction"].to_list()
    assert all("Authorization: Bearer ***" in p and SECRET not in p for p in preds)


@pytest.mark.parametrize("mode", FAULTS)
def test_probe_fails_loudly(tmp_path, mode):
    data = storage.write_parquet(probe_data(), tmp_path / "train.parquet", TRAIN)
    with FaultServer(mode) as srv:
        t0 = time.monotonic()
        res = stage(
            "probe",
            _probe_args(
                tmp_path,
                write_params(tmp_path, backends={"student": role(srv.url, timeout_s=FAULT_TIMEOUT_S)}),
                data,
            ),
        )
        elapsed = time.monotonic() - t0
    line = assert_one_line_failure(res, must=expected(mode, "backends.student: 4 of 4 calls"))
    assert mode == "closed" or "max_error_rate" in line
    assert not (tmp_path / "probe.parquet").exists() and not (tmp_path / "probe.json").exists()
    assert cache_rows(tmp_path) == 0  # errors are never cached: the next run asks again
    assert elapsed < 30, f"{mode}: the per-request deadline did not hold ({elapsed:.1f} s)"


def test_probe_below_threshold_keeps_errors_out_of_the_data(tmp_path):
    """One failed call of four with max_error_rate 0.5: the stage goes on, and the failed sample is neither
    mastered nor failed (no prediction, no parse error), so verify never judges a backend error."""
    data = storage.write_parquet(probe_data(), tmp_path / "train.parquet", TRAIN)

    def flaky(body):
        if "number 1?" in body["messages"][-1]["content"]:
            return ""  # an empty reply is an error, not an answer
        return student_reply(body)

    with FaultServer("ok", flaky) as srv:
        params = write_params(tmp_path, backends={"student": role(srv.url, max_error_rate=0.5)})
        res = stage("probe", _probe_args(tmp_path, params, data))
    assert res.exit_code == 0, res.output
    out = pl.read_parquet(tmp_path / "probe.parquet")
    bad = out.filter(pl.col("error").is_not_null())
    assert (
        bad.height == 1
        and bad["prediction"][0] == ""
        and bad["parse_error"][0] is None
        and not bad["mastered"][0]
    )
    assert json.loads((tmp_path / "probe.json").read_text())["unprobed"] == 1
    assert cache_rows(tmp_path) == 3
    from looptool.verify import VerifyConfig, run_verify

    m = run_verify(
        data=data,
        probe=tmp_path / "probe.parquet",
        out=tmp_path / "v.parquet",
        cfg=VerifyConfig(),
        iteration=1,
        enabled=True,
        judge=None,
    )
    assert m["failed"] == 0 and pl.read_parquet(tmp_path / "v.parquet").height == 0


def test_probe_script_exit_status_and_one_line(tmp_path):
    """The real script in a subprocess, as DVC runs it: exit 1 and one line on stderr."""
    data = storage.write_parquet(probe_data(2), tmp_path / "train.parquet", TRAIN)
    srv = FaultServer("closed")
    params = write_params(tmp_path, backends={"student": role(srv.url)})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "probe.py"), *_probe_args(tmp_path, params, data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 1, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "ConnectError" in lines[0], p.stderr
    assert not (tmp_path / "probe.parquet").exists()


# --- verify (judge) ---------------------------------------------------------------------------------------


def _verify_args(tmp_path, params, data, probe):
    return [
        "--params",
        str(params),
        "--iteration",
        "1",
        "--data",
        str(data),
        "--probe",
        str(probe),
        "--out",
        str(tmp_path / "verdicts.parquet"),
        "--metrics",
        str(tmp_path / "verify.json"),
    ]


def test_verify_ok_uses_structured_output(tmp_path):
    data, probe = verify_inputs(tmp_path)
    with FaultServer("ok", judge_reply) as srv:
        res = stage(
            "verify",
            _verify_args(tmp_path, write_params(tmp_path, backends={"judge": role(srv.url)}), data, probe),
        )
        bodies = [r["body"] for r in srv.requests]
    assert res.exit_code == 0, res.output
    v = pl.read_parquet(tmp_path / "verdicts.parquet")
    assert v["verdict"].to_list() == ["PRED_WRONG"] * 4 and set(v["decided_by"]) == {"llm"}
    assert v["new_label"].null_count() == 4
    fmt = bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"]["properties"]["verdict"]["enum"]


def test_verify_without_structured_output_support(tmp_path):
    """A server that refuses response_format is asked again without it (the parser is strict anyway)."""
    data, probe = verify_inputs(tmp_path, 2)
    with FaultServer("ok", judge_reply, refuse_schema=True) as srv:
        res = stage(
            "verify",
            _verify_args(tmp_path, write_params(tmp_path, backends={"judge": role(srv.url)}), data, probe),
        )
        with_schema = sum("response_format" in r["body"] for r in srv.requests)
    assert res.exit_code == 0, res.output
    assert pl.read_parquet(tmp_path / "verdicts.parquet")["verdict"].to_list() == ["PRED_WRONG"] * 2
    assert with_schema >= 1 and len(srv.requests) > with_schema  # refused once, then asked without it


@pytest.mark.parametrize("mode", FAULTS)
def test_verify_fails_loudly(tmp_path, mode):
    data, probe = verify_inputs(tmp_path)
    with FaultServer(mode) as srv:
        res = stage(
            "verify",
            _verify_args(
                tmp_path,
                write_params(tmp_path, backends={"judge": role(srv.url, timeout_s=FAULT_TIMEOUT_S)}),
                data,
                probe,
            ),
        )
    assert_one_line_failure(res, must=expected(mode, "backends.judge: 4 of 4 calls"))
    assert not (tmp_path / "verdicts.parquet").exists() and cache_rows(tmp_path) == 0


def test_verify_judge_echoing_headers_abstains_without_the_key(tmp_path):
    data, probe = verify_inputs(tmp_path, 2)
    with FaultServer("echo") as srv:
        res = stage(
            "verify",
            _verify_args(tmp_path, write_params(tmp_path, backends={"judge": role(srv.url)}), data, probe),
        )
    assert res.exit_code == 0, res.output
    v = pl.read_parquet(tmp_path / "verdicts.parquet")
    assert set(v["verdict"]) == {"ABSTAIN"}
    assert not any(SECRET in (r["rationale"] + r["votes"]) for r in v.to_dicts())


def test_key_with_a_control_character_never_reaches_the_data(tmp_path, monkeypatch):
    """httpx refuses the header (``Illegal header value b'Bearer sk-...'``): the error is scrubbed."""
    data, probe = verify_inputs(tmp_path, 2)
    monkeypatch.setenv("FAULT_KEY", "sk-ctl-ABCDEF\n123456")
    with FaultServer("ok", judge_reply) as srv:
        res = stage(
            "verify",
            _verify_args(tmp_path, write_params(tmp_path, backends={"judge": role(srv.url)}), data, probe),
        )
    line = assert_one_line_failure(res, must="backends.judge")
    assert "ABCDEF" not in line and "123456" not in line, line


# --- expand (generator) -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory):
    from looptool.synth import SeedConfig, run_seed

    out = tmp_path_factory.mktemp("seed")
    run_seed(out_dir=out, cfg=SeedConfig(pool_size=12, heldout_size=2, label_noise=0.0), progress=False)
    return out


def _expand_inputs(tmp_path, seed_dir):
    pool = pl.read_parquet(seed_dir / "pool.parquet")
    data = pool.head(3).with_columns(pl.lit("seed_new").alias("part"))
    probe, verdicts = [], []
    for r in data.iter_rows(named=True):
        wrong = [{"name": "nope", "arguments": {}}]
        probe.append(
            {
                "sample_id": r["sample_id"],
                "iteration": 1,
                "prediction": "x",
                "calls": wrong,
                "parse_error": None,
                "mastered": False,
                "ppl": 2.0,
                "n_tokens": 5,
                "error": None,
            }
        )
        verdicts.append(
            {
                "sample_id": r["sample_id"],
                "iteration": 1,
                "verdict": "PRED_WRONG",
                "decided_by": "rule",
                "rationale": "r",
                "old_label": r["label"],
                "new_label": None,
                "votes": [],
            }
        )
    d = storage.write_parquet(data, tmp_path / "train.parquet", TRAIN)
    p = storage.write_parquet(frame(probe, PROBE), tmp_path / "probe.parquet", PROBE)
    v = storage.write_parquet(frame(verdicts, VERDICT), tmp_path / "verdicts.parquet", VERDICT)
    return d, p, v


def _expand(tmp_path, seed_dir, url, **over):
    d, p, v = _expand_inputs(tmp_path, seed_dir)
    params = write_params(
        tmp_path,
        backends={"generator": role(url, **over)},
        seed={"pool_size": 12, "heldout_size": 2},
        expand={"mode": "llm", "k": 1, "tries": 1, "max_samples": 3},
    )
    return stage(
        "expand",
        [
            "--params",
            str(params),
            "--iteration",
            "1",
            "--data",
            str(d),
            "--probe",
            str(p),
            "--verdicts",
            str(v),
            "--pool",
            str(seed_dir / "pool.parquet"),
            "--heldout",
            str(seed_dir / "heldout.parquet"),
            "--out",
            str(tmp_path / "exp.parquet"),
            "--rejected",
            str(tmp_path / "exp_rej.parquet"),
            "--metrics",
            str(tmp_path / "exp.json"),
        ],
    )


def test_expand_ok_flags_unusable_generations(tmp_path, seed_dir):
    with FaultServer("ok", lambda body: "Sure! Here is a new sample.") as srv:
        res = _expand(tmp_path, seed_dir, srv.url)
    assert res.exit_code == 0, res.output
    assert pl.read_parquet(tmp_path / "exp.parquet").height == 0
    rej = pl.read_parquet(tmp_path / "exp_rej.parquet")
    assert rej.height == 3 and set(rej["reason"]) == {"unparseable"}  # flagged with the reason, not dropped


@pytest.mark.parametrize("mode", FAULTS)
def test_expand_fails_loudly(tmp_path, seed_dir, mode):
    with FaultServer(mode) as srv:
        res = _expand(tmp_path, seed_dir, srv.url, timeout_s=FAULT_TIMEOUT_S)
    assert_one_line_failure(res, must=expected(mode, "backends.generator: 3 of 3 calls"))
    assert not (tmp_path / "exp.parquet").exists() and not (tmp_path / "exp_rej.parquet").exists()


# --- seed (judge of the seed corpus) ----------------------------------------------------------------------


def _seed(tmp_path, url, **over):
    params = write_params(
        tmp_path,
        backends={"judge": role(url, **over)},
        seed={"pool_size": 6, "heldout_size": 2, "label_noise": 0.0},
    )
    return stage(
        "seed",
        [
            "--params",
            str(params),
            "--out-dir",
            str(tmp_path / "seed"),
            "--metrics",
            str(tmp_path / "seed.json"),
        ],
    )


def test_seed_ok_with_judge(tmp_path):
    with FaultServer("ok", lambda body: '{"verdict": "accept", "reason": "grounded"}') as srv:
        res = _seed(tmp_path, srv.url)
        assert srv.requests
    assert res.exit_code == 0, res.output
    assert pl.read_parquet(tmp_path / "seed" / "pool.parquet").height == 6


@pytest.mark.parametrize("mode", FAULTS)
def test_seed_fails_loudly(tmp_path, mode):
    with FaultServer(mode) as srv:
        res = _seed(tmp_path, srv.url, timeout_s=FAULT_TIMEOUT_S)
    assert_one_line_failure(res, must=expected(mode, "backends.judge:"))
    assert not (tmp_path / "seed" / "pool.parquet").exists()


# --- the call cache and the deadline, at the backend ------------------------------------------------------


def _ask(url: str, **over):
    cfg = BackendConfig(**{k: v for k, v in role(url, **over).items()})
    with get_backend(cfg) as b:
        return b.generate([Request.chat([{"role": "user", "content": "hi"}])], Sampling(max_new_tokens=8))


def test_cache_is_keyed_by_server(tmp_path):
    with FaultServer("ok", lambda b: "from A") as a, FaultServer("ok", lambda b: "from B") as b:
        assert _ask(a.url)[0].text == "from A"
        assert _ask(b.url)[0].text == "from B" and len(b.requests) == 1  # same model name, other server
        assert _ask(a.url)[0].cached and len(a.requests) == 1


def test_empty_and_broken_rows_are_never_replayed(tmp_path):
    with FaultServer("empty") as srv:
        [c] = _ask(srv.url, max_error_rate=1.0)
        assert not c.ok and "no content" in c.error and cache_rows(tmp_path) == 0
        srv.mode = "ok"
        assert _ask(srv.url)[0].text == "hello" and len(srv.requests) == 2
        with sqlite3.connect(tmp_path / "cache" / "calls.sqlite") as con:  # a row that is not a completion
            con.execute("UPDATE calls SET response = '{\"foo\": 1}'")
        [c] = _ask(srv.url)
        assert c.text == "hello" and not c.cached and len(srv.requests) == 3  # asked again, row replaced
    from looptool.llm.cache import CallCache

    store = CallCache(tmp_path / "cache")
    assert store.verify() == (1, [])
    store.close()


def test_corrupt_cache_names_its_path(tmp_path):
    from looptool.errors import StageError

    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "calls.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StageError) as e, FaultServer("ok") as srv:
        _ask(srv.url)
    msg = str(e.value)
    assert str(tmp_path / "cache" / "calls.sqlite") in msg and "mv " in msg and "\n" not in msg


def test_ctrl_c_keeps_the_answers_already_in(tmp_path):
    """Issue 23, class 10 for a server: Ctrl-C while one request is still out keeps the answers that came back
    (they are handed to the cache as they arrive, not when the whole call returns); the re-run asks only for
    the missing one."""
    import signal

    answered, interrupted = [], []

    def reply(body):
        text = body["messages"][-1]["content"]
        if text != "slow" or interrupted:  # the re-run asks for the slow one: no Ctrl-C then
            answered.append(text)
            return f"re {text}"
        deadline = time.monotonic() + 5
        while len(answered) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the client has handed the three answers on by now
        interrupted.append(text)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, while this request is still out
        return "re slow"

    reqs = [Request.chat([{"role": "user", "content": t}]) for t in ("a", "b", "c", "slow")]
    # Ctrl-C as a user's Python sees it: the default handler (a library imported by an earlier test of the suite
    # may have installed its own, and then the interrupt never reaches this call)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_run(tmp_path, reqs, reply)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_run(tmp_path, reqs, reply) -> None:
    with FaultServer("ok", reply) as srv:
        cfg = BackendConfig(**role(srv.url, max_concurrency=4, timeout_s=10.0))
        with get_backend(cfg) as b, pytest.raises(KeyboardInterrupt):
            b.generate(reqs, Sampling(max_new_tokens=8))
        assert cache_rows(tmp_path) == 3 and len(srv.requests) == 4
        with get_backend(cfg) as b:
            out = b.generate(reqs, Sampling(max_new_tokens=8))
            assert b.stats() == {"hits": 3, "misses": 1, "errors": 0}
        assert [c.text for c in out] == ["re a", "re b", "re c", "re slow"] and len(srv.requests) == 5


def _create_caches(root: str, folders: int, barrier, results) -> None:
    """One of several processes that open the same new cache folders at the same moment (one barrier per
    folder), each writing and reading back its own row."""
    from looptool.llm.cache import CallCache

    errors = []
    for i in range(folders):
        barrier.wait()
        try:
            store = CallCache(f"{root}/c{i}")
            key = f"k{os.getpid()}"
            store.put_many([(key, "b", "m", "generate", {"text": "x", "token_ids": [1]})])
            if key not in store.get_many([key]):
                errors.append(f"c{i}: own row not read back")
            store.close()
        except Exception as e:
            errors.append(f"c{i}: {type(e).__name__}: {e}")
    results.put(errors)


def test_processes_creating_one_cache_together_all_succeed(tmp_path):
    """Issue 23, class 7: processes that create the same new cache folder at the same moment. SQLite answers
    "database is locked" at once (no busy wait) to one of two connections switching a new file to WAL
    together; before the fix about one creation in 200 died here with advice to move the good cache aside
    (8 processes x 150 folders: 1-64 failures a run)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    procs, folders = 8, 150
    barrier, results = ctx.Barrier(procs), ctx.Queue()
    workers = [
        ctx.Process(target=_create_caches, args=(str(tmp_path), folders, barrier, results))
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    errors = [e for _ in workers for e in results.get(timeout=300)]
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * procs
    assert errors == []
    for i in range(folders):
        with sqlite3.connect(tmp_path / f"c{i}" / "calls.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == procs


def test_cache_held_by_another_process_is_not_called_damaged(tmp_path):
    """A lock held past the busy timeout is reported as a busy cache, never with advice to move it aside."""
    from looptool.llm.cache import CacheError, CallCache

    CallCache(tmp_path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; db = sqlite3.connect(sys.argv[1], isolation_level=None);"
            " db.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep(60)",
            str(tmp_path / "calls.sqlite"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        store = CallCache(tmp_path, timeout_s=0.3)  # opening needs no write: the folder is already set up
        with pytest.raises(CacheError) as e:
            store.put_many([("k", "b", "m", "generate", {"text": "x", "token_ids": [1]})])
        msg = str(e.value)
        assert "busy" in msg and str(tmp_path / "calls.sqlite") in msg and "\n" not in msg
        assert "mv " not in msg and "aside" not in msg
        store.close()
    finally:
        holder.kill()
        holder.wait()
    store = CallCache(tmp_path)  # the lock is gone: the same cache works again
    store.put_many([("k", "b", "m", "generate", {"text": "x", "token_ids": [1]})])
    assert store.count() == 1
    store.close()


def test_cache_command_show_verify_prune(tmp_path):
    from looptool.cli import main

    with FaultServer("ok") as srv:
        _ask(srv.url)
    with sqlite3.connect(tmp_path / "cache" / "calls.sqlite") as con:
        con.execute("INSERT INTO calls VALUES ('k2', 'openai', 'm', 'generate', '{\"text\": \"\"}', 0)")
    d = str(tmp_path / "cache")
    r = CliRunner().invoke(main, ["cache", "show", "--dir", d])
    assert r.exit_code == 0 and "2 rows" in r.output and "openai" in r.output, r.output
    r = CliRunner().invoke(main, ["cache", "verify", "--dir", d])
    assert r.exit_code == 1 and "1 of 2 rows" in r.output and "k2: an empty answer" in r.output, r.output
    r = CliRunner().invoke(main, ["cache", "prune", "--invalid", "--dir", d])
    assert r.exit_code == 0 and "deleted 1 rows, 1 left" in r.output, r.output
    assert CliRunner().invoke(main, ["cache", "verify", "--dir", d]).exit_code == 0


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
def test_deadline_is_per_request_not_per_read(tmp_path, mode):
    with FaultServer(mode) as srv:  # 300 bytes at 5 bytes/s: a minute under a per-read timeout
        t0 = time.monotonic()
        [c] = _ask(srv.url, timeout_s=1.0, max_error_rate=1.0)
        elapsed = time.monotonic() - t0
    assert not c.ok and "DeadlineExceeded" in c.error
    assert elapsed < 15, elapsed


def test_scrubbed_error_body(tmp_path):
    with FaultServer("echo401") as srv:
        [c] = _ask(srv.url, max_error_rate=1.0)
    assert "HTTP 401" in c.error and SECRET not in c.error and "Bearer ***" in c.error


# --- DVC: a failed stage is not recorded, and the next repro retries it -----------------------------------


@pytest.mark.dvc
def test_dvc_records_nothing_for_a_failed_stage_and_retries(tmp_path):
    import shutil

    import yaml

    if shutil.which("dvc", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("dvc not installed")
    data, probe = verify_inputs(tmp_path, 2)
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
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )

    def repro(url):
        write_params(tmp_path, backends={"judge": role(url)}, loop={"jglv": True}, verify={"votes": 1})
        return subprocess.run(
            ["dvc", "repro", "--no-commit"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=tmp_path, env=env, check=True, timeout=60)
    down = FaultServer("closed")
    p = repro(down.url)
    assert p.returncode != 0 and "Error: params.yaml:backends.judge: 2 of 2 calls" in p.stderr, p.stderr
    assert not (tmp_path / "dvc.lock").exists() and not (tmp_path / "verdicts.parquet").exists()
    with FaultServer("ok", judge_reply) as up:
        p = repro(up.url)
    assert p.returncode == 0, p.stderr
    lock = yaml.safe_load((tmp_path / "dvc.lock").read_text())
    assert "verify" in lock["stages"]
    assert pl.read_parquet(tmp_path / "verdicts.parquet")["verdict"].to_list() == ["PRED_WRONG"] * 2
