"""Profiles: named sets of params (``configs/profiles/<name>.yaml``) applied onto params.yaml in place.

``looptool profile apply paper-gpu`` sets every leaf the profile names (mappings are merged key by key;
lists and scalars are replaced) and leaves everything else, comments included, as it was: the file is read
and written with ruamel.yaml's round-trip mode. The result is checked before it is written: every section
the profile touches must still load into its config class (unknown keys and bad values are errors).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().parents[1] / "configs" / "profiles"


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


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()  # round-trip: comments, key order and quoting kept
    y.preserve_quotes = True
    y.width = 4096
    return y


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict) and node:
        out = []
        for k, v in node.items():
            out += _leaves(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return [(prefix, node)]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def apply_profile(
    name: str, params_path: str | Path = "params.yaml", dry_run: bool = False
) -> list[tuple[str, Any, Any]]:
    """Apply a profile to ``params_path``; return ``(key, old, new)`` of every leaf that changed."""
    y = _yaml()
    params_path = Path(params_path)
    doc = y.load(params_path.read_text(encoding="utf-8"))
    prof = y.load(profile_path(name).read_text(encoding="utf-8")) or {}
    if not isinstance(prof, dict):
        raise ProfileError(f"{profile_path(name)}: a profile is a mapping of params sections")
    changes: list[tuple[str, Any, Any]] = []
    for key, value in _leaves(prof):
        parts = key.split(".")
        node = doc
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        old = node.get(parts[-1], "<unset>")
        new = _plain(value)
        if _plain(old) != new:
            node[parts[-1]] = value
            changes.append((key, _plain(old), new))
    _check(_plain(doc), {k.split(".")[0] for k, _ in _leaves(prof)}, params_path)
    if not dry_run and changes:
        buf = io.StringIO()
        y.dump(doc, buf)
        tmp = params_path.with_name(f".{params_path.name}.tmp")
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        tmp.replace(params_path)
    return changes


def _check(params: dict[str, Any], sections: set[str], where: Path) -> None:
    """Load each touched section into its config class (strict), so a bad profile never lands in params."""
    from looptool.stage import section_config

    checks = {
        "train": "looptool.train.config:TrainConfig",
        "warmup": "looptool.train.config:WarmupConfig",
        "probe": "looptool.probe:ProbeConfig",
        "seed": "looptool.synth.config:SeedConfig",
    }
    import importlib

    for section in sorted(sections & set(checks)):
        module, cls = checks[section].split(":")
        try:
            section_config(getattr(importlib.import_module(module), cls), section, str(where), params=params)
        except Exception as e:  # the config classes raise ValueError / ConfigError with the key named
            raise ProfileError(f"{where}: after the profile, {section}: {e}") from None
    if "backends" in sections:
        from looptool.config import from_dict
        from looptool.llm.config import BackendConfig

        for role, value in (params.get("backends") or {}).items():
            try:
                from_dict(BackendConfig, value, f"backends.{role}")
            except Exception as e:
                raise ProfileError(f"{where}: after the profile, backends.{role}: {e}") from None
