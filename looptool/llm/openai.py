"""The ``openai`` backend: any OpenAI-compatible server (``vllm serve``, llama.cpp's server, ``transformers
serve``, a hosted API).

Chat requests go to ``/chat/completions`` with the tools in OpenAI form; the server renders them with its
own chat template. Tool calls in the reply are written back as ``<tool_call>`` blocks after the content, so
:func:`looptool.calls.parse` reads every backend's output the same way. Raw-text requests go to
``/completions``. A reply that cannot be read (bad JSON, no choices, tool-call arguments that are not JSON)
fails only its own request (``Completion.error``); 429, 5xx and connection errors are retried with
exponential backoff and jitter, honouring ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.calls import render_calls
from looptool.llm.base import Backend, Completion, Request, Sampling, deliver
from looptool.llm.common import request_seed, weights_fingerprint
from looptool.llm.config import BackendConfig
from looptool.secrets import clip, scrub

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 120.0


MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_REPLY_DEPTH = 64  # a completion body is ~6 levels deep; tool-call arguments add their own


class ReplyError(ValueError):
    """The server answered, but not with a completion we can read."""


class DeadlineExceeded(Exception):
    """The whole request took longer than ``timeout_s`` (retried like a timeout)."""


def decode_reply(raw: bytes, content_type: str | None = None) -> Any:
    """A 200 reply body as JSON, or :class:`ReplyError` (not JSON, an HTML page, nested too deeply)."""
    from looptool.jsonutil import DepthError, check_depth

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ReplyError(f"reply is not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        check_depth(text, MAX_REPLY_DEPTH)
        return json.loads(text)
    except DepthError as e:
        raise ReplyError(f"reply {e}") from None
    except json.JSONDecodeError as e:
        kind = f" ({content_type.split(';')[0]})" if content_type else ""
        raise ReplyError(f"reply{kind} is not JSON ({e.msg} at char {e.pos}): {clip(text, 120)!r}") from None


def wire_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our messages (assistant calls with arguments as objects, tool results without ids) in the OpenAI
    wire format: ``tool_calls`` with JSON-string arguments and ids, each tool result naming its call.

    >>> m = wire_messages([{"role": "user", "content": "hi"},
    ...     {"role": "assistant", "tool_calls": [{"name": "f", "arguments": {"a": 1}}]},
    ...     {"role": "tool", "content": {"ok": True}}])
    >>> m[1]["tool_calls"][0]["function"], m[2]["tool_call_id"], m[2]["content"]
    ({'name': 'f', 'arguments': '{"a": 1}'}, 'call_1_0', '{"ok": true}')
    """
    from looptool.prompts.render import message_calls

    out: list[dict[str, Any]] = []
    open_ids: list[tuple[str, str]] = []  # (id, name) of calls not yet answered by a tool message
    for k, m in enumerate(messages):
        role = m.get("role")
        if role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": _text(m.get("content")) or None}
            raw = m.get("tool_calls") or []
            if raw:
                calls = []
                for i, (tc, call) in enumerate(zip(raw, message_calls(m))):
                    cid = tc.get("id") or f"call_{k}_{i}"
                    calls.append(
                        {
                            "id": cid,
                            "type": "function",
                            "function": {
                                "name": call["name"],
                                "arguments": json.dumps(call["arguments"], ensure_ascii=False),
                            },
                        }
                    )
                msg["tool_calls"] = calls
                open_ids = [(c["id"], c["function"]["name"]) for c in calls]
            if msg["content"] is None and "tool_calls" not in msg:
                msg["content"] = ""
            out.append(msg)
        elif role == "tool":
            cid = m.get("tool_call_id")
            name = m.get("name")
            if cid is None and open_ids:
                cid, answered = open_ids.pop(0)
                name = name or answered
            msg = {"role": "tool", "content": _text(m.get("content")), "tool_call_id": cid or f"call_{k}"}
            if name:
                msg["name"] = name
            out.append(msg)
        else:
            out.append({"role": role, "content": _text(m.get("content"))})
    return out


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(p.get("text", "") for p in content)
    return json.dumps(content, ensure_ascii=False)


def wire_tools(tools: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Tools in OpenAI form ``{"type": "function", "function": tool}`` (already-wrapped tools pass)."""
    if not tools:
        return None
    return [
        t if t.get("type") == "function" and "function" in t else {"type": "function", "function": t}
        for t in tools
    ]


def read_chat_reply(data: Any) -> Completion:
    """A ``/chat/completions`` body as a Completion: content, then the tool calls as ``<tool_call>`` text."""
    choice = first_choice(data)
    msg = choice.get("message")
    if not isinstance(msg, dict):
        raise ReplyError("choice has no 'message' object")
    content = msg.get("content")
    if content is not None and not isinstance(content, str):
        content = _text(content)
    calls = []
    for i, tc in enumerate(msg.get("tool_calls") or []):
        fn = tc.get("function") if isinstance(tc, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise ReplyError(f"tool_calls[{i}] has no function name")
        args = fn.get("arguments")
        if isinstance(
            args, str
        ):  # JSON inside a string field: the one strict decoder (no NaN, lone surrogate)
            try:
                args = jsonutil.loads(args) if args.strip() else {}
            except ValueError as e:
                why = e.msg if isinstance(e, json.JSONDecodeError) else e
                raise ReplyError(f"tool_calls[{i}] ({fn['name']}): arguments are not JSON ({why})") from None
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise ReplyError(
                f"tool_calls[{i}] ({fn['name']}): arguments must be an object, got {type(args).__name__}"
            )
        calls.append({"name": fn["name"], "arguments": args})
    text = (content or "").strip() if calls else (content or "")
    if not calls and not text.strip():
        raise ReplyError(
            f"reply has no content and no tool calls (finish_reason={choice.get('finish_reason')!r})"
        )
    if calls:
        text = (text + "\n" if text else "") + render_calls(calls)
    logprobs = None
    lp = choice.get("logprobs")
    if isinstance(lp, dict) and isinstance(lp.get("content"), list):
        logprobs = [float(t["logprob"]) for t in lp["content"] if isinstance(t, dict) and "logprob" in t]
    return Completion(text=text, logprobs=logprobs, finish_reason=choice.get("finish_reason"))


def read_text_reply(data: Any) -> Completion:
    """A ``/completions`` body as a Completion."""
    choice = first_choice(data)
    text = choice.get("text")
    if not isinstance(text, str):
        raise ReplyError("choice has no 'text'")
    if not text.strip():
        raise ReplyError(f"reply has empty text (finish_reason={choice.get('finish_reason')!r})")
    logprobs = None
    lp = choice.get("logprobs")
    if isinstance(lp, dict) and isinstance(lp.get("token_logprobs"), list):
        logprobs = [float(x) for x in lp["token_logprobs"] if x is not None]
    ids = choice.get("token_ids")  # vLLM's extension (a request with return_token_ids)
    token_ids = (
        [int(t) for t in ids] if isinstance(ids, list) and all(isinstance(t, int) for t in ids) else []
    )
    return Completion(
        text=text, token_ids=token_ids, logprobs=logprobs, finish_reason=choice.get("finish_reason")
    )


def first_choice(data: Any) -> dict[str, Any]:
    """The first choice of a completion reply, or :class:`ReplyError` naming what is wrong."""
    if not isinstance(data, dict):
        raise ReplyError(f"reply is not a JSON object but {type(data).__name__}")
    if "error" in data and "choices" not in data:
        raise ReplyError(f"server error: {clip(json.dumps(data['error']), 500)}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ReplyError("reply has no choices")
    return choices[0]


class OpenAIBackend(Backend):
    """Calls an OpenAI-compatible HTTP server, ``max_concurrency`` requests at a time."""

    name = "openai"

    def __init__(self, model: str, cfg: BackendConfig, transport: Any = None):
        import httpx

        if not cfg.base_url:
            raise ValueError("backend 'openai' needs base_url")
        self.cfg = cfg
        self.model = model
        self.base_url = cfg.base_url.rstrip("/")
        try:
            self._url = httpx.URL(self.base_url)
        except httpx.InvalidURL as e:
            raise ValueError(f"{cfg.where}.base_url is not a valid URL: {scrub(str(e))}") from None
        headers = {"Content-Type": "application/json"}
        key = cfg.api_key()  # read from the named environment variable; never stored in config or cache
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limits = httpx.Limits(
            max_connections=cfg.max_concurrency, max_keepalive_connections=cfg.max_concurrency
        )
        self.client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(cfg.timeout_s), limits=limits, transport=transport
        )
        self._rng = random.Random()
        self._lock = threading.Lock()
        self.calls = 0  # HTTP attempts made (tests and metrics)
        self._no_schema = (
            False  # set when the server refuses response_format: then plain text, parsed strictly
        )

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,  # the same model name on another server is another model
            "chat_template_kwargs": dict(self.cfg.chat_template_kwargs),
        }
        if Path(self.model).exists():  # a server fed a local checkpoint by path: key on its files too
            ident["weights"] = weights_fingerprint(self.model)
        return ident

    # --- requests ---------------------------------------------------------------------------------------

    def _body(self, request: Request, sampling: Sampling) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": sampling.max_new_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "seed": sampling.seed if sampling.greedy else request_seed(request, sampling),
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if request.prompt is not None:
            body["prompt"] = request.prompt
            if sampling.logprobs:
                body["logprobs"] = 1
            return "/completions", body
        body["messages"] = wire_messages(list(request.messages or []))
        tools = wire_tools(request.tools)
        if tools:
            body["tools"] = tools
        if sampling.logprobs:
            body["logprobs"] = True
        if self.cfg.chat_template_kwargs:
            body["chat_template_kwargs"] = dict(self.cfg.chat_template_kwargs)
        if request.json_schema is not None and not self._no_schema:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": request.json_schema, "strict": True},
            }
        return "/chat/completions", body

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        """POST with retries; returns the parsed JSON body or raises ReplyError with the reason."""
        import httpx

        url = self._url.copy_with(path=self._url.path.rstrip("/") + path)  # before a ?api-version=...
        last = ""
        for attempt in range(self.cfg.max_retries + 1):
            wait = None
            with self._lock:
                self.calls += 1
            try:
                status, headers, raw = self._send(url, body)
            except httpx.LocalProtocolError as e:  # our own request is malformed (e.g. a key with a newline)
                raise ReplyError(f"request refused before sending: {e}") from None
            except (httpx.TransportError, httpx.TimeoutException, DeadlineExceeded) as e:
                last = f"{type(e).__name__}: {e}"
            except httpx.HTTPError as e:  # e.g. an API key that is not a valid header value: not retried
                raise ReplyError(f"request failed: {type(e).__name__}: {e}") from None
            else:
                if status == 200:
                    return decode_reply(raw, headers.get("content-type"))
                last = f"HTTP {status}: {clip(raw[:65536].decode('utf-8', 'replace'), 300)}"
                if status not in RETRY_STATUS and status < 500:
                    raise ReplyError(last)
                wait = _retry_after(headers.get("retry-after"))
            if attempt == self.cfg.max_retries:
                break
            if wait is None:
                with self._lock:
                    jitter = self._rng.uniform(0, BACKOFF_BASE_S * 2**attempt)
                wait = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt) + jitter
            time.sleep(wait)
        raise ReplyError(f"gave up after {self.cfg.max_retries + 1} attempts: {last}")

    def _send(self, url: str, body: dict[str, Any]) -> tuple[int, Any, bytes]:
        """One POST under a deadline of ``timeout_s`` for the whole request. Returns (status, headers, body).

        httpx's timeout is per read, so a server dripping a byte a second would hold a request forever. The
        body is read in chunks against the deadline; the status line and headers (which httpx reads before
        handing over the response) are waited for in a daemon thread, so a server dripping its headers cannot
        hold the stage either (the abandoned thread ends when its connection is closed with the client).
        """
        deadline = time.monotonic() + self.cfg.timeout_s
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = self._read(url, body, deadline)
            except BaseException as e:  # handed to the caller below
                box["error"] = e
            finally:
                done.set()

        threading.Thread(target=work, daemon=True, name="looptool-openai-request").start()
        if not done.wait(max(0.0, deadline - time.monotonic()) + 0.25):
            raise DeadlineExceeded(f"no complete reply within timeout_s={self.cfg.timeout_s:g} s")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _read(self, url: str, body: dict[str, Any], deadline: float) -> tuple[int, Any, bytes]:
        with self.client.stream("POST", url, json=body) as resp:
            chunks, size = [], 0
            for chunk in resp.iter_bytes():  # decoded (gzip, ...); the size cap holds after decoding
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise ReplyError(f"reply larger than {MAX_REPLY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise DeadlineExceeded(f"no complete reply within timeout_s={self.cfg.timeout_s:g} s")
            return resp.status_code, resp.headers, b"".join(chunks)

    def _one(self, request: Request, sampling: Sampling) -> Completion:
        try:
            path, body = self._body(request, sampling)
        except Exception as e:  # a malformed conversation fails only this request
            return Completion(error=scrub(f"cannot build request: {type(e).__name__}: {e}"))
        try:
            try:
                data = self._post(path, body)
            except ReplyError as e:
                if "response_format" not in body or not _refuses_schema(str(e)):
                    raise
                self._no_schema = True  # this server has no structured output: ask without it
                body.pop("response_format")
                data = self._post(path, body)
            comp = read_chat_reply(data) if path == "/chat/completions" else read_text_reply(data)
        except ReplyError as e:
            return Completion(error=scrub(str(e)))
        except RecursionError:  # pragma: no cover - decode_reply bounds the depth first
            return Completion(error="reply nested too deeply")
        comp.text = scrub(comp.text) or ""
        if comp.finish_reason == "stop" and sampling.stop:  # some servers keep the stop string
            for s in sampling.stop:
                if comp.text.endswith(s):
                    comp.text = comp.text[: -len(s)]
        return comp

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        if not requests:
            return []
        from looptool.llm.progress import report

        workers = min(self.cfg.max_concurrency, len(requests))
        out: list[Completion | None] = [None] * len(requests)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(self._one, r, sampling): i for i, r in enumerate(requests)}
            for f in as_completed(futures):  # each answer as it comes: to the call cache, on the progress bar
                i = futures[f]
                out[i] = f.result()
                deliver(i, requests[i], out[i])
                report(1)
        return [c if c is not None else Completion(error="no answer") for c in out]

    def close(self) -> None:
        self.client.close()


def _refuses_schema(error: str) -> bool:
    """A 4xx that says the server does not take ``response_format`` / JSON schemas."""
    low = error.lower()
    return error.startswith("HTTP 4") and any(
        w in low for w in ("response_format", "json_schema", "guided", "structured")
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), capped; None when absent or bad."""
    if not value:
        return None
    try:
        secs = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        secs = when.timestamp() - time.time()
    return max(0.0, min(RETRY_AFTER_MAX_S, secs))
