"""The context tree: domain -> subdomain -> capability, as plain data (``data/tree.json``, its schema beside it).

Each :class:`Subdomain` names the entity it manages, the id parameter of that entity (``None`` when it has
none) and the slots a record of it carries in tool results. Each :class:`Capability` says:

* ``action`` shapes the simulated tool result: ``search``/``list`` return records, ``get`` one record,
  ``create`` a confirmation with a new id, ``update``/``delete``/``control`` a status, ``send`` a message id,
  ``compute`` a value.
* ``function`` is the snake_case stem of the API name (APIs may be rendered in camelCase).
* ``intents`` are infinitive phrases a user writes after "Can you ...". ``{x}`` stands for the
  entity the capability acts on (the subdomain's id parameter): "book {x}" becomes "book flight FL-20394" in a
  single turn and "book the second one" after a search result.
* ``required`` / ``optional`` are the parameters, slot names from :mod:`looptool.synth.slots` (required
  first, in schema order); ``renamed`` maps a parameter ``name`` to the slot ``base`` it takes its kind,
  values and phrasing from.

Capabilities that produce entities (``search``/``list``/``create`` with the id among their record fields)
and capabilities that require the subdomain's id form the chains of the ``multi_turn`` pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from looptool.synth.datafiles import load


@dataclass(frozen=True)
class Capability:
    """One leaf of the context tree: an API family."""

    action: str
    function: str
    intents: tuple[str, ...]
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> tuple[tuple[str, bool], ...]:
        """(parameter name, required) in schema order."""
        return tuple((p, True) for p in self.required) + tuple((p, False) for p in self.optional)


@dataclass(frozen=True)
class Subdomain:
    """The entity a subdomain manages and its capabilities."""

    entity: str
    id_param: str | None
    record_fields: tuple[str, ...]
    capabilities: dict[str, Capability]


def _capability(d: dict[str, Any]) -> Capability:
    return Capability(
        action=d["action"],
        function=d["function"],
        intents=tuple(d["intents"]),
        description=d["description"],
        required=tuple(d["required"]),
        optional=tuple(d.get("optional", ())),
        renamed=dict(d.get("renamed", {})),
    )


@cache
def tree() -> dict[str, dict[str, Subdomain]]:
    """Domain -> subdomain -> :class:`Subdomain`, from ``data/tree.json`` (read once, in file order)."""
    return {
        domain: {
            name: Subdomain(
                entity=node["entity"],
                id_param=node["id_param"],
                record_fields=tuple(node["record_fields"]),
                capabilities={k: _capability(c) for k, c in node["capabilities"].items()},
            )
            for name, node in subs.items()
        }
        for domain, subs in load("tree").items()
    }


def __getattr__(name: str) -> Any:  # PEP 562: ``TREE`` is the tree, read on first use
    if name == "TREE":
        return tree()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
