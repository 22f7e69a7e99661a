"""The in-process ``transformers`` backend: batched decoding and scoring on CPU (or one GPU).

Why a decode loop of our own instead of ``model.generate``: on a CPU, decoding costs per row and per step,
so the loop does what ``generate`` cannot do for a batch:

* finished rows leave the batch at once and free slots are refilled with waiting requests (continuous
  batching over a :class:`~transformers.DynamicCache`), so no step is spent on rows that already ended;
  new rows are prefilled one at a time (no padding, causal fast path) and merged in;
* the KV cache grows in place (:func:`looptool.compat.transformers.growing_layer_class`, where the decode
  loop's uses of cache internals live) instead of being copied at every step;
* the log-probability of each chosen token is taken from the raw logits of the same step (``log_softmax``,
  ``gather``) and kept as one float, so the perplexity of a greedy output costs no extra forward pass and no
  ``[steps, batch, vocab]`` logits are stored;
* sampled rows draw from their own generator, seeded from the request (:func:`request_seed`), so a
  sampled answer does not depend on its batch mates.

Requests are rendered with :func:`looptool.prompts.render_prompt`, tokenized, sorted by length (longest
first) and decoded with left padding; results come back in the caller's order, and each one is handed on
(:func:`~looptool.llm.base.deliver`, to the call cache) the moment its row finishes. ``score`` computes the
log-probabilities of given completions, running a shared token prefix (the system prompt) once and only the
completion positions through the LM head.
"""

from __future__ import annotations

import copy
import inspect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from looptool.compat import transformers as kv
from looptool.llm.base import Backend, Completion, Request, Sampling, deliver
from looptool.llm.common import local_identity, prompt_ids, render, request_seed
from looptool.llm.config import BackendConfig

MIN_SHARED_PREFIX = 16
"""``score``: a common token prefix shorter than this is not worth a separate forward pass."""
LOGITS_BUDGET = 1 << 26
"""``score``: at most this many logits (``rows x completion tokens x vocab``; 256 MB in fp32) at once."""


def _cache_argument(lm: Any, params: Any) -> str:
    """The name under which ``lm.forward`` takes (and its output returns) the KV cache.

    transformers 5.x renames ``past_key_values`` to ``cache`` (the old name warns and goes away in 5.40);
    the engine passes whichever the installed version's forward declares (a wrapper whose forward takes only
    ``**kwargs`` gets the old name, which every 5.x before 5.40 accepts), and refuses a model that takes
    neither instead of silently decoding without a cache.
    """
    for name in ("cache", "past_key_values"):
        if name in params:
            return name
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return "past_key_values"
    raise TypeError(
        f"{type(lm).__name__}.forward takes neither `cache` nor `past_key_values`: "
        "looptool's decode loop needs a KV cache argument (transformers changed its interface?)"
    )


def _fill_holes(live: list[int]) -> list[int]:
    """The rows' new order when only ``live`` (sorted) stay: live rows below ``len(live)`` keep their slot, the
    live rows past it fill the finished rows' slots. ``[0, 2, 5, 6]`` -> ``[0, 6, 2, 5]``: rows 6 and 5 move
    into the slots of finished rows 1 and 3."""
    m = len(live)
    movers = [k for k in live if k >= m]
    kept = set(live)
    return [k if k in kept else movers.pop() for k in range(m)]


def _runs(index: list[int]) -> list[tuple[int, int]]:
    """Sorted indices as ``[start, stop)`` runs: [0, 1, 2, 5, 6] -> [(0, 3), (5, 7)]."""
    out: list[tuple[int, int]] = []
    for i in index:
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


@dataclass
class _Row:
    """One request being decoded."""

    index: int
    prompt_len: int
    max_new: int
    generator: Any = None
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish: str | None = None
    completion: Completion | None = None


@dataclass
class _Batch:
    """The decode state of the active rows: KV cache, attention mask over it, next positions, last tokens."""

    rows: list[_Row]
    cache: Any
    mask: Any  # [B, T] long, T == cache length
    pos: Any  # [B] long, position of the next token of each row
    last: Any  # [B] long, the token to feed next


class HFBackend(Backend):
    """A causal LM from a local checkpoint (or hub id) run in this process with ``transformers``."""

    name = "transformers"

    def __init__(
        self, model: str, cfg: BackendConfig | None = None, *, tokenizer: Any = None, lm: Any = None
    ):

        from looptool.model import load_causal_lm, load_tokenizer

        self.cfg = cfg or BackendConfig()
        self.model = str(model)
        self.tokenizer = (
            tokenizer if tokenizer is not None else load_tokenizer(self.model, padding_side="left")
        )
        self.lm = lm if lm is not None else load_causal_lm(self.model, self.cfg.dtype, self.cfg.device)
        self.device = next(self.lm.parameters()).device
        self.batch_size = self.cfg.batch_size
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id
        eos: set[int] = set()
        gen_eos = getattr(getattr(self.lm, "generation_config", None), "eos_token_id", None)
        for e in (gen_eos if isinstance(gen_eos, (list, tuple)) else [gen_eos]) + [
            self.tokenizer.eos_token_id
        ]:
            if e is not None:
                eos.add(int(e))
        if not eos:
            raise ValueError(
                f"{self.model}: neither the tokenizer nor the generation config names an eos token"
            )
        self.eos_ids = eos
        config = self.lm.config
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        self.max_context = getattr(text_config, "max_position_embeddings", None)
        params = inspect.signature(self.lm.forward).parameters
        self._keeps_logits = "logits_to_keep" in params
        self._cache_arg = _cache_argument(self.lm, params)
        self.min_shared_prefix = MIN_SHARED_PREFIX
        # Rows can join and leave a running batch only when every cache layer is a plain growing one (not
        # sliding-window or recurrent); otherwise batches run to completion (still with early exits).
        self.mergeable = kv.grows_in_place(kv.new_cache(self.lm.config))

    # --- identity and prompts ---------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        return local_identity(self.name, self.model, self.cfg.dtype, self.cfg.chat_template_kwargs)

    def render(self, request: Request) -> str:
        """The prompt text the model sees for ``request`` (:func:`looptool.llm.common.render`)."""
        return render(self.tokenizer, request, self.cfg.chat_template_kwargs)

    def prompt_ids(self, request: Request) -> list[int]:
        """Token ids of the prompt (:func:`looptool.llm.common.prompt_ids`: the ids the vllm backends send)."""
        return prompt_ids(self.tokenizer, request, self.cfg.chat_template_kwargs)

    def _encode_all(self, requests: Sequence[Request]) -> tuple[list[list[int] | None], list[str | None]]:
        ids: list[list[int] | None] = []
        errors: list[str | None] = []
        for r in requests:
            try:
                p = self.prompt_ids(r)
            except Exception as e:  # a template may reject a malformed conversation: that request fails
                ids.append(None)
                errors.append(f"cannot render prompt: {type(e).__name__}: {e}")
                continue
            if not p:
                ids.append(None)
                errors.append("empty prompt")
            elif self.max_context and len(p) >= self.max_context:
                ids.append(None)
                errors.append(
                    f"prompt of {len(p)} tokens does not fit the model's context ({self.max_context})"
                )
            else:
                ids.append(p)
                errors.append(None)
        return ids, errors

    # --- generation -------------------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        import torch

        ids, errors = self._encode_all(requests)
        out: list[Completion | None] = [None if e is None else Completion(error=e) for e in errors]
        todo = [i for i, p in enumerate(ids) if p is not None]
        if todo:
            with torch.inference_mode():
                rows = self._decode(requests, ids, todo, sampling)
            for row in rows:
                out[row.index] = row.completion
        return [c if c is not None else Completion(error="not decoded") for c in out]

    def _completion(self, row: _Row, sampling: Sampling) -> Completion:
        tokens = row.tokens
        body = tokens[:-1] if tokens and tokens[-1] in self.eos_ids else tokens
        text = self.tokenizer.decode(body, skip_special_tokens=False)
        if sampling.stop:
            cut = min((i for i in (text.find(s) for s in sampling.stop) if i >= 0), default=-1)
            if cut >= 0:
                text = text[:cut]
        return Completion(
            text=text,
            token_ids=list(tokens),
            logprobs=list(row.logprobs) if sampling.logprobs else None,
            finish_reason=row.finish,
        )

    def _decode(
        self, requests: Sequence[Request], ids: list[list[int] | None], todo: list[int], sampling: Sampling
    ) -> list[_Row]:
        """Continuous batching: keep up to ``batch_size`` rows decoding, refill slots as rows finish."""
        import torch

        from looptool.llm.progress import Reporter

        order = sorted(todo, key=lambda i: -len(ids[i]))  # longest first: the largest batch fails early
        pending = deque(order)
        done: list[_Row] = []
        state: _Batch | None = None
        bar = Reporter()  # finished rows count on the stage's one progress bar
        try:
            while pending or state is not None:
                free = self.batch_size - (len(state.rows) if state is not None else 0)
                refill = self.mergeable and free >= self._refill_at()
                if pending and free > 0 and (state is None or refill):
                    take = [pending.popleft() for _ in range(min(free, len(pending)))]
                    rows = []
                    for i in take:
                        budget = sampling.max_new_tokens
                        if self.max_context:
                            budget = min(budget, self.max_context - len(ids[i]))
                        gen = None
                        if not sampling.greedy:
                            gen = torch.Generator(device=self.device)
                            gen.manual_seed(request_seed(requests[i], sampling))
                        rows.append(_Row(index=i, prompt_len=len(ids[i]), max_new=budget, generator=gen))
                    if self.mergeable:
                        # One row at a time: no padding, and attention takes its causal fast path (a padded
                        # batch of prompts costs ~1.8x more per real token on CPU); then one merge.
                        parts = self._prefill_rows(rows, ids)
                        for part, logits in parts:
                            self._advance(part, logits, sampling)
                        state = self._merge(([state] if state is not None else []) + [p for p, _ in parts])
                    else:
                        state, logits = self._prefill(rows, [ids[i] for i in take])
                        self._advance(state, logits, sampling)
                else:
                    logits = self._step(state)
                    self._advance(state, logits, sampling)
                finished = [r for r in state.rows if r.finish is not None]
                if finished:
                    done.extend(finished)
                    # handed on at once: the call cache keeps it even if the call is interrupted later
                    for r in finished:
                        r.completion = self._completion(r, sampling)
                        deliver(r.index, requests[r.index], r.completion)
                    bar.update(len(finished))
                    state = self._drop(state)
        finally:
            bar.close()
        return done

    def _prefill_rows(self, rows: list[_Row], ids: list[list[int] | None]) -> list[tuple[_Batch, Any]]:
        """Prefill each row alone; a prompt already prefilled in this call (a GRPO group: the same prompt
        ``num_generations`` times) reuses that row's cache and logits instead of running again (the same
        numbers: a one-row prefill is deterministic). The parts share cache tensors until the merge that
        follows copies them all into one new buffer (there are always two or more parts then)."""
        parts: list[tuple[_Batch, Any]] = []
        done: dict[tuple[int, ...], tuple[_Batch, Any]] = {}
        for row in rows:
            prompt = ids[row.index]
            assert prompt is not None
            seen = done.get(tuple(prompt))
            if seen is None:
                seen = done[tuple(prompt)] = self._prefill([row], [prompt])
                parts.append(seen)
            else:
                first, logits = seen
                parts.append(
                    (_Batch(rows=[row], cache=first.cache, mask=first.mask, pos=first.pos, last=None), logits)
                )
        return parts

    def _drops_in_place(self, state: _Batch) -> bool:
        """Whether finished rows can leave ``state`` in place (:func:`looptool.compat.transformers.compact`)
        rather than by one gather into a fresh buffer."""
        return self.mergeable and kv.in_buffer(state.cache)

    def _refill_at(self) -> int:
        # Refilling costs prefills and a copy of the cache; wait until a quarter of the slots are free.
        return max(1, self.batch_size // 4)

    def _forward(self, **kwargs: Any) -> Any:
        if self._keeps_logits and "logits_to_keep" not in kwargs:
            kwargs["logits_to_keep"] = 1
        return self.lm(use_cache=True, **kwargs)

    def _prefill(self, rows: list[_Row], prompts: list[list[int]]) -> tuple[_Batch, Any]:
        import torch

        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for r, p in enumerate(prompts):
            input_ids[r, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[r, width - len(p) :] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        kwargs: dict[str, Any] = {}
        if not bool(mask.all()):  # padded: explicit mask and positions
            kwargs = {"attention_mask": mask, "position_ids": (mask.cumsum(-1) - 1).clamp(min=0)}
        kwargs[self._cache_arg] = kv.new_cache(self.lm.config)
        out = self._forward(input_ids=input_ids, **kwargs)
        pos = mask.sum(-1)
        return _Batch(
            rows=rows, cache=getattr(out, self._cache_arg), mask=mask, pos=pos, last=None
        ), out.logits[:, -1, :]

    def _step(self, state: _Batch) -> Any:
        import torch

        ones = torch.ones((len(state.rows), 1), dtype=state.mask.dtype, device=self.device)
        state.mask = torch.cat([state.mask, ones], dim=1)
        out = self._forward(
            input_ids=state.last[:, None],
            attention_mask=state.mask,
            position_ids=state.pos[:, None],
            **{self._cache_arg: state.cache},
        )
        state.cache = getattr(out, self._cache_arg)
        state.pos = state.pos + 1
        return out.logits[:, -1, :]

    def _advance(self, state: _Batch, logits: Any, sampling: Sampling) -> None:
        """Choose each row's next token from the raw logits, record its log-prob, mark finished rows."""
        import torch

        logits = logits.float()
        logp = torch.log_softmax(logits, dim=-1)
        if sampling.greedy:
            chosen = logits.argmax(dim=-1)
        else:
            chosen = _sample(logits, sampling, [r.generator for r in state.rows])
        chosen_lp = logp.gather(-1, chosen[:, None])[:, 0]
        state.last = chosen
        for row, tok, lp in zip(state.rows, chosen.tolist(), chosen_lp.tolist()):
            row.tokens.append(tok)
            row.logprobs.append(lp)
            if tok in self.eos_ids or (sampling.stop and self._hit_stop(row, sampling.stop)):
                row.finish = "stop"
            elif len(row.tokens) >= row.max_new:
                row.finish = "length"

    def _hit_stop(self, row: _Row, stops: tuple[str, ...]) -> bool:
        # Decoding the tail is enough: a stop string cannot span more tokens than characters.
        longest = max(len(s) for s in stops)
        text = self.tokenizer.decode(row.tokens[-(longest + 2) :], skip_special_tokens=False)
        return any(s in text for s in stops)

    def _drop(self, state: _Batch) -> _Batch | None:
        """Remove finished rows; with a plain cache also cut the columns that are padding for every
        remaining row. Growing layers do both in place (:func:`looptool.compat.transformers.compact`: the last live rows move into the
        finished rows' slots, so the rows change order); other caches get one gather into a fresh buffer."""
        import torch

        live = [k for k, r in enumerate(state.rows) if r.finish is None]
        if not live:
            return None
        compact = self._drops_in_place(state)
        order = _fill_holes(live) if compact else live
        idx = torch.tensor(order, device=self.device)
        state.rows = [state.rows[k] for k in order]
        state.mask, state.pos, state.last = state.mask[idx], state.pos[idx], state.last[idx]
        if not self.mergeable:
            state.cache.batch_select_indices(idx)
            return state
        first = int(state.mask.any(dim=0).long().argmax())
        width = state.mask.shape[1] - first
        if compact:
            kv.compact(state.cache, order, first, width)
        else:
            kv.select(state.cache, _runs(live), first, width)
        state.mask = state.mask[:, first:]
        return state

    def _merge(self, states: list[_Batch]) -> _Batch:
        """Stack decode states; shorter caches are left-padded (masked) to the longest one's length."""
        import torch

        if len(states) == 1:
            return states[0]
        width = max(s.mask.shape[1] for s in states)

        def pad(t: Any, n: int, dim: int) -> Any:
            if n == 0:
                return t
            shape = list(t.shape)
            shape[dim] = n
            return torch.cat([torch.zeros(shape, dtype=t.dtype, device=t.device), t], dim=dim)

        gaps = [width - s.mask.shape[1] for s in states]
        return _Batch(
            rows=[r for s in states for r in s.rows],
            cache=kv.merge([s.cache for s in states], width),
            mask=torch.cat([pad(s.mask, g, 1) for s, g in zip(states, gaps)]),
            pos=torch.cat([s.pos for s in states]),
            last=torch.cat([s.last for s in states]),
        )

    # --- scoring ----------------------------------------------------------------------------------------

    def score(self, requests: Sequence[Request], completions: Sequence[str]) -> list[Completion]:
        """Log-probs of each completion text after its prompt (teacher forcing).

        Requests are sorted by prompt tokens so that rows sharing a prefix (the system prompt with the
        tools) land in the same batch; that prefix runs once and its KV cache is repeated for the batch.
        Only completion positions go through the LM head.
        """
        import torch

        if len(requests) != len(completions):
            raise ValueError(f"score: {len(requests)} requests but {len(completions)} completions")
        ids, errors = self._encode_all(requests)
        out: list[Completion] = [
            Completion(error=e) if e else Completion(text=c) for c, e in zip(completions, errors)
        ]
        items = []
        for i, (p, c) in enumerate(zip(ids, completions)):
            if p is None:
                continue
            comp = list(self.tokenizer(c, add_special_tokens=False)["input_ids"])
            if not comp:
                out[i] = Completion(text=c, token_ids=[], logprobs=[], finish_reason="score")
                continue
            if self.max_context and len(p) + len(comp) > self.max_context:
                out[i] = Completion(
                    error=f"prompt + completion ({len(p) + len(comp)} tokens) exceed the context ({self.max_context})"
                )
                continue
            items.append((i, p, comp))
        items.sort(key=lambda t: (t[1], len(t[2])))
        vocab = (
            self.lm.get_output_embeddings().weight.shape[0]
            if self.lm.get_output_embeddings() is not None
            else 1
        )
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                batch = items[start : start + self.batch_size]
                prefix = self._shared_prefix([p for _, p, _ in batch])
                cache = self._prefix_cache(batch[0][1][:prefix]) if prefix else None
                longest = max(len(c) for _, _, c in batch)
                rows = max(1, min(len(batch), LOGITS_BUDGET // max(1, longest * vocab)))
                for s in range(0, len(batch), rows):
                    part = batch[s : s + rows]
                    for (i, _, comp), lps in zip(part, self._score_rows(part, prefix, cache)):
                        out[i] = Completion(
                            text=completions[i], token_ids=comp, logprobs=lps, finish_reason="score"
                        )
                        deliver(i, requests[i], out[i])
        return out

    def _shared_prefix(self, prompts: list[list[int]]) -> int:
        """Length of the common token prefix, leaving every row at least its last prompt token (whose
        logits predict the first completion token)."""
        first = prompts[0]
        n = min(len(p) for p in prompts) - 1
        for p in prompts[1:]:
            k = 0
            while k < n and p[k] == first[k]:
                k += 1
            n = k
        return n if n >= self.min_shared_prefix else 0

    def _prefix_cache(self, prefix: list[int]) -> Any:
        import torch
        from transformers import DynamicCache

        ids = torch.tensor([prefix], dtype=torch.long, device=self.device)
        cache = DynamicCache(config=self.lm.config)
        out = self._forward(input_ids=ids, **{self._cache_arg: cache})
        return getattr(out, self._cache_arg)

    def _score_rows(
        self, part: list[tuple[int, list[int], list[int]]], prefix: int, cache: Any
    ) -> list[list[float]]:
        """One forward over ``[left pad, prompt suffix, completion, right pad]`` rows: the completions are
        aligned, so the positions whose logits are needed form one column range for every row."""
        import torch

        lp_max = max(len(p) - prefix for _, p, _ in part)
        lc_max = max(len(c) for _, _, c in part)
        width = lp_max + lc_max
        n = len(part)
        input_ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        targets = torch.full((n, lc_max), self.pad_id, dtype=torch.long)
        for r, (_, p, c) in enumerate(part):
            suffix = p[prefix:]
            start = lp_max - len(suffix)
            input_ids[r, start:lp_max] = torch.tensor(suffix)
            input_ids[r, lp_max : lp_max + len(c)] = torch.tensor(c)
            mask[r, start : lp_max + len(c)] = 1
            targets[r, : len(c)] = torch.tensor(c)
        input_ids, mask, targets = input_ids.to(self.device), mask.to(self.device), targets.to(self.device)
        position_ids = (prefix + mask.cumsum(-1) - 1).clamp(min=0)
        full_mask = mask
        kwargs: dict[str, Any] = {}
        if prefix:
            full_mask = torch.cat(
                [torch.ones((n, prefix), dtype=mask.dtype, device=self.device), mask], dim=1
            )
            kv = copy.deepcopy(cache)
            if n > 1:
                kv.batch_repeat_interleave(n)
            kwargs[self._cache_arg] = kv
        keep = torch.arange(lp_max - 1, width - 1, device=self.device)
        if self._keeps_logits:
            out = self.lm(
                input_ids=input_ids,
                attention_mask=full_mask,
                position_ids=position_ids,
                logits_to_keep=keep,
                use_cache=bool(prefix),
                **kwargs,
            )
            logits = out.logits
        else:  # older architectures: full logits, then the completion columns
            out = self.lm(
                input_ids=input_ids,
                attention_mask=full_mask,
                position_ids=position_ids,
                use_cache=bool(prefix),
                **kwargs,
            )
            logits = out.logits[:, keep, :]
        logits = logits.float()
        chosen = logits.gather(-1, targets[:, :, None])[:, :, 0] - torch.logsumexp(logits, dim=-1)
        return [chosen[r, : len(c)].tolist() for r, (_, _, c) in enumerate(part)]

    def close(self) -> None:
        self.lm = None


def _sample(logits: Any, sampling: Sampling, generators: list[Any]) -> Any:
    """Temperature and nucleus (top-p) sampling, one generator per row."""
    import torch

    probs = torch.softmax(logits / sampling.temperature, dim=-1)
    if sampling.top_p < 1.0:
        sorted_p, sorted_i = probs.sort(dim=-1, descending=True)
        cum = sorted_p.cumsum(dim=-1)
        sorted_p = sorted_p.masked_fill(cum - sorted_p > sampling.top_p, 0.0)  # keep the token crossing top_p
        probs = torch.zeros_like(probs).scatter(-1, sorted_i, sorted_p)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    picks = [torch.multinomial(probs[r], 1, generator=g) for r, g in enumerate(generators)]
    return torch.cat(picks)
