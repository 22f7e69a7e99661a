"""looptool.stats: Wilson interval against textbook values, paired bootstrap determinism and coverage."""

import random

import pytest

from looptool.stats import add_ci, paired_bootstrap, wilson


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [(5, 10, (0.2366, 0.7634)), (0, 20, (0.0, 0.1611)), (20, 20, (0.8389, 1.0))],
)
def test_wilson_textbook_values(k, n, expected):
    assert wilson(k, n) == pytest.approx(expected, abs=1e-4)


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError, match="correct <= n"):
        wilson(5, 4)


def test_add_ci_nested_and_leaves_other_values():
    m = add_ci(
        {"heldout": {"accuracy": 0.5, "correct": 5, "n": 10, "path": "x"}, "summary": {"heldout": 0.5}}
    )
    assert m["heldout"]["ci95"] == [0.2366, 0.7634]
    assert "ci95" not in m["summary"]


def test_paired_bootstrap_is_seeded_and_brackets_the_difference():
    rng = random.Random(1)
    a = [rng.random() < 0.6 for _ in range(200)]
    b = [x if rng.random() < 0.8 else not x for x in a]
    r1 = paired_bootstrap(a, b, resamples=1000, seed=3)
    r2 = paired_bootstrap(a, b, resamples=1000, seed=3)
    assert r1 == r2
    lo, hi = r1["ci95"]
    assert lo <= r1["diff"] <= hi
    assert r1["a_only"] - r1["b_only"] == round(r1["diff"] * 200)


def test_paired_bootstrap_identical_models_give_zero_width():
    a = [1, 0, 1, 1, 0]
    assert paired_bootstrap(a, a, resamples=200)["ci95"] == [0.0, 0.0]


def test_paired_bootstrap_needs_pairs():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap([1, 0], [1])


def test_bootstrap_mean_is_seeded_and_brackets_the_mean():
    import doctest

    import looptool.stats as stats
    from looptool.stats import bootstrap_mean

    assert doctest.testmod(stats).failed == 0
    v = [0.0, 0.25, 0.5, 1.0] * 10
    a, b = bootstrap_mean(v, resamples=1000), bootstrap_mean(v, resamples=1000)
    assert a == b and a["n"] == 40 and a["mean"] == 0.4375
    assert a["ci95"][0] < a["mean"] < a["ci95"][1]
    assert bootstrap_mean([1.0] * 5)["ci95"] == [1.0, 1.0]
    # the paired bootstrap shares the resampling: its interval is the bootstrap of the differences
    p = paired_bootstrap(v, [0.0] * 40, resamples=1000)
    assert p["ci95"] == a["ci95"] and p["diff"] == a["mean"]
