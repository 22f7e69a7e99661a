"""Strict params loading and iteration wiring."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from looptool.config import ConfigError, from_dict, load_params, load_yaml
from looptool.stage import deep_merge, iteration, section_config


@dataclass
class Inner:
    r: int = 8


@dataclass
class Cfg:
    lr: float = 1e-6
    steps: int = 2
    lora: Inner = field(default_factory=Inner)

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError("steps must be >= 1")


def test_unknown_key_is_an_error():
    with pytest.raises(ConfigError, match=r"params.yaml:train: unknown key\(s\) \['stpes'\]"):
        from_dict(Cfg, {"stpes": 3}, "params.yaml:train")
    with pytest.raises(ConfigError, match=r"train.lora: unknown key\(s\) \['rank'\]"):
        from_dict(Cfg, {"lora": {"rank": 3}}, "train")


def test_nested_and_validation():
    assert from_dict(Cfg, {"lora": {"r": 4}}).lora.r == 4
    with pytest.raises(ConfigError, match="steps must be >= 1"):
        from_dict(Cfg, {"steps": 0}, "train")


def test_iteration_overrides(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text(
        "train: {lr: 1.0e-6, lora: {r: 8}}\n"
        'iterations:\n  "1": {prev: "0", next: "2"}\n  "2": {prev: "1", next: "3", train: {lora: {r: 16}}}\n'
    )
    assert section_config(Cfg, "train", str(p), key=1).lora.r == 8
    two = section_config(Cfg, "train", str(p), key=2)
    assert two.lora.r == 16 and two.lr == 1e-6
    it = iteration(load_params(p), "2")
    assert (it.key, it.prev, it.next) == (2, 1, 3)


def test_iteration_wiring_checked():
    with pytest.raises(ConfigError, match="must have prev: '1' and next: '3'"):
        iteration({"iterations": {"2": {"prev": "0", "next": "3"}}}, 2)
    with pytest.raises(ConfigError, match="has no item '5'"):
        iteration({"iterations": {"1": {"prev": "0", "next": "2"}}}, 5)
    with pytest.raises(ConfigError, match=r"iterations.1.seed is now iterations.1.train.seed"):
        iteration({"iterations": {"1": {"prev": "0", "next": "2", "seed": 3}}}, 1)
    with pytest.raises(ConfigError, match=r"iterations.1 has unknown key\(s\) \['trian'\]"):
        section_config(
            Cfg, "train", params={"iterations": {"1": {"prev": "0", "next": "2", "trian": {}}}}, key=1
        )


def test_deep_merge_does_not_mutate():
    base = {"a": {"b": 1, "c": 2}}
    out = deep_merge(base, {"a": {"b": 3}})
    assert out == {"a": {"b": 3, "c": 2}} and base == {"a": {"b": 1, "c": 2}}


def test_load_params_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_repo_params_yaml_parses():
    from pathlib import Path

    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    for key in params["iterations"]:
        iteration(params, key)


def test_dotted_sections_with_overrides():
    params = {
        "backends": {"student": {"lr": 2.0}},
        "iterations": {"2": {"prev": "1", "next": "3", "backends": {"student": {"steps": 5}}}},
    }
    assert section_config(Cfg, "backends.student", params=params).lr == 2.0
    two = section_config(Cfg, "backends.student", params=params, key=2)
    assert (two.lr, two.steps) == (2.0, 5)
    assert section_config(Cfg, "missing.section", params=params).steps == 2


BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
)  # "billion laughs": 9**9 strings once expanded, a few hundred bytes on disk


@pytest.mark.parametrize(
    "text,message",
    [
        (BOMB, "more than 200000 nodes once its aliases are expanded"),
        ("seed: &s {random_seed: [*s]}\n", "alias used inside its own anchor"),
        ("seed: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 100 levels"),
        ("seed: {a: b\n", "not valid YAML"),
    ],
)
def test_yaml_bombs_fail_fast_with_one_line(tmp_path, text, message):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        load_params(path)
    assert str(path) in e.value.message and "\n" not in e.value.message


def test_yaml_aliases_within_bounds_still_load(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("backends:\n  judge: &j {backend: none}\n  generator: *j\n")
    assert load_params(path)["backends"]["generator"] == {"backend": "none"}
    assert load_yaml("- &x [1, 2]\n- *x\n", "x") == [[1, 2], [1, 2]]
