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

from looptool.errors import StageError

T = TypeVar("T")


class ConfigError(StageError, ValueError):
    """A params.yaml section that does not fit its config dataclass (one line; a click command exits 1)."""

    def __init__(self, message: str):
        StageError.__init__(self, message)


# Top-level sections of params.yaml; a misspelled one (``verfy:``) is an error, not an ignored section.
SECTIONS = (
    "model",
    "backends",
    "seed",
    "select",
    "warmup",
    "train",
    "probe",
    "verify",
    "expand",
    "merge",
    "eval",
    "loop",
    "iterations",
    "report",
    "import",
    "profiles",
)
# What an item of ``iterations`` may hold besides its wiring: overrides of these sections for that iteration.
ITERATION_WIRING = ("prev", "next", "seed")
ITERATION_SECTIONS = ("train", "probe", "verify", "expand", "merge", "loop", "backends", "eval")


# Bounds of every YAML looptool reads (params, profiles, dvc.yaml / dvc.lock): aliases share one node while
# loading, but anything that walks the result (a config check, a deep copy, a JSON dump, DVC's params
# flattening) visits each use, so a "billion laughs" file of a few hundred bytes would take minutes and
# gigabytes. The demo's params.yaml has ~330 nodes, its dvc.lock ~5,800.
MAX_YAML_NODES = 200_000
"""Nodes a YAML document may hold once every alias is counted where it is used."""
MAX_YAML_DEPTH = 100
"""Nesting levels a YAML document may have (deeper input would exhaust Python's recursion)."""


class YAMLBoundError(ValueError):
    """A YAML document over :data:`MAX_YAML_NODES` / :data:`MAX_YAML_DEPTH`, or one that contains itself."""


class BoundedComposer:
    """Mixin for PyYAML's ``SafeLoader`` and ruamel.yaml's ``Composer``: refuses a document beyond the bounds
    while it is composed, before any constructor or caller walks it (both libraries compose the same way)."""

    max_nodes = MAX_YAML_NODES
    _bound_depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._bound_depth += 1
        try:
            if self._bound_depth > MAX_YAML_DEPTH:
                raise YAMLBoundError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels; refused")
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._bound_depth -= 1
        if parent is None:  # the document's root: the whole graph is there, nothing has walked it yet
            expanded_nodes(node, self.max_nodes)
        return node


def expanded_nodes(root: Any, limit: int = MAX_YAML_NODES) -> int:
    """How many nodes the YAML node graph ``root`` holds with each alias counted where it is used; raises
    ``YAMLBoundError`` above ``limit`` or on an alias inside its own anchor (a structure without end).
    Linear in the graph (each shared node is sized once), iterative (alias chains may be long)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        items = node.value if isinstance(node.value, list) else []  # a scalar's value is its text
        children = [c for item in items for c in (item if isinstance(item, tuple) else (item,))]
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > limit:
                raise YAMLBoundError(
                    f"YAML holds more than {limit} nodes once its aliases are expanded (an alias bomb?); refused"
                )
            continue
        if key in sizes:
            continue
        if key in open_:
            raise YAMLBoundError("YAML alias used inside its own anchor (a structure without end); refused")
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def load_yaml(text: str, where: str, max_nodes: int = MAX_YAML_NODES) -> Any:
    """``yaml.safe_load(text)`` within the bounds above; any problem is one ``ConfigError`` line naming
    ``where``. The one YAML reader of looptool (ruamel's round trip: ``BoundedComposer``)."""
    import yaml

    class Loader(BoundedComposer, yaml.SafeLoader):
        pass

    Loader.max_nodes = max_nodes
    loader = Loader(text)
    try:
        return loader.get_single_data()
    except YAMLBoundError as e:
        raise ConfigError(f"{where}: {e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None
    finally:
        loader.dispose()


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read params.yaml (or any YAML mapping) and return it as a dict."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: params file not found") from None
    data = load_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    check_params(data, str(path))
    return data


def check_params(params: Mapping[str, Any], path: str = "params.yaml") -> None:
    """Refuse unknown top-level sections, unknown keys in ``iterations`` items (the sections' own keys are
    checked by each stage's config dataclass) and a credential anywhere in the file."""
    unknown = sorted(str(k) for k in params if k not in SECTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {unknown}; known sections: {list(SECTIONS)}")
    for name, value in params.items():
        check_credentials(value, f"{path}:{name}")
    items = params.get("iterations")
    if items is None:
        return
    if not isinstance(items, Mapping):
        raise ConfigError(f"{path}:iterations: got {_show(items)}, expected a mapping keyed by iteration")
    for key, item in items.items():
        if not isinstance(item, Mapping):
            raise ConfigError(
                f"{path}:iterations.{key}: got {_show(item)}, expected a mapping with prev and next"
            )
        bad = sorted(str(k) for k in item if k not in ITERATION_WIRING + ITERATION_SECTIONS)
        if bad:
            raise ConfigError(
                f"{path}:iterations.{key}: unknown key(s) {bad}; an item holds {list(ITERATION_WIRING)} and "
                f"overrides of {list(ITERATION_SECTIONS)}"
            )
        for name in ITERATION_SECTIONS:
            if name in item and not isinstance(item[name], Mapping):
                raise ConfigError(
                    f"{path}:iterations.{key}.{name}: got {_show(item[name])}, expected a mapping"
                )


def check_credentials(node: Any, key: str) -> None:
    """Refuse a key, token or password anywhere in ``node`` (a URL's user info or ``?key=``, a key typed
    where an environment variable's name belongs), naming the params ``key`` and never the value.

    params.yaml is checked whole on load, not only the sections a stage reads: DVC copies each declared
    params key into ``dvc.lock`` and its run cache, so the file must be refused before any stage succeeds.
    """
    from looptool.secrets import credential_problem

    stack, seen = [(key, node)], set()
    while stack:  # iterative, each container once: a shared YAML alias is walked once, not once per use
        key, node = stack.pop()
        if isinstance(node, (Mapping, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = node.items() if isinstance(node, Mapping) else enumerate(node)
            fmt = "{}.{}" if isinstance(node, Mapping) else "{}[{}]"
            stack.extend(reversed([(fmt.format(key, k), v) for k, v in items]))  # reported in file order
            continue
        problem = credential_problem(key.rsplit(":", 1)[-1], node)
        if problem:
            raise ConfigError(f"{key}: {problem}")


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

    Strict: unknown keys, and values whose type does not fit the field's annotation (no ``'false'`` for a
    bool, no ``10.9`` for an int, no string for a list, no NaN), raise ``ConfigError`` naming
    ``where.key`` (e.g. ``params.yaml:verify.grounding_rule``), the value and what was expected; so do the
    range checks of the dataclass's ``__post_init__``.
    """
    if data is None:
        data = {}
    if dataclasses.is_dataclass(data) and isinstance(data, cls):
        return data
    label = where or cls.__name__
    if not isinstance(data, Mapping):
        raise ConfigError(f"{label}: got {_show(data)}, expected a mapping")
    check_fields(cls, data, where)
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        sub = _dataclass_in(hints.get(name))
        if sub is not None and isinstance(value, Mapping):
            value = from_dict(sub, value, f"{where}.{name}" if where else name)
        else:
            value = _coerce(hints.get(name), value)
        kwargs[name] = value
    try:
        obj = cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{label}: {e}") from None
    if "where" in {f.name for f in dataclasses.fields(cls) if not f.init} and where:
        obj.where = where  # type: ignore[attr-defined]  # lets the object name its params key in errors
    return obj


def check_fields(cls: type, data: Mapping[str, Any], where: str = "") -> None:
    """Raise ``ConfigError`` for a key of ``data`` that ``cls`` does not have, or a value of the wrong type
    (nested dataclass mappings are checked too). Keys absent from ``data`` are not required."""
    label = where or cls.__name__
    check_retired(cls, data, where)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise ConfigError(f"{label}: unknown key(s) {unknown}; known keys: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    for name, value in data.items():
        key = f"{where}.{name}" if where else name
        hint = hints.get(name)
        sub = _dataclass_in(hint)
        if sub is not None and isinstance(value, Mapping):
            check_fields(sub, value, key)
            continue
        check_credentials(value, key)  # before the type check, whose message shows the value
        problem = type_problem(hint, value)
        if problem is not None:
            raise ConfigError(f"{key}: got {_show(value)}, expected {problem}")


def check_retired(cls: type, data: Mapping[str, Any], where: str = "") -> None:
    """Raise ``ConfigError`` for an old key of ``cls`` (its ``RETIRED`` mapping: old key -> the line saying which
    key to use, ``{where}`` standing for the section's dotted name), in one line naming the key."""
    retired = getattr(cls, "RETIRED", None) or {}
    # the section's dotted name without the file: "params.yaml:iterations.2.train" -> "iterations.2.train"
    dotted = where.rsplit(":", 1)[-1] if where else ""
    for key in data:
        if key in retired:
            name = f"{where}.{key}" if where else str(key)
            raise ConfigError(f"{name}: {retired[key].format(where=dotted or cls.__name__)}")


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def _describe(hint: Any) -> str:
    if hint is Any or hint is None:
        return "any value"
    if hint is type(None):
        return "null"
    if hint is bool:
        return "a boolean (true or false, unquoted)"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin in (list, tuple, set, frozenset, typing.Sequence) or hint in (list, tuple):
        inner = f" of {_describe(args[0])}" if args and args[0] is not Ellipsis else ""
        return f"a list{inner}"
    if origin in (dict, Mapping) or hint is dict:
        return f"a mapping of {_describe(args[1])}" if len(args) == 2 else "a mapping"
    if origin is typing.Literal:
        return f"one of {list(args)}"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return getattr(hint, "__name__", str(hint))


def type_problem(hint: Any, value: Any) -> str | None:
    """None when ``value`` fits the annotation ``hint``, else what was expected (for the error message).

    >>> type_problem(bool, "false"), type_problem(int, 10.9), type_problem(list[str], "dir")
    ('a boolean (true or false, unquoted)', 'an integer', 'a list of a string')
    >>> type_problem(float, 3), type_problem(float, float("nan"))
    (None, 'a number')
    """
    if hint is None or hint is Any:
        return None
    ok = _fits(hint, value)
    return None if ok else _describe(hint)


def _fits(hint: Any, value: Any) -> bool:
    import math

    if hint is Any or hint is None or isinstance(hint, TypeVar):
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(a, value) for a in args)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (list, set, frozenset, typing.Sequence) or hint in (list, set):
        if not isinstance(value, (list, tuple)):
            return False
        return not args or all(_fits(args[0], v) for v in value)
    if origin is tuple or hint is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(args[0], v) for v in value)
        return len(args) == len(value) and all(_fits(a, v) for a, v in zip(args, value))
    if origin in (dict, Mapping) or hint in (dict, Mapping) or origin is typing.Mapping:
        if not isinstance(value, Mapping):
            return False
        if len(args) != 2:
            return True
        return all(_fits(args[0], k) and _fits(args[1], v) for k, v in value.items())
    if dataclasses.is_dataclass(hint):
        return isinstance(value, (Mapping, hint))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _coerce(hint: Any, value: Any) -> Any:
    """An int given for a float field becomes a float (YAML writes ``1`` for ``1.0``); nothing else changes."""
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


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
