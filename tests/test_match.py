"""ToolMatch: the binary reward."""

from __future__ import annotations

import json

import pytest

from looptool.calls import Call, parse
from looptool.match import canonical_calls, tool_match

TOOLS = [
    {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {
                "n": {"type": "number"},
                "i": {"type": "integer"},
                "s": {"type": "string"},
                "b": {"type": "boolean"},
                "xs": {"type": "array", "items": {"type": "number"}},
                "o": {"type": "object", "properties": {"k": {"type": "integer"}, "t": {"type": "string"}}},
                "u": {"type": ["integer", "null"]},
            },
        },
    },
    {"name": "g", "parameters": {"type": "object", "properties": {"s": {"type": "string"}}}},
]


def F(**kw):
    return {"name": "f", "arguments": kw}


def G(**kw):
    return {"name": "g", "arguments": kw}


@pytest.mark.parametrize(
    ("pred", "label", "expected"),
    [
        ([F(n=1)], [F(n=1.0)], True),  # number parameter: 1 == 1.0
        ([F(i=2.0)], [F(i=2)], True),  # integer parameter compares numerically too
        ([F(s="5")], [F(s=5)], False),  # "5" != 5
        ([F(n="5")], [F(n=5)], False),
        ([F(b=True)], [F(b=1)], False),  # True != 1
        ([F(n=True)], [F(n=1)], False),  # even for a number parameter
        ([F(s="Paris")], [F(s="paris")], False),  # exact strings
        ([F(n=1), G(s="x")], [G(s="x"), F(n=1.0)], True),  # order-insensitive across calls
        ([F(n=1), F(n=1)], [F(n=1)], False),  # call count
        ([F(n=1), F(n=2)], [F(n=2), F(n=2)], False),  # multiset, not set
        ([F(n=1)], [F(n=1, s="x")], False),  # missing argument
        ([F(n=1, s="x")], [F(n=1)], False),  # extra argument
        ([G(s="x")], [F(s="x")], False),  # name
        ([F(xs=[1, 2])], [F(xs=[1.0, 2.0])], True),  # array items are numbers
        ([F(xs=[2, 1])], [F(xs=[1, 2])], False),  # arrays are ordered
        ([F(o={"k": 1, "t": "a"})], [F(o={"t": "a", "k": 1.0})], True),  # nested object, key order free
        ([F(o={"k": 1})], [F(o={"k": 1, "t": "a"})], False),
        ([F(u=3.0)], [F(u=3)], True),  # type list containing integer
        ([F(u=None)], [F(u=None)], True),
        ([], [], True),  # [] label matches no call
        ([F(n=1)], [], False),
        ([], [F(n=1)], False),
    ],
)
def test_tool_match(pred, label, expected):
    assert tool_match(pred, label, TOOLS) is expected
    assert tool_match(pred, json.dumps(label), json.dumps(TOOLS)) is expected


def test_without_schema_numbers_are_typed():
    assert tool_match([F(z=1)], [F(z=1)]) is True
    assert tool_match([F(z=1)], [F(z=1.0)]) is False  # unknown parameter: no numeric unification
    assert tool_match([F(z=1)], [F(z=1.0)], TOOLS) is False  # z is not in the schema


def test_parsed_predictions():
    assert tool_match(parse('<tool_call>{"name":"f","arguments":{"n":1}}</tool_call>'), [F(n=1.0)], TOOLS)
    assert tool_match(parse("The answer is 4."), [], TOOLS)
    assert not tool_match(parse('<tool_call>{"name":"f"'), [], TOOLS)  # a broken call is not "no call"
    assert not tool_match(None, [], TOOLS)
    assert tool_match([Call("f", {"n": 2})], [F(n=2)], TOOLS)


def test_canonical_calls_counts():
    c = canonical_calls([F(n=1), F(n=1.0)], TOOLS)
    assert sum(c.values()) == 2 and len(c) == 1


def test_fast_path_agrees_with_canonical_forms():
    """tool_match's short-circuit comparison is the same relation as comparing canonical multisets."""
    import random

    rng = random.Random(0)
    values = [
        1,
        1.0,
        2,
        "1",
        True,
        False,
        None,
        [1, 2],
        [2, 1],
        [1.0, 2.0],
        {"k": 1},
        {"k": 1.0},
        {"t": "a"},
        "a",
    ]
    names = ["f", "g"]
    for _ in range(3000):

        def call():
            keys = rng.sample(["n", "i", "s", "b", "xs", "o", "u", "z"], rng.randint(0, 3))
            return {"name": rng.choice(names), "arguments": {k: rng.choice(values) for k in keys}}

        a = [call() for _ in range(rng.randint(0, 3))]
        b = json.loads(json.dumps(a)) if rng.random() < 0.3 else [call() for _ in range(len(a))]
        rng.shuffle(b)
        assert tool_match(a, b, TOOLS) == (canonical_calls(a, TOOLS) == canonical_calls(b, TOOLS)), (a, b)


# --- partial credit (looptool.match.partial) -------------------------------------------------------------------


def test_partial_doctests():
    import doctest

    import looptool.match.partial as partial

    result = doctest.testmod(partial)
    assert result.attempted >= 6 and result.failed == 0


def test_partial_credit_is_full_exactly_when_toolmatch_accepts():
    """score == 1.0 iff ToolMatch, on the ToolMatch cases above and on random call lists."""
    import random

    from looptool.match.partial import credit

    rng = random.Random(1)
    values = [1, 1.0, 2, "1", True, None, [1, 2], [2, 1], {"k": 1}, {"k": 1.0}, "a"]

    def call():
        keys = rng.sample(["n", "i", "s", "b", "xs", "o", "z"], rng.randint(0, 3))
        return {"name": rng.choice(["f", "g"]), "arguments": {k: rng.choice(values) for k in keys}}

    for _ in range(2000):
        a = [call() for _ in range(rng.randint(0, 3))]
        b = json.loads(json.dumps(a)) if rng.random() < 0.3 else [call() for _ in range(rng.randint(0, 3))]
        rng.shuffle(b)
        c, exact = credit(a, b, TOOLS), tool_match(a, b, TOOLS)
        assert 0.0 <= c.score <= 1.0 and 0.0 <= c.arg_f1 <= 1.0
        assert (c.score == 1.0) is exact, (a, b, c)
        if exact:
            assert c.names and c.arg_f1 == 1.0
        if not b:  # a no-call label: exactly the binary ToolMatch, every figure
            assert c == ((1.0, True, 1.0) if exact else (0.0, False, 0.0)), (a, c)
        assert c.names is (sorted(x["name"] for x in a) == sorted(x["name"] for x in b)) or not b


def test_partial_credit_orders_answers_and_pairs_parallel_calls_optimally():
    from looptool.match.partial import credit

    label = [F(n=1, s="a"), F(n=2, s="b")]
    # the right calls in another order are exact; one wrong value costs less than a wrong call
    assert credit([F(n=2, s="b"), F(n=1, s="a")], label, TOOLS).score == 1.0
    one_wrong = credit([F(n=2, s="b"), F(n=1, s="x")], label, TOOLS)
    assert one_wrong == (round(6 / 7, 4), True, 0.75)  # (1 + (1+2) + (1+1)) / (1 + 3 + 3); F1 3/4
    missing = credit([F(n=1, s="a")], label, TOOLS)
    assert missing.score < one_wrong.score and not missing.names
    # the pairing maximises the credit whatever the label's order (ToolRL pairs greedily in label order)
    crossed = [F(n=1, s="b"), F(n=2, s="a")]
    assert credit(crossed, label, TOOLS) == credit(crossed, list(reversed(label)), TOOLS)
    # ToolMatch's typed rules: no credit for "5" against 5 or a reordered list
    assert credit([F(s="5")], [F(s=5)], TOOLS).arg_f1 == 0.0
    assert credit([F(xs=[2, 1])], [F(xs=[1, 2])], TOOLS).score == 0.6667  # (1 + 1 + 0) / (1 + (1 + 1))
    assert credit([F(n=1.0)], [F(n=1)], TOOLS).score == 1.0


def test_partial_credit_of_unparseable_and_text_answers():
    from looptool.match.partial import credit

    broken = parse('<tool_call>{"name":"f"')
    assert credit(broken, [F(n=1)], TOOLS) == (0.0, False, 0.0)
    assert credit(broken, [], TOOLS) == (0.0, False, 0.0)  # a broken call is not "no call"
    assert credit(parse("It is sunny."), [F(n=1)], TOOLS) == (0.0, False, 0.0)
    assert credit(parse("It is sunny."), "[]", json.dumps(TOOLS)) == (1.0, True, 1.0)
    # label and tools as JSON text, as the training columns hold them
    assert credit([F(n=1, s="x")], json.dumps([F(n=1, s="a")]), json.dumps(TOOLS)).score == 0.75
