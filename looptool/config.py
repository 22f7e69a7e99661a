"""Strict loading of params.yaml sections into config dataclasses.

Each component owns its config dataclass (like TRL's ``GRPOConfig``): fields documented once, checked in
``__post_init__``. This module only turns a mapping into such a dataclass and refuses keys it does not know,
so a typo in params.yaml is an error instead of a silently ignored knob.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A params.yaml section that does not fit its config dataclass."""


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read params.yaml (or any YAML mapping) and return it as a dict."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: params file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def section(params: Mapping[str, Any], dotted: str, default: Any = dataclasses.MISSING) -> Any:
    """Return ``params[a][b]...`` for ``dotted == "a.b"``; a missing key is an error unless ``default``."""
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            if default is not dataclasses.MISSING:
                return default
            raise ConfigError(f"params: missing section '{dotted}'")
        node = node[part]
    return node


def from_dict(cls: type[T], data: Mapping[str, Any] | None, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, recursing into nested dataclass fields.

    Unknown keys raise ``ConfigError`` naming ``where`` (e.g. ``params.yaml:train``) and the known keys.
    """
    if data is None:
        data = {}
    if dataclasses.is_dataclass(data) and isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where or cls.__name__}: unknown key(s) {unknown}; known keys: {sorted(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        sub = _dataclass_in(hints.get(name))
        if sub is not None and isinstance(value, Mapping):
            value = from_dict(sub, value, f"{where}.{name}" if where else name)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where or cls.__name__}: {e}") from None


def _dataclass_in(hint: Any) -> type | None:
    """The dataclass type inside a hint such as ``Foo`` or ``Foo | None``, else None."""
    if hint is None:
        return None
    if dataclasses.is_dataclass(hint):
        return hint
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg):
                return arg
    return None


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass config as a plain dict (for metrics and logs)."""
    return dataclasses.asdict(obj)


def check_choice(name: str, value: Any, choices: typing.Iterable[Any]) -> None:
    """Raise ValueError unless ``value`` is one of ``choices`` (for use in ``__post_init__``)."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {list(choices)}")
