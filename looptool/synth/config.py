"""``SeedConfig``: every knob of the seed corpus (params.yaml section ``seed``)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from looptool import jsonutil
from looptool.checks.sample import SplitDomains
from looptool.config import check_choice, from_dict, load_params
from looptool.llm.config import BackendConfig
from looptool.schema import PATTERNS

MODES = ("procedural", "llm", "import")
HELDOUT_BY = ("tool", "domain")
NOISE_KINDS = ("wrong_value", "dropped_optional", "dropped_required", "wrong_function", "swapped_args")

DEFAULT_PATTERNS = {
    "single": 0.2,
    "parallel": 0.16,
    "distractor": 0.16,
    "multi_turn": 0.16,
    "missing_arg": 0.16,
    "irrelevant": 0.16,
}
DEFAULT_NOISE_KINDS = {
    "wrong_value": 0.3,
    "dropped_optional": 0.2,
    "dropped_required": 0.1,
    "wrong_function": 0.2,
    "swapped_args": 0.2,
}


@dataclass
class SeedConfig:
    """How the seed corpus is synthesised, verified, split, noised and decontaminated."""

    random_seed: int = 0
    """Seed of everything random here: API variants, held-out domains, dialogues, noise. Same seed, same bytes."""
    mode: str = "procedural"
    """``procedural`` (template agents, no model: the embedded default), ``llm`` (every agent is a call to the
    ``backends.generator`` model) or ``import`` (the pool comes from ``import_files``; see
    :mod:`looptool.synth.imported`)."""
    pool_size: int = 2400
    """Verified POOL samples wanted (the build stops there, or when ``max_attempts`` runs out)."""
    heldout_size: int = 300
    """Verified samples wanted from the held-out domains (evaluation only, never in the pool)."""
    heldout_domains: int = 4
    """How many whole domains are held out (chosen from the tree by ``random_seed``)."""
    dev_domains: int = 0
    """How many more whole domains make the DEV split (for choices: learning rate, steps, warm-up budget,
    merge options; the test split is for final scores only). Drawn after the test's, from the other domains,
    with their own seeded draw, and taken out of the pool (so a value > 0 changes the pool). 0: no dev rows
    (``dev.parquet`` is written empty, with a warning)."""
    dev_size: int = 120
    """Verified samples wanted from the dev domains (never in the pool, never in the test split)."""
    apis_per_leaf: int = 2
    """API variants per capability (naming convention, optional parameters, wording); the catalog has
    leaves x this many APIs."""
    optional_keep: float = 0.8
    """Chance that an API variant (after the first, which keeps all) keeps each optional parameter."""
    optional_arg_rate: float = 0.45
    """Chance that a user mentions each optional parameter of the call (so it is in the label)."""
    max_tools: int = 5
    """Most tools offered in one sample."""
    max_parallel: int = 3
    """Most calls in one ``parallel`` turn."""
    patterns: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PATTERNS))
    """Pattern mix (weights, normalised): the six names of ``looptool.schema.PATTERNS``."""
    label_noise: float = 0.1
    """Fraction of POOL rows whose (non-empty) label is corrupted, with the truth in noise_truth.parquet."""
    noise_kinds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_NOISE_KINDS))
    """Mix of noise kinds: wrong_value, dropped_optional, dropped_required, wrong_function, swapped_args."""
    decontam_dirs: list[str] = field(default_factory=list)
    """Benchmark data folders (BFCL / ACEBench JSON lines); samples whose user turns overlap them are
    rejected as ``contaminated``. Empty: no check."""
    decontam_ngram: int = 8
    """Word n-gram length of the overlap check."""
    decontam_threshold: float = 0.5
    """Flag when at least this fraction of a sample's user-turn n-grams occur in one benchmark question."""
    max_attempts: float = 3.0
    """Candidate budget per split, as a multiple of the samples wanted."""
    llm_temperature: float = 0.7
    """``llm`` mode: sampling temperature of the agents."""
    llm_max_new_tokens: int = 384
    """``llm`` mode: token budget of one agent turn."""
    llm_batch: int = 16
    """``llm`` mode: drafts simulated per round (one batched model call per agent step)."""
    judge_max_new_tokens: int = 160
    """Token budget of one judge verdict (when ``backends.judge`` is set)."""
    import_files: list[str] = field(default_factory=list)
    """``import`` mode: files or ``datasets`` folders to read the pool from (OpenAI JSONL, ShareGPT /
    LLaMA-Factory, Hermes, xLAM / APIGen, BFCL, our Parquet, verl parquet, a ``save_to_disk`` folder). Keep
    them under ``imports/`` (a dependency of the seed stage), so DVC re-runs the seed when they change."""
    import_format: str = "auto"
    """``import`` mode: the files' format (``auto``: detected per file from its first record; else one of
    ``looptool.interchange.IMPORT_FORMATS``, checked when the seed is built)."""
    import_heldout_files: list[str] = field(default_factory=list)
    """``import`` mode: files of the held-out split; empty: a fraction of the pool is held out."""
    import_heldout_fraction: float = 0.1
    """``import`` mode without held-out files: the share of pool rows held out, whole tools or domains at a
    time (0: no held-out split)."""
    import_heldout_by: str = "tool"
    """``tool`` (rows whose label calls a held-out tool) or ``domain`` (meta.domain / category / source file)."""
    import_dev_fraction: float = 0.0
    """``import`` mode: the share of pool rows taken as the dev split, whole tools / domains at a time
    (``import_heldout_by``; after the held-out split, so disjoint from it by that key). 0: an empty
    ``dev.parquet`` (with a warning)."""
    import_check_labels: bool = True
    """``import`` mode: reject labels that break their tool's JSON Schema (off: keep them for JGLV to judge)."""
    generator: BackendConfig = field(default_factory=lambda: BackendConfig(backend="none"))
    """The ``llm`` mode's model; filled from ``backends.generator`` by :func:`load_seed_config`."""
    judge: BackendConfig = field(default_factory=lambda: BackendConfig(backend="none"))
    """The LLM judge; filled from ``backends.judge`` by :func:`load_seed_config` (``none``: rules only)."""

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_choice("import_heldout_by", self.import_heldout_by, HELDOUT_BY)
        self.import_files = [str(p) for p in self.import_files]
        self.import_heldout_files = [str(p) for p in self.import_heldout_files]
        if self.mode == "import" and not self.import_files:
            raise ValueError("mode import needs import_files (the files to read the pool from)")
        if not 0 <= self.import_heldout_fraction < 1:
            raise ValueError("import_heldout_fraction must be in [0, 1)")
        if not 0 <= self.import_dev_fraction < 1:
            raise ValueError("import_dev_fraction must be in [0, 1)")

        if self.pool_size < 1 or self.heldout_size < 0 or self.dev_size < 0:
            raise ValueError("pool_size must be >= 1, heldout_size and dev_size >= 0")
        if self.apis_per_leaf < 1:
            raise ValueError("apis_per_leaf must be >= 1")
        if not 0 <= self.optional_keep <= 1 or not 0 <= self.optional_arg_rate <= 1:
            raise ValueError("optional_keep and optional_arg_rate must be in [0, 1]")
        if self.max_tools < 2 or self.max_parallel < 2:
            raise ValueError("max_tools and max_parallel must be >= 2")
        self.patterns = _weights("patterns", self.patterns, PATTERNS)
        self.noise_kinds = _weights("noise_kinds", self.noise_kinds, NOISE_KINDS)
        if not 0 <= self.label_noise <= 1:
            raise ValueError("label_noise must be in [0, 1]")
        if self.decontam_ngram < 3 or not 0 < self.decontam_threshold <= 1:
            raise ValueError("decontam_ngram must be >= 3 and decontam_threshold in (0, 1]")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.llm_batch < 1 or self.llm_max_new_tokens < 16 or self.judge_max_new_tokens < 16:
            raise ValueError("llm_batch must be >= 1 and token budgets >= 16")
        self.decontam_dirs = [str(d) for d in self.decontam_dirs]
        from looptool.synth.apis import domains

        n = len(domains())
        if not 1 <= self.heldout_domains <= n - 3:
            raise ValueError(f"heldout_domains must be in [1, {n - 3}] (the tree has {n} domains)")
        if not 0 <= self.dev_domains <= n - 3 - self.heldout_domains:
            raise ValueError(
                f"dev_domains must be in [0, {n - 3 - self.heldout_domains}] (the tree has {n} domains, "
                f"{self.heldout_domains} held out for the test split, at least 3 left for the pool)"
            )
        if isinstance(self.generator, Mapping):
            self.generator = from_dict(BackendConfig, self.generator, "generator")
        if isinstance(self.judge, Mapping):
            self.judge = from_dict(BackendConfig, self.judge, "judge")

    def to_json(self) -> dict[str, Any]:
        from looptool.config import to_dict

        return to_dict(self)


def _weights(name: str, value: Mapping[str, float], allowed: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{name} must be a non-empty mapping of {list(allowed)} to weights")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"{name}: unknown key(s) {unknown}; allowed {list(allowed)}")
    if any(float(w) < 0 for w in value.values()) or sum(float(w) for w in value.values()) <= 0:
        raise ValueError(f"{name}: weights must be >= 0 with a positive sum")
    return {k: float(value[k]) for k in allowed if k in value}


def load_seed_config(
    params_path: str | Path = "params.yaml", params: Mapping[str, Any] | None = None
) -> SeedConfig:
    """``SeedConfig`` from params section ``seed`` (strict), with ``backends.generator`` / ``backends.judge``."""
    from looptool.stage import section_config

    params = params if params is not None else load_params(params_path)
    cfg = section_config(SeedConfig, "seed", str(params_path), params=params)
    backends = params.get("backends") or {}
    gen = backends.get("generator")
    judge = backends.get("judge")
    return replace(
        cfg,
        generator=from_dict(BackendConfig, gen, f"{params_path}:backends.generator")
        if gen
        else cfg.generator,
        judge=from_dict(BackendConfig, judge, f"{params_path}:backends.judge") if judge else cfg.judge,
    )


def heldout_domain_names(cfg: SeedConfig) -> list[str]:
    """The held-out domains: a deterministic function of ``random_seed`` and ``heldout_domains``."""
    return _heldout_domain_names(cfg.random_seed, cfg.heldout_domains)


def _heldout_domain_names(random_seed: int, heldout_domains: int) -> list[str]:
    from looptool.synth.apis import domains

    rng = random.Random(jsonutil.digest(["heldout", random_seed], 32))
    return sorted(rng.sample(domains(), heldout_domains))


def split_domains(cfg: SeedConfig) -> SplitDomains:
    """The held-out splits (test and dev) of ``cfg``'s catalog as data for :func:`looptool.checks.verify_sample`."""
    base = _split_domains(cfg.random_seed, cfg.heldout_domains, cfg.apis_per_leaf, cfg.optional_keep)
    dev = frozenset(dev_domain_names(cfg))
    return dataclasses.replace(base, dev=dev) if dev else base


@lru_cache(maxsize=8)
def _split_domains(
    random_seed: int, heldout_domains: int, apis_per_leaf: int, optional_keep: float
) -> SplitDomains:
    from looptool.synth.apis import build_catalog

    catalog = build_catalog(random_seed, apis_per_leaf, optional_keep)
    held = _heldout_domain_names(random_seed, heldout_domains)
    tool_domains = {name: frozenset(a.leaf.domain for a in apis) for name, apis in catalog.by_name.items()}
    return SplitDomains(frozenset(held), MappingProxyType(tool_domains))


def dev_domain_names(cfg: SeedConfig) -> list[str]:
    """The dev split's domains: drawn after, and independently of, the test split's (their own seeded draw
    from the domains the test does not hold), so adding a dev split changes no test domain."""
    from looptool.synth.apis import domains

    if cfg.dev_domains == 0:
        return []
    held = set(heldout_domain_names(cfg))
    rng = random.Random(jsonutil.digest(["dev", cfg.random_seed], 32))
    return sorted(rng.sample([d for d in domains() if d not in held], cfg.dev_domains))


def pool_domain_names(cfg: SeedConfig) -> list[str]:
    """The pool's domains: every domain of the tree but the test's and the dev's."""
    from looptool.synth.apis import domains

    held = set(heldout_domain_names(cfg)) | set(dev_domain_names(cfg))
    return [d for d in domains() if d not in held]
