"""BFCL answer checker against every possible answer the bfcl-eval package ships (``BFCL_v4_*`` files; the
version ``make install`` pins).

For every entry of every ``possible_answer`` file, the answer built from the possible answer (first acceptable
value of each parameter; and again with every optional parameter left out) must pass, and mutations must fail:
a required argument dropped, an argument of the wrong type, an unknown extra argument, a wrong function name,
swapped parallel calls when order is enforced (the order-free checker must still accept the swap), and swapped
elements of an ordered array argument.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

from looptool.calls import Call, parse
from looptool.evaluate import bfcl as bfcl_data
from looptool.match import bfcl

CATEGORIES = (
    "simple",
    "multiple",
    "parallel",
    "parallel_multiple",
    "java",
    "javascript",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)
# How many entries each file of bfcl-eval 2025.12.17 has: a short file would mean a broken install.
EXPECTED_ENTRIES = {
    "simple": 400,
    "multiple": 200,
    "parallel": 200,
    "parallel_multiple": 200,
    "java": 100,
    "javascript": 50,
    "live_simple": 258,
    "live_multiple": 1053,
    "live_parallel": 16,
    "live_parallel_multiple": 24,
}
_MISSING = object()

# Entries whose possible answer BFCL's own checker rejects whatever the model says (data quirks of the
# package's release, checked here so a change is noticed): id -> (error_type, why).
BFCL_UNANSWERABLE = {
    "simple_java_36": (
        "value_error:list/tuple",
        "ArrayList of 'any': BFCL converts every element to a string",
    ),
    "simple_java_65": (
        "value_error:list/tuple",
        "ArrayList of 'any': BFCL converts every element to a string",
    ),
    "simple_java_64": (
        "value_error:dict_value",
        "HashMap answer value is a bare string, iterated as characters",
    ),
    "live_simple_106-63-0": (
        "simple_function_checker:missing_required",
        "required parameters with no acceptable value",
    ),
    "live_simple_112-68-0": (
        "simple_function_checker:missing_required",
        "required parameters with no acceptable value",
    ),
    "live_multiple_862-181-3": (
        "simple_function_checker:unexpected_param",
        "answer names a parameter the doc lacks",
    ),
    "live_multiple_964-207-0": (
        "simple_function_checker:missing_required",
        "answer names 'question', doc 'statement'",
    ),
}


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _load(root: Path, category: str) -> list[tuple[dict, dict]]:
    questions = {e["id"]: e for e in _read_jsonl(bfcl_data.category_file(root, category))}
    answers = _read_jsonl(bfcl_data.category_file(root, category, answers=True))
    return [(questions[a["id"]], a) for a in answers]


def _is_simple(category: str) -> bool:
    return "parallel" not in category and "multiple" not in category


def _first(values: list, omit_optional: bool):
    if omit_optional and "" in values:
        return _MISSING
    for v in values:
        if v != "":
            return v
    return _MISSING


def _materialize_dict(d: dict, omit_optional: bool) -> dict:
    """A possible-answer dict ``{key: [acceptable...]}`` as one concrete dict (BFCL checks one level)."""
    out = {}
    for k, vals in d.items():
        v = _first(vals, omit_optional) if isinstance(vals, list) else vals
        if v is not _MISSING:
            out[k] = v
    return out


def _python_value(v, schema: dict, omit_optional: bool):
    t = schema.get("type")
    if t == "dict" and isinstance(v, dict):
        return _materialize_dict(v, omit_optional)
    items = schema.get("items") or {}
    if (
        t == "array"
        and items.get("type") == "dict"
        and isinstance(v, list)
        and all(isinstance(x, dict) for x in v)
    ):
        return [_materialize_dict(x, omit_optional) for x in v]
    return copy.deepcopy(v)


# --- Java / JavaScript: the gold value written as that language's source text -----------------------------


def _java_literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _java_value(v, schema: dict, omit_optional: bool) -> str:
    t = schema.get("type")
    nested = (schema.get("items") or {}).get("type")
    if isinstance(v, str):  # a variable name or text: given as it is
        return v
    if t in ("integer", "short", "byte"):
        return str(v)
    if t == "long":
        return f"{v}L"
    if t == "float":
        return f"{v}f"
    if t in ("double", "any"):
        return _java_literal(v) if isinstance(v, bool) else str(v)
    if t == "boolean":
        return "true" if v else "false"
    if t == "Array":
        elem = {"integer": "int", "long": "long", "float": "float", "double": "double"}.get(nested, "String")
        # BFCL's Array parser keeps the quotes of String elements (its ArrayList parser strips them), so String
        # elements are written bare to be read back as the gold strings.
        parts = [str(x) if nested in ("String", "char") else _java_literal(x) for x in v]
        suffix = {"long": "L", "float": "f"}.get(nested, "")
        return f"new {elem}[]{{{', '.join(p + suffix if suffix else p for p in parts)}}}"
    if t == "ArrayList":
        suffix = {"long": "L", "float": "f"}.get(nested, "")
        parts = [_java_literal(x) + (suffix if not isinstance(x, str) else "") for x in v]
        return f"new ArrayList<>(Arrays.asList({', '.join(parts)}))"
    if t == "HashMap":
        d = _materialize_dict(v, omit_optional) if isinstance(v, dict) else v
        puts = " ".join(f'put("{k}", {_java_literal(x)});' for k, x in d.items())
        return f"new HashMap<String, Object>() {{{{ {puts} }}}}"
    return str(v)


def _js_literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _js_value(v, schema: dict, omit_optional: bool) -> str:
    t = schema.get("type")
    if isinstance(v, str):
        return v
    if t == "Boolean":
        return "true" if v else "false"
    if t == "Bigint":
        return f"{v}n"
    if t in ("integer", "float", "any"):
        return _js_literal(v) if isinstance(v, bool) else str(v)
    if t == "array":
        return "[" + ", ".join(_js_literal(x) for x in v) + "]"
    if t == "dict":
        d = _materialize_dict(v, omit_optional) if isinstance(v, dict) else v
        return "{" + ", ".join(f'"{k}": {_js_literal(x)}' for k, x in d.items()) + "}"
    return str(v)


def _build(entry: dict, answer: dict, category: str, omit_optional: bool) -> list[Call]:
    """The answer a model would give that BFCL's checker accepts, from the possible answer."""
    docs = {f["name"]: f for f in entry["function"]}
    language = bfcl.language_of(category)
    render = {bfcl.PYTHON: _python_value, bfcl.JAVA: _java_value, bfcl.JAVASCRIPT: _js_value}[language]
    calls = []
    for gt in answer["ground_truth"]:
        ((name, params),) = gt.items()
        # BFCL checks a simple entry against its one function doc; the answer's key is not consulted (two v3
        # entries, simple_363 and javascript_41, name a different function there).
        doc = entry["function"][0] if _is_simple(category) else docs[name]
        props = doc["parameters"]["properties"]
        required = set(doc["parameters"].get("required", []))
        args = {}
        for p, vals in params.items():
            if p not in props and "" in vals:
                continue  # an optional answer key the doc does not declare (parallel_multiple_12): leave it out
            # Some answers mark a parameter optional ("") that the function doc requires; BFCL requires it.
            v = _first(vals, omit_optional and p not in required)
            if v is _MISSING and p in required and vals == [""]:
                v = ""  # live_multiple_507-149-4: a required parameter whose only acceptable value is ""
            if v is not _MISSING:
                args[p] = render(v, props.get(p, {}), omit_optional)
        calls.append(Call(doc["name"], args))
    return calls


def _check(entry, calls, answer, category, **kw) -> bfcl.CheckResult:
    return bfcl.check(entry["function"], calls, answer["ground_truth"], category, **kw)


def _wrong_type_value(category: str, schema: dict, acceptable: list):
    if bfcl.language_of(category) != bfcl.PYTHON:
        return 12345  # Java / JavaScript arguments must be strings
    expected = bfcl.PYTHON_TYPE_MAPPING[schema["type"]]
    seen = {type(v) for v in acceptable if v != ""} | {expected}
    for candidate in (12345, "wrong~value", ["wrong"], {"wrong": 1}, True):
        if type(candidate) in seen or (expected is float and type(candidate) is int):
            continue
        return candidate
    raise AssertionError("no wrong-typed value found")


def _swappable_pair(entry, calls, answer, category):
    """Two positions whose calls do not satisfy each other's answers (so a swap must break enforced order)."""
    docs = {f["name"]: f for f in entry["function"]}
    language = bfcl.language_of(category)
    gts = answer["ground_truth"]
    for i in range(len(calls)):
        for j in range(i + 1, len(calls)):
            ok_ij = bfcl.simple_function_checker(
                docs[next(iter(gts[j]))], {calls[i].name: calls[i].arguments}, gts[j], language
            )["valid"]
            ok_ji = bfcl.simple_function_checker(
                docs[next(iter(gts[i]))], {calls[j].name: calls[j].arguments}, gts[i], language
            )["valid"]
            if not (ok_ij and ok_ji):
                return i, j
    return None


def _ordered_array_param(entry, call: Call, gt_params: dict, doc: dict):
    """A list argument with two distinct elements whose reversal is not an acceptable value."""
    props = doc["parameters"]["properties"]
    for p, v in call.arguments.items():
        if props[p]["type"] not in ("array", "tuple") or not isinstance(v, list) or len(v) < 2:
            continue
        rev = list(reversed(v))
        if rev == v:
            continue
        std = [bfcl.standardize_string(x) if isinstance(x, str) else x for x in rev]
        acceptable = [
            [bfcl.standardize_string(x) if isinstance(x, str) else x for x in a]
            for a in gt_params[p]
            if isinstance(a, list)
        ]
        if std not in acceptable:
            return p, rev
    return None


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_possible_answer_passes_and_mutations_fail(bfcl_data_dir, category):
    entries = _load(bfcl_data_dir, category)
    assert len(entries) == EXPECTED_ENTRIES[category]
    language = bfcl.language_of(category)
    counts: Counter = Counter()
    for entry, answer in entries:
        eid = entry["id"]
        docs = {f["name"]: f for f in entry["function"]}
        if eid in BFCL_UNANSWERABLE:
            res = _check(entry, _build(entry, answer, category, omit_optional=False), answer, category)
            assert not res.valid and res.error_type == BFCL_UNANSWERABLE[eid][0], (eid, res.to_dict())
            counts["unanswerable"] += 1
            continue
        for omit in (False, True):
            calls = _build(entry, answer, category, omit_optional=omit)
            res = _check(entry, calls, answer, category)
            assert res.valid, (eid, omit, calls, res.to_dict())
            # The same answer as model text (JSON tool calls) goes through the parser too.
            text = "\n".join("<tool_call>" + json.dumps(c.to_dict()) + "</tool_call>" for c in calls)
            assert _check(entry, parse(text), answer, category).valid, eid
        counts["entries"] += 1

        calls = _build(entry, answer, category, omit_optional=False)
        first = calls[0]
        doc = entry["function"][0] if _is_simple(category) else docs[first.name]
        gt_params = next(iter(answer["ground_truth"][0].values()))

        # drop a required argument
        required = [p for p in doc["parameters"].get("required", []) if p in first.arguments]
        if required:
            mutated = [
                Call(first.name, {k: v for k, v in first.arguments.items() if k != required[0]})
            ] + calls[1:]
            res = _check(entry, mutated, answer, category)
            assert not res.valid and res.error_type is not None, (eid, "drop", required[0])
            counts["drop_required"] += 1

        # wrong type
        if first.arguments:
            p = next(iter(first.arguments))
            bad = _wrong_type_value(category, doc["parameters"]["properties"][p], gt_params[p])
            mutated = [Call(first.name, {**first.arguments, p: bad})] + calls[1:]
            res = _check(entry, mutated, answer, category)
            assert not res.valid, (eid, "wrong type", p, bad)
            counts["wrong_type"] += 1

        # unknown extra argument
        mutated = [Call(first.name, {**first.arguments, "zz_not_a_parameter": "x"})] + calls[1:]
        res = _check(entry, mutated, answer, category)
        assert not res.valid, (eid, "extra")
        assert res.error_type.endswith("unexpected_param") or "parallel" in category, res.to_dict()
        counts["extra_arg"] += 1

        # wrong function name
        mutated = [Call(first.name + "_wrong", first.arguments)] + calls[1:]
        assert not _check(entry, mutated, answer, category).valid, (eid, "name")
        counts["wrong_name"] += 1

        # call count: one call too many
        assert not _check(entry, calls + [calls[0]], answer, category).valid, (eid, "count")
        counts["extra_call"] += 1

        # swapped parallel calls
        if "parallel" in category and len(calls) >= 2:
            pair = _swappable_pair(entry, calls, answer, category)
            if pair:
                i, j = pair
                swapped = list(calls)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert not _check(entry, swapped, answer, category, enforce_order=True).valid, (eid, "order")
                assert _check(entry, calls, answer, category, enforce_order=True).valid, (eid, "order ok")
                assert _check(entry, swapped, answer, category).valid, (eid, "no-order swap")
                counts["order_swap"] += 1

        # swapped elements of an ordered array
        if language == bfcl.PYTHON:
            found = _ordered_array_param(entry, first, gt_params, doc)
            if found:
                p, rev = found
                mutated = [Call(first.name, {**first.arguments, p: rev})] + calls[1:]
                res = _check(entry, mutated, answer, category)
                assert not res.valid, (eid, "array order", p)
                counts["array_swap"] += 1

    print(f"\nBFCL {category}: {dict(counts)}")
    assert counts["entries"] + counts["unanswerable"] == EXPECTED_ENTRIES[category]
    ids = {e["id"] for e, _ in entries}  # v4 ids of java / javascript entries are simple_java_N, ...
    assert (
        counts["unanswerable"]
        == len(ids & set(BFCL_UNANSWERABLE))
        == sum(k.rsplit("_", 1)[0] in (category, f"simple_{category}") for k in BFCL_UNANSWERABLE)
    )
    assert counts["wrong_name"] == counts["entries"]
    assert counts["drop_required"] > 0.8 * counts["entries"]
    if "parallel" in category:
        assert counts["order_swap"] > 0


@pytest.mark.parametrize("category", ["irrelevance", "live_irrelevance", "live_relevance"])
def test_relevance_rule(category):
    call = [{"name": "f", "arguments": {"x": 1}}]
    text_answer = parse("I cannot help with that.")
    broken = parse("<tool_call>{not json</tool_call>")
    if "irrelevance" in category:
        assert bfcl.check_relevance(text_answer, category).valid
        assert bfcl.check_relevance(broken, category).valid  # BFCL: a failed decode is no call
        assert bfcl.check_relevance([], category).valid
        res = bfcl.check_relevance(call, category)
        assert not res.valid and res.error_type == "irrelevance_error:decoder_success"
    else:
        assert bfcl.check_relevance(call, category).valid
        assert not bfcl.check_relevance(text_answer, category).valid
        assert not bfcl.check_relevance(broken, category).valid
    with pytest.raises(ValueError):
        bfcl.check([], call, [], category)


FUNCS = [
    {
        "name": "book",
        "parameters": {
            "type": "dict",
            "properties": {
                "city": {"type": "string"},
                "nights": {"type": "integer"},
                "price": {"type": "float"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "guest": {
                    "type": "dict",
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                },
            },
            "required": ["city"],
        },
    },
    {
        "name": "cancel",
        "parameters": {"type": "dict", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
    },
]


def _one(args, answer_params, name="book"):
    return bfcl.check(FUNCS, [{"name": name, "arguments": args}], [{name: answer_params}], "multiple")


def test_rules_on_hand_made_cases():
    base = {"city": ["New York", "NYC"], "nights": [2], "price": [100.0, ""], "tags": [["a", "b"], ""]}
    assert _one({"city": "new-york", "nights": 2}, base).valid  # normalisation; optional omitted
    assert _one({"city": "NYC", "nights": 2, "price": 100}, base).valid  # int accepted for float
    res = _one({"city": "NYC", "nights": 2.0}, base)
    assert res.error_type == "type_error:simple"  # float not accepted for integer
    assert _one({"city": "Boston", "nights": 2}, base).error_type == "value_error:string"
    assert _one({"city": "NYC"}, base).error_type == "simple_function_checker:missing_optional"
    assert _one({"city": "NYC", "nights": 2, "tags": ["b", "a"]}, base).error_type == "value_error:list/tuple"
    assert _one({"city": "NYC", "nights": 2, "tags": ["A", "b"]}, base).valid
    assert _one({"city": "NYC", "nights": 2, "tags": []}, base).valid  # BFCL: "" reads as [] for lists
    required_tags = {**base, "tags": [["a", "b"]]}
    assert _one({"city": "NYC", "nights": 2, "tags": [1, 2]}, required_tags).error_type == "type_error:nested"
    # (with "" among the answers BFCL's nested type check passes, and the value check fails instead)
    assert _one({"city": "NYC", "nights": 2, "tags": [1, 2]}, base).error_type == "value_error:list/tuple"
    guest = {"city": ["NYC"], "guest": [{"name": ["Ann"], "age": [30, ""]}]}
    assert _one({"city": "NYC", "guest": {"name": "ann"}}, guest).valid
    assert _one({"city": "NYC", "guest": {"name": "Ann", "x": 1}}, guest).error_type == "value_error:dict_key"
    assert _one({"city": "NYC", "guest": {"age": 30}}, guest).error_type == "value_error:dict_key"
    # a variable: a string where a number is declared, accepted when the possible answer holds that string
    assert _one({"city": "NYC", "nights": "n_nights"}, {"city": ["NYC"], "nights": ["n_nights"]}).valid
    assert not bfcl.check(FUNCS, parse("not a call("), [{"book": base}], "multiple").valid


def test_parallel_order_and_counts():
    answer = [{"cancel": {"id": [1]}}, {"cancel": {"id": [2]}}]
    a, b = {"name": "cancel", "arguments": {"id": 1}}, {"name": "cancel", "arguments": {"id": 2}}
    assert bfcl.check(FUNCS, [b, a], answer, "parallel").valid
    assert not bfcl.check(FUNCS, [b, a], answer, "parallel", enforce_order=True).valid
    assert bfcl.check(FUNCS, [a, b], answer, "parallel", enforce_order=True).valid
    res = bfcl.check(FUNCS, [a, a], answer, "parallel")
    assert res.error_type == "parallel_function_checker_no_order:cannot_find_match"
    assert bfcl.check(FUNCS, [a], answer, "parallel").error_type.endswith("wrong_count")
    assert bfcl.check(FUNCS, [a, b], [{"cancel": {"id": [1]}}], "simple").error_type.endswith("wrong_count")


def test_java_and_javascript_type_conversion():
    assert bfcl.java_type_converter("123L", "long") == 123
    assert bfcl.java_type_converter("3.5f", "float") == 3.5
    assert bfcl.java_type_converter("new int[]{1, 2, 3}", "Array", "integer") == [1, 2, 3]
    assert bfcl.java_type_converter('new ArrayList<>(Arrays.asList("a", "b"))', "ArrayList", "String") == [
        "a",
        "b",
    ]
    assert bfcl.java_type_converter('new HashMap<String, Object>() {{ put("k", 1); }}', "HashMap") == {"k": 1}
    assert bfcl.java_type_converter("mapController", "integer") == "mapController"  # a variable stays text
    assert bfcl.js_type_converter("[1, 2]", "array", "integer") == [1, 2]
    assert bfcl.js_type_converter("{'a': 1, 'b': true}", "dict") == {"a": 1, "b": True}
    assert bfcl.js_type_converter("10n", "Bigint") == 10
    funcs = [
        {
            "name": "f",
            "parameters": {"type": "dict", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        }
    ]
    answer = [{"f": {"n": [5]}}]
    assert bfcl.check(funcs, [{"name": "f", "arguments": {"n": "5"}}], answer, "java").valid
    assert (
        bfcl.check(funcs, [{"name": "f", "arguments": {"n": 5}}], answer, "java").error_type
        == "type_error:java"
    )
    assert (
        bfcl.check(funcs, [{"name": "f", "arguments": {"n": 5}}], answer, "javascript").error_type
        == "type_error:js"
    )


def test_model_output_forms():
    calls = [Call("f", {"a": 1})]
    expected = [{"f": {"a": 1}}]
    assert bfcl.to_model_output(calls) == expected
    assert bfcl.to_model_output([{"name": "f", "arguments": {"a": 1}}]) == expected
    assert bfcl.to_model_output([{"f": {"a": 1}}]) == expected
    assert bfcl.to_model_output('[{"name": "f", "arguments": {"a": 1}}]') == expected
    assert bfcl.to_model_output(parse("[f(a=1)]")) == expected
    assert bfcl.to_model_output(parse("<tool_call>{oops</tool_call>")) is None
    assert bfcl.language_of("live_simple") == bfcl.PYTHON and bfcl.language_of("java") == bfcl.JAVA
    assert (
        bfcl.language_of("simple_javascript") == bfcl.JAVASCRIPT
        and bfcl.language_of("simple_python") == bfcl.PYTHON
    )
