"""The procedural agents: User, Assistant and Tool written as templates (the embedded default, no model).

The User agent phrases a request from the capability's intents and the slot phrases of its argument values
(values written the way people write them: "March 3rd, 2025", "3:30 pm", "euros"); the Assistant agent
writes the tool calls, the summary of a tool result, the clarifying question of a ``missing_arg`` sample and
the refusal of an ``irrelevant`` one; the Tool agent returns the result the planner simulated. Variety comes
from many openers, phrase orders, sentence splits and value renderings; every rendering is one the
grounding check of :mod:`looptool.checks` can read back.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from looptool.checks.surface import kind_of, write
from looptool.synth.apis import Api
from looptool.synth.planner import Call, Draft
from looptool.synth.slots import Slot, param_slot

OPEN_QUESTION = (
    "Can you {i}",
    "Could you {i}",
    "Hey, can you {i}",
    "Hi! Could you please {i}",
    "Would you {i}",
    "Can you please {i}",
    "Is it possible to {i}",
)
OPEN_STATEMENT = (
    "Please {i}",
    "I need to {i}",
    "I'd like to {i}",
    "Help me {i}",
    "I want to {i}",
    "{I}",
    "I'm trying to {i}",
    "I have to {i}",
)
OPEN_TO_YOU = ("Please {i}", "{I}", "Please {i}", "{I}")
_ME = re.compile(r"\bme\b")
_A_AN = re.compile(r"(^|\s)a ([aeiouAEIOU])")
EXTRA = ("Also {p}.", "Oh, and {p}.", "{P}, please.", "And {p}.")
THANKS = ("", "", "", " Thanks!", " Thank you.", " Thanks in advance.")
ACK = ("Great.", "Thanks!", "Perfect.", "Nice.", "OK.", "Looks good.", "Thanks, that helps.")
ORDINALS = ("first", "second", "third", "fourth")
ANSWER_ACK = ("Sure!", "Happy to help.", "I can do that.", "Of course.", "Sure thing.")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def join_items(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _value_text(s: Slot, value: Any, rng: random.Random, schema: dict[str, Any] | None = None) -> str:
    kind = kind_of(schema) if schema else s.kind
    if s.kind == "array":
        from looptool.synth.slots import slot

        item = slot(s.item or "tag_word")
        return join_items([_value_text(item, v, rng) for v in value])
    return write(kind, value, rng)


def mention(s: Slot, value: Any, rng: random.Random) -> str:
    """How a user says argument ``s`` = ``value`` (a phrase to attach after the intent)."""
    if s.kind == "boolean":
        return rng.choice(s.yes if value else s.no)
    if s.kind == "object":
        template = rng.choice(s.say)
        parts: dict[str, str] = {}
        for f in s.fields:
            sub, _ = param_slot(f)
            if sub.name in value:
                parts[sub.name] = _value_text(sub, value[sub.name], rng)
        used = {k for k in parts if "{" + k + "}" in template}
        missing_in_template = [
            k for k in (f.lstrip("?") for f in s.fields) if "{" + k + "}" in template and k not in parts
        ]
        if missing_in_template:  # an optional field the template names but the value lacks
            template = rng.choice(
                [t for t in s.say if not any("{" + k + "}" in t for k in missing_in_template)] or ["{street}"]
            )
            used = {k for k in parts if "{" + k + "}" in template}
        text = template.format(**{k: parts.get(k, "") for k in (f.lstrip("?") for f in s.fields)})
        rest = [parts[k] for k in parts if k not in used]
        return text + (", " + ", ".join(rest) if rest else "")
    return rng.choice(s.say).format(v=_value_text(s, value, rng))


def _attach(text: str, phrase: str, sep: str) -> str:
    if phrase.startswith((":", ",")):
        return text + phrase
    if phrase.startswith(("- ", "(")):
        return text + " " + phrase
    return text + sep + phrase


@dataclass(frozen=True)
class Phrase:
    """A value mention; optional ones may move to their own sentence, flags attach after a comma."""

    text: str
    required: bool = True
    flag: bool = False

    @property
    def movable(self) -> bool:
        return not self.required and not self.text.startswith((":", ",", "- ", "("))


def _inline(text: str, phrases: list[Phrase], rng: random.Random) -> str:
    for j, p in enumerate(phrases):
        sep = ", " if p.flag or (j >= 2 and rng.random() < 0.6) else " "
        text = _attach(text, p.text, sep)
    return text


def compose(intent: str, phrases: list[Phrase], rng: random.Random, thanks: bool = True) -> str:
    """One user request: an opener around the intent, the required values inline, some optional ones as
    short extra sentences."""
    question = rng.random() < 0.55
    # "show me ..." is asked of the assistant: "I'd like to show me" would be wrong
    statements = OPEN_TO_YOU if _ME.search(intent) else OPEN_STATEMENT
    opener = rng.choice(OPEN_QUESTION if question else statements)
    text = opener.format(i=intent, I=_cap(intent))
    inline = [p for p in phrases if not p.movable]
    extra = []
    for p in phrases:
        if p.movable:
            (extra if rng.random() < 0.4 else inline).append(p)
    inline.sort(key=phrases.index)
    text = _inline(text, inline, rng)
    text += "?" if question else "."
    for p in extra:
        text += " " + rng.choice(EXTRA).format(p=p.text, P=_cap(p.text))
    return text + (rng.choice(THANKS) if thanks else "")


def clause(intent: str, phrases: list[Phrase], rng: random.Random) -> str:
    """Intent and every phrase in one clause (for second requests in a turn)."""
    return _inline(intent, phrases, rng)


def entity_ref(api: Api, value: Any, rng: random.Random) -> str:
    entity = api.leaf.entity
    return rng.choice((f"{entity} {value}", f"{entity} {value}", f"the {entity} {value}", f"{value}"))


def intent_text(api: Api, rng: random.Random, x: str | None) -> str:
    """An intent of the API's capability with ``{x}`` (the entity it acts on) filled in."""
    intent = rng.choice(api.leaf.intents)
    if "{x}" in intent:
        intent = intent.replace("{x}", x if x is not None else f"a {api.leaf.entity}")
    return _A_AN.sub(r"\1an \2", intent)


def request_parts(
    call_api: Api,
    values: dict[str, Any],
    rng: random.Random,
    x: str | None = None,
    skip: tuple[str, ...] = (),
) -> tuple[str, list[Phrase]]:
    """(intent, phrases) for a request of ``values``; the consumed id goes into the intent as ``{x}``."""
    leaf = call_api.leaf
    id_slot = leaf.id_slot if leaf.consumes else None
    if x is None and id_slot and id_slot in values:
        x = entity_ref(call_api, values[id_slot], rng)
    elif x is None and id_slot:
        x = rng.choice((f"my {leaf.entity}", f"a {leaf.entity}", f"the {leaf.entity}"))
    intent = intent_text(call_api, rng, x)
    phrases = []
    for name, v in values.items():
        if name == id_slot or name in skip:
            continue
        p = call_api.param(name)
        if p is None:
            continue
        phrases.append(Phrase(mention(p.slot, v, rng), p.required, p.slot.kind == "boolean"))
    return intent, phrases


def tool_call_message(calls: list[Call]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"type": "function", "function": c.label()} for c in calls],
    }


def tool_message(api: Api, result: Any) -> dict[str, Any]:
    return {"role": "tool", "name": api.name, "content": json.dumps(result, ensure_ascii=False)}


def ordinal_ref(index: int, n: int, rng: random.Random, before_result: bool = False) -> str:
    if before_result:
        return rng.choice(("the first result", "the top result", "the first one you find"))
    opts = [f"the {ORDINALS[index]} one", f"the {ORDINALS[index]} option", f"option {index + 1}"]
    if index == n - 1 and n > 1:
        opts.append("the last one")
    return rng.choice(opts)


def summary(draft: Draft, rng: random.Random) -> str:
    """The assistant's reply to a producer's tool result (what the user picks from)."""
    prod = draft.producer
    assert prod is not None
    leaf = prod.api.leaf
    id_slot = leaf.id_slot or ""
    if len(draft.records) == 1 and leaf.action == "create":
        rid = draft.records[0][id_slot]
        return rng.choice(
            (
                f"Done! The {leaf.entity} is confirmed with ID {rid}.",
                f"All set: your {leaf.entity} {rid} has been created.",
                f"Created. The new {leaf.entity} ID is {rid}.",
            )
        )
    lines = []
    for i, rec in enumerate(draft.records):
        details = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in rec.items() if k != id_slot)
        lines.append(f"{i + 1}. {rec[id_slot]} ({details})" if details else f"{i + 1}. {rec[id_slot]}")
    head = rng.choice(
        (
            f"I found {len(lines)} {leaf.entity} options:",
            f"Here are {len(lines)} results:",
            f"There are {len(lines)} matches:",
        )
    )
    tail = rng.choice(("Which one would you like?", "Let me know which one you want.", ""))
    return head + "\n" + "\n".join(lines) + ("\n" + tail if tail else "")


def ask_question(api: Api, slot_name: str, rng: random.Random) -> str:
    """The clarifying question for a missing required value."""
    p = api.param(slot_name)
    assert p is not None
    s = p.slot
    kind = kind_of(p.schema)
    what = s.desc[:1].lower() + s.desc[1:]
    if kind == "string:id":
        q = rng.choice(
            (
                f"Which {s.entity} do you mean? Please give me its ID.",
                f"Could you tell me the ID of the {s.entity}?",
            )
        )
    elif kind == "string:email":
        q = rng.choice(("What email address should I use?", "Which email address should I use for this?"))
    elif s.pool == "person":
        q = rng.choice(("What name should I put it under?", f"Could you tell me the {what}?"))
    elif kind == "string:date":
        q = rng.choice((f"What {what} would you like?", f"Which date should I use for the {what}?"))
    elif kind == "string:time":
        q = rng.choice((f"What {what} works for you?", "What time should I use?"))
    else:
        q = rng.choice(
            (
                f"Could you tell me the {what}?",
                f"What {what} should I use?",
                f"I just need the {what} first - what should it be?",
            )
        )
    return rng.choice(ANSWER_ACK) + " " + q


def refusal(draft: Draft, rng: random.Random) -> str:
    """The polite refusal when no offered tool can do what the user asks."""
    req = draft.requested
    assert req is not None
    wanted = _as_assistant(intent_text(req.api, rng, f"the {req.api.leaf.entity}"))
    can = [_as_assistant(intent_text(a, rng, f"a {a.leaf.entity}")) for a in draft.tools[:3]]
    offer = (" I can " + join_items(can) + ", though.") if can and rng.random() < 0.7 else ""
    return (
        rng.choice(
            (
                f"Sorry, I can't {wanted} with the tools I have.",
                f"I'm afraid none of my tools can {wanted}.",
                f"Unfortunately I don't have a way to {wanted}.",
            )
        )
        + offer
    )


def _as_assistant(intent: str) -> str:
    """A user's intent in the assistant's mouth: "tell me where to vote" -> "tell you where to vote"."""
    return re.sub(r"\bI\b", "you", re.sub(r"\bmy\b", "your", _ME.sub("you", intent)))


# --- the whole conversation ------------------------------------------------------------------------------


def realize(draft: Draft, rng: random.Random) -> None:
    """Write the conversation of a draft with the template agents (fills messages, label, reply)."""
    p = draft.pattern
    if p in ("single", "distractor"):
        intent, phrases = request_parts(draft.calls[0].api, draft.calls[0].values, rng)
        draft.messages = [{"role": "user", "content": compose(intent, phrases, rng)}]
    elif p == "parallel":
        draft.messages = [{"role": "user", "content": _parallel_request(draft, rng)}]
    elif p == "multi_turn":
        _multi_turn(draft, rng)
    elif p == "missing_arg":
        api = draft.main
        intent, phrases = request_parts(api, draft.missing_values, rng)
        draft.messages = [{"role": "user", "content": compose(intent, phrases, rng)}]
        draft.reply = ask_question(api, draft.missing or "", rng)
    elif p == "irrelevant":
        req = draft.requested
        assert req is not None
        intent, phrases = request_parts(req.api, req.values, rng)
        draft.messages = [{"role": "user", "content": compose(intent, phrases, rng)}]
        draft.reply = refusal(draft, rng)
    else:
        raise ValueError(f"unknown pattern {p!r}")
    draft.label = [c.label() for c in draft.calls]


def _parallel_request(draft: Draft, rng: random.Random) -> str:
    first = draft.calls[0]
    intent, phrases = request_parts(first.api, first.values, rng)
    text = compose(intent, phrases, rng, thanks=False)
    if draft.parallel_mode == "same":
        for c in draft.calls[1:]:
            vary = [n for n in c.values if c.values.get(n) != first.values.get(n)]
            bits = []
            for n in vary:
                if n not in c.values:
                    continue
                if c.api.leaf.consumes and n == c.api.leaf.id_slot:
                    bits.append("for " + entity_ref(c.api, c.values[n], rng))
                else:
                    bits.append(mention(c.api.param(n).slot, c.values[n], rng).lstrip(":- "))
            lead = rng.choice(
                (
                    "And the same {b}.",
                    "Then do the same {b}.",
                    "Also {b}, please.",
                    "Can you do that {b} too?",
                )
            )
            text += " " + lead.format(b=" ".join(bits))
    else:
        for c in draft.calls[1:]:
            intent, phrases = request_parts(c.api, c.values, rng)
            lead = rng.choice(
                (
                    "Also, {c}.",
                    "And please {c}.",
                    "Then {c}.",
                    "On top of that, {c}.",
                    "I also need you to {c}.",
                )
            )
            text += " " + lead.format(c=clause(intent, phrases, rng))
    return text + rng.choice(THANKS)


def _multi_turn(draft: Draft, rng: random.Random) -> None:
    prod, cons = draft.producer, draft.calls[0]
    assert prod is not None
    entity = prod.api.leaf.entity
    single_record = len(draft.records) == 1
    intent_p, phrases_p = request_parts(prod.api, prod.values, rng)
    skip = (cons.api.leaf.id_slot or "", *draft.carried)
    call_msg = tool_call_message([prod])
    tool_msg = tool_message(prod.api, draft.result)
    if draft.turns == 1:
        ref = (
            rng.choice((f"that {entity}", f"the new {entity}"))
            if single_record
            else ordinal_ref(0, len(draft.records), rng, before_result=True)
        )
        intent_c, phrases_c = request_parts(cons.api, cons.values, rng, x=ref, skip=skip)
        first = compose(intent_p, phrases_p, rng, thanks=False)
        join = rng.choice((" Then {c}.", " After that, {c}.", " Once you have it, {c}.", " And then {c}."))
        draft.messages = [
            {"role": "user", "content": first + join.format(c=clause(intent_c, phrases_c, rng))},
            call_msg,
            tool_msg,
        ]
        return
    ref = (
        rng.choice((f"that {entity}", f"the new {entity}", f"the {entity} you just created"))
        if single_record
        else ordinal_ref(draft.ref_index, len(draft.records), rng)
    )
    intent_c, phrases_c = request_parts(cons.api, cons.values, rng, x=ref, skip=skip)
    draft.messages = [
        {"role": "user", "content": compose(intent_p, phrases_p, rng)},
        call_msg,
        tool_msg,
        {"role": "assistant", "content": summary(draft, rng)},
        {"role": "user", "content": rng.choice(ACK) + " " + compose(intent_c, phrases_c, rng)},
    ]
