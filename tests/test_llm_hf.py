"""The transformers backend on a tiny random Llama: batching, log-probs, order, stops, sampling, scoring."""

from __future__ import annotations

import os
import time

import pytest

torch = pytest.importorskip("torch")

from looptool.llm import BackendConfig, Request, Sampling, get_backend  # noqa: E402
from looptool.llm.common import weights_fingerprint  # noqa: E402
from looptool.llm.hf import HFBackend  # noqa: E402

TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture(scope="module")
def chatty_lm(smollm2_tokenizer):
    """A tiny random Llama with an untied head (a tied one only echoes its input token) and a boosted eos
    row, so that greedy outputs vary and end at different steps: that is what exercises dropping finished
    rows and refilling the batch."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = smollm2_tokenizer
    torch.manual_seed(0)
    config = LlamaConfig(
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
    lm = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        lm.lm_head.weight[tok.eos_token_id] *= 3.0
    return lm


def _backend(tiny_model_dir, tok, lm, batch_size, **kw):
    return HFBackend(
        str(tiny_model_dir), BackendConfig(batch_size=batch_size, cache=False, **kw), tokenizer=tok, lm=lm
    )


def _requests(n=11):
    reqs = []
    for k in range(1, n + 1):
        msgs = [{"role": "user", "content": "hi " * k + str(k)}]
        if k % 3 == 0:
            msgs = [
                {"role": "user", "content": f"weather in city {k}?"},
                {"role": "assistant", "tool_calls": [{"name": "get_weather", "arguments": {"city": str(k)}}]},
                {"role": "tool", "content": '{"temp": 20}'},
            ]
        reqs.append(Request.chat(msgs, TOOLS if k % 2 else None, key=f"r{k}"))
    reqs.append(Request.text("Once upon a time there was", key="raw"))
    return reqs


def _forward_logprobs(lm, prompt_ids, gen_ids):
    ids = torch.tensor([prompt_ids + gen_ids])
    with torch.no_grad():
        logits = lm(ids).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    n = len(prompt_ids)
    return [logp[n - 1 + j, t].item() for j, t in enumerate(gen_ids)]


def test_batched_greedy_equals_one_by_one(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    reqs = _requests()
    sampling = Sampling(max_new_tokens=24, logprobs=True)
    batched = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4).generate(reqs, sampling)
    single = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 1)
    # without continuous batching (what a sliding-window cache gets): padded batch prefill, batches run out
    fixed = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    fixed.mergeable = False
    static = fixed.generate(reqs, sampling)
    finishes = {c.finish_reason for c in batched}
    assert finishes == {"stop", "length"}, "the model must end rows at different steps for this test to bite"
    for r, b, f in zip(reqs, batched, static):
        [s] = single.generate([r], sampling)
        assert b.ok and s.ok and f.ok
        assert b.token_ids == s.token_ids == f.token_ids
        assert b.text == s.text == f.text
        assert max(abs(x - y) for x, y in zip(b.logprobs, s.logprobs)) < 1e-4
        assert max(abs(x - y) for x, y in zip(f.logprobs, s.logprobs)) < 1e-4


def test_greedy_matches_transformers_generate(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    """The decode loop (with refills and trimming) gives what ``model.generate`` gives, request by request."""
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 3)
    reqs = _requests()
    got = backend.generate(reqs, Sampling(max_new_tokens=16))
    for r, c in zip(reqs, got):
        ids = backend.prompt_ids(r)
        with torch.no_grad():
            ref = chatty_lm.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=16,
                do_sample=False,
                eos_token_id=smollm2_tokenizer.eos_token_id,
                pad_token_id=smollm2_tokenizer.pad_token_id,
            )[0, len(ids) :].tolist()
        assert c.token_ids == ref
        eos = smollm2_tokenizer.eos_token_id
        body = ref[:-1] if ref and ref[-1] == eos else ref
        assert c.text == smollm2_tokenizer.decode(body, skip_special_tokens=False)
        assert c.finish_reason == ("stop" if ref[-1] == eos else "length")


def test_logprobs_equal_a_separate_forward(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    reqs = _requests(7)
    got = backend.generate(reqs, Sampling(max_new_tokens=20, logprobs=True))
    for r, c in zip(reqs, got):
        ref = _forward_logprobs(chatty_lm, backend.prompt_ids(r), c.token_ids)
        assert len(c.logprobs) == len(c.token_ids)
        assert max(abs(a - b) for a, b in zip(c.logprobs, ref)) < 1e-4
        assert c.ppl == pytest.approx(float(torch.tensor(ref).neg().mean().exp()), rel=1e-4)
    assert backend.generate(reqs[:1], Sampling(max_new_tokens=4))[0].logprobs is None  # not asked for


def test_order_preserved_and_errors_stay_in_place(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 3)
    reqs = _requests(6)
    too_long = Request.text("word " * 5000, key="long")  # > the tiny model's 4096-token context
    sampling = Sampling(max_new_tokens=8)
    forward = backend.generate(reqs, sampling)
    mixed = backend.generate(list(reversed(reqs)) + [too_long], sampling)
    assert [c.token_ids for c in reversed(mixed[:-1])] == [c.token_ids for c in forward]
    assert mixed[-1].error and "context" in mixed[-1].error and mixed[-1].text == ""
    assert backend.generate([], sampling) == []


def test_stop_strings(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    reqs = _requests(6)
    free = backend.generate(reqs, Sampling(max_new_tokens=24))
    stopped = backend.generate(reqs, Sampling(max_new_tokens=24, stop=("e",)))
    hit = 0
    for f, s in zip(free, stopped):
        assert "e" not in s.text
        assert f.text.startswith(s.text)
        assert s.token_ids == f.token_ids[: len(s.token_ids)]
        if "e" in f.text:
            hit += 1
            assert s.finish_reason == "stop" and len(s.token_ids) <= len(f.token_ids)
    assert hit >= 2


def test_sampling_is_seeded_per_request(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    big = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 5)
    small = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 2)
    reqs = _requests(6)
    s = Sampling(max_new_tokens=12, temperature=1.0, seed=7)
    a = big.generate(reqs, s)
    b = small.generate(list(reversed(reqs)), s)[::-1]
    assert [c.token_ids for c in a] == [c.token_ids for c in b]  # independent of batch mates and order
    other = big.generate(reqs, Sampling(max_new_tokens=12, temperature=1.0, seed=8))
    assert [c.token_ids for c in a] != [c.token_ids for c in other]
    r = reqs[0]
    votes = big.generate([Request(messages=r.messages, tools=r.tools, key=f"vote{i}") for i in range(4)], s)
    assert len({tuple(c.token_ids) for c in votes}) > 1  # same content, different keys: independent draws
    greedy = big.generate(reqs, Sampling(max_new_tokens=12))
    nucleus = big.generate(reqs, Sampling(max_new_tokens=12, temperature=1.0, top_p=1e-6, seed=3))
    assert [c.token_ids for c in nucleus] == [c.token_ids for c in greedy]  # top_p -> only the argmax left


def test_a_repeated_prompt_is_prefilled_once(tiny_model_dir, smollm2_tokenizer, chatty_lm, monkeypatch):
    """A GRPO group (one prompt, several sampled draws) runs its prompt's prefill once; the draws are what
    separate prefills give, token for token."""
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 8)
    r = _requests(3)[2]
    group = [Request(messages=r.messages, tools=r.tools, key=f"draw{i}") for i in range(4)]
    other = _requests(2)[1]
    reqs = group[:2] + [other] + group[2:]
    s = Sampling(max_new_tokens=12, temperature=1.0, seed=5, logprobs=True)
    calls = []
    prefill = HFBackend._prefill

    def counting(self, rows, prompts):
        calls.append(len(prompts))
        return prefill(self, rows, prompts)

    monkeypatch.setattr(HFBackend, "_prefill", counting)
    shared = backend.generate(reqs, s)
    assert calls == [1, 1]  # the group's prompt and the other one
    separate = [backend.generate([q], s)[0] for q in reqs]  # one row a call: nothing to share
    assert [c.token_ids for c in shared] == [c.token_ids for c in separate]
    assert len({tuple(c.token_ids) for c in shared[:2] + shared[3:]}) > 1  # still independent draws
    for a, b in zip(shared, separate):
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < 1e-4


def _shared_prefix_requests():
    system = "You are a careful assistant. " * 12  # ~70 shared tokens after the template
    reqs, comps = [], []
    for k in range(7):
        reqs.append(
            Request.chat(
                [
                    {"role": "system", "content": system},
                    {"role": "user", "content": f"question {k} " + "x" * k},
                ],
                TOOLS,
            )
        )
        comps.append(
            f'<tool_call>\n{{"name": "get_weather", "arguments": {{"city": "C{k}"}}}}\n</tool_call><|im_end|>'
        )
    reqs.append(Request.text("Completely different prompt"))
    comps.append(" and a short tail")
    return reqs, comps


def test_score_with_shared_prefix_equals_without(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    reqs, comps = _shared_prefix_requests()
    prompts = [backend.prompt_ids(r) for r in reqs[:4]]
    assert backend._shared_prefix(prompts) >= 40  # the prefix path really runs
    with_prefix = backend.score(reqs, comps)
    backend.min_shared_prefix = 10**9
    without = backend.score(reqs, comps)
    for r, c, a, b in zip(reqs, comps, with_prefix, without):
        assert a.ok and b.ok and a.token_ids == b.token_ids and a.text == c
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < 1e-4
        ref = _forward_logprobs(chatty_lm, backend.prompt_ids(r), a.token_ids)
        assert max(abs(x - y) for x, y in zip(a.logprobs, ref)) < 1e-4
    assert with_prefix[0].token_ids[-1] == smollm2_tokenizer.eos_token_id  # "<|im_end|>" is the eos token
    assert with_prefix[0].ppl is not None


def test_score_of_generated_text_matches_generate(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    """Scoring a greedy output (as text, plus eos) gives the log-probs its decode reported."""
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    reqs = _requests(5)
    gen = backend.generate(reqs, Sampling(max_new_tokens=16, logprobs=True))
    texts = [c.text + ("<|im_end|>" if c.finish_reason == "stop" else "") for c in gen]
    scored = backend.score(reqs, texts)
    for g, s in zip(gen, scored):
        if s.token_ids == g.token_ids:  # re-tokenising random text can split differently; compare where equal
            assert max(abs(x - y) for x, y in zip(g.logprobs, s.logprobs)) < 1e-4
    assert sum(s.token_ids == g.token_ids for g, s in zip(gen, scored)) >= 3
    with pytest.raises(ValueError):
        backend.score(reqs, texts[:-1])


def test_transformers_internals_the_decode_loop_relies_on(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    """The decode loop reaches into transformers (through :mod:`looptool.compat.transformers`): it subclasses ``cache_utils.DynamicLayer`` (``update``,
    ``lazy_initialization``, ``is_initialized``, ``keys``/``values``), expects ``DynamicCache(config=...)`` to
    build plain ``DynamicLayer`` layers, passes the cache under the name ``forward`` declares (``cache``;
    ``past_key_values`` before the rename) and uses ``DynamicCache.batch_select_indices`` /
    ``batch_repeat_interleave``. A transformers release that changes any of these must fail here by name,
    not silently fall back to the slower path (or to decoding without a cache)."""
    import inspect
    import logging
    import warnings

    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer
    from transformers.utils import logging as hf_logging

    from looptool.compat import transformers as kv
    from looptool.llm import hf

    for name in ("update", "lazy_initialization"):
        assert callable(getattr(DynamicLayer, name, None)), f"transformers DynamicLayer lost {name}()"
    for name in ("batch_select_indices", "batch_repeat_interleave"):
        assert callable(getattr(DynamicCache, name, None)), f"transformers DynamicCache lost {name}()"
    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    assert backend.mergeable, "DynamicCache(config=...) no longer builds plain DynamicLayer layers"
    declared = inspect.signature(chatty_lm.forward).parameters
    assert backend._cache_arg in declared, (
        f"forward declares neither cache nor past_key_values: {list(declared)}"
    )

    # The growing layer: prefill one row, then decode steps append in place (same buffer) and give the
    # logits a full forward over prompt + generated tokens gives.
    ids = backend.prompt_ids(_requests(3)[2])
    row = hf._Row(index=0, prompt_len=len(ids), max_new=8)
    sampling = Sampling(max_new_tokens=8)
    with torch.inference_mode():
        state, logits = backend._prefill([row], [ids])
        assert all(type(layer) is kv.growing_layer_class() for layer in state.cache.layers)
        backend._advance(state, logits, sampling)
        ptrs = None
        for _ in range(3):
            logits = backend._step(state)
            layer = state.cache.layers[0]
            assert layer.keys.data_ptr() == layer._buf_k.data_ptr(), (
                "the cache was copied, not grown in place"
            )
            ptrs = ptrs or layer._buf_k.data_ptr()
            assert layer._buf_k.data_ptr() == ptrs
            backend._advance(state, logits, sampling)
        assert state.cache.get_seq_length() == len(ids) + 3
        full = chatty_lm(torch.tensor([ids + row.tokens[:-1]])).logits[0, -1]
    assert torch.allclose(logits[0], full, atol=1e-4)

    # No deprecated interface on the way: neither a FutureWarning nor transformers' one-time log line.
    if hasattr(hf_logging.warning_once, "cache_clear"):  # it logs each message once per process
        hf_logging.warning_once.cache_clear()
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda rec: records.append(rec.getMessage())
    hf_logger = logging.getLogger("transformers")
    hf_logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            backend.generate(_requests(5), Sampling(max_new_tokens=6, logprobs=True))
            reqs, comps = _shared_prefix_requests()
            backend.score(reqs, comps)
    finally:
        hf_logger.removeHandler(handler)
    said = records + [str(w.message) for w in caught]
    stale = [m for m in said if "deprecat" in m.lower() or "will be removed" in m.lower()]
    assert not stale, f"the engine uses a deprecated transformers interface: {stale}"


def test_dropping_finished_rows_keeps_the_buffer(tiny_model_dir, smollm2_tokenizer, chatty_lm):
    """A finished row leaves the batch without a copy of the cache: the last live row moves into its slot and
    the buffers become views of the first rows; the rows decode on as a full forward says."""
    from looptool.llm import hf

    backend = _backend(tiny_model_dir, smollm2_tokenizer, chatty_lm, 4)
    prompts = [backend.prompt_ids(r) for r in _requests(3)]  # 3 chats and a raw text
    rows = [hf._Row(index=i, prompt_len=len(p), max_new=8) for i, p in enumerate(prompts)]
    sampling = Sampling(max_new_tokens=8)
    with torch.inference_mode():
        parts = backend._prefill_rows(rows, prompts)
        for part, logits in parts:
            backend._advance(part, logits, sampling)
        state = backend._merge([p for p, _ in parts])
        backend._advance(state, backend._step(state), sampling)
        buf = state.cache.layers[0]._buf_k.data_ptr()
        rows[1].finish = "stop"  # slot 1 frees up: row 3 moves there, rows 0 and 2 stay
        state = backend._drop(state)
        assert [r.index for r in state.rows] == [0, 3, 2]
        assert state.cache.layers[0]._buf_k.data_ptr() == buf and state.cache.layers[0].keys.shape[0] == 3
        for _ in range(2):
            backend._advance(state, backend._step(state), sampling)
        logits = backend._step(state)
        for r, row in enumerate(state.rows):
            full = chatty_lm(torch.tensor([prompts[row.index] + row.tokens])).logits[0, -1]
            assert torch.allclose(logits[r], full, atol=1e-4)


def test_a_model_without_a_cache_argument_is_refused():
    import inspect

    from looptool.llm.hf import _cache_argument

    class NoCache:
        def forward(self, input_ids):
            return input_ids

    with pytest.raises(TypeError, match="neither `cache` nor `past_key_values`"):
        _cache_argument(NoCache(), inspect.signature(NoCache().forward).parameters)


def test_get_backend_follows_pointer_and_caches(tiny_model_dir, tmp_path, monkeypatch):
    from looptool.llm.cache import CachedBackend
    from looptool.model import ModelConfig, run_prepare_model

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    run_prepare_model(
        out=tmp_path / "base", cfg=ModelConfig(source=str(tiny_model_dir))
    )  # a pointer, no weights copied
    with get_backend(BackendConfig(batch_size=2), model=str(tmp_path / "base")) as b:
        assert isinstance(b.inner, CachedBackend) and b.inner.inner.model == str(
            tiny_model_dir
        )  # behind the error budget
        assert b.identity()["weights"] == weights_fingerprint(str(tiny_model_dir))
        [c] = b.generate([Request.text("hello")], Sampling(max_new_tokens=3))
        assert c.ok and len(c.token_ids) == 3 and b.stats() == {"hits": 0, "misses": 1, "errors": 0}
    plain = get_backend(BackendConfig(cache=False), model=str(tiny_model_dir))
    # no call cache; the error budget around the progress counter (looptool.llm.progress.tracked) around it
    assert not isinstance(plain.inner, CachedBackend) and isinstance(plain.inner.inner, HFBackend)
    with pytest.raises(ValueError, match="none"):
        get_backend(BackendConfig(backend="none"))
    with pytest.raises(ValueError, match="model"):
        get_backend(BackendConfig())


def test_fingerprint_changes_when_a_checkpoint_is_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))  # the digests' memo
    ckpt = tmp_path / "iter_1"
    ckpt.mkdir()
    (ckpt / "model.safetensors").write_bytes(b"a" * 10)
    (ckpt / "config.json").write_text("{}")
    (ckpt / "trainer_state.json").write_text("{}")
    before = weights_fingerprint(str(ckpt))
    (ckpt / "trainer_state.json").write_text('{"step": 2}')  # not a weight/config/tokenizer file
    assert weights_fingerprint(str(ckpt)) == before
    time.sleep(0.01)
    (ckpt / "model.safetensors").write_bytes(b"b" * 10)  # same size, new contents
    os.utime(ckpt / "model.safetensors", ns=(time.time_ns(), time.time_ns() + 1_000_000))
    after = weights_fingerprint(str(ckpt))
    assert after != before
    os.utime(ckpt / "config.json", ns=(time.time_ns(), time.time_ns() + 2_000_000))  # touched, same bytes
    assert weights_fingerprint(str(ckpt)) == after  # a content digest (a checkout or copy keeps its calls)
    assert weights_fingerprint("HuggingFaceTB/SmolLM2-135M-Instruct") is None
