"""The Planner agent: what a sample will be, before anyone writes a word.

A :class:`Draft` fixes the pattern, the tools offered (target APIs, similar distractors from the same domain,
unrelated fillers from other domains), the calls the assistant should make with their argument values, and
for each pattern its extra structure (the missing required value, the capability nobody can serve, the
producer call and tool result a multi-turn follow-up depends on). The User, Assistant and Tool agents
(procedural templates or a model) then turn a draft into messages.

The same planner serves the seed build (structure sampled freely) and :func:`looptool.synth.instantiate`
(structure fixed by a difficulty signature: number of calls, tools, distractors, turns and the argument kinds).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from looptool import jsonutil
from looptool.checks.surface import kind_of
from looptool.synth.apis import Api, Catalog
from looptool.synth.slots import Slot, fix_pairs, record_value, sample, slot


@dataclass
class Call:
    """An intended call: the API and its argument values keyed by slot name (not yet property names)."""

    api: Api
    values: dict[str, Any]

    def label(self) -> dict[str, Any]:
        return {"name": self.api.name, "arguments": self.api.arguments(self.values)}

    def kinds(self) -> set[str]:
        return {kind_of(self.api.param(k).schema) for k in self.values if self.api.param(k) is not None}


@dataclass
class Draft:
    """A planned sample; the agents fill ``messages``, ``label`` and ``reply``."""

    pattern: str
    domain: str
    subdomain: str
    capability: str
    tools: list[Api]
    calls: list[Call]
    n_distractors: int = 0
    turns: int = 1
    parallel_mode: str | None = None  # "same" (one API, several values) or "mixed" (several APIs)
    varying: list[str] = field(default_factory=list)  # parallel "same": slots whose values differ per call
    producer: Call | None = None  # multi_turn: the earlier call whose result the label uses
    records: list[dict[str, Any]] = field(default_factory=list)  # multi_turn: entities in the tool result
    result: Any = None  # multi_turn: the tool result object
    ref_index: int = 0  # multi_turn: which record the user picks
    carried: list[str] = field(default_factory=list)  # multi_turn: label slots copied from the producer call
    missing: str | None = None  # missing_arg: slot name left out of the request
    missing_values: dict[str, Any] = field(default_factory=dict)  # missing_arg: the request's other values
    requested: Call | None = None  # irrelevant: what the user asks for (its API is not offered)
    messages: list[dict[str, Any]] = field(default_factory=list)
    label: list[dict[str, Any]] = field(default_factory=list)
    reply: str | None = None

    main: Api | None = None  # the API the user's request is about (label's first call, the missing_arg
    # API, or the irrelevant request's API that is not offered)


class PlanError(Exception):
    """The planner cannot realise the requested structure with these domains (caller retries or gives up)."""


# --- argument values -------------------------------------------------------------------------------------


def choose_values(
    api: Api,
    rng: random.Random,
    optional_rate: float,
    kinds: Collection[str] | None = None,
    cover: Collection[str] = (),
    fixed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Argument values for one call: every required parameter, some optional ones.

    With ``kinds``, only parameters of those kinds may appear (a required one outside them is a PlanError)
    and optional parameters of the kinds in ``cover`` are added first, so a signature's ``arg_types`` can be
    met exactly.
    """
    fixed = dict(fixed or {})
    values: dict[str, Any] = {}
    slots = {p.slot.name: p.slot for p in api.params}
    for p in api.params:
        k = kind_of(p.schema)
        if p.required:
            if kinds is not None and k not in kinds:
                raise PlanError(f"{api.name}: required {p.prop} is {k}, outside {sorted(kinds)}")
            values[p.slot.name] = fixed.get(p.slot.name, sample(p.slot, rng))
    optional = list(api.optional)
    rng.shuffle(optional)
    covered = {kind_of(api.param(n).schema) for n in values}
    for p in optional:
        k = kind_of(p.schema)
        if kinds is not None and k not in kinds:
            continue
        want = k in cover and k not in covered
        if want or rng.random() < optional_rate:
            values[p.slot.name] = fixed.get(p.slot.name, sample(p.slot, rng))
            covered.add(k)
    fix_pairs(values, slots, rng)
    # keep the parameter order of the API (the order a user mentions things in)
    return {p.slot.name: values[p.slot.name] for p in api.params if p.slot.name in values}


def _kinds_ok(api: Api, kinds: Collection[str] | None) -> bool:
    """Whether a call of ``api`` can use only ``kinds`` (its required parameters fit)."""
    if kinds is None:
        return True
    return api.required_kinds.issubset(kinds)


def _coverable(apis: Sequence[Api], kinds: Collection[str] | None) -> bool:
    if kinds is None:
        return True
    have = set().union(*(a.param_kinds for a in apis))
    return set(kinds) <= have


# --- the planner -----------------------------------------------------------------------------------------


@dataclass
class Structure:
    """The structural choices of a sample (a difficulty signature without the pattern-free parts)."""

    n_tools: int
    n_calls: int = 1
    n_distractors: int = 0
    turns: int = 1
    arg_types: frozenset[str] | None = None  # None: free


class Planner:
    """Plans drafts over the APIs of ``domains`` (the pool's or the held-out split's)."""

    def __init__(
        self,
        catalog: Catalog,
        domains: Sequence[str],
        optional_rate: float = 0.45,
        max_tools: int = 5,
        max_parallel: int = 3,
    ):
        self.catalog = catalog
        self.domains = [d for d in domains if catalog.by_domain.get(d)]
        if len(self.domains) < 2:
            raise ValueError(f"the planner needs at least 2 domains with APIs, got {list(domains)}")
        self.optional_rate = optional_rate
        self.max_tools = max_tools
        self.max_parallel = max_parallel
        self.apis = self.catalog.in_domains(self.domains)
        self.by_sub: dict[tuple[str, str], list[Api]] = {}
        for a in self.apis:
            self.by_sub.setdefault((a.leaf.domain, a.leaf.subdomain), []).append(a)
        self._subs: dict[str, list[tuple[str, str]]] = {}
        for key in self.by_sub:
            self._subs.setdefault(key[0], []).append(key)
        self._fit_cache: dict[tuple, list[Api]] = {}

    # structure ------------------------------------------------------------------------------------------

    def free_structure(self, pattern: str, rng: random.Random) -> Structure:
        """Structural choices drawn freely (seed build)."""
        m = self.max_tools
        if pattern == "single":
            return Structure(n_tools=rng.randint(1, min(4, m)))
        if pattern == "distractor":
            nd = rng.randint(1, min(3, m - 1))
            return Structure(n_tools=min(m, nd + 1 + rng.randint(0, 1)), n_distractors=nd)
        if pattern == "parallel":
            k = rng.randint(2, self.max_parallel)
            return Structure(n_tools=rng.randint(1, min(m, k + 1)), n_calls=k)
        if pattern == "multi_turn":
            return Structure(n_tools=rng.randint(2, min(4, m)), turns=rng.choice((1, 2, 2)))
        if pattern in ("missing_arg", "irrelevant"):
            return Structure(n_tools=rng.randint(1, min(4, m)))
        raise ValueError(f"unknown pattern {pattern!r}")

    def plan(self, pattern: str, rng: random.Random, st: Structure, avoid: Collection[str] = ()) -> Draft:
        fn = getattr(self, f"_plan_{pattern}")
        return fn(rng, st, set(avoid))

    # helpers ----------------------------------------------------------------------------------------------

    def _fitting(
        self, key: tuple, apis: Sequence[Api], kinds: frozenset[str] | None, pred: Any = None
    ) -> list[Api]:
        """``apis`` (in order) whose calls can use only ``kinds`` and cover them, and that pass ``pred``.

        Cached per (``key``, ``kinds``): a pure function of the catalog, asked for on every plan (expansion
        plans many drafts per sample). Callers must not modify the list.
        """
        got = self._fit_cache.get((key, kinds))
        if got is None:
            got = [
                a
                for a in apis
                if _kinds_ok(a, kinds) and _coverable([a], kinds) and (pred is None or pred(a))
            ]
            self._fit_cache[(key, kinds)] = got
        return got

    def _main_domains(self, rng: random.Random, avoid: set[str]) -> list[str]:
        out = [d for d in self.domains if d not in avoid]
        rng.shuffle(out)
        return out

    def _fillers(self, rng: random.Random, n: int, exclude_domains: set[str], taken: list[Api]) -> list[Api]:
        """``n`` unrelated tools from other domains (distinct leaves, distinct names)."""
        if n <= 0:
            return []
        pool = [d for d in self.domains if d not in exclude_domains]
        if not pool:
            raise PlanError("no domain left for filler tools")
        names = {a.name for a in taken}
        leaves = {a.leaf.path for a in taken}
        out: list[Api] = []
        for _ in range(n * 20):
            d = rng.choice(pool)
            a = rng.choice(self.catalog.by_domain[d])
            if a.name in names or a.leaf.path in leaves:
                continue
            out.append(a)
            names.add(a.name)
            leaves.add(a.leaf.path)
            if len(out) == n:
                return out
        raise PlanError(f"could not find {n} filler tools")

    def _distractors(self, rng: random.Random, target: Api, n: int, exclude: Sequence[Api]) -> list[Api]:
        """``n`` similar tools: other capabilities of the same subdomain first, then of the same domain."""
        taken_leaves = {a.leaf.path for a in exclude} | {target.leaf.path}
        names = {a.name for a in exclude} | {target.name}
        same_sub = [a for a in self.by_sub[(target.leaf.domain, target.leaf.subdomain)]]
        same_dom = [
            a for a in self.catalog.by_domain[target.leaf.domain] if a.leaf.subdomain != target.leaf.subdomain
        ]
        rng.shuffle(same_sub)
        # same action elsewhere in the domain is the next most confusable (search_hotels vs search_flights)
        same_dom.sort(key=lambda a: (a.leaf.action != target.leaf.action, rng.random()))
        out: list[Api] = []
        for a in same_sub + same_dom:
            if a.leaf.path in taken_leaves or a.name in names:
                continue
            out.append(a)
            taken_leaves.add(a.leaf.path)
            names.add(a.name)
            if len(out) == n:
                return out
        raise PlanError(f"{target.leaf.domain}: not enough similar tools for {n} distractors")

    def _draft(
        self, pattern: str, main: Api, tools: list[Api], calls: list[Call], rng: random.Random, **kw: Any
    ) -> Draft:
        rng.shuffle(tools)
        leaf = main.leaf
        return Draft(pattern, leaf.domain, leaf.subdomain, leaf.capability, tools, calls, main=main, **kw)

    # patterns ---------------------------------------------------------------------------------------------

    def _plan_single(self, rng: random.Random, st: Structure, avoid: set[str]) -> Draft:
        for d in self._main_domains(rng, avoid):
            cands = self._fitting(("domain", d), self.catalog.by_domain[d], st.arg_types)
            if not cands:
                continue
            api = rng.choice(cands)
            values = choose_values(api, rng, self.optional_rate, st.arg_types, st.arg_types or ())
            tools = [api] + self._fillers(rng, st.n_tools - 1, {d}, [api])
            return self._draft("single", api, tools, [Call(api, values)], rng)
        raise PlanError("single: no domain fits")

    def _plan_distractor(self, rng: random.Random, st: Structure, avoid: set[str]) -> Draft:
        if st.n_distractors < 1 or st.n_tools < st.n_distractors + 1:
            raise PlanError("distractor needs n_distractors >= 1 and n_tools > n_distractors")
        for d in self._main_domains(rng, avoid):
            cands = list(self._fitting(("domain", d), self.catalog.by_domain[d], st.arg_types))
            rng.shuffle(cands)
            for api in cands[:5]:
                try:
                    dis = self._distractors(rng, api, st.n_distractors, [])
                except PlanError:
                    continue
                values = choose_values(api, rng, self.optional_rate, st.arg_types, st.arg_types or ())
                fill = self._fillers(rng, st.n_tools - 1 - st.n_distractors, {d}, [api, *dis])
                return self._draft(
                    "distractor",
                    api,
                    [api, *dis, *fill],
                    [Call(api, values)],
                    rng,
                    n_distractors=st.n_distractors,
                )
        raise PlanError("distractor: no domain fits")

    def _plan_parallel(self, rng: random.Random, st: Structure, avoid: set[str]) -> Draft:
        k = st.n_calls
        if k < 2:
            raise PlanError("parallel needs n_calls >= 2")
        modes = ["same", "mixed"] if st.n_tools >= 1 else ["same"]
        rng.shuffle(modes)
        for mode in modes:
            n_apis = 1 if mode == "same" else k
            if n_apis > st.n_tools:
                continue
            for d in self._main_domains(rng, avoid):
                if mode == "same":
                    cands = self._fitting(
                        ("varying", d), self.catalog.by_domain[d], st.arg_types, _varying_slots
                    )
                    if not cands:
                        continue
                    api = rng.choice(cands)
                    base = choose_values(api, rng, self.optional_rate, st.arg_types, st.arg_types or ())
                    vary = _varying_slots(api, base)
                    if not vary:
                        continue
                    pick = rng.sample(vary, min(len(vary), rng.choice((1, 1, 2))))
                    calls = [Call(api, base)]
                    seen = {_freeze(base)}
                    for _ in range(k * 10):
                        if len(calls) == k:
                            break
                        vals = dict(base)
                        for s in pick:
                            vals[s] = sample(api.param(s).slot, rng)
                        fix_pairs(vals, {p.slot.name: p.slot for p in api.params}, rng)
                        if _freeze(vals) not in seen:
                            seen.add(_freeze(vals))
                            calls.append(Call(api, vals))
                    if len(calls) < k:
                        continue
                    tools = [api] + self._fillers(rng, st.n_tools - 1, {d}, [api])
                    return self._draft("parallel", api, tools, calls, rng, parallel_mode="same", varying=pick)
                # mixed: k different capabilities of one domain, preferring one subdomain
                subs = list(self._subs.get(d, ()))
                rng.shuffle(subs)
                pool = sorted(
                    self.catalog.by_domain[d], key=lambda a: (a.leaf.subdomain != subs[0][1], rng.random())
                )
                chosen: list[Api] = []
                for a in pool:
                    if len(chosen) == k:
                        break
                    if a.leaf.path in {c.leaf.path for c in chosen} or not _kinds_ok(a, st.arg_types):
                        continue
                    chosen.append(a)
                if len(chosen) < k or not _coverable(chosen, st.arg_types):
                    continue
                calls: list[Call] = []
                for i, a in enumerate(chosen):
                    cover: set[str] = set()
                    if st.arg_types and i == k - 1:
                        cover = set(st.arg_types) - set().union(*(c.kinds() for c in calls))
                    calls.append(Call(a, choose_values(a, rng, self.optional_rate, st.arg_types, cover)))
                tools = list(chosen) + self._fillers(rng, st.n_tools - k, {d}, chosen)
                return self._draft("parallel", chosen[0], tools, calls, rng, parallel_mode="mixed")
        raise PlanError("parallel: no domain fits")

    def _plan_multi_turn(self, rng: random.Random, st: Structure, avoid: set[str]) -> Draft:
        if st.n_tools < 2:
            raise PlanError("multi_turn needs at least 2 tools")
        for d in self._main_domains(rng, avoid):
            subs = list(self._subs.get(d, ()))
            rng.shuffle(subs)
            for key in subs:
                apis = self.by_sub[key]
                producers = self._fitting(("producer", key), apis, None, _produces)
                consumers = self._fitting(("consumer", key), apis, st.arg_types, _consumes)
                if not producers or not consumers:
                    continue
                prod = rng.choice(producers)
                cons = rng.choice([c for c in consumers if c.leaf.path != prod.leaf.path] or consumers)
                if cons.leaf.path == prod.leaf.path:
                    continue
                pvals = choose_values(prod, rng, self.optional_rate)
                records, result = simulate_result(prod, pvals, rng)
                ref = rng.randrange(len(records)) if st.turns > 1 else 0
                id_slot = prod.leaf.id_slot
                shared = [s for s in pvals if cons.param(s) is not None and s != id_slot]
                fixed = {s: pvals[s] for s in shared}
                fixed[id_slot] = records[ref][id_slot]
                cvals = choose_values(
                    cons, rng, self.optional_rate, st.arg_types, st.arg_types or (), fixed=fixed
                )
                carried = [s for s in shared if s in cvals]
                tools = [prod, cons] + self._fillers(rng, st.n_tools - 2, {d}, [prod, cons])
                return self._draft(
                    "multi_turn",
                    cons,
                    tools,
                    [Call(cons, cvals)],
                    rng,
                    turns=st.turns,
                    producer=Call(prod, pvals),
                    records=records,
                    result=result,
                    ref_index=ref,
                    carried=carried,
                )
        raise PlanError("multi_turn: no domain with a producer/consumer chain fits")

    def _plan_missing_arg(self, rng: random.Random, st: Structure, avoid: set[str]) -> Draft:
        for d in self._main_domains(rng, avoid):
            cands = self._fitting(("askable", d), self.catalog.by_domain[d], None, _askable)
            if not cands:
                continue
            api = rng.choice(cands)
            values = choose_values(api, rng, self.optional_rate)
            missing = rng.choice(_askable(api))
            values.pop(missing)
            tools = [api] + self._fillers(rng, st.n_tools - 1, {d}, [api])
            return self._draft("missing_arg", api, tools, [], rng, missing=missing, missing_values=values)
        raise PlanError("missing_arg: no domain fits")

    def _plan_irrelevant(self, rng: random.Random, st: Structure, avoid: set[str]) -> Draft:
        for d in self._main_domains(rng, avoid):
            api = rng.choice(self.catalog.by_domain[d])
            values = choose_values(api, rng, self.optional_rate)
            tools = self._fillers(rng, st.n_tools, {d}, [api])
            draft = self._draft("irrelevant", api, tools, [], rng)
            draft.requested = Call(api, values)
            return draft
        raise PlanError("irrelevant: no domain fits")


def _produces(api: Api) -> bool:
    return api.leaf.produces


def _consumes(api: Api) -> bool:
    return api.leaf.consumes


def _freeze(values: dict[str, Any]) -> str:
    return jsonutil.dumps(values)


def _varying_slots(api: Api, values: dict[str, Any] | None = None) -> list[str]:
    """Parameters a user would naturally ask about several values of in one turn (city, date, id, ...)."""
    out = []
    for p in api.params:
        if values is not None and p.slot.name not in values:
            continue
        k = kind_of(p.schema)
        if k in ("boolean", "object", "array") or (k == "enum" and len(p.slot.choices) < 3):
            continue
        if k == "string" and p.slot.pool not in (
            "city",
            "ticker",
            "team",
            "person",
            "pet_name",
            "word",
            "product_query",
            "recipe_query",
            "movie_title",
            "artist",
        ):
            continue
        out.append(p.slot.name)
    return out


def _askable(api: Api) -> list[str]:
    """Required parameters an assistant would ask for if missing (values only the user can know)."""
    return [p.slot.name for p in api.required if kind_of(p.schema) != "boolean" and p.slot.default is None]


def simulate_result(api: Api, values: dict[str, Any], rng: random.Random) -> tuple[list[dict[str, Any]], Any]:
    """A tool result that fits the API's action: records with ids for search/list, a confirmation for create.

    Returns (records keyed by slot name, the result object as the tool returns it).
    """
    leaf = api.leaf
    id_slot = leaf.id_slot
    echo = {k: v for k, v in values.items() if k in leaf.fields}
    if leaf.action in ("search", "list"):
        n = rng.randint(2, 4)
        records = []
        ids: set[str] = set()
        while len(records) < n:
            rec: dict[str, Any] = {}
            if id_slot:
                rec[id_slot] = sample(leaf_id_slot(api), rng)
                if rec[id_slot] in ids:
                    continue
                ids.add(rec[id_slot])
            for f in leaf.fields:
                rec[f] = echo.get(f, record_value(f, rng))
            records.append(rec)
        result = {"results": [api.record(r) for r in records], "count": len(records)}
        return records, result
    rec = {}
    if id_slot:
        rec[id_slot] = sample(leaf_id_slot(api), rng)
    for f in leaf.fields[:3]:
        rec[f] = echo.get(f, record_value(f, rng))
    status = {
        "create": "confirmed",
        "update": "updated",
        "delete": "cancelled",
        "control": "ok",
        "send": "sent",
    }
    result = {"status": status.get(leaf.action, "ok"), **api.record(rec)}
    return [rec], result


def leaf_id_slot(api: Api) -> Slot:
    return slot(api.leaf.id_slot or "")
