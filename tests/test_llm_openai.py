"""The openai backend against real HTTP servers on loopback: ``transformers serve`` with a tiny checkpoint,
and a small ``http.server`` that answers badly on purpose (bad JSON, no choices, bad tool-call arguments,
429/5xx) to show that one bad reply fails one request, never the batch."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from looptool.calls import parse
from looptool.llm import BackendConfig, Request, Sampling, get_backend
from looptool.llm.openai import OpenAIBackend, wire_messages

TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
HISTORY = [
    {"role": "user", "content": "Weather in Paris, then in Rome?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
    },
    {"role": "tool", "content": {"temp": 21}},
]


# --- a scripted server: real HTTP, replies chosen by the last message ------------------------------------


class Scripted(BaseHTTPRequestHandler):
    state: dict = {}

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status, body, headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        st = self.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with st["lock"]:
            st["bodies"].append(body)
            st["auth"].add(self.headers.get("Authorization"))
            st["inflight"] += 1
            st["max_inflight"] = max(st["max_inflight"], st["inflight"])
        try:
            time.sleep(0.05)
            self._answer(body)
        finally:
            with st["lock"]:
                st["inflight"] -= 1

    def _answer(self, body):
        st = self.state
        if self.path.endswith("/completions") and "prompt" in body:
            lp = {"token_logprobs": [-0.5, -0.25], "tokens": ["a", "b"]} if body.get("logprobs") else None
            return self._send(
                200, {"choices": [{"text": body["prompt"][::-1], "finish_reason": "stop", "logprobs": lp}]}
            )
        what = body["messages"][-1]["content"]
        if what == "bad-json":
            return self._send(200, b'{"choices": [ this is not json')
        if what == "no-choices":
            return self._send(200, {"id": "x", "object": "chat.completion"})
        if what == "bad-args":
            call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{oops"}}
            return self._send(
                200, {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [call]}}]}
            )
        if what == "tool":
            calls = [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Oslo"}},
                },
            ]
            msg = {"role": "assistant", "content": "Checking.", "tool_calls": calls}
            lp = {"content": [{"token": "x", "logprob": -0.1}, {"token": "y", "logprob": -0.3}]}
            return self._send(
                200, {"choices": [{"message": msg, "finish_reason": "tool_calls", "logprobs": lp}]}
            )
        if what.startswith("flaky"):
            with st["lock"]:
                st["flaky"][what] = st["flaky"].get(what, 0) + 1
                n = st["flaky"][what]
            if n == 1:
                return self._send(429, {"error": "slow down"}, {"Retry-After": "1"})
            if n == 2:
                return self._send(503, {"error": "busy"})
        if what == "down":
            return self._send(500, {"error": "boom"})
        if what == "refused":
            return self._send(400, {"error": "bad request"})
        msg = {"role": "assistant", "content": f"echo: {what}"}
        return self._send(200, {"choices": [{"message": msg, "finish_reason": "stop"}]})


@pytest.fixture()
def scripted():
    Scripted.state = {
        "lock": threading.Lock(),
        "bodies": [],
        "auth": set(),
        "inflight": 0,
        "max_inflight": 0,
        "flaky": {},
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", Scripted.state
    finally:
        server.shutdown()
        server.server_close()


def _user(text):
    return Request.chat([{"role": "user", "content": text}], key=text)


def test_malformed_replies_fail_only_their_request(scripted, monkeypatch):
    url, state = scripted
    monkeypatch.setenv("LOOPTOOL_TEST_KEY", "sk-test-123")
    cfg = BackendConfig(
        backend="openai",
        base_url=url,
        api_key_env="LOOPTOOL_TEST_KEY",
        max_retries=2,
        max_concurrency=3,
        cache=False,
    )
    backend = OpenAIBackend("judge-model", cfg)
    names = ["hello", "bad-json", "no-choices", "bad-args", "refused", "tool", "world"]
    out = backend.generate([_user(n) for n in names], Sampling(max_new_tokens=16))
    by = dict(zip(names, out))
    assert by["hello"].ok and by["hello"].text == "echo: hello"
    assert by["world"].ok and by["world"].text == "echo: world"
    assert "not JSON" in by["bad-json"].error
    assert "no choices" in by["no-choices"].error
    assert "arguments are not JSON" in by["bad-args"].error
    assert "HTTP 400" in by["refused"].error
    assert all(c.text == "" for c in out if not c.ok)
    # tool calls come back as <tool_call> text that calls.parse reads like any backend's output
    tool = by["tool"]
    assert tool.ok and tool.text.startswith("Checking.\n<tool_call>")
    assert parse(tool.text).label() == [
        {"name": "get_weather", "arguments": {"city": "Rome"}},
        {"name": "get_weather", "arguments": {"city": "Oslo"}},
    ]
    assert tool.finish_reason == "tool_calls"
    assert state["auth"] == {"Bearer sk-test-123"}  # read from the named variable
    assert 1 < state["max_inflight"] <= 3
    assert "sk-test-123" not in json.dumps(backend.identity())
    assert sum(1 for b in state["bodies"] if b["messages"][-1]["content"] == "refused") == 1  # 4xx: no retry


def test_retries_backoff_and_retry_after(scripted):
    url, state = scripted
    cfg = BackendConfig(backend="openai", base_url=url, max_retries=3, cache=False)
    backend = OpenAIBackend("m", cfg)
    t0 = time.perf_counter()
    [ok] = backend.generate([_user("flaky-1")], Sampling(max_new_tokens=4))
    assert ok.ok and ok.text == "echo: flaky-1"
    assert state["flaky"]["flaky-1"] == 3  # 429, 503, then success
    assert time.perf_counter() - t0 >= 1.0  # Retry-After: 1 was honoured
    capped = OpenAIBackend("m", BackendConfig(backend="openai", base_url=url, max_retries=1, cache=False))
    [down] = capped.generate([_user("down")], Sampling(max_new_tokens=4))
    assert not down.ok and "gave up after 2 attempts" in down.error and "HTTP 500" in down.error
    dead = OpenAIBackend(
        "m",
        BackendConfig(
            backend="openai", base_url="http://127.0.0.1:9/v1", max_retries=1, timeout_s=2, cache=False
        ),
    )
    [refused] = dead.generate([_user("x")], Sampling(max_new_tokens=4))
    assert not refused.ok and "ConnectError" in refused.error


def test_wire_format_and_raw_completions(scripted, monkeypatch, tmp_path):
    url, state = scripted
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    cfg = BackendConfig(backend="openai", base_url=url, chat_template_kwargs={"enable_thinking": False})
    backend = get_backend(cfg, model="judge-model")
    reqs = [Request.chat(HISTORY, TOOLS, key="h"), Request.text("abc", key="raw")]
    s = Sampling(max_new_tokens=8, temperature=0.7, seed=5, stop=("</x>",), logprobs=True)
    chat, raw = backend.generate(reqs, s)
    assert chat.ok and raw.ok and raw.text == "cba" and raw.logprobs == [-0.5, -0.25]
    chat_body = next(b for b in state["bodies"] if "messages" in b)
    assert chat_body["tools"] == [{"type": "function", "function": TOOLS[0]}]
    assert (
        chat_body["model"] == "judge-model" and chat_body["max_tokens"] == 8 and chat_body["stop"] == ["</x>"]
    )
    assert chat_body["logprobs"] is True and chat_body["chat_template_kwargs"] == {"enable_thinking": False}
    call = chat_body["messages"][1]["tool_calls"][0]
    assert call["type"] == "function" and json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert chat_body["messages"][2]["tool_call_id"] == call["id"]
    assert json.loads(chat_body["messages"][2]["content"]) == {"temp": 21}
    n = len(state["bodies"])
    again = backend.generate(reqs, s)  # from the cache: no HTTP call
    assert len(state["bodies"]) == n and all(c.cached for c in again)
    assert backend.stats() == {"hits": 2, "misses": 2, "errors": 0}
    backend.close()


def test_wire_messages_keeps_given_ids():
    msgs = [
        {
            "role": "assistant",
            "tool_calls": [{"id": "abc", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "abc", "content": "ok"},
    ]
    out = wire_messages(msgs)
    assert out[0]["tool_calls"][0]["id"] == "abc" and out[0]["content"] is None
    assert out[1]["tool_call_id"] == "abc"


# --- a real OpenAI-compatible server: transformers serve on loopback --------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory, smollm2_tokenizer):
    """``transformers serve`` on 127.0.0.1 with a tiny checkpoint whose greedy outputs vary (an untied head),
    offline; killed at teardown."""
    import httpx
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    exe = shutil.which("transformers") or str(Path(sys.executable).parent / "transformers")
    if not Path(exe).exists():
        pytest.skip("transformers CLI not installed (pip install 'transformers[serving]')")
    tok = smollm2_tokenizer
    torch.manual_seed(0)
    lm = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tok),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=False,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )
    )
    ckpt = tmp_path_factory.mktemp("served-model")
    lm.save_pretrained(ckpt)
    tok.save_pretrained(ckpt)
    lm.generation_config.save_pretrained(ckpt)
    port = _free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(ckpt.parent / "hf-home"),
    }
    with open(ckpt.parent / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [exe, "serve", str(ckpt), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    tail = (ckpt.parent / "serve.log").read_text()[-2000:]
                    pytest.fail(f"transformers serve exited ({proc.returncode}): {tail}")
                try:
                    if httpx.get(base + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("transformers serve did not become healthy in 180 s")
                time.sleep(0.5)
            yield base + "/v1", ckpt
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_real_server_chat_matches_in_process_backend(served):
    from looptool.llm.hf import HFBackend

    url, ckpt = served
    cfg = BackendConfig(backend="openai", base_url=url, max_concurrency=2, cache=False)
    with OpenAIBackend(str(ckpt), cfg) as remote:
        plain = [
            Request.chat([{"role": "user", "content": f"tell me about {w}"}], key=w)
            for w in ("cats", "rain", "tea")
        ]
        with_tools = Request.chat(HISTORY, TOOLS, key="tools")
        s = Sampling(max_new_tokens=12)
        got = remote.generate(plain + [with_tools], s)
        assert all(c.ok for c in got), [c.error for c in got]
        assert all(c.finish_reason in ("stop", "length") for c in got)
        assert remote.identity()["weights"]  # a local checkpoint path as model name: fingerprinted
    # No tools: the server's chat template renders exactly what our render_prompt renders, so greedy
    # decoding of the same weights must give the same text as the in-process backend.
    local = HFBackend(str(ckpt), BackendConfig(batch_size=3, cache=False))
    mine = local.generate(plain, s)
    assert [c.text for c in got[:3]] == [c.text for c in mine]
    assert any(c.text.strip() for c in mine)
