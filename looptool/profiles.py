"""Profiles: named sets of params (``configs/profiles/<name>.yaml``) applied onto params.yaml in place.

``looptool profile apply paper-gpu`` sets every leaf the profile names (mappings are merged key by key;
lists and scalars are replaced) and leaves everything else as it was: the file is read and written with
ruamel.yaml's round-trip mode, which keeps comments, key order, quoting and number formats; here nulls keep
their spelling (``null``, ``~`` or nothing) and block sequences their indentation too. The result is checked
before anything is written: every section the profile touches must still load into the config class its
stages read it with (unknown keys and bad values are errors), for the section itself and with each
iteration's overrides; a profile that sets keys of a section no stage reads, or of a mapping shared through a
YAML anchor, is refused.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().parents[1] / "configs" / "profiles"

# The config class each section is loaded into by the stages that read it (``module:Class``).
SECTION_CLASSES = {
    "model": "looptool.model:ModelConfig",
    "seed": "looptool.synth.config:SeedConfig",
    "select": "looptool.merge:SelectConfig",
    "warmup": "looptool.train.config:WarmupConfig",
    "train": "looptool.train.config:TrainConfig",
    "probe": "looptool.probe:ProbeConfig",
    "verify": "looptool.verify:VerifyConfig",
    "expand": "looptool.expand:ExpandConfig",
    "merge": "looptool.merge:MergeConfig",
    "eval": "looptool.evaluate.run:EvalConfig",
    "loop": "looptool.stage:LoopConfig",
}
BACKEND_ROLES = ("student", "judge", "generator", "user")
"""The ``backends.<role>`` keys the stages read."""


class ProfileError(ValueError):
    """Unknown profile, or params that the profile would make invalid."""


def profile_dir() -> Path:
    """``configs/profiles`` of the project in the working directory, else of the source tree."""
    here = Path.cwd() / "configs" / "profiles"
    return here if here.is_dir() else PROFILE_DIR


def available() -> list[str]:
    return sorted(p.stem for p in profile_dir().glob("*.yaml"))


def profile_path(name: str | Path) -> Path:
    name = str(name)
    path = Path(name) if name.endswith((".yaml", ".yml")) else profile_dir() / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"unknown profile {name!r} (available: {available()}, or a .yaml path)")
    return path


class _Null:
    """A YAML null that remembers how it was spelled, so a round trip writes it back unchanged."""

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, _Null)

    __hash__ = None  # type: ignore[assignment]


def _yaml(text: str = ""):
    """ruamel.yaml's round trip within looptool's YAML bounds, keeping nulls as spelled and the block
    sequence indentation of ``text``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.representer import RoundTripRepresenter

    from looptool.config import BoundedComposer

    class Bounded(BoundedComposer, Composer):
        pass

    class Constructor(RoundTripConstructor):
        pass

    class Representer(RoundTripRepresenter):
        pass

    null = "tag:yaml.org,2002:null"
    Constructor.add_constructor(null, lambda c, node: _Null(node.value))
    Representer.add_representer(_Null, lambda r, data: r.represent_scalar(null, data.text))
    y = YAML()  # round-trip: comments, key order and quoting kept
    y.Composer, y.Constructor, y.Representer = Bounded, Constructor, Representer
    y.preserve_quotes = True
    y.width = 4096
    dash, content = _sequence_indent(text)
    if dash is not None:
        y.indent(mapping=2, sequence=content, offset=dash)
    return y


def _sequence_indent(text: str) -> tuple[int | None, int]:
    """(spaces before ``-``, spaces before the item) of the first block sequence under a key in ``text``."""
    lines = text.splitlines()
    for prev, line in zip(lines, lines[1:]):
        stripped = line.lstrip(" ")
        key = prev.rstrip()
        if stripped.startswith("- ") and key.endswith(":") and not key.lstrip().startswith("#"):
            base = len(prev) - len(prev.lstrip(" "))
            dash = len(line) - len(stripped) - base
            after = len(stripped) - len(stripped[1:].lstrip(" "))
            return dash, dash + after
    return None, 2


def _load(y: Any, path: Path, text: str) -> Any:
    from looptool.config import YAMLBoundError

    try:
        return y.load(text)
    except YAMLBoundError as e:
        raise ProfileError(f"{path}: {e}") from None
    except Exception as e:  # ruamel's YAMLError and its subclasses: one line naming the file
        raise ProfileError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, _Null):
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _leaves(node: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(node, Mapping) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}.{k}")]
    return [(prefix, _plain(node))]


def _anchored(node: Any) -> bool:
    anchor = getattr(node, "yaml_anchor", None)
    return anchor is not None and anchor() is not None


def _merge(dst: Any, src: Mapping, prefix: str, params_path: Path) -> list[tuple[str, Any, Any]]:
    """Merge profile mapping ``src`` into params mapping ``dst`` (in place): mappings key by key, anything
    else replaced; return ``(key, old, new)`` of each leaf that changes."""
    if _anchored(dst):
        raise ProfileError(
            f"{params_path}: {prefix} is a YAML anchor that other keys share; a profile would change them "
            "too (write it out where it is used, or change it by hand)"
        )
    changes: list[tuple[str, Any, Any]] = []
    for k, new in src.items():
        key = next((e for e in dst if e == k or str(e) == str(k)), k)
        where = f"{prefix}.{k}" if prefix else str(k)
        old = dst.get(key, "<unset>")
        if isinstance(new, Mapping) and isinstance(old, Mapping):
            changes += _merge(old, new, where, params_path)
            continue
        if _plain(old) == _plain(new) and isinstance(_plain(old), bool) == isinstance(_plain(new), bool):
            continue
        if _anchored(old):
            raise ProfileError(
                f"{params_path}: {where} is a YAML anchor that other keys share; a profile would change them "
                "too (write it out where it is used, or change it by hand)"
            )
        _set(dst, key, new)
        if isinstance(new, Mapping):
            changes += [(leaf, "<unset>", value) for leaf, value in _leaves(new, where)]
        else:
            changes.append((where, _plain(old), _plain(new)))
    return changes


def _flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return fa is None or bool(fa.flow_style())


def _last_leaf(mapping: Any, key: Any) -> tuple[Any, Any]:
    """(mapping, key) of the last line of ``mapping[key]``: nested block mappings hold their own comments."""
    while isinstance(mapping[key], Mapping) and mapping[key] and not _flow(mapping[key]):
        mapping, key = mapping[key], next(reversed(mapping[key]))
    return mapping, key


def _set(dst: Any, key: Any, value: Any) -> None:
    """``dst[key] = value``; a new key goes after the mapping's last key but before the comment lines that
    follow it (ruamel keeps those with the last key: the next section's heading would end up above the new
    keys)."""
    holder, last = _last_leaf(dst, next(reversed(dst))) if dst and key not in dst else (dst, None)
    dst[key] = value
    items = holder.ca.items if last is not None and hasattr(holder, "ca") else {}
    token = (items.get(last) or [None] * 4)[2]
    if token is None:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    head, _, rest = token.value.partition("\n")
    if not rest:
        return
    if head.strip():
        token.value = head + "\n"  # the last key's own end-of-line comment stays
    else:
        items[last][2] = None
    target, node = _last_leaf(dst, key)
    target.ca.items.setdefault(node, [None] * 4)[2] = CommentToken("\n" + rest, CommentMark(0))


def apply_profile(
    name: str, params_path: str | Path = "params.yaml", dry_run: bool = False
) -> list[tuple[str, Any, Any]]:
    """Apply a profile to ``params_path``; return ``(key, old, new)`` of every leaf that changed. Nothing is
    written when the result would not load (``ProfileError``, one line)."""
    params_path = Path(params_path)
    try:
        text = params_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{params_path}: params file not found") from None
    y = _yaml(text)
    doc = _load(y, params_path, text)
    source = profile_path(name)
    prof = _load(_yaml(), source, source.read_text(encoding="utf-8"))
    if prof is None or isinstance(prof, _Null):
        prof = {}
    if not isinstance(prof, Mapping):
        raise ProfileError(f"{source}: a profile is a mapping of params sections")
    if doc is None or isinstance(doc, _Null):
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
    if not isinstance(doc, Mapping):
        raise ProfileError(f"{params_path}: top level must be a mapping")
    changes = _merge(doc, prof, "", params_path)
    _check(_plain(doc), {str(k) for k in prof}, params_path)
    if not dry_run and changes:
        buf = io.StringIO()
        y.dump(doc, buf)
        if _plain(_load(_yaml(), params_path, buf.getvalue())) != _plain(doc):  # reads back as checked
            raise ProfileError(f"{params_path}: the result would not read back as checked; nothing written")
        from looptool.storage import atomic_path

        with atomic_path(params_path) as tmp:
            tmp.write_text(buf.getvalue(), encoding="utf-8")
    return changes


def _check(params: dict[str, Any], sections: set[str], where: Path) -> None:
    """Load each touched section into its config class (strict), alone and with each iteration's
    overrides, so a bad profile never lands in params."""
    import importlib

    from looptool.config import ConfigError, check_params
    from looptool.stage import ITERATION_SECTIONS, iteration, section_config

    unread = sorted(sections - set(SECTION_CLASSES) - {"backends", "iterations"})
    if unread:
        raise ProfileError(
            f"{where}: the profile sets section(s) {unread} that no stage reads; profiles may set "
            f"{sorted([*SECTION_CLASSES, 'backends', 'iterations'])}"
        )
    roles = sorted(str(r) for r in params.get("backends") or {} if r not in BACKEND_ROLES)
    if "backends" in sections and roles:
        raise ProfileError(
            f"{where}: after the profile, backends has unknown role(s) {roles}; roles: {list(BACKEND_ROLES)}"
        )
    checks: list[tuple[str, str]] = [(s, SECTION_CLASSES[s]) for s in sorted(sections & set(SECTION_CLASSES))]
    if "backends" in sections:
        checks += [(f"backends.{r}", "looptool.llm.config:BackendConfig") for r in BACKEND_ROLES]
    if "iterations" in sections:  # an override of any section may have changed
        checks += [(s, SECTION_CLASSES[s]) for s in ITERATION_SECTIONS if s in SECTION_CLASSES]
        checks += [(f"backends.{r}", "looptool.llm.config:BackendConfig") for r in BACKEND_ROLES]
    try:
        check_params(params, str(where))
        keys = [None, *(params.get("iterations") or {})]
        for key in keys[1:] if "iterations" in sections else []:
            iteration(params, key)
        for name, target in dict.fromkeys(checks):
            cls = getattr(importlib.import_module(target.split(":")[0]), target.split(":")[1])
            for key in keys if name.split(".")[0] in ITERATION_SECTIONS else [None]:
                section_config(cls, name, str(where), key=key, params=params)
    except (ConfigError, ValueError, TypeError) as e:  # the config classes name the key
        message = e.message if isinstance(e, ConfigError) else str(e)
        raise ProfileError(f"{where}: after the profile, {message}") from None
