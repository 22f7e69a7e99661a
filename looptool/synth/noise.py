"""Label noise for measurement: corrupt a known fraction of POOL labels the way annotators get them wrong.

The later label-verification stage finds bad labels by schema violations and by argument grounding, so most
noise here stays valid and plausible: a value taken from elsewhere in the same conversation (the other
date, another search result's id), a near miss (the next day, one more guest, a neighbouring enum value),
an optional argument left out, two same-kind arguments swapped, the call sent to a similar tool. Some noise
is detectable by rules on purpose (a dropped required argument), as real noise is.

Only rows whose label has calls are corrupted: a ``[]`` label (missing_arg, irrelevant) is never turned into
a call, because that would also need a new reference reply and would change what the row teaches. Every
corrupted row is listed in ``noise_truth.parquet`` with its clean label, noisy label and noise kind.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from looptool import jsonutil
from looptool.calls import tool_index, validate_calls
from looptool.checks.surface import kind_of
from looptool.checks.vocab import COUNTRIES, CURRENCIES, LANGUAGES
from looptool.synth.pools import POOLS

_REVERSE_POOL: dict[str, str] = {}
for _name, _values in POOLS.items():
    for _v in _values:
        _REVERSE_POOL.setdefault(_v, _name)


def _valid(value: Any, schema: dict[str, Any]) -> bool:
    return _validator(jsonutil.dumps(schema)).is_valid(value)


@lru_cache(maxsize=4096)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _flatten(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _flatten(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _flatten(v)]
    return [obj]


def _conversation_values(messages: list[dict[str, Any]]) -> list[Any]:
    """Scalar values of tool results (ids, dates, prices) a careless annotator could pick instead."""
    out = []
    for m in messages:
        if m.get("role") == "tool":
            try:
                out.extend(_flatten(json.loads(m.get("content") or "null")))
            except json.JSONDecodeError:
                continue
    return out


def _near_miss(value: Any, schema: dict[str, Any], rng: random.Random) -> Any:
    kind = kind_of(schema)
    if kind == "string:date":
        d = dt.date.fromisoformat(value) + dt.timedelta(days=rng.choice((-2, -1, 1, 1, 2, 7)))
        return d.isoformat()
    if kind == "string:time":
        h, m = (int(x) for x in value.split(":"))
        total = (h * 60 + m + rng.choice((-60, -30, 30, 60, 120))) % (24 * 60)
        return f"{total // 60:02d}:{total % 60:02d}"
    if kind == "integer":
        return value + rng.choice((-1, 1, 2))
    if kind == "number":
        return round(value * rng.choice((0.9, 1.1, 1.5, 0.5)), 2)
    if kind == "enum":
        others = [c for c in schema["enum"] if c != value]
        return rng.choice(others) if others else value
    if kind == "boolean":
        return not value
    if kind == "string:currency":
        return rng.choice(sorted(set(CURRENCIES) - {value}))
    if kind == "string:country":
        return rng.choice(sorted(set(COUNTRIES) - {value}))
    if kind == "string:language":
        return rng.choice(sorted(set(LANGUAGES) - {value}))
    if kind == "string:id":
        prefix, _, digits = value.partition("-")
        return f"{prefix}-{(int(digits) + rng.randint(1, 9) * 10 ** rng.randint(0, 3)) % 90000 + 10000}"
    if kind == "string:email":
        user, _, domain = value.partition("@")
        return f"{user}@{rng.choice([d for d in POOLS['email_domain'] if d != domain] or [domain])}"
    if isinstance(value, str):
        pool = _REVERSE_POOL.get(value)
        if pool:
            return rng.choice([v for v in POOLS[pool] if v != value])
        if " " in value and value.split(" ")[0] in POOLS["first_name"]:
            first, last = value.split(" ", 1)
            return f"{rng.choice([f for f in POOLS['first_name'] if f != first])} {last}"
    return None


def _wrong_value(label, tools, messages, rng) -> list[dict[str, Any]] | None:
    index = tool_index(tools)
    spots = []
    for ci, call in enumerate(label):
        props = index[call["name"]]["parameters"]["properties"]
        for k, _v in call["arguments"].items():
            if k in props and kind_of(props[k]) not in ("object", "array"):
                spots.append((ci, k, props[k]))
    rng.shuffle(spots)
    seen = _conversation_values(messages)
    for ci, k, schema in spots:
        cur = label[ci]["arguments"][k]
        kind = kind_of(schema)
        # prefer a value that is in the conversation (grounded, so rules cannot tell)
        from_conv = [
            v
            for v in seen
            if v != cur and type(v) is type(cur) and kind not in ("string", "boolean") and _valid(v, schema)
        ]
        others = [
            c["arguments"][kk]
            for c in label
            for kk in c["arguments"]
            if (c is not label[ci] or kk != k)
            and c["arguments"][kk] != cur
            and kind_of(index[c["name"]]["parameters"]["properties"].get(kk)) == kind
            and _valid(c["arguments"][kk], schema)
        ]
        cands = from_conv + others
        new = rng.choice(cands) if cands and rng.random() < 0.6 else _near_miss(cur, schema, rng)
        if new is None or new == cur or not _valid(new, schema):
            continue
        out = copy.deepcopy(label)
        out[ci]["arguments"][k] = new
        return out
    return None


def _dropped(label, tools, rng, required: bool) -> list[dict[str, Any]] | None:
    index = tool_index(tools)
    spots = []
    for ci, call in enumerate(label):
        req = set(index[call["name"]]["parameters"].get("required") or [])
        spots.extend((ci, k) for k in call["arguments"] if (k in req) == required)
    if not spots:
        return None
    ci, k = rng.choice(spots)
    out = copy.deepcopy(label)
    del out[ci]["arguments"][k]
    return out


def _swapped(label, tools, rng) -> list[dict[str, Any]] | None:
    index = tool_index(tools)
    pairs = []
    for ci, call in enumerate(label):
        props = index[call["name"]]["parameters"]["properties"]
        keys = [k for k in call["arguments"] if k in props and kind_of(props[k]) not in ("boolean",)]
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                va, vb = call["arguments"][a], call["arguments"][b]
                kind = kind_of(props[a])
                if (
                    va == vb
                    or kind != kind_of(props[b])
                    or not (_valid(vb, props[a]) and _valid(va, props[b]))
                ):
                    continue
                # free text swaps only between values of one kind of thing (two cities, not a name and a street)
                if kind == "string" and (
                    _REVERSE_POOL.get(va) is None or _REVERSE_POOL.get(va) != _REVERSE_POOL.get(vb)
                ):
                    continue
                pairs.append(((ci, a), (ci, b)))
    if len(label) > 1:  # a parallel turn: one value ends up on the wrong call
        for i in range(len(label)):
            for j in range(i + 1, len(label)):
                if label[i]["name"] != label[j]["name"]:
                    continue
                for k, v in label[i]["arguments"].items():
                    if k in label[j]["arguments"] and label[j]["arguments"][k] != v:
                        pairs.append(((i, k), (j, k)))
    if not pairs:
        return None
    (ci, a), (cj, b) = rng.choice(pairs)
    out = copy.deepcopy(label)
    out[ci]["arguments"][a], out[cj]["arguments"][b] = label[cj]["arguments"][b], label[ci]["arguments"][a]
    return out


def _wrong_function(label, tools, rng) -> list[dict[str, Any]] | None:
    index = tool_index(tools)
    ci = rng.randrange(len(label))
    call = label[ci]
    used = {c["name"] for c in label}
    best = []
    for name, tool in index.items():
        if name in used:
            continue
        props = tool["parameters"]["properties"]
        shared = [k for k in call["arguments"] if k in props]
        if shared:
            best.append((len(shared), name))
    if not best:
        return None
    top = max(n for n, _ in best)
    name = rng.choice([nm for n, nm in best if n == top])
    props = index[name]["parameters"]["properties"]
    out = copy.deepcopy(label)
    out[ci] = {"name": name, "arguments": {k: v for k, v in call["arguments"].items() if k in props}}
    return out


_KIND_ORDER = ("wrong_function", "swapped_args", "dropped_optional", "wrong_value", "dropped_required")
"""Rarest-applicable first, so each kind gets its share of the rows it can apply to."""


def corrupt_as(row: dict[str, Any], kind: str, rng: random.Random) -> list[dict[str, Any]] | None:
    """``row``'s label corrupted with noise ``kind``, or None when that kind does not apply to it."""
    label, tools, messages = row["label"], row["tools"], row["messages"]
    if not label:
        return None
    if kind == "wrong_value":
        out = _wrong_value(label, tools, messages, rng)
    elif kind == "dropped_optional":
        out = _dropped(label, tools, rng, required=False)
    elif kind == "dropped_required":
        out = _dropped(label, tools, rng, required=True)
    elif kind == "swapped_args":
        out = _swapped(label, tools, rng)
    elif kind == "wrong_function":
        out = _wrong_function(label, tools, rng)
    else:
        raise ValueError(f"unknown noise kind {kind!r}")
    return out if out is not None and out != label else None


def _quotas(kinds: dict[str, float], n: int) -> dict[str, int]:
    total = sum(kinds.values())
    raw = {k: n * w / total for k, w in kinds.items()}
    out = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[: n - sum(out.values())]:
        out[k] += 1
    return out


def apply_noise(
    rows: Sequence[dict[str, Any]], fraction: float, kinds: dict[str, float], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Corrupt ``round(fraction * len(rows))`` labels, split over ``kinds`` by weight.

    Each kind takes its quota from the (shuffled) rows it applies to; a quota a kind cannot fill goes to the
    other kinds. Rows with a ``[]`` label are never touched. Returns (rows with noisy labels, NOISE_TRUTH
    rows sorted by sample_id); the input rows are not modified.
    """
    want = round(fraction * len(rows))
    eligible = [i for i, r in enumerate(rows) if r["label"]]
    rng.shuffle(eligible)
    quotas = _quotas({k: w for k, w in kinds.items() if w > 0}, want) if want else {}
    out = list(rows)
    chosen: dict[int, tuple[list[dict[str, Any]], str]] = {}
    per_kind: Counter[str] = Counter()  # rows chosen per kind (a count, not a scan of chosen: linear time)
    order = [k for k in _KIND_ORDER if k in quotas]
    for fill_rest in (False, True):
        for kind in order:
            for i in eligible:
                if len(chosen) >= want or (not fill_rest and per_kind[kind] >= quotas[kind]):
                    break
                if i in chosen:
                    continue
                noisy = corrupt_as(rows[i], kind, rng)
                if noisy is not None:
                    chosen[i] = (noisy, kind)
                    per_kind[kind] += 1
    truth = []
    for i, (noisy, kind) in chosen.items():
        out[i] = {**rows[i], "label": noisy}
        truth.append(
            {
                "sample_id": rows[i]["sample_id"],
                "clean_label": rows[i]["label"],
                "noisy_label": noisy,
                "kind": kind,
            }
        )
    truth.sort(key=lambda t: t["sample_id"])
    return out, truth


def schema_breaks(label: list[dict[str, Any]], tools: list[dict[str, Any]]) -> bool:
    """Whether a (noisy) label is caught by the schema rules alone."""
    return bool(validate_calls(label, tools))
