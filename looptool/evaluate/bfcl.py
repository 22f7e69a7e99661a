"""BFCL single-turn evaluation: data files, prompts, scoring, and BFCL's aggregation.

Data: a folder holding BFCL's single-turn question files and ``possible_answer/`` beside them, either as in the
gorilla repository's v3 release (``BFCL_v3_simple.json``, ...) or as the ``bfcl-eval`` package ships them in
``bfcl_eval/data`` (``BFCL_v4_simple_python.json``, ``BFCL_v4_live_simple.json``, ...). Categories are named
here by their v3 names (``simple``, ``java``, ``javascript``, ``multiple``, ...); the v4 file names
``simple_python`` / ``simple_java`` / ``simple_javascript`` are found for them.

Prompting follows BFCL's function-calling mode for open models: the function docs go through BFCL's
``func_doc_language_specific_pre_processing`` (language hint; Java/JavaScript arguments as strings) and
``convert_to_tool`` (its ``dict``/``float``/``tuple``/``any`` types mapped to JSON Schema by
``GORILLA_TO_OPENAPI``), and are handed to the student backend as tools with the entry's messages; the
backend's chat template (or the compact tools prompt) renders them. Answers are parsed with
:func:`looptool.calls.parse` (``<tool_call>`` JSON blocks, bare JSON or python-style ``[f(a=1)]``) and scored
with :mod:`looptool.match.bfcl`.

Aggregation (BFCL v3's ``eval_runner_helper.generate_leaderboard_csv``):

* non-live: ``simple`` is the unweighted mean of python simple, java and javascript (those evaluated);
  ``summary_ast`` the unweighted mean of simple, multiple, parallel, parallel_multiple; ``overall`` the
  unweighted mean of those four and irrelevance;
* live: ``summary_ast`` and ``overall`` (with irrelevance and relevance) are means weighted by each category's
  entry count. The weights are the category sizes of the data files, as in a full BFCL run, so a run limited
  to the first N entries per category estimates the full figure instead of over-weighting small categories;
* multi-turn: ``overall`` is the unweighted mean of base, miss_func, miss_param and long_context
  (:mod:`looptool.evaluate.bfcl_multi`);
* ``overall``: BFCL v3's overall accuracy, the unweighted mean of non-live, live and multi-turn overall, given
  only when all three were evaluated (``overall_kind`` says which); ``overall_single_turn`` is the unweighted
  mean of live and non-live overall (BFCL's ``single_turn_ast``). bfcl-eval names its files ``BFCL_v4_*``:
  its v4 overall adds the agentic categories (web search, memory), not run here; the v3 figure is the one the
  LoopTool paper reports.

BFCL counts a category it did not run as 0 in the means; here means are taken over the categories evaluated,
and the ones missing are listed, so a partial run is not silently deflated.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looptool.bfcl_format import json_schema_type, read_answers
from looptool.jsonutil import read_jsonl
from looptool.llm.base import Request
from looptool.match import bfcl as checker

NON_LIVE = ("simple", "java", "javascript", "multiple", "parallel", "parallel_multiple", "irrelevance")
LIVE = (
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)
ALL_CATEGORIES = NON_LIVE + LIVE
DEFAULT_CATEGORIES = tuple(c for c in ALL_CATEGORIES if c not in ("java", "javascript"))
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
"""Multi-turn categories, run by :mod:`looptool.evaluate.bfcl_multi` (bfcl-eval's environments and checker)."""
# v3 name -> the names the category's file may carry (bfcl-eval's v4 files renamed three categories)
FILE_NAMES = {
    "simple": ("simple", "simple_python"),
    "java": ("java", "simple_java"),
    "javascript": ("javascript", "simple_javascript"),
}


@dataclass
class Entry:
    """One BFCL question with its function docs and (for AST categories) its possible answer."""

    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    answer: list[dict[str, Any]] | None


def category_file(data_dir: str | Path, category: str, answers: bool = False) -> Path | None:
    """The question (or possible-answer) file of ``category`` in ``data_dir``, v3 or v4 naming; None if absent."""
    root = Path(data_dir) / "possible_answer" if answers else Path(data_dir)
    found: list[tuple[int, Path]] = []
    for name in FILE_NAMES.get(category, (category,)):
        for p in root.glob(f"BFCL_v*_{name}.json"):
            m = re.fullmatch(rf"BFCL_v(\d+)_{re.escape(name)}\.json", p.name)
            if m:
                found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


def load_category(data_dir: str | Path, category: str) -> tuple[list[Entry], int]:
    """All entries of one category (file order) and the file's entry count.

    Raises FileNotFoundError when the question file, or the possible-answer file of an AST category, is missing.
    """
    qpath = category_file(data_dir, category)
    if qpath is None:
        raise FileNotFoundError(f"{data_dir}: no BFCL_v*_{category}.json question file")
    questions = read_jsonl(qpath)
    answers: dict[str, Any] = {}
    if not checker.is_relevance_category(category):
        apath = category_file(data_dir, category, answers=True)
        if apath is None:
            raise FileNotFoundError(
                f"{data_dir}/possible_answer: no BFCL_v*_{category}.json for {qpath.name}"
            )
        answers = read_answers(apath)
    entries = []
    for n, q in enumerate(questions, 1):
        for key in ("id", "question", "function"):
            if key not in q:
                raise ValueError(f"{qpath}:{n}: entry without '{key}'")
        turns = q["question"]
        if not turns or not isinstance(turns[0], list):
            raise ValueError(
                f"{qpath}:{n} ({q['id']}): 'question' must be a list of turns (lists of messages)"
            )
        if len(turns) != 1:
            raise ValueError(
                f"{qpath}:{n} ({q['id']}): {len(turns)} turns; only single-turn categories are supported"
            )
        answer = None
        if not checker.is_relevance_category(category):
            if str(q["id"]) not in answers:
                raise ValueError(f"{qpath}:{n}: entry {q['id']} has no possible answer")
            answer = answers[str(q["id"])]
        entries.append(Entry(q["id"], category, list(turns[0]), list(q["function"]), answer))
    return entries, len(questions)


# --- BFCL's function-doc processing for prompting (model_handler/utils.py) -------------------------------


def _language_hint(category: str) -> str:
    language = checker.language_of(category)
    if language == checker.JAVA:
        return " Note that the provided function is in Java 8 SDK syntax."
    if language == checker.JAVASCRIPT:
        return " Note that the provided function is in JavaScript syntax."
    return " Note that the provided function is in Python 3 syntax."


def language_specific_docs(functions: list[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    """BFCL's ``func_doc_language_specific_pre_processing``: a language hint on every description, and for
    Java / JavaScript every parameter turned into a string (with its real type in the description)."""
    functions = copy.deepcopy(functions)
    language = checker.language_of(category)
    for item in functions:
        item["description"] = item.get("description", "") + _language_hint(category)
        properties = item.get("parameters", {}).get("properties", {})
        if language == checker.JAVA:
            for value in properties.values():
                value.setdefault("description", "")
                if value.get("type") == "any":
                    value["description"] += (
                        " This parameter can be of any type of Java object in string representation."
                    )
                else:
                    value["description"] += (
                        f" This is Java {value.get('type')} type parameter in string representation."
                    )
                if value.get("type") in ("ArrayList", "Array") and "items" in value:
                    value["description"] += (
                        f" The list elements are of type {value['items'].get('type')}; they are not in string "
                        "representation."
                    )
                    del value["items"]
                value["type"] = "string"
        elif language == checker.JAVASCRIPT:
            for value in properties.values():
                value.setdefault("description", "")
                if value.get("type") == "any":
                    value["description"] += (
                        " This parameter can be of any type of JavaScript object in string representation."
                    )
                else:
                    value["description"] += (
                        f" This is JavaScript {value.get('type')} type parameter in string representation."
                    )
                if value.get("type") == "array" and "items" in value:
                    value["description"] += (
                        f" The list elements are of type {value['items'].get('type')}; they are not in string "
                        "representation."
                    )
                    del value["items"]
                if value.get("type") == "dict" and "properties" in value:
                    value["description"] += (
                        " The dictionary entries have the following schema; they are not in string representation. "
                        + json.dumps(value["properties"])
                    )
                    del value["properties"]
                value["type"] = "string"
    return functions


def _cast_to_openai_type(properties: dict[str, Any]) -> dict[str, Any]:
    """BFCL's ``_cast_to_openai_type`` with ``GORILLA_TO_OPENAPI``: one level into arrays, recursive for objects."""
    for value in properties.values():
        if "type" not in value:
            value["type"] = "string"
        else:
            var_type = value["type"]
            if var_type == "float":
                value["format"] = "float"
                value["description"] = value.get("description", "") + " This is a float type value."
            value["type"] = json_schema_type(var_type)
        if value["type"] in ("array", "object"):
            if "properties" in value:
                value["properties"] = _cast_to_openai_type(value["properties"])
            elif isinstance(value.get("items"), dict):
                items = value["items"]
                items["type"] = json_schema_type(items.get("type"))
                if items["type"] == "array" and isinstance(items.get("items"), dict):
                    items["items"]["type"] = json_schema_type(items["items"].get("type"))
                elif items["type"] == "object" and "properties" in items:
                    items["properties"] = _cast_to_openai_type(items["properties"])
    return properties


def to_tools(functions: list[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    """The entry's function docs as JSON-Schema tools ``{name, description, parameters}`` for the prompt."""
    tools = []
    for item in language_specific_docs(functions, category):
        params = item.get("parameters") or {}
        params["type"] = "object"
        params["properties"] = _cast_to_openai_type(params.get("properties") or {})
        tools.append({"name": item["name"], "description": item.get("description", ""), "parameters": params})
    return tools


def request_for(entry: Entry) -> Request:
    return Request.chat(entry.messages, to_tools(entry.functions, entry.category), key=f"bfcl/{entry.id}")


def score(entry: Entry, prediction: Any, enforce_order: bool = False) -> checker.CheckResult:
    """BFCL's verdict on one parsed prediction (see :func:`looptool.match.bfcl.check`)."""
    if checker.is_relevance_category(entry.category):
        return checker.check_relevance(prediction, entry.category)
    return checker.check(
        entry.functions, prediction, entry.answer or [], entry.category, enforce_order=enforce_order
    )


# --- aggregation (eval_runner_helper.py) -------------------------------------------------------------------


def _unweighted(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not parts:
        return None
    return {
        "accuracy": sum(p["accuracy"] for p in parts) / len(parts),
        "total_count": sum(p["total_count"] for p in parts),
    }


def _weighted(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    total = sum(p["total_count"] for p in parts)
    if not parts or total == 0:
        return None
    return {"accuracy": sum(p["accuracy"] * p["total_count"] for p in parts) / total, "total_count": total}


def _acc(d: dict[str, Any] | None) -> float | None:
    return None if d is None else round(d["accuracy"], 4)


def aggregate(per_category: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """BFCL's group figures from per-category results ``{category: {accuracy, n, n_total}}``.

    ``n_total`` (the category's size) is the weight of the live means; ``n`` the entries evaluated.
    """

    def part(c: str) -> list[dict[str, Any]]:
        r = per_category.get(c)
        return [] if r is None else [{"accuracy": r["accuracy"], "total_count": r.get("n_total") or r["n"]}]

    simple = _unweighted(part("simple") + part("java") + part("javascript"))
    ast_parts = ([simple] if simple else []) + part("multiple") + part("parallel") + part("parallel_multiple")
    summary_ast_non_live = _unweighted(ast_parts)
    overall_non_live = _unweighted(ast_parts + part("irrelevance"))

    live_ast = (
        part("live_simple") + part("live_multiple") + part("live_parallel") + part("live_parallel_multiple")
    )
    summary_ast_live = _weighted(live_ast)
    overall_live = _weighted(live_ast + part("live_irrelevance") + part("live_relevance"))

    overall = _unweighted([p for p in (overall_live, overall_non_live) if p is not None])
    irrelevance = _unweighted(part("irrelevance") + part("live_irrelevance"))
    overall_multi = _unweighted([p for c in MULTI_TURN for p in part(c)])
    groups = (overall_non_live, overall_live, overall_multi)
    if all(g is not None for g in groups):
        v3, kind = (
            _unweighted([g for g in groups if g is not None]),
            "v3: unweighted mean of non-live, live and multi-turn",
        )
    else:
        v3 = None
        kind = (
            "single-turn only"
            if overall is not None
            else "multi-turn only"
            if overall_multi
            else "nothing evaluated"
        )
    return {
        "overall": _acc(v3),
        "overall_kind": kind,
        "multi_turn": {
            "overall": _acc(overall_multi),
            "categories_missing": [c for c in MULTI_TURN if c not in per_category],
        },
        "non_live": {
            "overall": _acc(overall_non_live),
            "summary_ast": _acc(summary_ast_non_live),
            "simple_ast": _acc(simple),
        },
        "live": {"overall": _acc(overall_live), "summary_ast": _acc(summary_ast_live)},
        "overall_single_turn": _acc(overall),
        "irrelevance": _acc(irrelevance),
        "relevance": _acc(_unweighted(part("live_relevance"))),
        "categories_missing": [c for c in ALL_CATEGORIES if c not in per_category],
    }


def iter_categories(categories: Iterable[str]) -> list[str]:
    """Validated category names (v3 names; v4's ``simple_python`` etc. are accepted and mapped; ``multi_turn``
    stands for the four multi-turn categories)."""
    v4 = {"simple_python": "simple", "simple_java": "java", "simple_javascript": "javascript"}
    out = []
    expanded: list[str] = []
    for c in categories:
        expanded += list(MULTI_TURN) if c == "multi_turn" else [c]
    for c in expanded:
        c = v4.get(c, c)
        if c not in ALL_CATEGORIES + MULTI_TURN:
            raise ValueError(
                f"unknown BFCL category {c!r}; known: {list(ALL_CATEGORIES + MULTI_TURN)} or multi_turn"
            )
        if c not in out:
            out.append(c)
    return out
