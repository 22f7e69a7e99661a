"""Intervals for accuracy figures: Wilson 95% score interval of one proportion, a seeded paired bootstrap
for the difference of two models scored on the same samples, and a seeded bootstrap of a mean score that is not
a proportion (:func:`bootstrap_mean`: argument F1), and Newcombe's interval of the difference of two proportions
measured on different samples (:func:`newcombe`: targeted rows against a random pool draw).

Every accuracy in the metrics is a dict ``{accuracy, correct, n, ci95: [lo, hi]}`` (:func:`with_ci`); a
difference between two models on the same samples (an iteration against the warm-up model, the loop against the
static baseline) is :func:`paired_bootstrap`'s interval of the mean per-sample difference, which accounts for
the two models sharing their samples (far narrower than combining two independent intervals).

>>> wilson(10, 48)
(0.1173, 0.3426)
>>> wilson(0, 0)
(0.0, 1.0)
>>> with_ci({"accuracy": 0.5, "correct": 5, "n": 10})["ci95"]
[0.2366, 0.7634]
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

Z95 = 1.959963984540054  # standard normal quantile 0.975


def wilson(correct: int, n: int, z: float = Z95, digits: int = 4) -> tuple[float, float]:
    """Wilson score interval of ``correct`` / ``n`` (95% by default); ``(0, 1)`` when ``n`` is 0.

    Unlike the normal approximation it stays inside [0, 1] and is usable at 0 or n successes:

    >>> wilson(0, 20)
    (0.0, 0.1611)
    >>> wilson(20, 20)
    (0.8389, 1.0)
    """
    if n < 0 or correct < 0 or correct > n:
        raise ValueError(f"need 0 <= correct <= n, got correct={correct}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (round(max(0.0, centre - half), digits), round(min(1.0, centre + half), digits))


def with_ci(figure: Mapping[str, Any]) -> dict[str, Any]:
    """``figure`` (a dict with ``correct`` and ``n``) with ``ci95: [lo, hi]`` added (Wilson)."""
    out = dict(figure)
    out["ci95"] = list(wilson(int(figure["correct"]), int(figure["n"])))
    return out


def add_ci(tree: Any) -> Any:
    """Add ``ci95`` to every dict in ``tree`` that holds ``accuracy``, ``correct`` and ``n`` (recursively);
    other values are returned as they are.

    >>> add_ci({"heldout": {"accuracy": 0.25, "correct": 1, "n": 4, "by_pattern": {"single": {"accuracy": 1.0,
    ...     "correct": 1, "n": 1}}}})["heldout"]["by_pattern"]["single"]["ci95"]
    [0.2065, 1.0]
    """
    if isinstance(tree, Mapping):
        out = {k: add_ci(v) for k, v in tree.items()}
        if (
            {"accuracy", "correct", "n"} <= set(out)
            and isinstance(out["n"], int)
            and isinstance(out["correct"], int)
        ):
            out["ci95"] = list(wilson(out["correct"], out["n"]))
        return out
    if isinstance(tree, list):
        return [add_ci(v) for v in tree]
    return tree


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95, digits: int = 4) -> dict[str, Any]:
    """Difference ``k1/n1 - k2/n2`` of two proportions on independent samples with Newcombe's hybrid score
    95% interval (his method 10, built from the two Wilson intervals; stays inside [-1, 1]):
    ``{diff, ci95}``, both ``None`` when either ``n`` is 0.

    >>> newcombe(56, 70, 48, 80)  # Newcombe (1998), example (a): 0.2 [0.0524, 0.3339]
    {'diff': 0.2, 'ci95': [0.0524, 0.3339]}
    >>> newcombe(3, 5, 0, 0)
    {'diff': None, 'ci95': None}
    """
    if n1 == 0 or n2 == 0:
        return {"diff": None, "ci95": None}
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z, digits=12)
    l2, u2 = wilson(k2, n2, z, digits=12)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return {"diff": round(d, digits), "ci95": [round(max(-1.0, lo), digits), round(min(1.0, hi), digits)]}


def paired_bootstrap(
    a: Sequence[bool | int | float],
    b: Sequence[bool | int | float],
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    digits: int = 4,
) -> dict[str, Any]:
    """Percentile bootstrap of mean(a) - mean(b) for per-sample scores of two models on the same samples.

    The samples are resampled with replacement (the same indices for both models), ``resamples`` times with a
    ``random.Random(seed)``, so the same inputs always give the same interval. Also returned: how many samples
    only ``a`` got right (``a_only``) and only ``b`` (``b_only``), which is what the difference is made of.

    >>> r = paired_bootstrap([1, 1, 1, 0, 1, 1, 0, 1], [0, 1, 0, 0, 1, 0, 0, 1], resamples=2000)
    >>> r["diff"], r["a_only"], r["b_only"], r["n"]
    (0.375, 3, 0, 8)
    >>> r["ci95"][0] > 0
    True
    """
    if len(a) != len(b):
        raise ValueError(f"paired scores need equal lengths, got {len(a)} and {len(b)}")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    n = len(a)
    if n == 0:
        return {"n": 0, "diff": None, "ci95": None, "a_only": 0, "b_only": 0, "resamples": 0, "seed": seed}
    d = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    return {
        "n": n,
        "diff": round(sum(d) / n, digits),
        "ci95": _percentile_ci(d, resamples, seed, level, digits),
        "a_only": sum(1 for x in d if x > 0),
        "b_only": sum(1 for x in d if x < 0),
        "resamples": resamples,
        "seed": seed,
    }


def bootstrap_mean(
    values: Sequence[bool | int | float],
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    digits: int = 4,
) -> dict[str, Any]:
    """Mean of per-sample scores in [0, 1] that are not a proportion (an argument F1, a partial credit) with its
    percentile bootstrap interval: ``{mean, n, ci95, resamples, seed}`` (seeded as :func:`paired_bootstrap`).

    >>> bootstrap_mean([1.0, 0.5, 0.5, 0.0, 1.0, 0.5], resamples=2000)
    {'mean': 0.5833, 'n': 6, 'ci95': [0.3333, 0.8333], 'resamples': 2000, 'seed': 0}
    >>> bootstrap_mean([])["mean"] is None
    True
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    n = len(values)
    if n == 0:
        return {"mean": None, "n": 0, "ci95": None, "resamples": 0, "seed": seed}
    v = [float(x) for x in values]
    return {
        "mean": round(sum(v) / n, digits),
        "n": n,
        "ci95": _percentile_ci(v, resamples, seed, level, digits),
        "resamples": resamples,
        "seed": seed,
    }


def two_level_bootstrap(
    diffs: Sequence[Sequence[bool | int | float]],
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    digits: int = 4,
) -> dict[str, Any]:
    """Two-level percentile bootstrap of a mean difference over training seeds and rows.

    ``diffs[s][i]`` is the per-row difference (e.g. loop - static) of training seed ``s`` on row ``i``; every seed
    scores the same rows in the same order. Each of ``resamples`` resamples draws the seeds with replacement, then
    the rows with replacement (the same rows for every drawn seed: the rows are shared, the seeds are not), and
    takes the mean over drawn seeds of the mean over drawn rows. So the interval carries the seed-to-seed spread
    as well as the rows' (with a handful of seeds, the seed level dominates and is coarse: say how many). Also
    returned: the grand mean (``diff``) and each seed's mean difference (``per_seed``).

    >>> r = two_level_bootstrap([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 0]], resamples=2000)
    >>> r["diff"], r["per_seed"], r["n_seeds"], r["n_rows"]
    (0.4167, [0.5, 0.5, 0.25], 3, 4)
    >>> r["ci95"][0] <= 0.4167 <= r["ci95"][1]
    True
    >>> two_level_bootstrap([[1, 0], [1]])
    Traceback (most recent call last):
    ...
    ValueError: every seed needs the same rows: lengths [2, 1]
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    lengths = [len(d) for d in diffs]
    if len(set(lengths)) > 1:
        raise ValueError(f"every seed needs the same rows: lengths {lengths}")
    k, n = len(diffs), (lengths[0] if lengths else 0)
    if k == 0 or n == 0:
        return {
            "diff": None,
            "ci95": None,
            "per_seed": [],
            "n_seeds": k,
            "n_rows": n,
            "resamples": 0,
            "seed": seed,
        }
    d = [[float(x) for x in row] for row in diffs]
    rng = random.Random(seed)
    means = []
    for _ in range(resamples):
        seeds = [d[rng.randrange(k)] for _ in range(k)]
        rows = [rng.randrange(n) for _ in range(n)]
        means.append(sum(sum(s[i] for i in rows) for s in seeds) / (k * n))
    means.sort()
    lo_i = int(math.floor((1 - level) / 2 * resamples))
    hi_i = min(resamples - 1, int(math.ceil((1 + level) / 2 * resamples)) - 1)
    return {
        "diff": round(sum(map(sum, d)) / (k * n), digits),
        "ci95": [round(means[lo_i], digits), round(means[hi_i], digits)],
        "per_seed": [round(sum(s) / n, digits) for s in d],
        "n_seeds": k,
        "n_rows": n,
        "resamples": resamples,
        "seed": seed,
    }


def _percentile_ci(v: list[float], resamples: int, seed: int, level: float, digits: int) -> list[float]:
    """Percentile interval of the mean of ``v`` over ``resamples`` resamples with replacement
    (``random.Random(seed)``)."""
    n = len(v)
    rng = random.Random(seed)
    means = []
    for _ in range(resamples):
        s = 0.0
        for _ in range(n):
            s += v[rng.randrange(n)]
        means.append(s / n)
    means.sort()
    lo_i = int(math.floor((1 - level) / 2 * resamples))
    hi_i = min(resamples - 1, int(math.ceil((1 + level) / 2 * resamples)) - 1)
    return [round(means[lo_i], digits), round(means[hi_i], digits)]
