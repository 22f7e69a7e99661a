"""ACEBench (English) evaluation: data files, prompts, scoring and ACEBench's aggregation.

Data: ACEBench's ``data_all/data_en`` folder (``data_<category>.json`` with ``possible_answer/`` beside).
Normal and special categories are single-step: the conversation so far is given and the model answers once.
The agent categories (``agent_multi_turn``, ``agent_multi_step``) are conversations with ACEBench's
executable scenarios: :mod:`looptool.evaluate.acebench_agent`.

Prompting uses ACEBench's function-calling mode (its FC prompts, in the ``yxli2123/ACEBench`` copy): a short
system prompt with the current time (normal, special) or the user profile (preference), the special categories'
instructions on how to point out missing / wrong parameters or an out-of-scope request, and the conversation as
``Conversation history 1..t:\\n{question}``; the functions go to the backend as tools (``dict`` -> ``object``,
``float`` -> ``number``, and ``arguments`` read as ``parameters`` where a doc spells it so).

Aggregation (ACEBench's ``generate_result_csv``): per-category accuracy (multi-turn categories: the end-to-end
accuracy over conversations, plus the process accuracy); ``atom``, ``single_turn``, ``multi_turn``,
``normal_summary`` (12 normal categories) and ``special_summary`` (3) are unweighted means over the categories
evaluated; ACEBench's ``summary`` (0.2676 special + 0.578 normal + 0.1545 agent) is given only when the agent
part was run, and ``summary_without_agent`` renormalises the first two weights otherwise.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looptool.jsonutil import read_jsonl
from looptool.llm.base import Request
from looptool.match import acebench as checker

ATOM = (
    "normal_atom_bool",
    "normal_atom_enum",
    "normal_atom_number",
    "normal_atom_list",
    "normal_atom_object_deep",
    "normal_atom_object_short",
)
SINGLE_TURN = ("normal_single_turn_single_function", "normal_single_turn_parallel_function")
MULTI_TURN = ("normal_multi_turn_user_switch", "normal_multi_turn_user_adjust")
NORMAL = SINGLE_TURN + MULTI_TURN + ("normal_similar_api", "normal_preference") + ATOM
SPECIAL = ("special_incomplete", "special_error_param", "special_irrelevant")
AGENT = ("agent_multi_turn", "agent_multi_step")
ALL_CATEGORIES = NORMAL + SPECIAL + AGENT
DEFAULT_CATEGORIES = NORMAL + SPECIAL
WEIGHTS = {"special": 0.2676, "normal": 0.578, "agent": 0.1545}

# ACEBench's function-calling system prompts (English).
NORMAL_PROMPT = "You are an AI assistant.\nBased on the conversation history, generate the API requests.\n\nCurrent Time:\n{time}\n"
PREFERENCE_PROMPT = (
    "You are an AI assistant. \nBased on the conversation history, generate the API requests. \n\n"
    "Character Profile:\n{profile}\n"
)
SPECIAL_PROMPT = """You are an AI assistant. 
Based on the conversation history, generate the API requests. 

1. When the information provided by the user is clear and unambiguous, and the problem can be resolved using the list of candidate functions:
   - If the API parameter description does not specify the required format for the value, use the user's original text for the parameter value.
   - When multiple tools in the candidate list can satisfy the user's needs, output all API requests.

2. When the information provided by the user is unclear, incomplete, or incorrect, or the user's question exceeds the capabilities of the provided functions, you need to clearly point out these issues. The following is your strategy:
   (1) If the user's instructions include the key details required to call the API, but the type or form of the parameter values does not match the API's definitions, ask in-depth questions to clarify and correct the details. The output format should be: ["There is incorrect value (value) for the parameters (key) in the conversation history."]
   (2) If the user's instructions lack the key details required by the API, ask questions to obtain the necessary information. The output format should be: ["Missing necessary parameters (key1, key2, ...) for the api (ApiName)"], replacing key1, key2 with the names of the missing parameters and ApiName with the actual API name.
   (3) If the user's request exceeds the current capabilities of your APIs, inform them that you cannot fulfill the request. The output format should be: ["Due to the limitations of the function, I cannot solve this problem."]
   Note: The above steps have a priority order. You need to first determine whether scenario (1) applies. If it does, output according to the requirements in (1). Pay attention to distinguishing between scenarios (1) and (2).

Current Time:
{time}

"""  # noqa: W291 - ACEBench's text, trailing spaces included
USER_PROMPT = "Conversation history 1..t:\n{question}"


@dataclass
class Entry:
    id: str
    category: str
    question: str
    functions: list[dict[str, Any]]
    time: str
    profile: str
    answer: Any


def category_file(data_dir: str | Path, category: str, answers: bool = False) -> Path:
    root = Path(data_dir) / "possible_answer" if answers else Path(data_dir)
    return root / f"data_{category}.json"


def load_category(data_dir: str | Path, category: str) -> tuple[list[Entry], int]:
    """Entries of a normal or special category (file order) and the file's entry count."""
    if category not in NORMAL + SPECIAL:
        raise ValueError(f"ACEBench category {category!r} is not a normal or special category")
    qpath, apath = category_file(data_dir, category), category_file(data_dir, category, answers=True)
    for p in (qpath, apath):
        if not p.exists():
            raise FileNotFoundError(f"{p}: ACEBench file not found")
    answers = {a["id"]: a["ground_truth"] for a in read_jsonl(apath)}
    entries = []
    questions = read_jsonl(qpath)
    for n, q in enumerate(questions, 1):
        for key in ("id", "question", "function"):
            if key not in q:
                raise ValueError(f"{qpath}:{n}: entry without '{key}'")
        if q["id"] not in answers:
            raise ValueError(f"{qpath}:{n}: entry {q['id']} has no possible answer in {apath}")
        functions = q["function"] if isinstance(q["function"], list) else [q["function"]]
        entries.append(
            Entry(
                q["id"],
                category,
                q["question"],
                functions,
                q.get("time") or "",
                q.get("profile") or "",
                answers[q["id"]],
            )
        )
    return entries, len(questions)


def limit_entries(entries: list[Entry], limit: int | None) -> list[Entry]:
    """The first ``limit`` entries; for multi-turn categories the first ``limit`` whole conversations."""
    if limit is None:
        return entries
    if checker.category_kind(entries[0].category if entries else "") != "normal_multi_turn":
        return entries[:limit]
    out: list[Entry] = []
    convs: list[str] = []
    for e in entries:
        conv = e.id.split("_")[-2]
        if conv not in convs:
            if len(convs) == limit:
                break
            convs.append(conv)
        out.append(e)
    return out


_SCHEMA_TYPES = {"dict": "object", "float": "number", "tuple": "array"}


def _json_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k == "type" and isinstance(v, str):
            out[k] = _SCHEMA_TYPES.get(v, v)
        elif k == "properties" and isinstance(v, dict):
            out[k] = {name: _json_schema(s) for name, s in v.items()}
        else:
            out[k] = _json_schema(v)
    return out


def to_tools(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ACEBench function docs as JSON-Schema tools for the prompt."""
    tools = []
    for f in functions:
        params = f.get("parameters", f.get("arguments")) or {"type": "object", "properties": {}}
        tools.append(
            {
                "name": f["name"],
                "description": f.get("description", ""),
                "parameters": _json_schema(copy.deepcopy(params)),
            }
        )
    return tools


def messages_for(entry: Entry) -> list[dict[str, str]]:
    kind = checker.category_kind(entry.category)
    if kind == "special":
        system = SPECIAL_PROMPT.format(time=entry.time)
    elif "preference" in entry.category:
        system = PREFERENCE_PROMPT.format(profile=entry.profile)
    else:
        system = NORMAL_PROMPT.format(time=entry.time)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": USER_PROMPT.format(question=entry.question)},
    ]


def request_for(entry: Entry) -> Request:
    return Request.chat(messages_for(entry), to_tools(entry.functions), key=f"acebench/{entry.id}")


def score(entry: Entry, text: str, parsed: Any, mode: str = "official") -> checker.CheckResult:
    """ACEBench's verdict: special categories on the raw text, normal ones on the answer decoded as ``mode``
    says (``official``: as ACEBench's ``eval_main``; ``looptool``: the project's parse, ``parsed``)."""
    if checker.category_kind(entry.category) == "special":
        return checker.check_special(text, entry.answer, entry.category)
    return checker.check_normal_text(entry.functions, text, entry.answer, entry.category, mode, parsed=parsed)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def aggregate(per_category: dict[str, dict[str, Any]], agent_skipped: str | None) -> dict[str, Any]:
    """ACEBench's group figures from ``{category: {accuracy, ...}}``."""

    def accs(cats: tuple[str, ...]) -> list[float]:
        return [per_category[c]["accuracy"] for c in cats if c in per_category]

    normal = _mean(accs(NORMAL))
    special = _mean(accs(SPECIAL))
    agent = _mean(accs(AGENT))
    out: dict[str, Any] = {
        "atom": _mean(accs(ATOM)),
        "single_turn": _mean(accs(SINGLE_TURN)),
        "multi_turn": _mean(accs(MULTI_TURN)),
        "normal_summary": normal,
        "special_summary": special,
        "agent_summary": agent,
        "categories_missing": [c for c in ALL_CATEGORIES if c not in per_category],
    }
    if agent_skipped:
        out["agent_skipped"] = agent_skipped
    if normal is not None and special is not None and agent is not None:
        out["summary"] = round(
            WEIGHTS["special"] * special + WEIGHTS["normal"] * normal + WEIGHTS["agent"] * agent, 4
        )
    if normal is not None and special is not None:
        w = WEIGHTS["special"] + WEIGHTS["normal"]
        out["summary_without_agent"] = round(
            (WEIGHTS["special"] * special + WEIGHTS["normal"] * normal) / w, 4
        )
    return out
