"""What every stage script shares: reading its params section (with the iteration's overrides) and the
iteration wiring.

Iterations live in params.yaml as a dict keyed by iteration (DVC's ``foreach`` has no "previous item"):

.. code-block:: yaml

    iterations:
      "1": {prev: "0", next: "2", train: {}, probe: {}, verify: {}, expand: {}, merge: {}, eval: {}, loop: {}, backends: {}}
      "2": {prev: "1", next: "3", train: {grpo: {learning_rate: 5.0e-6}}, probe: {}, ...}

An item overrides keys of the stage sections (``ITERATION_SECTIONS``) for that iteration only. A stage of
iteration j declares ``params: [<section>, iterations.j.<section>]`` for each section it reads, so editing
iteration 2's ``eval`` re-runs evaluate@2 (and report), never train@2 or anything of iteration 1. Every item
carries every section (``{}`` when nothing is overridden) because DVC refuses a declared key that is absent.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from looptool.config import ConfigError, check_fields, check_retired, from_dict, load_params, section

T = TypeVar("T")

ITERATION_SECTIONS = ("train", "probe", "verify", "expand", "merge", "eval", "loop", "backends")
"""Sections an iteration item may override; each is declared separately by the stages that read it."""


@dataclass(frozen=True)
class Iteration:
    key: int
    prev: int
    next: int
    seed: int


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def iteration(params: Mapping[str, Any], key: int | str) -> Iteration:
    """The wiring of iteration ``key``, checked: prev = key - 1 and next = key + 1."""
    items = params.get("iterations") or {}
    item = items.get(str(key))
    if item is None:
        raise ConfigError(f"params: iterations has no item '{key}' (has {sorted(items)})")
    try:
        k, prev, nxt = int(key), int(item["prev"]), int(item["next"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"params: iterations.{key} needs integer-like 'prev' and 'next'") from None
    if prev != k - 1 or nxt != k + 1:
        raise ConfigError(f"params: iterations.{key} must have prev: '{k - 1}' and next: '{k + 1}'")
    _check_item(item, key)
    return Iteration(k, prev, nxt, k)


def _check_item(item: Mapping[str, Any], key: int | str) -> None:
    if not isinstance(item, Mapping):
        raise ConfigError(f"params: iterations.{key} must be a mapping (prev, next and section overrides)")
    if "seed" in item:
        raise ConfigError(
            f"params: iterations.{key}.seed is now iterations.{key}.train.seed (each stage declares only the "
            "sections it reads, so a seed outside train would not re-run train)"
        )
    unknown = sorted(set(item) - {"prev", "next", *ITERATION_SECTIONS})
    if unknown:
        raise ConfigError(
            f"params: iterations.{key} has unknown key(s) {unknown}; an item holds prev, next and overrides of "
            f"{list(ITERATION_SECTIONS)}"
        )


def section_config(
    cls: type[T],
    name: str,
    params_path: str = "params.yaml",
    key: int | str | None = None,
    params: Mapping | None = None,
) -> T:
    """Config dataclass ``cls`` from params section ``name`` (dotted, e.g. ``backends.student``), with
    iteration ``key``'s overrides (``iterations.<key>.<name>``) merged in."""
    params = params if params is not None else load_params(params_path)
    data = section(params, name, None) or {}
    where = f"{params_path}:{name}"
    if isinstance(data, Mapping):
        check_retired(cls, data, where)  # named before an iteration's overrides change the label
    if key is not None:
        item = (params.get("iterations") or {}).get(str(key)) or {}
        _check_item(item, key)
        over = section(item, name, None)
        if over:
            check_fields(cls, over, f"{params_path}:iterations.{key}.{name}")  # name the override's own key
            data = deep_merge(data, over)
            where += f" (with iterations.{key}.{name})"
    return from_dict(cls, data, where)


@dataclass
class LoopConfig:
    """``loop`` section: the paper's ablation switches (``dvc exp run -S loop.jglv=false``)."""

    jglv: bool = True
    """Judgement-guided label verification; off: every failed sample is an error seed with its label."""
    edde: bool = True
    """Error-driven data expansion; off: no new samples."""
    hppl: bool = True
    """Keep the high-perplexity mastered samples in the next dataset."""
    static: bool = False
    """Static baseline: D_j = D_1 for every iteration (no probing-driven data changes)."""
    boundary: bool = False
    """Opt-in merge part ``boundary``: greedy-mastered samples whose sampled pass rate is below 1 (needs
    ``probe.samples > 0``; at most ``merge.boundary_share`` of D_{j+1}; priority ES > EE > boundary > HPPL)."""


def is_main_process() -> bool:
    """False in the non-zero ranks of a distributed launch (``accelerate launch``, torchrun): only rank 0
    writes a stage's metrics."""
    import os

    return int(os.environ.get("RANK", "0")) == 0


def write_metrics(metrics: Mapping[str, Any], path: str | Path | None, *, sort_keys: bool = True) -> None:
    """Write a stage's metrics to ``path`` (nothing when None), from the main process only (the others of an
    ``accelerate launch`` return the same metrics). The one place metrics files are written: the library's
    ``run_<stage>`` functions return their metrics and the stage script (or CLI command) writes them here.
    ``sort_keys``: key-sorted for readable diffs (every stage but the headline, which keeps its own order)."""
    if path is not None and is_main_process():
        from looptool.storage import write_json

        write_json(metrics, path, sort_keys=sort_keys)


def params_option(help: str = "params.yaml to read.") -> Callable[[Callable[..., Any]], Any]:
    """``--params`` (into ``params_path``, default params.yaml): every stage script that reads params."""
    import click

    return click.option("--params", "params_path", default="params.yaml", show_default=True, help=help)


def iteration_option(
    help: str = "Iteration j (an item of params.yaml iterations).",
) -> Callable[[Callable[..., Any]], Any]:
    """``--iteration`` (an int, required): every per-iteration stage script."""
    import click

    return click.option("--iteration", type=int, required=True, help=help)


def metrics_option(help: str, required: bool = True) -> Callable[[Callable[..., Any]], Any]:
    """``--metrics`` (into ``metrics``): the metrics JSON the stage writes with :func:`write_metrics`."""
    import click

    return click.option("--metrics", "metrics", required=required, default=None, help=help)


def iteration_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every iteration stage script that reads D_j takes: ``--params``, ``--iteration`` and
    ``--data`` (D_j)."""
    import click

    for option in reversed(
        (
            params_option(),
            iteration_option(),
            click.option("--data", required=True, help="D_j (data/iter_j/train.parquet)."),
        )
    ):
        command = option(command)
    return command
