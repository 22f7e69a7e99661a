"""ACEBench's scoring rules for its normal and special categories, ported from the ACEBench checker.

Source: ACEBench (MIT), ``model_eval/checker.py`` (``normal_checker`` and its helpers), ``model_eval/utils.py``,
``eval_main.py`` (``special_eval``, ``normal_multi_turn_eval``) and ``model_eval/evaluation_helper.py``
(``multiplt_turn_accuracy``), as found in the public copies of the repository (e.g. ``yxli2123/ACEBench``).
The rules are ACEBench's own and looser than BFCL's in places; they are kept as they are so that a score here
means what an ACEBench score means. ``DEVIATION`` comments mark the few places that differ.

Normal categories (:func:`check_normal`): the answer is a dict ``{function: {param: value}}`` (or a list of
such dicts, any of which may match); the prediction must make exactly those functions, as many times each
(keys ``f_1``, ``f_2`` of the answer name repeated calls of ``f``), in any order, and for each answer one call of
that function must pass the per-call check:

* every required parameter present, no parameter outside the function doc or the answer;
* types as ACEBench maps them (``number`` is ``int``; an ``int`` is accepted for ``float``; ``"true"`` /
  ``"false"`` strings count as booleans; a value of the answer's own type is accepted);
* strings: the normalised answer must be contained in the normalised value (ACEBench's
  ``standardize_string``: no spaces, no ``,./-_*^``, lowercase);
* lists: equal element by element after normalisation; lists of objects: same length, object by object;
* objects: same number of keys, every key known, nested objects recursively, other values by containment of
  the answer's text in the value's text;
* numbers and booleans are only type-checked, not compared (ACEBench compares no scalar values).

Special categories (:func:`check_special`) score the model's raw text: ``incomplete`` needs "Missing necessary
parameters", the function's name and every missing parameter's name; ``error_param`` needs "There is incorrect
value" and every wrong value; ``irrelevant`` needs "the limitations of the function".

Multi-turn normal categories are scored per conversation (:func:`multi_turn_accuracy`): a conversation counts
only if all its turns pass ("end" accuracy); the process accuracy averages the passing fraction.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from looptool.match.bfcl import CheckResult, to_model_output

SCORING_MODES = ("official", "looptool")
"""How a normal-category answer's text becomes calls. ``official``: as ACEBench's ``eval_main`` decodes it
(:func:`decode_official`). ``looptool``: :func:`looptool.calls.parse` (any of the project's formats, spaces
inside values kept, a bare ``f(a=1)`` accepted)."""

__all__ = [
    "SCORING_MODES",
    "CheckResult",
    "decode_official",
    "category_kind",
    "check_normal",
    "check_special",
    "multi_turn_accuracy",
    "standardize_string",
]

PYTHON_TYPE_MAPPING: dict[str, Any] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
    "list": list,
    "object": dict,
    "objectArray": list,
    "list(string)": list,
    "list(enum)": list,
    "int": int,
    "enum": enumerate,  # (sic) as in ACEBench
    "number": int,
}
PYTHON_NESTED_TYPE_CHECK_LIST = ("array", "tuple", "list(string)", "list(enum)", "object", "objectArray")

INCOMPLETE_PHRASE = "Missing necessary parameters"
ERROR_PARAM_PHRASE = "There is incorrect value"
IRRELEVANT_PHRASE = "the limitations of the function"


def category_kind(category: str) -> str:
    """``special``, ``agent``, ``normal_multi_turn`` or ``normal`` (ACEBench's dispatch in ``eval_main``)."""
    if "special" in category:
        return "special"
    if "agent" in category:
        return "agent"
    if "normal_multi_turn" in category:
        return "normal_multi_turn"
    return "normal"


def standardize_string(input_string: Any) -> str:
    """ACEBench's normalisation: drop spaces and ``,./-_*^``, lowercase, ``'`` -> ``"``."""
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", str(input_string)).lower().replace("'", '"')


def _get_possible_answer_type(possible_answer: Any) -> type | None:
    if possible_answer != "":
        return type(possible_answer)
    return None


def _flatten_dates(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in d.items()}


def _sum_key_list(data: Iterable[dict[str, Any]]) -> dict[str, int]:
    counter: Counter = Counter()
    for d in data:
        counter.update(d.keys())
    return dict(counter)


def _find_description(func_descriptions: list[dict[str, Any]] | dict[str, Any], name: str) -> dict | None:
    # ACEBench matches by containment, so the answer key "f_2" finds the doc of "f".
    if isinstance(func_descriptions, list):
        for func_description in func_descriptions:
            if func_description["name"] in name:
                return func_description
        return None
    return func_descriptions


def _type_checker(
    param: str,
    value: Any,
    possible_answer: Any,
    expected_type_description: str,
    expected_type_converted: Any,
    nested_type_converted: Any,
    func_name: str,
) -> dict[str, Any]:
    result: dict[str, Any] = {"valid": True, "error": [], "is_variable": False, "error_type": "type_error"}
    is_variable = False
    possible_answer_type = _get_possible_answer_type(possible_answer)
    if possible_answer_type is not None and possible_answer_type != expected_type_converted:
        is_variable = True
    if value == "true":
        value = True
    if value == "false":
        value = False
    if type(value) is expected_type_converted:
        if nested_type_converted is None:
            result["is_variable"] = is_variable
            return result
        for possible_answer_item in possible_answer:
            flag = True
            if type(possible_answer_item) is list:
                for value_item in value:
                    checker_result = _type_checker(
                        param,
                        value_item,
                        possible_answer_item,
                        str(nested_type_converted),
                        nested_type_converted,
                        None,
                        func_name,
                    )
                    if not checker_result["valid"]:
                        flag = False
                        break
            if flag:
                return {"valid": True, "error": [], "is_variable": is_variable}
        result["valid"] = False
        result["error"] = [
            f"Nested type checking failed for parameter {param!r}. Expected outer type "
            f"{expected_type_description} with inner type {nested_type_converted!s}. Parameter value: {value!r}."
        ]
        result["error_type"] = "type_error"

    possible_answer_type = _get_possible_answer_type(possible_answer)
    if possible_answer_type is not None and (type(value) is possible_answer_type or possible_answer == value):
        result["is_variable"] = True
        return result

    result["valid"] = False
    result["error"] = [
        f"wrong type for parameter ({param}) of api ({func_name}):[excepted: {expected_type_converted}, "
        f"real: {type(value)}]"
    ]
    result["error_type"] = "type_error"
    return result


def _string_checker(
    param: str, model_output: str, possible_answer: Any, func_name: str, category: str
) -> dict:
    standardize_model_output = standardize_string(model_output)
    standardize_possible_answer_item = standardize_string(possible_answer)
    error = {
        "valid": False,
        "error": [
            f"wrong value for parameter ({param}) of api ({func_name}): [excepted: {possible_answer}, "
            f"real: [{model_output}]]"
        ],
        "error_type": "value_error:string",
    }
    if "agent" in category:
        if standardize_model_output != standardize_possible_answer_item:
            return error
    elif standardize_possible_answer_item not in standardize_model_output:
        return error
    return {"valid": True, "error": []}


def _list_checker(param: str, model_output: list, possible_answer: Any, func_name: str) -> dict:
    standardize_model_output = [standardize_string(x) if type(x) is str else x for x in model_output]
    if not isinstance(possible_answer, list):
        # DEVIATION: ACEBench would iterate a non-list answer by index; it cannot equal a list anyway.
        standardize_possible_answer: Any = possible_answer
    else:
        standardize_possible_answer = [
            standardize_string(x) if type(x) is str else x for x in possible_answer
        ]
    if standardize_model_output != standardize_possible_answer:
        return {
            "valid": False,
            "error": [
                f"wrong value for parameter ({param!r}) of api ({func_name}): [expected {possible_answer}, "
                f"real: [{model_output!r}]]"
            ],
            "error_type": "value_error:list/tuple",
        }
    return {"valid": True, "error": []}


def _dict_checker(param: str, model_output: Any, possible_answer: Any, func_name: str) -> dict:
    result: dict[str, Any] = {"valid": True, "error": [], "error_type": "dict_checker:unclear"}
    wrong = {
        "valid": False,
        "error": [
            f"wrong value for parameter ({param}) of api ({func_name}): [excepted: {possible_answer}, "
            f"real: [{model_output}]]"
        ],
        "error_type": "value_error",
    }
    if not isinstance(model_output, dict) or not isinstance(possible_answer, dict):
        return wrong
    if len(model_output) != len(possible_answer):
        return wrong
    for key, value in model_output.items():
        if value == "true":
            value = True
        if value == "false":
            value = False
        if key not in possible_answer:
            return wrong
        expected_values = possible_answer[key]
        if isinstance(expected_values, dict):
            result = _dict_checker(param, value, expected_values, func_name)
            if not result["valid"]:
                return result
            continue
        standardize_value = standardize_string(value) if type(value) is str else value
        if type(expected_values) is str:
            standardize_possible_answer: Any = standardize_string(expected_values)
        else:
            standardize_possible_answer = expected_values
        if str(standardize_possible_answer) not in str(standardize_value):
            return wrong
    return result


def _list_dict_checker(param: str, model_output: list, possible_answers: Any, func_name: str) -> dict:
    result: dict[str, Any] = {"valid": True, "error": [], "error_type": "list_dict_checker:unclear"}
    if not isinstance(possible_answers, list) or len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": [
                f"wrong value for parameter ({param}) of api ({func_name}): [excepted: {possible_answers}, "
                f"real: [{model_output}]]"
            ],
            "error_type": "value_error:list_dict_count",
        }
    for dict_index in range(len(model_output)):
        result = _dict_checker(param, model_output[dict_index], possible_answers[dict_index], func_name)
        if not result["valid"]:
            return result
    return result


def _nested_type(details: dict[str, Any]) -> str:
    items = details.get("items")
    if isinstance(items, dict) and "type" in items:
        return items["type"]
    t = str(details.get("type"))
    if "string" in t:
        return "string"
    if "enum" in t:
        return "enum"
    return "dict"


def _simple_function_checker(
    func_description: dict[str, Any],
    model_output: dict[str, Any],
    possible_answers: dict[str, Any],
    category: str,
) -> dict[str, Any]:
    result: dict[str, Any] = {"valid": True, "error": [], "error_type": ""}
    possible_answer = list(possible_answers.values())[0]
    parameters = func_description.get("parameters")
    if parameters is None:
        # DEVIATION: some ACEBench docs spell "parameters" as "arguments"; ACEBench would crash on them.
        parameters = func_description.get("arguments") or {}

    if list(model_output.values())[0] == {} and parameters == {}:
        return result
    if list(model_output.values())[0] == {} or parameters == {}:
        return {
            "valid": False,
            "error": ["no parameters given, or none expected"],
            "error_type": "wrong_param",
        }
    if possible_answer == parameters.get("properties"):
        return result
    if possible_answer == {}:
        return {"valid": False, "error": ["the answer takes no parameters"], "error_type": "wrong_param"}

    func_name = func_description["name"]
    if func_name not in model_output:
        return {
            "valid": False,
            "error": [{"wrong_function": {"expected": func_name, "real": list(model_output.keys())[0]}}],
            "error_type": "wrong_function_name",
        }

    model_params = model_output[func_name]
    param_details = parameters.get("properties") or {}
    required_params = parameters.get("required") or []

    for param in required_params:
        if param not in model_params:
            return {"valid": False, "error": [f"lack required_params: {param}"], "error_type": "lack_args"}

    for param, value in model_params.items():
        if param not in param_details or param not in possible_answer:
            return {"valid": False, "error": [f"addition params: {param}"], "error_type": "addition_args"}

        expected_type_description = param_details[param].get("type")
        if expected_type_description not in PYTHON_TYPE_MAPPING:
            # DEVIATION: ACEBench raises KeyError for an unknown type; report it instead.
            return {
                "valid": False,
                "error": [f"parameter {param!r} has type {expected_type_description!r}, unknown to ACEBench"],
                "error_type": "type_error:unsupported",
            }
        expected_type_converted = PYTHON_TYPE_MAPPING[expected_type_description]
        nested_type_converted = None
        if expected_type_description in PYTHON_NESTED_TYPE_CHECK_LIST:
            nested_type_converted = PYTHON_TYPE_MAPPING.get(_nested_type(param_details[param]), dict)

        if expected_type_description == "tuple" and type(value) is tuple:
            value = list(value)
        if expected_type_description == "float" and type(value) is int:
            value = float(value)

        type_check_result = _type_checker(
            param,
            value,
            possible_answer[param],
            expected_type_description,
            expected_type_converted,
            nested_type_converted,
            func_name,
        )
        if not type_check_result["valid"]:
            return {
                "valid": False,
                "error": type_check_result["error"],
                "error_type": type_check_result["error_type"],
            }

        if not type_check_result["is_variable"]:
            if expected_type_converted is dict:
                result = _dict_checker(param, value, possible_answer[param], func_name)
            elif expected_type_converted is list and nested_type_converted is dict:
                # (ACEBench's extra branch for the type "objectArray" crashes when reached; no data uses it.)
                result = _list_dict_checker(param, value, possible_answer[param], func_name)
            elif expected_type_converted is str:
                result = _string_checker(param, value, possible_answer[param], func_name, category)
            elif expected_type_converted is list:
                result = _list_checker(param, value, possible_answer[param], func_name)
            if not result["valid"]:
                return {"valid": False, "error": result["error"], "error_type": result["error_type"]}
    return result


def _normal_checker(
    func_descriptions: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answers: dict[str, Any],
    category: str,
) -> dict[str, Any]:
    result: dict[str, Any] = {"valid": True, "error": [], "error_type": ""}
    if len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": ["The number of functions does not match the answer."],
            "error_type": "wrong functions number",
        }

    func_name_list = list(possible_answers.keys())
    possible_answers_list = [{key: value} for key, value in possible_answers.items()]
    # Repeated calls of one function are keyed f_1, f_2, ... in the answer. (One copy of ACEBench renames keys
    # only when there are several answers, another always; the data has no single answer keyed f_<n>.)
    if len(possible_answers_list) > 1:
        possible_answers_list = [
            {re.sub(r"_\d+$", "", k): v for k, v in d.items()} for d in possible_answers_list
        ]

    output_list = _sum_key_list(model_output)
    answer_list = _sum_key_list(possible_answers_list)
    for name in output_list:
        if name not in answer_list:
            return {
                "valid": False,
                "error": [f"extra function detected: {name} is not in the ground truth"],
                "error_type": "function_mismatch",
            }
    for name in answer_list:
        if name not in output_list:
            return {
                "valid": False,
                "error": [f"extra function detected: {name} is not in the ground truth"],
                "error_type": "function_mismatch",
            }
    for name, count in output_list.items():
        if count != answer_list[name]:
            return {
                "valid": False,
                "error": [
                    f"incorrect count for function {name}: [expected: {answer_list[name]}, actual: {count}]"
                ],
                "error_type": "function_mismatch",
            }

    for i, answer in enumerate(possible_answers_list):
        func_description = _find_description(func_descriptions, func_name_list[i])
        if func_description is None:
            return {
                "valid": False,
                "error": [f"function {func_name_list[i]!r} of the answer is not among the function docs"],
                "error_type": "missing_doc",
            }
        answer_name = list(answer.keys())[0]
        for j in range(len(model_output)):
            if list(model_output[j].keys())[0] == answer_name:
                result = _simple_function_checker(func_description, model_output[j], answer, category)
                if result["valid"]:
                    break
            else:
                result = {
                    "valid": False,
                    "error": ["wrong_function"],
                    "error_type": "simple_function_checker:unclear",
                }
        if not result["valid"]:
            return result
    return result


def check_normal(
    functions: list[dict[str, Any]], prediction: Any, ground_truth: Any, category: str = "normal"
) -> CheckResult:
    """ACEBench's verdict on one normal-category answer (``normal_single_turn_eval``'s per-entry rule).

    ``ground_truth``: the entry's ``ground_truth`` (a dict, or a list of alternative dicts).
    ``prediction``: Parsed / Calls / label dicts / BFCL-style dicts (see :func:`looptool.match.bfcl.to_model_output`).
    """
    model_output = to_model_output(prediction)
    if model_output is None:
        return CheckResult(False, ["Invalid syntax. Failed to decode AST."], "wrong_output_format")
    candidates = ground_truth if isinstance(ground_truth, list) else [ground_truth]
    first_error: dict[str, Any] | None = None
    for candidate in candidates:
        # The checker renames keys of the answer it is given; work on a copy.
        res = _normal_checker(functions, copy.deepcopy(model_output), copy.deepcopy(candidate), category)
        if res["valid"]:
            return CheckResult(True)
        first_error = first_error or res
    err = first_error or {"error": ["no candidate answer"], "error_type": "no_answer"}
    error = err.get("error")
    return CheckResult(False, error if isinstance(error, list) else [error], err.get("error_type"))


def check_special(output: str | None, ground_truth: Any, category: str) -> CheckResult:
    """ACEBench's ``special_eval`` rule for one raw model output (the text, not parsed calls)."""
    text = output or ""
    if "incomplete" in category:
        for name, values in ground_truth.items():
            if INCOMPLETE_PHRASE not in text:
                return CheckResult(
                    False,
                    [
                        f"The user's instruction is missing necessary parameters ({values}) for the ({name}), but "
                        "the model failed to correctly point it out"
                    ],
                    "error_detection",
                )
            if name not in text:
                return CheckResult(
                    False, [f"the answer does not name the function ({name})"], "error_correction"
                )
            for value in values:
                if value not in text:
                    return CheckResult(
                        False,
                        [f"the answer does not name the missing parameter ({value})"],
                        "error_correction",
                    )
        return CheckResult(True)
    if "error" in category:
        for name, values in ground_truth.items():
            if ERROR_PARAM_PHRASE not in text:
                return CheckResult(
                    False,
                    [
                        f"The user's instruction contains incorrect values ({values}) of the parameters ({name}), but "
                        "the model failed to correctly point it out"
                    ],
                    "error_detection",
                )
            for value in values:
                if value not in text:
                    return CheckResult(
                        False, [f"the answer does not name the wrong value ({value})"], "error_correction"
                    )
        return CheckResult(True)
    if "irrelevant" in category:
        if IRRELEVANT_PHRASE not in text:
            return CheckResult(
                False,
                ["The model cannot solve this problem, due to the limitations of the function"],
                "error_detection",
            )
        return CheckResult(True)
    raise ValueError(f"category {category!r} is not an ACEBench special category")


def multi_turn_accuracy(ids: Sequence[str], valid: Sequence[bool]) -> tuple[float, float]:
    """(end accuracy, process accuracy) of a multi-turn category, from per-turn verdicts in file order.

    Turns of one conversation share the id's second-to-last part (``..._<conversation>_<turn>``); a conversation
    counts in the end accuracy only if all its turns pass, and the process accuracy averages the fraction of
    turns passed. Both are rounded to 3 places, as ACEBench does.
    """
    if len(ids) != len(valid):
        raise ValueError("ids and valid must have the same length")
    groups: list[dict[str, Any]] = []
    for eid, ok in zip(ids, valid, strict=True):
        conv = eid.split("_")[-2]
        if groups and groups[-1]["turn"] == conv:
            groups[-1]["valid"].append(bool(ok))
        else:
            groups.append({"turn": conv, "valid": [bool(ok)]})
    if not groups:
        return 0.0, 0.0
    end = [0 if False in g["valid"] else 1 for g in groups]
    process = [round(g["valid"].count(True) / len(g["valid"]), 3) for g in groups]
    return round(sum(end) / len(end), 3), round(sum(process) / len(process), 3)


# --- ACEBench's own decoding of an answer (eval_main.py + model_inference/utils.py ``decode_ast``) -----------


def _official_value(node: Any) -> Any:
    """ACEBench's ``resolve_ast_by_type``: the value an argument node decodes to (names become strings)."""
    import ast

    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        # (sic) ACEBench negates the operand whatever the operator
        return -node.operand.value  # type: ignore[attr-defined]
    if isinstance(node, ast.List):
        return [_official_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        return {_official_value(k): _official_value(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.BinOp):
        # DEVIATION: ACEBench eval()s the expression; here only arithmetic on number / string literals is
        # computed (the same value for those), anything else fails to decode.
        return _arith(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        name = _official_name(node.func)
        if not node.keywords:
            return {name: {}}
        return {name: {kw.arg: _official_value(kw.value) for kw in node.keywords}}
    if isinstance(node, ast.Tuple):
        return tuple(_official_value(v) for v in node.elts)
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise ValueError(f"Unsupported AST type: {type(node)}")


def _arith(node: Any) -> Any:
    import ast
    import operator

    ops = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv,
        ast.Mod: operator.mod,
        ast.Pow: operator.pow,
    }

    def val(n: Any) -> Any:
        if isinstance(n, ast.BinOp):
            return _arith(n)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            v = val(n.operand)
            return -v if isinstance(n.op, ast.USub) else v
        if (
            isinstance(n, ast.Constant)
            and isinstance(n.value, (int, float, str))
            and not isinstance(n.value, bool)
        ):
            return n.value
        raise ValueError(f"Unsupported expression: {ast.unparse(n)}")

    op = ops.get(type(node.op))
    if op is None:
        raise ValueError(f"Unsupported operator in {ast.unparse(node)}")
    left, right = val(node.left), val(node.right)
    if op is operator.pow and (not isinstance(right, (int, float)) or abs(right) > 64):
        raise ValueError(f"Unsupported power in {ast.unparse(node)}")
    if op is operator.mul and (isinstance(left, str) or isinstance(right, str)):
        n = right if isinstance(left, str) else left
        if not isinstance(n, int) or n > 10_000:
            raise ValueError(f"Unsupported repetition in {ast.unparse(node)}")
    return op(left, right)


def _official_name(func: Any) -> str:
    import ast

    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def decode_official(text: str | None) -> tuple[list[dict[str, Any]] | None, str | None]:
    """An answer as ACEBench's ``eval_main`` decodes it: ``(decoded, None)`` or ``(None, why)``.

    * tool calls the server returned (``<tool_call>`` blocks or a JSON call list, our rendering of a function
      calling reply): ACEBench's FC path, ``{name: json.loads(arguments)}`` per call;
    * otherwise the text of ACEBench's prompt format ``[f(a=1), g(b="x")]``: every whitespace character is
      removed first (also inside strings), the text must be a python list (a bare ``f(a=1)`` fails) of calls;
      keyword arguments only (positional ones are dropped), bare names decode to their text (so ``true`` is
      the string ``"true"``, which the type check reads as a boolean), nested calls to ``{name: args}``,
      tuples stay tuples.
    The decoded list must be a list of ``{name: {param: value}}`` (ACEBench's
    ``is_function_call_format_valid``).
    """
    import ast

    from looptool.calls import TOOL_CALL_OPEN, parse

    raw = text or ""
    stripped = raw.strip()
    if TOOL_CALL_OPEN in raw or (stripped.startswith(("{", "[{")) and '"name"' in stripped):
        parsed = parse(raw)
        if not parsed.ok:
            return None, f"Invalid syntax. Failed to decode AST. {parsed.error}"
        return [{c.name: dict(c.arguments)} for c in parsed.calls], None
    squeezed = "".join(raw.split())
    try:
        tree = ast.parse(squeezed, mode="eval")
        elts = tree.body.elts  # type: ignore[attr-defined]
        decoded = []
        for elem in elts:
            if not isinstance(elem, ast.Call):
                raise ValueError("not a call")
            name = _official_name(elem.func)
            decoded.append({name: {kw.arg: _official_value(kw.value) for kw in elem.keywords}})
    except (
        SyntaxError,
        AttributeError,
        ValueError,
        TypeError,
        RecursionError,
        MemoryError,
        ZeroDivisionError,
        OverflowError,
    ) as e:
        return None, f"Invalid syntax. Failed to decode AST. {type(e).__name__}: {e}"
    for item in decoded:
        if not isinstance(item, dict) or len(item) != 1 or not isinstance(next(iter(item.values())), dict):
            return None, "The output format does not meet the specified requirements."
    return decoded, None


def check_normal_text(
    functions: list[dict[str, Any]],
    text: str | None,
    ground_truth: Any,
    category: str,
    mode: str = "official",
    parsed: Any = None,
) -> CheckResult:
    """A normal-category verdict from the answer's text, decoded as ``mode`` says (:data:`SCORING_MODES`)."""
    if mode == "looptool":
        from looptool.calls import parse

        return check_normal(functions, parsed if parsed is not None else parse(text), ground_truth, category)
    if mode != "official":
        raise ValueError(f"unknown ACEBench scoring mode {mode!r}; known: {list(SCORING_MODES)}")
    decoded, why = decode_official(text)
    if decoded is None:
        return CheckResult(False, [why], "wrong_output_format")
    return check_normal(functions, decoded, ground_truth, category)
