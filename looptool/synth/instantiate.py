"""Re-instantiation for error-driven expansion: a new sample with a given difficulty signature.

The loop's ``expand`` stage takes a failure's ``meta.signature`` and asks for fresh samples of the same
difficulty elsewhere: same pattern, number of calls, parallelism, argument kinds, number of tools and
distractors, turns; a different domain (``avoid_domains``), never a held-out one. The result passes the same
rule verification as the seeds (:func:`looptool.checks.verify_sample` with ``split="pool"``).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from functools import lru_cache
from typing import Any

from looptool.checks import SIGNATURE_FIELDS, verify_sample
from looptool.llm.base import Backend
from looptool.synth.agents import realize
from looptool.synth.config import SeedConfig, heldout_domain_names, pool_domain_names, split_domains
from looptool.synth.llm_agents import LLMAgents
from looptool.synth.planner import PlanError, Planner, Structure
from looptool.synth.rows import to_row


@lru_cache(maxsize=8)
def _planner(
    random_seed: int,
    apis_per_leaf: int,
    optional_keep: float,
    optional_rate: float,
    max_tools: int,
    max_parallel: int,
    domains: tuple[str, ...],
) -> Planner:
    from looptool.synth.apis import build_catalog

    return Planner(
        build_catalog(random_seed, apis_per_leaf, optional_keep),
        domains,
        optional_rate,
        max_tools,
        max_parallel,
    )


def _structure(sig: dict[str, Any]) -> Structure:
    pattern = sig["pattern"]
    kinds = frozenset(sig["arg_types"]) if pattern not in ("missing_arg", "irrelevant") else None
    return Structure(
        n_tools=int(sig["n_tools"]),
        n_calls=int(sig["n_calls"]) or 1,
        n_distractors=int(sig["n_distractors"]),
        turns=int(sig["turns"]),
        arg_types=kinds,
    )


def same_signature(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(
        (sorted(a[k]) if k == "arg_types" else a[k]) == (sorted(b[k]) if k == "arg_types" else b[k])
        for k in SIGNATURE_FIELDS
    )


def instantiate(
    signature: dict[str, Any],
    rng: random.Random,
    cfg: SeedConfig,
    avoid_domains: Collection[str] = (),
    *,
    generator: Backend | None = None,
    max_tries: int = 40,
) -> dict[str, Any] | None:
    """A new verified sample row with ``signature`` in a domain outside ``avoid_domains`` and the held-out set.

    Returns a SAMPLE row with JSON columns as Python objects (``looptool.schema.frame`` accepts them), with
    ``origin="expansion"``, ``iteration=0`` and ``parent_id=None`` for the caller to set; None when no
    domain can realise the signature within ``max_tries`` plans. The procedural agents write the dialogue
    unless ``generator`` (a loaded :class:`looptool.llm.base.Backend`) is given: then the four LLM agents do,
    as in ``seed.mode: llm``.
    """
    missing = [k for k in SIGNATURE_FIELDS if k not in signature]
    if missing:
        raise ValueError(f"signature lacks {missing} (expected the meta.signature of a seed row)")
    held = set(heldout_domain_names(cfg))
    domains = tuple(d for d in pool_domain_names(cfg) if d not in held)
    planner = _planner(
        cfg.random_seed,
        cfg.apis_per_leaf,
        cfg.optional_keep,
        cfg.optional_arg_rate,
        cfg.max_tools,
        cfg.max_parallel,
        domains,
    )
    avoid = set(avoid_domains)
    st = _structure(signature)
    llm = LLMAgents(generator, cfg.llm_temperature, cfg.llm_max_new_tokens) if generator is not None else None
    for _ in range(max_tries):
        try:
            draft = planner.plan(signature["pattern"], rng, st, avoid=avoid)
        except PlanError:
            continue
        if llm is not None:
            out = llm.run([draft], rng)[0]
            if not out.ok:
                continue
            gen = llm.name
        else:
            realize(draft, rng)
            gen = "procedural"
        row = to_row(draft, gen, origin="expansion")
        if draft.domain in avoid or not same_signature(row["meta"]["signature"], signature):
            continue
        if verify_sample(row, split_domains(cfg), "pool"):
            continue
        return row
    return None
