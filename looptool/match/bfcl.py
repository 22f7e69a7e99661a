"""BFCL's AST answer checker, ported from the Berkeley Function Calling Leaderboard.

Source: ``gorilla`` (Apache-2.0), ``berkeley-function-call-leaderboard/bfcl_eval/eval_checker/ast_eval/
ast_checker.py`` and its ``type_convertor/{java,js}_type_converter.py``, plus the relevance rule of
``eval_runner.relevance_file_runner``. Ported so that a score computed here means what a BFCL score means:
the same acceptable-value lists, the same string normalisation, the same error types. Where the port departs
from the original it says so in a comment marked ``DEVIATION``.

The rules, in short:

* a possible answer maps each parameter to a list of acceptable values; ``""`` in the list means the parameter
  may be omitted;
* strings are compared after :func:`standardize_string` (lowercase, no spaces, no ``,./-_*^``, ``'`` -> ``"``);
* an ``int`` is accepted for a ``float`` parameter (Python only); any other type mismatch fails, except that a
  value of the possible answer's own type counts as a "variable" (e.g. a name where a number was expected);
* dict parameters are checked key by key, lists of dicts element by element in order, lists in order;
* an argument the function does not declare fails, a missing required one fails, the number of calls must
  match; parallel categories match calls in any order (``enforce_order=True`` checks position by position);
  "multiple" categories expect exactly one call to the right function among several;
* Java and JavaScript categories expect every argument as a string in that language's syntax
  (``"new ArrayList<>(Arrays.asList(1, 2))"``, ``"[1, 2]"``, ``"true"``), converted back before checking, as
  BFCL does;
* irrelevance passes when no call is made (a text answer or an unparseable one); relevance passes when at least
  one call is made.

Entry point: :func:`check` (AST categories) and :func:`check_relevance`.

>>> funcs = [{"name": "area", "parameters": {"type": "dict", "properties": {
...     "base": {"type": "integer"}, "unit": {"type": "string"}}, "required": ["base"]}}]
>>> answer = [{"area": {"base": [10], "unit": ["units", ""]}}]
>>> check(funcs, [{"name": "area", "arguments": {"base": 10}}], answer).valid
True
>>> check(funcs, [{"name": "area", "arguments": {"base": 10, "unit": "Units."}}], answer).valid
True
>>> check(funcs, [{"name": "area", "arguments": {"base": "10"}}], answer).error_type
'type_error:simple'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from looptool.calls import Call, Parsed

__all__ = [
    "CheckResult",
    "PYTHON",
    "JAVA",
    "JAVASCRIPT",
    "language_of",
    "is_relevance_category",
    "to_model_output",
    "check",
    "check_relevance",
    "standardize_string",
    "java_type_converter",
    "js_type_converter",
]

PYTHON = "python"
JAVA = "java"
JAVASCRIPT = "javascript"

PYTHON_TYPE_MAPPING: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
# Types whose values are checked element by element.
PYTHON_NESTED_TYPE_CHECK_LIST = ("array", "tuple")
NESTED_CONVERSION_TYPE_LIST = ("Array", "ArrayList", "array")

JAVA_TYPE_CONVERSION: dict[str, type] = {
    "byte": int,
    "short": int,
    "integer": int,
    "float": float,
    "double": float,
    "long": int,
    "boolean": bool,
    "char": str,
    "Array": list,
    "ArrayList": list,
    "Set": set,
    "HashMap": dict,
    "Hashtable": dict,
    "Queue": list,
    "Stack": list,
    "String": str,
    "any": str,
}

JS_TYPE_CONVERSION: dict[str, type] = {
    "String": str,
    "integer": int,
    "float": float,
    "Bigint": int,
    "Boolean": bool,
    "dict": dict,
    "array": list,
    "any": str,
}


@dataclass
class CheckResult:
    """BFCL's verdict on one answer: ``valid``, and when not, the messages and BFCL's ``error_type``."""

    valid: bool
    error: list[Any] = field(default_factory=list)
    error_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "error": self.error, "error_type": self.error_type}

    def __bool__(self) -> bool:
        return self.valid


def _ok() -> dict[str, Any]:
    return {"valid": True, "error": []}


def _result(d: dict[str, Any]) -> CheckResult:
    return CheckResult(
        bool(d["valid"]), list(d.get("error") or []), None if d["valid"] else d.get("error_type")
    )


def language_of(category: str) -> str:
    """BFCL's language for a test category: ``java`` / ``simple_java`` (the v4 name) -> java, ``javascript`` /
    ``simple_javascript`` -> javascript, anything else -> python."""
    base = category.removeprefix("simple_")
    if base == "java":
        return JAVA
    if base == "javascript":
        return JAVASCRIPT
    return PYTHON


def is_relevance_category(category: str) -> bool:
    """``irrelevance`` / ``live_irrelevance`` / ``live_relevance``: scored on whether any call is made."""
    return "relevance" in category


# --- model output ---------------------------------------------------------------------------------------


def to_model_output(prediction: Any) -> list[dict[str, dict[str, Any]]] | None:
    """BFCL's decoded form ``[{name: {arg: value}}]`` of a prediction; None when it could not be parsed.

    Accepts a :class:`~looptool.calls.Parsed` (a parse error gives None), a list of
    :class:`~looptool.calls.Call`, label dicts ``{"name", "arguments"}``, BFCL dicts ``{name: args}``, or the
    JSON text of such a list.
    """
    if prediction is None:
        return None
    if isinstance(prediction, Parsed):
        if prediction.error is not None:
            return None
        return [{c.name: dict(c.arguments)} for c in prediction.calls]
    if isinstance(prediction, str):
        prediction = json.loads(prediction)
    if isinstance(prediction, (Call, dict)):
        prediction = [prediction]
    out: list[dict[str, dict[str, Any]]] = []
    for item in prediction:
        if isinstance(item, Call):
            out.append({item.name: dict(item.arguments)})
        elif isinstance(item, dict) and set(item) <= {"name", "arguments"} and "name" in item:
            out.append({item["name"]: dict(item.get("arguments") or {})})
        elif isinstance(item, dict) and len(item) == 1:
            ((name, args),) = item.items()
            if not isinstance(args, dict):
                return None
            out.append({name: args})
        else:
            return None
    return out


# --- helpers (ast_checker.py) ----------------------------------------------------------------------------


def find_description(func_descriptions: list[dict[str, Any]] | dict[str, Any], name: str) -> dict | None:
    if isinstance(func_descriptions, list):
        for func_description in func_descriptions:
            if func_description["name"] == name:
                return func_description
        return None
    return func_descriptions  # a dict: there is only one function


def get_possible_answer_type(possible_answer: list[Any]) -> type | None:
    for answer in possible_answer:
        if answer != "":  # optional parameter
            return type(answer)
    return None


def convert_func_name(function_name: str, underscore_to_dot: bool) -> str:
    """BFCL renames ``a.b`` to ``a_b`` for models whose tool names cannot contain dots."""
    if "." in function_name and underscore_to_dot:
        return re.sub(r"\.", "_", function_name)
    return function_name


def type_checker(
    param: str,
    value: Any,
    possible_answer: list[Any],
    expected_type_description: str,
    expected_type_converted: type,
    nested_type_converted: type | None,
) -> dict[str, Any]:
    """Is ``value`` of the declared type (one level of nesting), or of the possible answer's type (a variable)?"""
    result: dict[str, Any] = {
        "valid": True,
        "error": [],
        "is_variable": False,
        "error_type": "type_error:simple",
    }

    is_variable = False
    # A value of the possible answer's type where the declared type differs is a variable name.
    possible_answer_type = get_possible_answer_type(possible_answer)
    if possible_answer_type is not None and possible_answer_type != expected_type_converted:
        is_variable = True

    if type(value) is expected_type_converted:
        if nested_type_converted is None:
            result["is_variable"] = is_variable
            return result
        for possible_answer_item in possible_answer:
            flag = True  # each element must match at least one possible answer's element type
            if type(possible_answer_item) is list:
                for value_item in value:
                    checker_result = type_checker(
                        param,
                        value_item,
                        possible_answer_item,
                        str(nested_type_converted),
                        nested_type_converted,
                        None,
                    )
                    if not checker_result["valid"]:
                        flag = False
                        break
            if flag:
                return {"valid": True, "error": [], "is_variable": is_variable}
        result["valid"] = False
        result["error"] = [
            f"Nested type checking failed for parameter {param!r}. Expected outer type {expected_type_description} "
            f"with inner type {nested_type_converted!s}. Parameter value: {value!r}."
        ]
        result["error_type"] = "type_error:nested"

    # Not of the declared type: accept it as a variable when it has the possible answer's type.
    possible_answer_type = get_possible_answer_type(possible_answer)
    if possible_answer_type is not None and type(value) is possible_answer_type:
        result["is_variable"] = True
        return result

    result["valid"] = False
    result["error"].append(
        f"Incorrect type for parameter {param!r}. Expected type {expected_type_description}, got "
        f"{type(value).__name__}. Parameter value: {value!r}."
    )
    result["error_type"] = "type_error:simple"
    return result


_STANDARDIZE = re.compile(r"[ \,\.\/\-\_\*\^]")


def standardize_string(input_string: str) -> str:
    """Lowercase, drop spaces and ``,./-_*^``, turn ``'`` into ``"``: "April 1, 2024" == "april 1 2024"."""
    return _STANDARDIZE.sub("", input_string).lower().replace("'", '"')


def string_checker(param: str, model_output: str, possible_answer: list[Any]) -> dict[str, Any]:
    standardize_possible_answer = [standardize_string(a) for a in possible_answer if type(a) is str]
    if standardize_string(model_output) not in standardize_possible_answer:
        return {
            "valid": False,
            "error": [
                f"Invalid value for parameter {param!r}: {model_output!r}. Expected one of {possible_answer}. "
                "Case insensitive."
            ],
            "error_type": "value_error:string",
        }
    return _ok()


def list_checker(param: str, model_output: list[Any], possible_answer: list[Any]) -> dict[str, Any]:
    standardize_model_output = [standardize_string(x) if type(x) is str else x for x in model_output]
    standardize_possible_answer = []
    for answer in possible_answer:
        # BFCL iterates over each possible answer by index, so the optional "" becomes [] (an empty list value
        # is then accepted for an optional list parameter).
        if answer == "":
            standardize_possible_answer.append([])
            continue
        if not isinstance(answer, list):
            # DEVIATION: BFCL would iterate a non-list answer by index (crashing on a number); such an answer
            # cannot equal a list, so it is skipped.
            continue
        standardize_possible_answer.append([standardize_string(x) if type(x) is str else x for x in answer])
    if standardize_model_output not in standardize_possible_answer:
        return {
            "valid": False,
            "error": [
                f"Invalid value for parameter {param!r}: {model_output!r}. Expected one of {possible_answer}."
            ],
            "error_type": "value_error:list/tuple",
        }
    return _ok()


def dict_checker(param: str, model_output: dict[str, Any], possible_answers: list[Any]) -> dict[str, Any]:
    """One level of dict: every key known, every value among its acceptable values, no required key missing."""
    result: dict[str, Any] = {"valid": False, "error": [], "error_type": "dict_checker:unclear"}
    for possible_answer in possible_answers:
        if possible_answer == "":
            continue
        result = {"valid": False, "error": [], "error_type": "dict_checker:unclear"}
        flag = True
        for key, value in model_output.items():
            if key not in possible_answer:
                result["error"].append(f"Unexpected dict key parameter: '{key}'.")
                result["error_type"] = "value_error:dict_key"
                flag = False
                break
            standardize_value = standardize_string(value) if type(value) is str else value
            standardize_possible_answer = [
                standardize_string(a) if type(a) is str else a for a in possible_answer[key]
            ]
            if standardize_value not in standardize_possible_answer:
                result["error"].append(
                    f"Invalid value for parameter {key!r}: {value!r}. Expected one of {standardize_possible_answer}."
                )
                result["error_type"] = "value_error:dict_value"
                flag = False
                break
        for key, value in possible_answer.items():
            if key not in model_output and "" not in value:
                result["error"].append(f"Missing dict key parameter: '{key}'.")
                result["error_type"] = "value_error:dict_key"
                flag = False
                break
        if flag:
            return _ok()
    return result


def list_dict_checker(param: str, model_output: list[Any], possible_answers: list[Any]) -> dict[str, Any]:
    """A list of dicts, each checked against the same position of one possible answer."""
    result: dict[str, Any] = {"valid": False, "error": [], "error_type": "list_dict_checker:unclear"}
    for possible_answer in possible_answers:
        flag = True
        if not isinstance(possible_answer, list) or len(model_output) != len(possible_answer):
            result = {
                "valid": False,
                "error": ["Wrong number of dictionaries in the list."],
                "error_type": "value_error:list_dict_count",
            }
            flag = False
            continue
        for dict_index in range(len(model_output)):
            if not isinstance(model_output[dict_index], dict):
                # DEVIATION: BFCL would crash on a non-dict element here; report it as a value error.
                result = {
                    "valid": False,
                    "error": [f"Element {dict_index} of parameter {param!r} is not a dict."],
                    "error_type": "value_error:list_dict_item",
                }
                flag = False
                break
            result = dict_checker(param, model_output[dict_index], [possible_answer[dict_index]])
            if not result["valid"]:
                flag = False
                break
        if flag:
            return _ok()
    return result


def _items_type(details: dict[str, Any]) -> str | None:
    items = details.get("items")
    return items.get("type") if isinstance(items, dict) else None


def _unsupported(param: str, type_name: Any, language: str) -> dict[str, Any]:
    return {
        "valid": False,
        "error": [
            f"Parameter {param!r} has type {type_name!r}, which BFCL's {language} checker does not know."
        ],
        "error_type": "type_error:unsupported",
    }


def simple_function_checker(
    func_description: dict[str, Any],
    model_output: dict[str, dict[str, Any]],
    possible_answer: dict[str, dict[str, list[Any]]],
    language: str = PYTHON,
    underscore_to_dot: bool = False,
) -> dict[str, Any]:
    """One call against one function's possible answer (BFCL's core rule)."""
    possible_answer = list(possible_answer.values())[0]
    func_name = func_description["name"]
    parameters = func_description.get("parameters") or {}
    param_details = parameters.get("properties") or {}
    required_params = parameters.get("required") or []

    result: dict[str, Any] = {"valid": True, "error": [], "error_type": "simple_function_checker:unclear"}

    func_name = convert_func_name(func_name, underscore_to_dot)
    if func_name not in model_output:
        result["valid"] = False
        result["error"].append(f"Function name {func_name!r} not found in model output.")
        result["error_type"] = "simple_function_checker:wrong_func_name"
        return result

    model_params = model_output[func_name]

    for param in required_params:
        if param not in model_params:
            result["valid"] = False
            result["error"].append(f"Missing required parameter: {param!r}.")
            result["error_type"] = "simple_function_checker:missing_required"
            return result

    for param, value in model_params.items():
        if param not in param_details or param not in possible_answer:
            result["valid"] = False
            result["error"].append(f"Unexpected parameter: {param!r}.")
            result["error_type"] = "simple_function_checker:unexpected_param"
            return result

        full_param_details = param_details[param]
        expected_type_description = full_param_details.get("type")
        nested_type_converted = None

        if language in (JAVA, JAVASCRIPT):
            # Java and JavaScript values arrive as source strings, converted with the language's table
            conversion, converter, tag = (
                (JAVA_TYPE_CONVERSION, java_type_converter, "java")
                if language == JAVA
                else (JS_TYPE_CONVERSION, js_type_converter, "js")
            )
            if expected_type_description not in conversion:
                return _unsupported(param, expected_type_description, language)
            expected_type_converted = conversion[expected_type_description]
            if type(value) is not str:
                return {
                    "valid": False,
                    "error": [
                        f"Incorrect type for parameter {param!r}. Expected type String, got {type(value).__name__}. "
                        f"Parameter value: {value!r}."
                    ],
                    "error_type": f"type_error:{tag}",
                }
            if expected_type_description in NESTED_CONVERSION_TYPE_LIST:
                nested_type = _items_type(full_param_details)
                if nested_type not in conversion:
                    return _unsupported(param, nested_type, language)
                nested_type_converted = conversion[nested_type]
                value = converter(value, expected_type_description, nested_type)
            else:
                value = converter(value, expected_type_description)

        elif language == PYTHON:
            if expected_type_description not in PYTHON_TYPE_MAPPING:
                return _unsupported(param, expected_type_description, language)
            expected_type_converted = PYTHON_TYPE_MAPPING[expected_type_description]
            if expected_type_description in PYTHON_NESTED_TYPE_CHECK_LIST:
                nested_type = _items_type(full_param_details)
                # DEVIATION: BFCL raises KeyError for an array without "items"; check the outer type only.
                if nested_type is not None:
                    if nested_type not in PYTHON_TYPE_MAPPING:
                        return _unsupported(param, nested_type, language)
                    nested_type_converted = PYTHON_TYPE_MAPPING[nested_type]
        else:
            raise ValueError(f"unsupported language {language!r} (use python, java or javascript)")

        # Tuples in possible answers became lists through JSON, so a tuple value is compared as a list.
        if expected_type_description == "tuple" and type(value) is tuple:
            value = list(value)

        # Python's automatic int -> float.
        if language == PYTHON and expected_type_description == "float" and type(value) is int:
            value = float(value)

        type_check_result = type_checker(
            param,
            value,
            possible_answer[param],
            expected_type_description,
            expected_type_converted,
            nested_type_converted,
        )
        is_variable = type_check_result["is_variable"]
        if not type_check_result["valid"]:
            return type_check_result

        # A variable is compared as it is; dicts and lists of dicts get their own checks otherwise.
        if not is_variable:
            if expected_type_converted is dict:
                result = dict_checker(param, value, possible_answer[param])
                if not result["valid"]:
                    return result
                continue
            if expected_type_converted is list and nested_type_converted is dict:
                result = list_dict_checker(param, value, possible_answer[param])
                if not result["valid"]:
                    return result
                continue
            if expected_type_converted is str:
                result = string_checker(param, value, possible_answer[param])
                if not result["valid"]:
                    return result
                continue
            if expected_type_converted is list:
                result = list_checker(param, value, possible_answer[param])
                if not result["valid"]:
                    return result
                continue

        if value not in possible_answer[param]:
            result["valid"] = False
            result["error"].append(
                f"Invalid value for parameter {param!r}: {value!r}. Expected one of {possible_answer[param]}."
            )
            result["error_type"] = "value_error:others"
            return result

    for param in possible_answer:
        if param not in model_params and "" not in possible_answer[param]:
            result["valid"] = False
            result["error"].append(f"Optional parameter {param!r} not provided and not marked as optional.")
            result["error_type"] = "simple_function_checker:missing_optional"
            return result

    return result


def _description_for(func_descriptions: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return find_description(func_descriptions, name)


def _no_description(name: str, checker: str) -> dict[str, Any]:
    return {
        "valid": False,
        "error": [f"Function {name!r} of the possible answer is not among the function docs."],
        "error_type": f"{checker}:missing_doc",
    }


def parallel_function_checker_enforce_order(
    func_descriptions: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answers: list[dict[str, Any]],
    language: str = PYTHON,
    underscore_to_dot: bool = False,
) -> dict[str, Any]:
    """Call i must match possible answer i.

    DEVIATION: BFCL's version takes the legacy dict form of the possible answers; this one takes the list form
    of the v3 data (one ``{name: params}`` per call), which also allows the same function twice.
    """
    if len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": ["Wrong number of functions."],
            "error_type": "parallel_function_checker_enforce_order:wrong_count",
        }
    for i, answer in enumerate(possible_answers):
        name = list(answer.keys())[0]
        func_description = _description_for(func_descriptions, name)
        if func_description is None:
            return _no_description(name, "parallel_function_checker_enforce_order")
        result = simple_function_checker(
            func_description, model_output[i], answer, language, underscore_to_dot
        )
        if not result["valid"]:
            return result
    return _ok()


def parallel_function_checker_no_order(
    func_descriptions: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answers: list[dict[str, Any]],
    language: str = PYTHON,
    underscore_to_dot: bool = False,
) -> dict[str, Any]:
    """Each possible answer, in turn, takes the first still-unmatched call that satisfies it."""
    if len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": ["Wrong number of functions."],
            "error_type": "parallel_function_checker_no_order:wrong_count",
        }
    matched_indices: list[int] = []
    for i, answer in enumerate(possible_answers):
        func_name_expected = list(answer.keys())[0]
        func_description = _description_for(func_descriptions, func_name_expected)
        if func_description is None:
            return _no_description(func_name_expected, "parallel_function_checker_no_order")
        all_errors: list[Any] = []
        result: dict[str, Any] = {"valid": False, "error": [], "error_type": None}
        for index in range(len(model_output)):
            if index in matched_indices:
                continue
            result = simple_function_checker(
                func_description, model_output[index], answer, language, underscore_to_dot
            )
            if result["valid"]:
                matched_indices.append(index)
                break
            all_errors.append(
                {
                    f"Model Result Index {index}": {
                        "sub_error": result["error"],
                        "sub_error_type": result["error_type"],
                        "model_output_item": model_output[index],
                        "possible_answer_item": answer,
                    }
                }
            )
        if not result["valid"]:
            considered = [k for k in range(len(model_output)) if k not in matched_indices]
            all_errors.insert(
                0,
                f"Could not find a matching function among index {considered} of model output for index {i} of "
                "possible answers.",
            )
            return {
                "valid": False,
                "error": all_errors,
                "error_type": "parallel_function_checker_no_order:cannot_find_match",
            }
    return _ok()


def multiple_function_checker(
    func_descriptions: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answers: list[dict[str, Any]],
    language: str = PYTHON,
    underscore_to_dot: bool = False,
) -> dict[str, Any]:
    """One call, to the one right function among several."""
    if len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": ["Wrong number of functions."],
            "error_type": "multiple_function_checker:wrong_count",
        }
    func_name_expected = list(possible_answers[0].keys())[0]
    func_description = _description_for(func_descriptions, func_name_expected)
    if func_description is None:
        return _no_description(func_name_expected, "multiple_function_checker")
    return simple_function_checker(
        func_description, model_output[0], possible_answers[0], language, underscore_to_dot
    )


def check(
    functions: list[dict[str, Any]],
    prediction: Any,
    possible_answer: list[dict[str, Any]],
    category: str = "simple",
    *,
    language: str | None = None,
    enforce_order: bool = False,
    underscore_to_dot: bool = False,
) -> CheckResult:
    """BFCL's ``ast_checker`` for one entry: is ``prediction`` an acceptable answer?

    ``functions``: the entry's BFCL function docs (``function`` field, BFCL types, not the JSON-Schema
    conversion used for prompting). ``prediction``: see :func:`to_model_output`. ``possible_answer``: the
    entry's ``ground_truth`` list. ``category``: BFCL test category (``simple``, ``live_parallel``, ...), which
    picks the checker as BFCL does: ``parallel`` in the name -> order-free matching of several calls (or
    position by position with ``enforce_order``), ``multiple`` -> one call among several functions, else one
    call to the one function. ``language`` defaults to the category's.
    """
    if is_relevance_category(category):
        raise ValueError(f"category {category!r} is scored with check_relevance, not check")
    language = language or language_of(category)
    model_output = to_model_output(prediction)
    if model_output is None:
        return CheckResult(False, ["Invalid syntax. Failed to decode AST."], "ast_decoder:decoder_failed")
    if "parallel" in category:
        checker = (
            parallel_function_checker_enforce_order if enforce_order else parallel_function_checker_no_order
        )
        return _result(checker(functions, model_output, possible_answer, language, underscore_to_dot))
    if "multiple" in category:
        return _result(
            multiple_function_checker(functions, model_output, possible_answer, language, underscore_to_dot)
        )
    if len(model_output) != 1:
        return CheckResult(False, ["Wrong number of functions."], "simple_function_checker:wrong_count")
    # BFCL checks a simple entry against its one function doc; the possible answer's key is not consulted.
    return _result(
        simple_function_checker(
            functions[0], model_output[0], possible_answer[0], language, underscore_to_dot
        )
    )


def check_relevance(prediction: Any, category: str) -> CheckResult:
    """BFCL's relevance rule: irrelevance passes without a call (text or unparseable output counts as none),
    relevance passes with at least one call."""
    model_output = to_model_output(prediction)
    contains_call = bool(model_output) and any(bool(c) for c in model_output)
    if "irrelevance" in category:
        if contains_call:
            return CheckResult(
                False,
                ["Valid syntax. Successfully decode AST when it should not."],
                "irrelevance_error:decoder_success",
            )
        return CheckResult(True)
    if "relevance" in category:
        if not contains_call:
            return CheckResult(
                False,
                ["Invalid syntax. Failed to decode AST when it should have."],
                "relevance_error:decoder_failed",
            )
        return CheckResult(True)
    raise ValueError(f"category {category!r} is not a relevance category")


# --- Java (type_convertor/java_type_converter.py) ----------------------------------------------------------


def java_type_converter(value: str, expected_type: str, nested_type: str | None = None) -> Any:
    """A Java source-code argument as the Python value BFCL compares; a value that does not parse as the type
    stays a string (it may be a variable name)."""
    if expected_type not in JAVA_TYPE_CONVERSION:
        raise ValueError(f"Unsupported type: {expected_type}")
    if expected_type in ("byte", "short", "integer"):
        if not re.match(r"^-?\d+$", value):
            return str(value)
        return int(value)
    if expected_type == "float":
        if not re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", value):
            return str(value)
        return float(re.sub(r"[fF]$", "", value))
    if expected_type == "double":
        if not re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", value):
            return str(value)
        return float(value)
    if expected_type == "long":
        if not re.match(r"^-?\d+[lL]$", value):
            return str(value)
        return int(re.sub(r"[lL]$", "", value))
    if expected_type == "boolean":
        if value not in ("true", "false"):
            return str(value)
        return value == "true"
    if expected_type == "char":
        # (BFCL's pattern ^\'.$\' never matches, so a char always stays the text given.)
        if not re.match(r"^\'.$\'", value):
            return str(value)
        return value
    if expected_type in ("Array", "ArrayList", "HashMap"):
        return _parse_java_collection(value, expected_type, nested_type)
    if expected_type in ("Set", "Hashtable", "Queue", "Stack"):
        # BFCL raises NotImplementedError; keep the text, which then fails the type check.
        return str(value)
    if expected_type in ("String", "any"):
        return str(value)
    raise ValueError(f"Unsupported type: {expected_type}")


def _parse_java_collection(input_str: str, type_str: str, nested_type: str | None = None) -> Any:
    if type_str == "ArrayList":
        return _parse_arraylist(input_str, nested_type)
    if type_str == "Array":
        return _parse_array(input_str, nested_type)
    if type_str == "HashMap":
        return _parse_hashmap(input_str)
    raise ValueError(f"Unsupported type: {type_str}")


def _java_element(element_str: str, nested_type: str | None) -> Any:
    if nested_type in ("char", "String"):
        return element_str[1:-1]  # remove the quotes
    return java_type_converter(element_str, nested_type) if nested_type else _parse_java_value(element_str)


def _parse_arraylist(input_str: str, nested_type: str | None = None) -> Any:
    match_as_list = re.search(r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)", input_str)
    if match_as_list:
        return [_java_element(e.strip(), nested_type) for e in match_as_list.group(1).split(",")]
    match_add = re.search(r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}", input_str, re.DOTALL)
    if match_add:
        return [
            _java_element(m.strip(), nested_type) for m in re.findall(r"add\((.+?)\)", match_add.group(1))
        ]
    if re.search(r"new\s+ArrayList<\w*>\(\)", input_str):
        return []
    return input_str


def _parse_array(input_str: str, nested_type: str | None = None) -> Any:
    match = re.search(r"new\s+\w+\[\]\s*\{(.*?)\}", input_str)
    if not match:
        return input_str
    parts = [x.strip() for x in match.group(1).split(",") if x.strip()]
    if nested_type:
        return [java_type_converter(x, nested_type) for x in parts]
    return [_parse_java_value(x) for x in parts]


def _parse_hashmap(input_str: str) -> Any:
    match = re.search(r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}", input_str, re.DOTALL)
    if match:
        elements = {}
        puts_str = match.group(1)
        if puts_str.strip():
            for key, raw in re.findall(r"put\(\"(.*?)\",\s*(.*?)\)", puts_str):
                elements[key] = _parse_java_value(raw.strip())
        return elements
    if re.search(r"new\s+HashMap<.*?>\s*\(\)", input_str):
        return {}
    return input_str


def _parse_java_value(value_str: str) -> Any:
    """A Java literal without knowing its type."""
    if value_str == "true":
        return True
    if value_str == "false":
        return False
    if value_str.startswith('"') and value_str.endswith('"'):
        return value_str[1:-1]
    if re.match(r"^-?\d+[lL]$", value_str):
        return int(value_str[:-1])
    if re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", value_str):
        return float(re.sub(r"[fF]$", "", value_str))
    try:
        return int(value_str)
    except ValueError:
        try:
            return float(value_str)
        except ValueError:
            return value_str


# --- JavaScript (type_convertor/js_type_converter.py) ------------------------------------------------------


def js_type_converter(value: str, expected_type: str, nested_type: str | None = None) -> Any:
    """A JavaScript source-code argument as the Python value BFCL compares (text kept when it does not parse)."""
    if expected_type not in JS_TYPE_CONVERSION:
        raise ValueError(f"Unsupported type: {expected_type}")
    if expected_type == "String":
        if not (value.startswith('"') and value.endswith('"')) and not (
            value.startswith("'") and value.endswith("'")
        ):
            return str(value)
        return value[1:-1]
    if expected_type == "integer":
        if not re.match(r"^-?\d+$", value):
            return str(value)
        return int(value)
    if expected_type == "float":
        if not re.match(r"^-?\d+(\.\d+)?$", value):
            return str(value)
        return float(value)
    if expected_type == "Bigint":
        if not re.match(r"^-?\d+n$", value):
            return str(value)
        return int(value[:-1])
    if expected_type == "Boolean":
        if value not in ("true", "false"):
            return str(value)
        return value == "true"
    if expected_type in ("dict", "array"):
        return _parse_js_collection(value, expected_type, nested_type)
    if expected_type == "any":
        return str(value)
    raise ValueError(f"Unsupported type: {expected_type}")


def _parse_js_collection(code: str, type_str: str, nested_type: str | None = None) -> Any:
    code = code.strip()
    if type_str == "array":
        array_2d_pattern = (
            r"\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\)"
        )
        array_pattern = r"\[(.*?)\]|\bnew\s+Array\((.*?)\)"
        try:
            array_2d_match = re.match(array_2d_pattern, code)
            if array_2d_match:
                elements = []
                for idx, inner in enumerate(re.findall(r"\[(.*?)\]", array_2d_match.group(0))):
                    inner = inner.strip()
                    if idx == 0 and inner.startswith("["):
                        inner = inner[1:]
                    elements.append([_parse_js_value(e.strip()) for e in inner.split(",")])
                return elements
            array_match = re.match(array_pattern, code)
            if not array_match:
                return code
            body = array_match.group(1) if array_match.group(1) is not None else array_match.group(2)
            body = (body or "").strip()
            parts = body.split(",") if body else []
            if nested_type:
                return [
                    js_type_converter(e.strip(), nested_type, "String")
                    if e.strip().startswith(("'", '"'))
                    else js_type_converter(e.strip(), nested_type)
                    for e in parts
                ]
            return [_parse_js_value(e.strip()) for e in parts]
        except Exception:  # BFCL keeps the text when its parse fails
            return code
    if type_str == "dict":
        if code == "{}":
            return {}
        dict_match = re.match(r"\{(.*?)\}", code)
        if not dict_match:
            return code
        try:
            dictionary: dict[str, Any] = {}
            for key, value in re.findall(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", dict_match.group(1)):
                key = key.strip().strip("'\"")
                value = value.strip()
                if value.startswith("[") and value.endswith("]"):
                    dictionary[key] = _parse_js_collection(value, "array")
                elif value.startswith("{") and value.endswith("}"):
                    dictionary[key] = _parse_js_collection(value, "dict")
                else:
                    dictionary[key] = _parse_js_value(value.strip("'\""))
            return dictionary
        except Exception:
            return code
    raise ValueError(f"Unsupported type: {type_str}")


def _parse_js_value(value_str: str) -> Any:
    value_str = value_str.strip()
    if value_str == "true":
        return True
    if value_str == "false":
        return False
    if (value_str.startswith('"') and value_str.endswith('"')) or (
        value_str.startswith("'") and value_str.endswith("'")
    ):
        return value_str[1:-1]
    try:
        return int(value_str)
    except ValueError:
        try:
            return float(value_str)
        except ValueError:
            return value_str
