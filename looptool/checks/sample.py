"""Rule verification of synthesized samples (seeds and expansions alike).

:func:`verify_sample` returns every problem of one row as ``"<reason>: <detail>"`` (empty list: accepted).
The reason is what the rejected row carries and what the metrics count:

* ``bad_tool``: a tool is not ``{name, description, parameters}`` with an object JSON Schema that passes the
  JSON Schema meta-schema (``required`` names existing properties, tool names unique);
* ``bad_messages``: the conversation is not a decision point (last message user or tool, calls valid);
* ``invalid_call``: a label call breaks its tool's schema (:func:`looptool.calls.validate_calls`);
* ``ungrounded``: an argument value is said nowhere in the user turns or tool results and is not the
  schema default (values may be written the human way: "March 3rd, 2025" grounds ``2025-03-03``);
* ``label_pattern``: the label does not fit the pattern (``[]`` exactly for missing_arg and irrelevant, one
  call for single/distractor, several for parallel, a multi-turn call that uses no value of a tool result,
  a missing_arg parameter that is not required, an irrelevant request whose tool is offered after all);
* ``meta``: the ``meta`` contract fields are missing or inconsistent (signature, reply);
* ``heldout_leak``: a pool row touches a held-out domain of the test or dev split (or a held-out row a
  domain outside its split);
* ``sample_id``: the id is not the content hash of (tools, messages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from looptool import jsonutil
from looptool.calls import tool_index, validate_calls
from looptool.checks.surface import grounded, kind_of, normalize
from looptool.schema import PATTERNS, make_sample_id

META_FIELDS = ("pattern", "domain", "subdomain", "capability", "generator", "reply", "signature")
SIGNATURE_FIELDS = (
    "pattern",
    "n_calls",
    "parallel",
    "arg_types",
    "n_tools",
    "n_distractors",
    "missing_arg",
    "turns",
)


@dataclass(frozen=True)
class SplitDomains:
    """What the held-out split check needs, as data: the held-out domains and the domains each tool name belongs
    to. The synthesizer builds it from a SeedConfig (:func:`looptool.synth.config.split_domains`), so these
    checks import nothing of :mod:`looptool.synth`."""

    heldout: frozenset[str]
    tool_domains: Mapping[str, frozenset[str]]
    dev: frozenset[str] = frozenset()  # the dev split's domains (seed.dev_domains), disjoint from both


def arg_types(label: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[str]:
    """Sorted distinct constraint-tree kinds of the label's (top-level) arguments."""
    index = tool_index(tools)
    kinds = set()
    for call in label:
        props = ((index.get(call["name"]) or {}).get("parameters") or {}).get("properties") or {}
        for k in call["arguments"]:
            kinds.add(kind_of(props.get(k)))
    return sorted(kinds)


def signature_of(
    pattern: str, label: list[dict[str, Any]], tools: list[dict[str, Any]], n_distractors: int, turns: int
) -> dict[str, Any]:
    """The difficulty signature of a sample."""
    return {
        "pattern": pattern,
        "n_calls": len(label),
        "parallel": len(label) > 1,
        "arg_types": arg_types(label, tools),
        "n_tools": len(tools),
        "n_distractors": n_distractors,
        "missing_arg": pattern == "missing_arg",
        "turns": turns,
    }


REASONS = (
    "bad_tool",
    "bad_messages",
    "invalid_call",
    "ungrounded",
    "label_pattern",
    "meta",
    "heldout_leak",
    "sample_id",
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@lru_cache(maxsize=8192)
def _tool_problems(tool_json: str) -> tuple[str, ...]:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    tool = json.loads(tool_json)
    out = []
    if not isinstance(tool, dict) or set(tool) != {"name", "description", "parameters"}:
        return (f"bad_tool: a tool must have exactly name, description, parameters (got {sorted(tool)})",)
    name = tool["name"]
    if not isinstance(name, str) or not name or not name.replace("_", "a").replace("-", "a").isalnum():
        out.append(f"bad_tool: invalid function name {name!r}")
    if not isinstance(tool["description"], str) or not tool["description"].strip():
        out.append(f"bad_tool: {name}: empty description")
    params = tool["parameters"]
    if not isinstance(params, dict) or params.get("type") != "object":
        return (*out, f"bad_tool: {name}: parameters must be a JSON Schema of type object")
    props = params.get("properties")
    if not isinstance(props, dict):
        out.append(f"bad_tool: {name}: parameters.properties must be an object")
        props = {}
    req = params.get("required", [])
    if not isinstance(req, list) or any(r not in props for r in req):
        out.append(f"bad_tool: {name}: required {req} names properties that do not exist")
    try:
        Draft202012Validator.check_schema(params)
    except SchemaError as e:
        out.append(f"bad_tool: {name}: not a valid JSON Schema ({e.message})")
    for pname, p in props.items():
        if not isinstance(p, dict) or "type" not in p or not p.get("description"):
            out.append(f"bad_tool: {name}.{pname}: a parameter needs a type and a description")
    return tuple(out)


def tool_problems(tool: dict[str, Any]) -> list[str]:
    """Why ``tool`` is not a valid function definition (cached by its canonical JSON)."""
    return list(_tool_problems(jsonutil.dumps(tool)))


def grounding_text(messages: list[dict[str, Any]], roles: tuple[str, ...] = ("user", "tool")) -> str:
    """The normalized text a label's values must be found in: what the user said and what tools returned."""
    parts = [m.get("content") or "" for m in messages if m.get("role") in roles]
    return normalize("\n".join(p if isinstance(p, str) else jsonutil.dumps(p) for p in parts))


def ungrounded_arguments(
    label: list[dict[str, Any]], tools: Any, messages: list[dict[str, Any]]
) -> list[str]:
    """``name.arg`` of every label argument whose value the conversation does not contain."""
    index = tool_index(tools)
    text = grounding_text(messages)
    out = []
    for call in label:
        params = (index.get(call["name"]) or {}).get("parameters") or {}
        props = params.get("properties") or {}
        for k, v in call["arguments"].items():
            if not grounded(v, props.get(k), text, k):
                out.append(f"{call['name']}.{k}={jsonutil.dumps(v)}")
    return out


def verify_sample(row: dict[str, Any], domains: SplitDomains | None = None, split: str = "pool") -> list[str]:
    """Every rule a synthesized row breaks (``"<reason>: <detail>"``); empty means verified.

    ``row`` is a SAMPLE row with JSON columns as text or objects. With ``domains``, the row's domain and tools
    are also checked against the held-out splits: ``split="pool"`` (seeds and expansions) must not touch a
    held-out (test or dev) domain, ``split="heldout"`` / ``split="dev"`` must stay inside the test's / the
    dev's domains.
    """
    problems: list[str] = []
    tools = _json(row.get("tools"))
    messages = _json(row.get("messages"))
    label = _json(row.get("label"))
    meta = _json(row.get("meta")) or {}
    if not isinstance(tools, list) or not isinstance(messages, list) or not isinstance(label, list):
        return ["bad_messages: tools, messages and label must be JSON lists"]

    names = [t.get("name") for t in tools if isinstance(t, dict)]
    if len(set(names)) != len(names):
        problems.append(f"bad_tool: duplicate tool names {sorted(names)}")
    for t in tools:
        problems.extend(tool_problems(t))
    if problems:
        return problems

    problems.extend(_message_problems(messages, tools))
    if row.get("sample_id") != make_sample_id(tools, messages):
        problems.append("sample_id: not the content hash of (tools, messages)")

    for err in validate_calls(label, tools):
        problems.append(f"invalid_call: {err}")
    if not any(p.startswith("invalid_call") for p in problems):
        for arg in ungrounded_arguments(label, tools, messages):
            problems.append(f"ungrounded: {arg} is not in the user turns or tool results")

    pattern = meta.get("pattern")
    problems.extend(_meta_problems(meta, label, tools))
    if pattern in PATTERNS:
        problems.extend(_pattern_problems(pattern, label, tools, messages, meta))
    if domains is not None:
        problems.extend(_split_problems(meta, tools, domains, split))
    return problems


def _message_problems(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[str]:
    out = []
    if not messages:
        return ["bad_messages: empty conversation"]
    if messages[0].get("role") not in ("user", "system"):
        out.append("bad_messages: the conversation must start with the user")
    if messages[-1].get("role") not in ("user", "tool"):
        out.append("bad_messages: the last message must be a user turn or a tool result (a decision point)")
    for i, m in enumerate(messages):
        role = m.get("role")
        if role in ("user", "system") and not (isinstance(m.get("content"), str) and m["content"].strip()):
            out.append(f"bad_messages: message {i} ({role}) has no text")
        if role == "assistant":
            calls = []
            for tc in m.get("tool_calls") or []:
                fn = tc.get("function") if isinstance(tc, dict) else None
                if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), dict):
                    out.append(f"bad_messages: message {i}: tool_calls need function.name and arguments")
                    continue
                calls.append({"name": fn.get("name"), "arguments": fn["arguments"]})
            for err in validate_calls(calls, tools):
                out.append(f"bad_messages: message {i}: {err}")
            if not calls and not (m.get("content") or "").strip():
                out.append(f"bad_messages: message {i}: assistant turn with neither text nor calls")
        if role == "tool" and not isinstance(m.get("content"), str):
            out.append(f"bad_messages: message {i}: a tool result must be text")
    return out


def _meta_problems(
    meta: dict[str, Any], label: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> list[str]:
    out = []
    missing = [f for f in META_FIELDS if f not in meta]
    if missing:
        return [f"meta: missing field(s) {missing}"]
    if meta["pattern"] not in PATTERNS:
        out.append(f"meta: unknown pattern {meta['pattern']!r}")
    sig = meta["signature"]
    if not isinstance(sig, dict) or set(sig) != set(SIGNATURE_FIELDS):
        return [*out, f"meta: signature must have exactly {list(SIGNATURE_FIELDS)}"]
    expect = {
        "pattern": meta["pattern"],
        "n_calls": len(label),
        "parallel": len(label) > 1,
        "arg_types": arg_types(label, tools),
        "n_tools": len(tools),
        "missing_arg": meta["pattern"] == "missing_arg",
    }
    for k, v in expect.items():
        if sig.get(k) != v:
            out.append(f"meta: signature.{k}={sig.get(k)!r}, the row says {v!r}")
    if label and meta["reply"] is not None:
        out.append("meta: reply must be null when the label has calls")
    if not label and not (isinstance(meta["reply"], str) and meta["reply"].strip()):
        out.append("meta: a [] label needs the reference reply text")
    return out


def _pattern_problems(
    pattern: str,
    label: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    meta: dict[str, Any],
) -> list[str]:
    n = len(label)
    if pattern in ("missing_arg", "irrelevant"):
        if n:
            return [f"label_pattern: {pattern} needs the label [] (got {n} calls)"]
    elif n == 0:
        return [f"label_pattern: {pattern} needs at least one call (got [])"]
    if pattern in ("single", "distractor", "multi_turn") and n != 1:
        return [f"label_pattern: {pattern} needs exactly one call (got {n})"]
    if pattern == "parallel" and n < 2:
        return [f"label_pattern: parallel needs several calls in one turn (got {n})"]
    out = []
    index = tool_index(tools)
    if pattern == "distractor" and len(tools) < 2:
        out.append("label_pattern: distractor needs similar tools besides the called one")
    if pattern == "multi_turn":
        if not any(m.get("role") == "tool" for m in messages):
            out.append("label_pattern: multi_turn needs an earlier tool result")
        else:
            tool_text = grounding_text(messages, roles=("tool",))
            props = ((index.get(label[0]["name"]) or {}).get("parameters") or {}).get("properties") or {}
            used = [
                k
                for k, v in label[0]["arguments"].items()
                if kind_of(props.get(k)) != "boolean"
                and grounded(v, {**(props.get(k) or {}), "default": None}, tool_text, k)
            ]
            if not used:
                out.append("label_pattern: multi_turn call uses no value from the tool result")
    if pattern == "missing_arg":
        miss = meta.get("missing") or {}
        tool = index.get(miss.get("tool", ""))
        if tool is None or miss.get("param") not in (tool["parameters"].get("required") or []):
            out.append(
                f"label_pattern: missing_arg must name a required parameter of an offered tool ({miss})"
            )
    if pattern == "irrelevant":
        req = meta.get("requested") or {}
        if not req.get("tool") or req.get("tool") in index:
            out.append(f"label_pattern: irrelevant request's tool must not be offered ({req})")
    return out


def _split_problems(
    meta: dict[str, Any], tools: list[dict[str, Any]], split_domains: SplitDomains, split: str
) -> list[str]:
    held, dev = split_domains.heldout, split_domains.dev
    domains = {meta.get("domain")}
    for t in tools:
        domains |= split_domains.tool_domains.get(t["name"], frozenset())
    req = (meta.get("requested") or {}).get("leaf")
    if req:
        domains.add(req.split("/")[0])
    if split == "pool" and domains & held:
        return [f"heldout_leak: pool row touches held-out domain(s) {sorted(domains & held)}"]
    if split == "pool" and domains & dev:
        return [f"heldout_leak: pool row touches dev domain(s) {sorted(domains & dev)}"]
    if split == "heldout" and domains - held:
        return [f"heldout_leak: held-out row touches pool domain(s) {sorted(domains - held)}"]
    if split == "dev" and domains - dev:
        return [f"heldout_leak: dev row touches a domain outside the dev split {sorted(domains - dev)}"]
    return []
