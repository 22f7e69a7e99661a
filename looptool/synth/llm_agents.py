"""The ``llm`` mode: Planner, User, Assistant and Tool agents as calls to the generator model.

The structural plan (pattern, offered tools, which call needs which value) still comes from
:class:`looptool.synth.planner.Planner`, so the pattern mix and the held-out split stay exactly as
configured; each agent then writes its part with the model, in batches (one generate call per agent step for
a whole round of drafts):

1. Planner: makes the draft's argument values realistic (same functions and argument names, schema-valid);
2. Tool (``multi_turn``): returns the producer call's result, which must carry the entity ids;
3. User: writes the request (and, for two-turn samples, the follow-up that picks a result);
4. Assistant: summarises a tool result (two-turn samples) and makes the final decision: its parsed calls
   become the label, its text the reference reply of a ``[]`` sample.

Outputs are parsed strictly. A bad output (not JSON, wrong function, invalid arguments, a user message with
markup, an assistant that calls a tool when it should ask, or calls something else than the Planner
planned) rejects the draft with the reason ``<agent>_output`` or ``assistant_mismatch`` and the raw text in
the detail, so ``rejected.parquet`` shows what the model did.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from looptool import jsonutil
from looptool.calls import json_value, parse, strip_think, validate_calls
from looptool.checks.surface import id_pattern
from looptool.llm.base import Backend, Request, Sampling
from looptool.match import tool_match
from looptool.prompts import agents as prompts
from looptool.synth.agents import ORDINALS, intent_text, tool_call_message, tool_message
from looptool.synth.apis import Api
from looptool.synth.planner import Call, Draft

MAX_USER_CHARS = 1200


def strict_text(text: str) -> tuple[str | None, str | None]:
    """A plain chat message: non-empty, no JSON, no tool-call or think markup, not too long."""
    body, err = strip_think(text or "")
    if err:
        return None, err
    body = body.strip()
    if not body:
        return None, "empty message"
    if len(body) > MAX_USER_CHARS:
        return None, f"message too long ({len(body)} chars)"
    if body.startswith(("{", "[", "```")) or '{"' in body or "<tool_call>" in body or "</" in body:
        return None, "message contains JSON or markup"
    return body, None


@dataclass
class Outcome:
    """A draft after the agents: ``reason`` set when an agent's output rejected it."""

    draft: Draft
    reason: str | None = None
    detail: str | None = None
    key: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None

    def fail(self, reason: str, detail: str, raw: str = "") -> None:
        self.reason = reason
        self.detail = detail + (f" | output: {raw[:300]!r}" if raw else "")


def _planned(d: Draft) -> list[Call]:
    """The calls the Planner makes realistic: the label's, plus the producer call of a multi-turn chain (whose
    id the consumer call will take from the tool result), the request of a [] sample."""
    if d.pattern == "multi_turn":
        return [d.producer, *d.calls] if d.producer else []
    if d.pattern == "missing_arg":
        return [Call(d.main, d.missing_values)] if d.main else []
    if d.pattern == "irrelevant":
        return [d.requested] if d.requested else []
    return d.calls


def _value_lines(api: Api, values: dict[str, Any], skip: Sequence[str] = ()) -> list[tuple[str, Any]]:
    out = []
    for name, v in values.items():
        p = api.param(name)
        if p is None or name in skip:
            continue
        out.append((p.slot.desc, v))
    return out


def _goal(api: Api, rng: random.Random, x: str | None = None) -> str:
    if x is None and api.leaf.consumes:
        x = f"the {api.leaf.entity}"
    return intent_text(api, rng, x) + f" ({api.leaf.description.rstrip('.')})"


class LLMAgents:
    """The four agents on one generator backend."""

    def __init__(self, backend: Backend, temperature: float = 0.7, max_new_tokens: int = 384):
        self.backend = backend
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens

    @property
    def name(self) -> str:
        return self.backend.model or self.backend.name

    def _sampling(self, rng: random.Random) -> Sampling:
        return Sampling(
            max_new_tokens=self.max_new_tokens, temperature=self.temperature, seed=rng.randrange(2**31)
        )

    def _step(
        self,
        outs: list[Outcome],
        rng: random.Random,
        applies: Callable[[Outcome], bool],
        build: Callable[[Outcome], Request],
        handle: Callable[[Outcome, str], None],
    ) -> None:
        todo = [o for o in outs if o.ok and applies(o)]
        if not todo:
            return
        results = self.backend.generate([build(o) for o in todo], self._sampling(rng))
        for o, c in zip(todo, results, strict=True):
            if c.error:
                o.fail("generator_error", c.error)
                continue
            try:
                handle(o, c.text)
            except Exception as e:  # an agent output we could not use: reject with the reason, never crash
                o.fail("agent_output", f"{type(e).__name__}: {e}", c.text)

    def run(self, drafts: Sequence[Draft], rng: random.Random) -> list[Outcome]:
        outs = [Outcome(d, key=draft_key(d)) for d in drafts]
        self._step(outs, rng, lambda o: bool(_planned(o.draft)), self._planner_request, self._planner_handle)
        self._step(
            outs, rng, lambda o: o.draft.pattern == "multi_turn", self._tool_request, self._tool_handle
        )
        self._step(outs, rng, lambda o: True, self._user_request, self._user_handle)
        two = lambda o: o.draft.pattern == "multi_turn" and o.draft.turns == 2  # noqa: E731
        self._step(outs, rng, two, self._assistant_request, self._summary_handle)
        self._step(outs, rng, two, self._user2_request, self._user2_handle)
        self._step(outs, rng, lambda o: True, self._assistant_request, self._final_handle)
        return outs

    # Planner ------------------------------------------------------------------------------------------------

    def _planner_request(self, o: Outcome) -> Request:
        d = o.draft
        calls = _planned(d)
        apis = list(dict.fromkeys(c.api for c in calls))
        note = ""
        if d.pattern == "missing_arg" and d.main is not None and d.missing:
            p = d.main.param(d.missing)
            note = f"the call deliberately lacks the argument {p.prop if p else d.missing}; keep it absent"
        if d.pattern == "multi_turn":
            cons = d.calls[0].api
            idp = cons.param(cons.leaf.id_slot or "")
            note = (
                f"the second call's {idp.prop if idp else 'id'} stands for an id the first call returns; "
                "keep it exactly as drafted; arguments both calls share should keep the same values"
            )
        return Request.chat(
            prompts.planner_messages(d.pattern, [a.tool for a in apis], [c.label() for c in calls], note),
            key=o.key,
        )

    def _planner_handle(self, o: Outcome, text: str) -> None:
        d = o.draft
        calls = _planned(d)
        obj, err = json_value(text)
        if err or not isinstance(obj, dict) or not isinstance(obj.get("calls"), list):
            return o.fail("planner_output", err or 'expected {"calls": [...]}', text)
        got = obj["calls"]
        if len(got) != len(calls) or any(not isinstance(g, dict) for g in got):
            return o.fail("planner_output", f"expected {len(calls)} calls, got {len(got)}", text)
        tools = [c.api.tool for c in calls]
        new_values = []
        for c, g in zip(calls, got, strict=True):
            if g.get("name") != c.api.name or not isinstance(g.get("arguments"), dict):
                return o.fail("planner_output", f"expected a call of {c.api.name}", text)
            if d.pattern == "multi_turn" and c is not d.producer:
                keep = c.api.param(c.api.leaf.id_slot or "")
                if keep is None or g["arguments"].get(keep.prop) != c.label()["arguments"].get(keep.prop):
                    return o.fail("planner_output", "the follow-up call's id must stay as drafted", text)
            errs = validate_calls([{"name": g["name"], "arguments": g["arguments"]}], tools)
            if d.pattern == "missing_arg" and d.main is not None:
                miss = d.main.param(d.missing or "")
                if miss and miss.prop in g["arguments"]:
                    return o.fail("planner_output", f"the missing argument {miss.prop} was filled in", text)
                errs = [e for e in errs if not (miss and f"'{miss.prop}'" in e and "missing required" in e)]
            if errs:
                return o.fail("planner_output", "; ".join(errs[:3]), text)
            new_values.append(c.api.values_from(g["arguments"]))
        if d.pattern == "parallel" and len({json.dumps(v, sort_keys=True) for v in new_values}) < len(
            new_values
        ):
            return o.fail("planner_output", "two parallel calls became identical", text)
        for c, v in zip(calls, new_values, strict=True):
            c.values = v
        if d.pattern == "missing_arg":
            d.missing_values = new_values[0]
        if d.pattern == "multi_turn" and d.producer is not None:
            for s in d.carried:  # the follow-up reuses what the user said first
                if s in d.producer.values:
                    d.calls[0].values[s] = d.producer.values[s]
                else:
                    d.calls[0].values.pop(s, None)
        return None

    # Tool ---------------------------------------------------------------------------------------------------

    def _tool_request(self, o: Outcome) -> Request:
        d = o.draft
        assert d.producer is not None
        prop = d.producer.api.record({d.producer.api.leaf.id_slot: None})
        key = next(iter(prop))
        ids = [r[d.producer.api.leaf.id_slot] for r in d.records]
        must = {key: ids[0]} if len(ids) == 1 else {f"records with {key}": ids}
        return Request.chat(prompts.tool_messages(d.producer.api.tool, d.producer.label(), must), key=o.key)

    def _tool_handle(self, o: Outcome, text: str) -> None:
        d = o.draft
        assert d.producer is not None
        obj, err = json_value(text)
        if err or not isinstance(obj, (dict, list)):
            return o.fail("tool_output", err or "expected a JSON object", text)
        cons = d.calls[0]
        pattern = re.compile(id_pattern(slot_prefix(cons.api)).strip("^$"))
        found: list[str] = []
        for v in re.findall(r'"([^"]*)"', json.dumps(obj)):
            if pattern.fullmatch(v) and v not in found:
                found.append(v)
        if not found:
            return o.fail("tool_output", f"the result carries no {cons.api.leaf.entity} id", text)
        d.result = obj
        d.records = [{d.producer.api.leaf.id_slot: x} for x in found]
        d.ref_index = min(d.ref_index, len(found) - 1) if d.turns > 1 else 0
        cons.values[cons.api.leaf.id_slot] = found[d.ref_index]
        return None

    # User ---------------------------------------------------------------------------------------------------

    def _user_request(self, o: Outcome) -> Request:
        d = o.draft
        rng = random.Random(d.capability)
        if d.pattern in ("single", "distractor"):
            c = d.calls[0]
            msgs = prompts.user_messages(_goal(c.api, rng), _value_lines(c.api, c.values))
        elif d.pattern == "parallel":
            goal = "; ".join(f"({i + 1}) {_goal(c.api, rng)}" for i, c in enumerate(d.calls))
            vals = [
                (f"request {i + 1}, {desc}", v)
                for i, c in enumerate(d.calls)
                for desc, v in _value_lines(c.api, c.values)
            ]
            msgs = prompts.user_messages("all of these in one message: " + goal, vals)
        elif d.pattern == "missing_arg":
            assert d.main is not None
            miss = d.main.param(d.missing or "")
            msgs = prompts.user_messages(
                _goal(d.main, rng),
                _value_lines(d.main, d.missing_values),
                avoid=[miss.slot.desc if miss else str(d.missing)],
            )
        elif d.pattern == "irrelevant":
            assert d.requested is not None
            msgs = prompts.user_messages(
                _goal(d.requested.api, rng), _value_lines(d.requested.api, d.requested.values)
            )
        else:  # multi_turn
            assert d.producer is not None
            p, c = d.producer, d.calls[0]
            if d.turns == 1:
                goal = f"{_goal(p.api, rng)}, and then {_goal(c.api, rng, 'the first result')}"
                vals = _value_lines(p.api, p.values) + _value_lines(
                    c.api, c.values, skip=(c.api.leaf.id_slot, *d.carried)
                )
                msgs = prompts.user_messages(goal, vals, refer_to="the first result")
            else:
                msgs = prompts.user_messages(_goal(p.api, rng), _value_lines(p.api, p.values))
        return Request.chat(msgs, key=o.key)

    def _user_handle(self, o: Outcome, text: str) -> None:
        d = o.draft
        msg, err = strict_text(text)
        if err:
            return o.fail("user_output", err, text)
        d.messages = [{"role": "user", "content": msg}]
        if d.pattern == "multi_turn" and d.producer is not None:
            d.messages += [tool_call_message([d.producer]), tool_message(d.producer.api, d.result)]
        return None

    def _user2_request(self, o: Outcome) -> Request:
        d = o.draft
        c = d.calls[0]
        ref = f"the {ORDINALS[min(d.ref_index, 3)]} one"
        history = "\n".join(
            f"{m['role']}: {m.get('content') or ''}" for m in d.messages if m["role"] != "tool"
        )
        msgs = prompts.user_messages(
            _goal(c.api, random.Random(d.capability), ref),
            _value_lines(c.api, c.values, skip=(c.api.leaf.id_slot, *d.carried)),
            refer_to=ref,
            history=history,
        )
        return Request.chat(msgs, key=o.key)

    def _user2_handle(self, o: Outcome, text: str) -> None:
        msg, err = strict_text(text)
        if err:
            return o.fail("user_output", err, text)
        o.draft.messages.append({"role": "user", "content": msg})
        return None

    # Assistant ----------------------------------------------------------------------------------------------

    def _assistant_request(self, o: Outcome) -> Request:
        d = o.draft
        return Request.chat(d.messages, [a.tool for a in d.tools], key=o.key)

    def _summary_handle(self, o: Outcome, text: str) -> None:
        p = parse(text)
        if p.error or p.calls or not p.content.strip():
            return o.fail("assistant_output", "expected a text summary of the tool result", text)
        o.draft.messages.append({"role": "assistant", "content": p.content.strip()})
        return None

    def _final_handle(self, o: Outcome, text: str) -> None:
        d = o.draft
        p = parse(text)
        if p.error:
            return o.fail("assistant_output", p.error, text)
        tools = [a.tool for a in d.tools]
        if d.pattern in ("missing_arg", "irrelevant"):
            if p.calls or not p.content.strip():
                return o.fail("assistant_mismatch", f"{d.pattern}: expected a text reply, not a call", text)
            d.label, d.reply = [], p.content.strip()
            return None
        label = p.label() or []
        planned = [c.label() for c in d.calls]
        if not tool_match(label, planned, tools):
            return o.fail("assistant_mismatch", f"planned {json.dumps(planned)}", text)
        d.label, d.reply = label, None
        return None


def draft_key(d: Draft) -> str:
    """A stable handle of a draft, the same for all its agent requests (tests and caches key on it)."""
    planned = [c.label() for c in _planned(d)]
    return jsonutil.digest([d.pattern, [a.name for a in d.tools], planned, d.turns, d.missing], 16)


def slot_prefix(api: Api) -> str:
    p = api.param(api.leaf.id_slot or "")
    return p.slot.prefix if p else ""
