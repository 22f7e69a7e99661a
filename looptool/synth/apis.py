"""Hierarchical API synthesis: a context-tree leaf x constraint-tree slots -> a tool with a JSON Schema.

Each capability (leaf) of :func:`looptool.synth.tree.tree` is instantiated ``apis_per_leaf`` times. Variants
of one leaf differ the way real APIs for the same job differ: naming convention (snake_case / camelCase for
the function and every parameter, nested ones included), which optional parameters exist, and the wording of
the description. Everything is drawn from an RNG seeded by ``(random_seed, leaf path, variant)``, so a
variant does not change when another part of the tree is edited.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from looptool import jsonutil
from looptool.checks import surface
from looptool.synth.slots import Slot, named_slot, param_slot, slot
from looptool.synth.tree import tree

CONVENTIONS = ("snake_case", "camelCase")
_CAMEL = re.compile(r"[A-Z]")
PRODUCER_ACTIONS = ("search", "list", "create")

_HINTS = {
    "string:date": " (YYYY-MM-DD)",
    "string:time": " (HH:MM, 24-hour)",
    "string:currency": " (ISO 4217 code, e.g. EUR)",
    "string:country": " (ISO 3166-1 alpha-2 code, e.g. FR)",
    "string:language": " (ISO 639-1 code, e.g. es)",
    "string:phone": " (E.164, e.g. +14155550123)",
    "string:url": " (http or https URL)",
}

_RESULT_SENTENCES = {
    "search": ("Returns matching {entity}s with their IDs.", "Results include an ID for each {entity}.", ""),
    "list": ("Returns a list of {entity}s.", ""),
    "get": ("Returns the {entity} details.", ""),
    "create": ("Returns a confirmation with the {entity} ID.", "Returns the new {entity} ID.", ""),
    "update": ("Returns the updated {entity}.", ""),
    "delete": ("Returns a confirmation.", ""),
    "control": ("Returns the new state.", ""),
    "send": ("Returns a message ID.", ""),
    "compute": ("Returns the computed result.", ""),
}


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def to_snake(name: str) -> str:
    return _CAMEL.sub(lambda m: "_" + m.group(0).lower(), name)


def convert(name: str, convention: str) -> str:
    return to_camel(name) if convention == "camelCase" else name


@dataclass(frozen=True)
class Leaf:
    """One capability of the context tree, with its parameter slots resolved."""

    domain: str
    subdomain: str
    capability: str
    action: str
    function: str
    intents: tuple[str, ...]
    description: str
    params: tuple[tuple[Slot, bool], ...]
    entity: str
    id_slot: str | None
    fields: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"{self.domain}/{self.subdomain}/{self.capability}"

    @property
    def consumes(self) -> bool:
        """Requires the id of its subdomain's entity (the second step of a multi-turn chain)."""
        return bool(self.id_slot) and any(s.name == self.id_slot and req for s, req in self.params)

    @property
    def produces(self) -> bool:
        """Returns ids of its subdomain's entity (the first step of a multi-turn chain)."""
        return bool(self.id_slot) and self.action in PRODUCER_ACTIONS and not self.consumes

    def slot_of(self, name: str) -> Slot:
        for s, _ in self.params:
            if s.name == name:
                return s
        raise KeyError(f"{self.path} has no parameter {name!r}")


@dataclass(frozen=True)
class ApiParam:
    slot: Slot
    prop: str
    required: bool
    schema: dict[str, Any] = field(hash=False, compare=False)


@dataclass(frozen=True)
class Api:
    """A synthesized tool: one variant of a leaf."""

    leaf: Leaf
    variant: int
    convention: str
    name: str
    description: str
    params: tuple[ApiParam, ...]
    tool: dict[str, Any] = field(hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.leaf.path}#{self.variant}"

    def param(self, slot_name: str) -> ApiParam | None:
        for p in self.params:
            if p.slot.name == slot_name:
                return p
        return None

    @property
    def required(self) -> list[ApiParam]:
        return [p for p in self.params if p.required]

    @cached_property
    def required_kinds(self) -> frozenset[str]:
        """Constraint-tree kinds of the required parameters (computed once: the planner asks per plan)."""
        return frozenset(surface.kind_of(p.schema) for p in self.params if p.required)

    @cached_property
    def param_kinds(self) -> frozenset[str]:
        """Constraint-tree kinds of all parameters."""
        return frozenset(surface.kind_of(p.schema) for p in self.params)

    @property
    def optional(self) -> list[ApiParam]:
        return [p for p in self.params if not p.required]

    def arguments(self, values: dict[str, Any]) -> dict[str, Any]:
        """Internal values (keyed by slot name) -> call arguments (keyed by this API's property names)."""
        out = {}
        for p in self.params:
            if p.slot.name in values:
                out[p.prop] = _convert_value(p.slot, values[p.slot.name], self.convention)
        return out

    def values_from(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call arguments -> internal values keyed by slot name (inverse of :meth:`arguments`)."""
        by_prop = {p.prop: p for p in self.params}
        out = {}
        for k, v in arguments.items():
            p = by_prop.get(k)
            if p is None:
                raise KeyError(f"{self.name} has no parameter {k!r}")
            if p.slot.kind == "object" and isinstance(v, dict):
                v = {to_snake(kk): vv for kk, vv in v.items()}
            out[p.slot.name] = v
        return {p.slot.name: out[p.slot.name] for p in self.params if p.slot.name in out}

    def record(self, values: dict[str, Any]) -> dict[str, Any]:
        """A result record (keys in this API's naming convention)."""
        return {convert(k, self.convention): v for k, v in values.items()}


def _convert_value(s: Slot, value: Any, convention: str) -> Any:
    if s.kind == "object" and isinstance(value, dict):
        return {convert(k, convention): v for k, v in value.items()}
    return value


def param_schema(s: Slot, convention: str, required: bool = True) -> dict[str, Any]:
    """The JSON Schema of one parameter (the constraint-tree leaf made concrete)."""
    desc = s.desc
    k = s.kind
    if k == "string":
        sch: dict[str, Any] = {"type": "string"}
    elif k == "string:date":
        sch = {"type": "string", "format": "date"}
    elif k == "string:time":
        sch = {"type": "string", "pattern": surface.TIME_PATTERN}
    elif k == "string:email":
        sch = {"type": "string", "format": "email"}
    elif k == "string:id":
        sch = {"type": "string", "pattern": surface.id_pattern(s.prefix)}
        desc += f" (like {s.prefix}-12345)"
    elif k == "string:currency":
        sch = {"type": "string", "pattern": surface.CURRENCY_PATTERN}
    elif k == "string:country":
        sch = {"type": "string", "pattern": surface.COUNTRY_PATTERN}
    elif k == "string:language":
        sch = {"type": "string", "pattern": surface.LANGUAGE_PATTERN}
    elif k == "string:phone":
        sch = {"type": "string", "pattern": surface.PHONE_PATTERN}
    elif k == "string:url":
        sch = {"type": "string", "pattern": surface.URL_PATTERN}
    elif k == "enum":
        sch = {"type": "string", "enum": list(s.choices)}
    elif k in ("integer", "number"):
        lo, hi = (int(s.lo), int(s.hi)) if k == "integer" else (s.lo, s.hi)
        sch = {"type": k, "minimum": lo, "maximum": hi}
    elif k == "boolean":
        sch = {"type": "boolean"}
    elif k == "array":
        item = slot(s.item or "tag_word")
        items = param_schema(item, convention)
        items.pop("description", None)
        sch = {"type": "array", "items": items, "minItems": s.min_items, "maxItems": s.max_items}
    elif k == "object":
        props, req = {}, []
        for f in s.fields:
            sub, sub_req = param_slot(f)
            props[convert(sub.name, convention)] = param_schema(sub, convention)
            if sub_req:
                req.append(convert(sub.name, convention))
        sch = {"type": "object", "properties": props, "required": req}
    else:
        raise ValueError(f"slot {s.name}: unknown kind {k!r}")
    sch["description"] = desc + _HINTS.get(k, "") + ("." if not desc.endswith(".") else "")
    if not required and s.default is not None:
        sch["default"] = s.default
    return sch


@lru_cache(maxsize=1)
def leaves() -> tuple[Leaf, ...]:
    """Every capability of the context tree, in tree order."""
    out = []
    for domain, subs in tree().items():
        for sub, node in subs.items():
            for cap, c in node.capabilities.items():
                out.append(
                    Leaf(
                        domain,
                        sub,
                        cap,
                        c.action,
                        c.function,
                        c.intents,
                        c.description,
                        tuple((named_slot(name, c.renamed.get(name)), req) for name, req in c.params),
                        node.entity,
                        node.id_param,
                        node.record_fields,
                    )
                )
    return tuple(out)


def domains() -> list[str]:
    return list(tree())


def _variant_rng(random_seed: int, leaf: Leaf, variant: int) -> random.Random:
    return random.Random(jsonutil.digest(["api", random_seed, leaf.path, variant], 32))


def make_api(leaf: Leaf, variant: int, random_seed: int, optional_keep: float = 0.8) -> Api:
    """Variant ``variant`` of ``leaf``: naming convention, optional parameters kept, description wording."""
    rng = _variant_rng(random_seed, leaf, variant)
    convention = CONVENTIONS[(variant + rng.randint(0, 1)) % 2] if variant else rng.choice(CONVENTIONS)
    params = []
    for s, req in leaf.params:
        if not req and variant > 0 and rng.random() > optional_keep:
            continue
        prop = convert(s.param_name, convention)
        params.append(ApiParam(s, prop, req, param_schema(s, convention, req)))
    name = convert(leaf.function, convention)
    tail = rng.choice(_RESULT_SENTENCES[leaf.action]).format(entity=leaf.entity)
    description = (leaf.description + (" " + tail if tail else "")).strip()
    properties = {p.prop: p.schema for p in params}
    parameters = {
        "type": "object",
        "properties": properties,
        "required": [p.prop for p in params if p.required],
    }
    tool = {"name": name, "description": description, "parameters": parameters}
    return Api(leaf, variant, convention, name, description, tuple(params), tool)


@dataclass
class Catalog:
    """All synthesized APIs, indexed for the planner."""

    apis: list[Api]
    by_domain: dict[str, list[Api]]
    by_leaf: dict[str, list[Api]]
    by_name: dict[str, list[Api]]

    def domain_of(self, tool_name: str) -> set[str]:
        return {a.leaf.domain for a in self.by_name.get(tool_name, [])}

    def in_domains(self, names: Iterable[str]) -> list[Api]:
        out: list[Api] = []
        for d in names:
            out.extend(self.by_domain.get(d, []))
        return out


@lru_cache(maxsize=8)
def build_catalog(random_seed: int, apis_per_leaf: int, optional_keep: float = 0.8) -> Catalog:
    """The API catalog for a seed (cached: instantiate() calls it for every expansion)."""
    apis = [make_api(leaf, v, random_seed, optional_keep) for leaf in leaves() for v in range(apis_per_leaf)]
    by_domain: dict[str, list[Api]] = {}
    by_leaf: dict[str, list[Api]] = {}
    by_name: dict[str, list[Api]] = {}
    for a in apis:
        by_domain.setdefault(a.leaf.domain, []).append(a)
        by_leaf.setdefault(a.leaf.path, []).append(a)
        by_name.setdefault(a.name, []).append(a)
    return Catalog(apis, by_domain, by_leaf, by_name)
