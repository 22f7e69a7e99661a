"""BFCL question files (+ ``possible_answer/``): reader.

BFCL (question file + ``possible_answer/<same name>`` beside it): one decision point per entry, the label
from the ground truth with the first acceptable value of each parameter (``""`` first means "omitted");
BFCL's types are turned into JSON Schema by BFCL's own map (dict -> object, float -> number, tuple -> array,
any -> string; Java/JavaScript type names likewise; :func:`looptool.bfcl_format.json_schema_type`).
Irrelevance categories have no answer file: label ``[]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool.bfcl_format import category_of, json_schema_type, read_answers
from looptool.interchange.normalize import infer_pattern, normalize_messages, normalize_tools
from looptool.interchange.records import (
    FieldError,
    InterchangeError,
    Item,
    checked_item,
    parse_line,
    read_lines,
)


def bfcl_schema(schema: Any) -> Any:
    """A BFCL parameter schema as JSON Schema (types renamed recursively by BFCL's own map,
    :func:`looptool.bfcl_format.json_schema_type`: ``any`` is a string, as BFCL checks it)."""
    if isinstance(schema, list):
        return [bfcl_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k == "type" and isinstance(v, str):
            out["type"] = json_schema_type(v)
        elif k == "properties" and isinstance(v, dict):
            out[k] = {name: bfcl_schema(s) for name, s in v.items()}
        elif k in ("items", "additionalProperties") and isinstance(v, dict):
            out[k] = bfcl_schema(v)
        else:
            out[k] = v
    return out


_OMIT = object()


def _is_nested_answer(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(v, list) for v in value.values())


def _bfcl_value(options: Any, schema: dict[str, Any] | None, field: str) -> Any:
    """The first acceptable value of a BFCL answer list (``""`` first: omit the parameter)."""
    if not isinstance(options, list) or not options:
        raise FieldError(
            field, f"expected a non-empty list of acceptable values, got {options!r}", "invalid_answer"
        )
    value = options[0]
    if isinstance(value, str) and value == "":
        return _OMIT
    schema = schema or {}
    # Dict parameters list acceptable values per key, recursively (BFCL's dict and list-of-dict checkers).
    if schema.get("type") == "object" and _is_nested_answer(value):
        return _bfcl_args(value, schema, field)
    items = schema.get("items") or {}
    if (
        schema.get("type") == "array"
        and items.get("type") == "object"
        and isinstance(value, list)
        and value
        and all(_is_nested_answer(v) for v in value)
    ):
        return [_bfcl_args(v, items, f"{field}[{j}]") for j, v in enumerate(value)]
    return value


def _bfcl_args(answer: dict[str, Any], schema: dict[str, Any], field: str) -> dict[str, Any]:
    props = schema.get("properties") or {}
    out = {}
    for name, options in answer.items():
        v = _bfcl_value(options, props.get(name), f"{field}.{name}")
        if v is not _OMIT:
            out[name] = v
    return out


def _bfcl_label(ground_truth: Any, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(ground_truth, list):
        raise FieldError("ground_truth", "must be a list of {function: {param: [values]}}", "invalid_answer")
    index = {t["name"]: t for t in tools}
    label = []
    for i, item in enumerate(ground_truth):
        if not isinstance(item, dict) or len(item) != 1:
            raise FieldError(
                f"ground_truth[{i}]", "must be an object with exactly one function name", "invalid_answer"
            )
        ((name, answer),) = item.items()
        if not isinstance(answer, dict):
            raise FieldError(
                f"ground_truth[{i}].{name}", "must be an object of parameter values", "invalid_answer"
            )
        schema = (index.get(name) or {}).get("parameters") or {}
        label.append({"name": name, "arguments": _bfcl_args(answer, schema, f"ground_truth[{i}].{name}")})
    return label


bfcl_category = category_of


def answers_path(path: str | Path, answers: str | Path | None = None) -> Path:
    """The possible-answer file of a BFCL question file: ``answers`` when given, else
    ``possible_answer/<same name>`` beside it."""
    path = Path(path)
    return Path(answers) if answers is not None else path.parent / "possible_answer" / path.name


def read_bfcl(
    path: str | Path, answers: str | Path | None = None, check_labels: bool = True
) -> Iterator[Item]:
    """Decision points of a BFCL question file, labels from its possible-answer file."""
    path = Path(path)
    category = bfcl_category(path)
    answers = answers_path(path, answers)
    try:
        truth = read_answers(answers) if answers.exists() else {}
    except ValueError as e:
        raise InterchangeError(str(e)) from None
    irrelevance = "irrelevance" in category
    for n, line in read_lines(path):
        where = f"{path}:{n}"
        rec, bad = parse_line(path, n, line)
        if bad:
            yield bad
            continue
        raw = rec if isinstance(rec, dict) else {"value": rec}
        try:
            if not isinstance(rec, dict) or "question" not in rec or "function" not in rec:
                raise FieldError("<line>", "expected an object with 'id', 'question' and 'function'")
            entry_id = str(rec.get("id", n))
            question = rec["question"]
            if not isinstance(question, list) or len(question) != 1:
                raise FieldError(
                    "question", "only single-turn entries ([[messages]]) are supported", "unsupported"
                )
            messages = normalize_messages(question[0], "question[0]")
            functions = rec["function"]
            if not isinstance(functions, list):
                raise FieldError("function", "must be a list of functions", "invalid_tools")
            tools = normalize_tools(
                [
                    {**f, "parameters": bfcl_schema(f.get("parameters"))} if isinstance(f, dict) else f
                    for f in functions
                ],
                "function",
            )
            if entry_id in truth:
                label = _bfcl_label(truth[entry_id], tools)
            elif irrelevance:
                label = []
            else:
                raise FieldError("id", f"no ground truth for {entry_id!r} in {answers}", "no_ground_truth")
        except FieldError as e:
            yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=raw)
            continue
        meta = {
            "source": str(path),
            "line": n,
            "format": "bfcl",
            "bfcl_id": entry_id,
            "category": category,
            "pattern": infer_pattern(tools, messages, label),
            "pattern_inferred": True,
        }
        yield checked_item(where, f"id {entry_id}", tools, messages, label, meta, check_labels)
