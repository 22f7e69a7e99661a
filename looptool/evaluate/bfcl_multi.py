"""BFCL multi-turn evaluation with BFCL's own executable environments and checker (the ``bfcl-eval`` package).

Categories: ``multi_turn_base``, ``multi_turn_miss_func``, ``multi_turn_miss_param``,
``multi_turn_long_context``. Each entry is a conversation of several user turns over one or more of BFCL's
stateful API classes (file system, math, messaging, posting, ticketing, trading, travel, vehicle control).

The conversation follows ``bfcl_eval``'s ``BaseHandler.inference_multi_turn_FC``: per turn the user message
is added (for ``miss_func``, a turn with no user message instead adds the held-out functions to the tools,
with BFCL's "I have updated some more functions ..." message); then the model answers step by step: calls
are executed in the entry's environment and their results added as tool messages, until the model answers
without a call (or the answer does not parse), at most ``MAXIMUM_STEP_LIMIT`` steps (more: the entry fails,
"force-terminated"). Every entry's model-side step is one request through the student backend; all open
conversations advance together, one batched ``generate`` per round, through the call cache (a re-run replays
the finished steps).

Scoring: ``multi_turn_checker.multi_turn_checker`` of ``bfcl_eval`` on the executed calls of each turn
(state of every instance and execution results after each turn, against the ground-truth trajectory), as
``eval_runner._evaluate_single_multi_turn_entry`` calls it.

Safety: BFCL's executor runs ``eval()`` on call strings. Nothing the model wrote reaches it as text: the
answer is parsed by :func:`looptool.calls.parse` (JSON, or python through :mod:`ast` with literal values
only), each call's name must be a public method of the entry's environment classes, argument names must be
identifiers and values plain JSON values; the call string is then rendered here from those values
(:func:`render_call`) and re-checked with :mod:`ast` before it is handed over. A call that fails these checks
is not executed; its result is the error text BFCL's executor would give for an unknown function.

A prompt longer than the model's context (``long_context`` entries on small models) is a failed entry,
counted in ``context_overflow``.
"""

from __future__ import annotations

import ast
import copy
import json
import keyword
import math
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool.calls import Call, parse
from looptool.evaluate import bfcl as single
from looptool.jsonutil import read_jsonl
from looptool.llm.base import Backend, Completion, Request, Sampling

CATEGORIES = single.MULTI_TURN
BFCL_EVAL_VERSION = "2025.12.17"
"""The ``bfcl-eval`` release the Makefile installs and the figures follow."""

_CONTEXT_ERROR = re.compile(r"context|too long|maximum.{0,20}length", re.IGNORECASE)


def _bfcl():
    """bfcl-eval's multi-turn modules (imported on use: an optional dependency installed with ``--no-deps``)."""
    try:
        from bfcl_eval.constants import default_prompts, executable_backend_config
        from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker, multi_turn_utils
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            f"BFCL multi-turn needs the bfcl-eval package ({e}); install it with "
            f"`pip install --no-deps bfcl-eval=={BFCL_EVAL_VERSION}` (the Makefile does)"
        ) from None
    return default_prompts, executable_backend_config, multi_turn_checker, multi_turn_utils


def package_data_dir() -> Path | None:
    """``bfcl_eval/data`` of the installed bfcl-eval package, or None when it is not installed."""
    try:
        import bfcl_eval
    except ImportError:
        return None
    p = Path(bfcl_eval.__file__).resolve().parent / "data"
    return p if p.is_dir() else None


@dataclass
class Entry:
    id: str
    category: str
    turns: list[list[dict[str, Any]]]
    functions: list[dict[str, Any]]
    """Function docs available from the first turn (held-out ones removed)."""
    missed: dict[str, list[dict[str, Any]]]
    """miss_func: turn index -> function docs added at that turn."""
    initial_config: dict[str, Any]
    involved_classes: list[str]
    ground_truth: list[list[str]]

    @property
    def long_context(self) -> bool:
        return "long_context" in self.category

    def raw(self) -> dict[str, Any]:
        """The entry as bfcl-eval's checker reads it."""
        return {
            "id": self.id,
            "initial_config": self.initial_config,
            "involved_classes": self.involved_classes,
        }


def load_category(data_dir: str | Path, category: str) -> tuple[list[Entry], int]:
    """Entries of one multi-turn category (file order) with their function docs and ground truth, and the
    file's entry count. Function docs come from ``multi_turn_func_doc/`` of ``data_dir`` (else of the package),
    as bfcl-eval's ``populate_test_cases_with_predefined_functions`` adds them."""
    if category not in CATEGORIES:
        raise ValueError(f"{category!r} is not a BFCL multi-turn category; known: {list(CATEGORIES)}")
    _, backend_config, _, _ = _bfcl()
    qpath = single.category_file(data_dir, category)
    apath = single.category_file(data_dir, category, answers=True)
    if qpath is None or apath is None:
        raise FileNotFoundError(f"{data_dir}: no BFCL_v*_{category}.json (with possible_answer/)")
    doc_dir = Path(data_dir) / "multi_turn_func_doc"
    if not doc_dir.is_dir():
        pkg = package_data_dir()
        doc_dir = pkg / "multi_turn_func_doc" if pkg else doc_dir
    docs: dict[str, list[dict[str, Any]]] = {}
    answers = {a["id"]: a["ground_truth"] for a in read_jsonl(apath)}
    questions = read_jsonl(qpath)
    entries = []
    for n, q in enumerate(questions, 1):
        for key in ("id", "question", "involved_classes"):
            if key not in q:
                raise ValueError(f"{qpath}:{n}: entry without '{key}'")
        if q["id"] not in answers:
            raise ValueError(f"{qpath}:{n}: entry {q['id']} has no possible answer in {apath}")
        functions: list[dict[str, Any]] = []
        for cls in q["involved_classes"]:
            fname = backend_config.MULTI_TURN_FUNC_DOC_FILE_MAPPING.get(cls)
            if fname is None:
                raise ValueError(f"{qpath}:{n}: unknown involved class {cls!r}")
            if cls not in docs:
                path = doc_dir / fname
                if not path.exists():
                    raise FileNotFoundError(f"{path}: BFCL function docs of {cls} not found")
                docs[cls] = read_jsonl(path)
            functions += copy.deepcopy(docs[cls])
        missed: dict[str, list[dict[str, Any]]] = {}
        for turn, names in (q.get("missed_function") or {}).items():
            missed[str(turn)] = []
            for name in names:
                for i, doc in enumerate(functions):
                    if doc["name"] == name:
                        missed[str(turn)].append(functions.pop(i))
                        break
        gt = answers[q["id"]]
        if len(gt) != len(q["question"]):
            raise ValueError(
                f"{qpath}:{n} ({q['id']}): {len(q['question'])} turns but {len(gt)} answer turns"
            )
        entries.append(
            Entry(
                q["id"],
                category,
                q["question"],
                functions,
                missed,
                q.get("initial_config") or {},
                list(q["involved_classes"]),
                gt,
            )
        )
    return entries, len(questions)


# --- safe call rendering -----------------------------------------------------------------------------------


def _plain_ok(v: Any, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if v is None or isinstance(v, (bool, int, str)):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(_plain_ok(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain_ok(x, depth + 1) for k, x in v.items())
    return False


def render_call(call: Call, methods: set[str]) -> tuple[str | None, str | None]:
    """``(call string, None)`` for BFCL's executor, or ``(None, why)`` when the call may not be executed.

    The name must be one of ``methods`` (the environment's public methods), argument names identifiers, values
    plain JSON values (finite numbers); the string is built from those values with ``repr`` and must read
    back with :mod:`ast` as one call of that name with literal keyword arguments only.
    """
    if call.name not in methods:
        # what BFCL's executor answers for a name it cannot resolve
        return None, f"Error during execution: name '{call.name}' is not defined"
    for k, v in call.arguments.items():
        if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k):
            return None, f"Error during execution: invalid argument name {k!r}"
        if not _plain_ok(v):
            return None, f"Error during execution: argument {k!r} is not a plain value"
    text = f"{call.name}(" + ",".join(f"{k}={v!r}" for k, v in call.arguments.items()) + ")"
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:  # pragma: no cover - repr of plain values always parses
        return None, "Error during execution: the call does not render"
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == call.name
        and not node.args
    ):
        return None, "Error during execution: the call does not render"  # pragma: no cover
    for kw in node.keywords:
        try:
            ast.literal_eval(kw.value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None, f"Error during execution: argument {kw.arg!r} is not a literal"  # pragma: no cover
    return text, None


def environment_methods(involved_classes: list[str]) -> set[str]:
    """Public method names of the environment classes (what BFCL's executor maps to instances)."""
    import importlib
    import inspect

    _, backend_config, _, _ = _bfcl()
    names: set[str] = set()
    for cls_name in involved_classes:
        module = importlib.import_module(backend_config.CLASS_FILE_PATH_MAPPING[cls_name])
        cls = getattr(module, cls_name)
        names |= {
            n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction) if not n.startswith("_")
        }
    return names


# --- the conversation --------------------------------------------------------------------------------------


@dataclass
class Conversation:
    """One entry's conversation: the next request to send, and what to do with its answer."""

    entry: Entry
    run_name: str
    max_steps: int
    methods: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    functions: list[dict[str, Any]] = field(default_factory=list)
    turn: int = -1
    step: int = 0
    executed: list[list[list[str]]] = field(default_factory=list)
    """Per turn, per step: the call strings executed (what BFCL's checker receives, decoded)."""
    transcript: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    failure: str | None = None
    """Why the entry failed before scoring: ``context_overflow``, ``backend_error``, ``force_terminated``."""
    failure_detail: str | None = None
    n_tokens: int = 0

    def __post_init__(self) -> None:
        self.functions = copy.deepcopy(self.entry.functions)
        self.methods = environment_methods(self.entry.involved_classes)
        self._next_turn()

    def _next_turn(self) -> None:
        default_prompts, _, _, _ = _bfcl()
        self.turn += 1
        self.step = 0
        if self.turn >= len(self.entry.turns):
            self.done = True
            return
        msgs = list(self.entry.turns[self.turn])
        if str(self.turn) in self.entry.missed:
            self.functions += copy.deepcopy(self.entry.missed[str(self.turn)])
            msgs = [
                {"role": "user", "content": default_prompts.DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC}
            ]
        self.messages += [{"role": m["role"], "content": m["content"]} for m in msgs]
        self.executed.append([])

    def request(self) -> Request:
        return Request.chat(
            self.messages,
            single.to_tools(self.functions, self.entry.category),
            key=f"bfcl/{self.entry.id}/turn{self.turn}/step{self.step}",
        )

    def advance(self, comp: Completion) -> None:
        """Take the model's answer to :meth:`request`: execute its calls, or end the turn."""
        _, _, _, utils = _bfcl()
        self.n_tokens += len(comp.token_ids)
        if not comp.ok:
            self.failure = "context_overflow" if _CONTEXT_ERROR.search(comp.error or "") else "backend_error"
            self.failure_detail = comp.error
            self.done = True
            return
        parsed = parse(comp.text)
        self.transcript.append({"turn": self.turn, "step": self.step, "text": comp.text})
        if not parsed.ok or not parsed.calls:
            # BFCL: an answer that does not decode to calls ends the turn
            self.messages.append({"role": "assistant", "content": comp.text})
            self._next_turn()
            return
        strings: list[str] = []
        results: list[str | None] = []
        for call in parsed.calls:
            text, refused = render_call(call, self.methods)
            if text is not None:
                strings.append(text)
            results.append(refused)
        executed_results: list[str] = []
        if strings:
            executed_results, _ = utils.execute_multi_turn_func_call(
                strings,
                self.entry.initial_config,
                self.entry.involved_classes,
                self.run_name,
                self.entry.id,
                long_context=self.entry.long_context,
                is_evaL_run=False,
            )
        it = iter(executed_results)
        results = [r if r is not None else next(it) for r in results]
        self.executed[-1].append(strings)
        self.messages.append(
            {
                "role": "assistant",
                "content": parsed.content,
                "tool_calls": [c.to_dict() for c in parsed.calls],
            }
        )
        self.messages += [{"role": "tool", "content": str(r)} for r in results]
        self.step += 1
        if self.step > self.max_steps:
            self.failure = "force_terminated"
            self.failure_detail = f"more than {self.max_steps} steps in turn {self.turn}"
            self.done = True


def _clear_instances(run_name: str, entry_id: str | None = None) -> None:
    """Drop the environment instances bfcl-eval keeps in its module globals for this run (and entry)."""
    _, _, _, utils = _bfcl()
    prefix = re.sub(r"[-./:]", "_", run_name)
    part = None if entry_id is None else "_" + re.sub(r"[-./:]", "_", entry_id) + "_"
    for k in [k for k in vars(utils) if k.startswith(prefix) and (part is None or part in k)]:
        del vars(utils)[k]


@dataclass
class Result:
    id: str
    category: str
    valid: bool
    error_type: str | None
    error: str | None
    transcript: list[dict[str, Any]]
    calls: list[list[list[str]]]
    n_tokens: int


def score(conv: Conversation) -> Result:
    """BFCL's verdict on a finished conversation (``_evaluate_single_multi_turn_entry``)."""
    _, _, checker, _ = _bfcl()
    e = conv.entry
    if conv.failure is not None:
        return Result(
            e.id,
            e.category,
            False,
            f"multi_turn:{conv.failure}",
            conv.failure_detail,
            conv.transcript,
            conv.executed,
            conv.n_tokens,
        )
    decoded = [[step for step in turn if step] for turn in conv.executed]
    try:
        res = checker.multi_turn_checker(decoded, e.ground_truth, e.raw(), e.category, conv.run_name)
    except Exception as ex:  # the checker asserts on inconsistent instances; count it as a failure
        res = {
            "valid": False,
            "error_type": "multi_turn:checker_error",
            "error_message": f"{type(ex).__name__}: {ex}",
        }
    valid = bool(res.get("valid"))
    err = (
        None
        if valid
        else json.dumps(
            {k: v for k, v in res.items() if k in ("error_message", "details")},
            default=str,
            ensure_ascii=False,
        )[:4000]
    )
    return Result(
        e.id,
        e.category,
        valid,
        None if valid else res.get("error_type"),
        err,
        conv.transcript,
        conv.executed,
        conv.n_tokens,
    )


def run(
    backend: Backend,
    entries: list[Entry],
    sampling: Sampling,
    max_steps: int | None = None,
    progress: Any = None,
) -> list[Result]:
    """Converse with every entry (all advancing together, one batched ``generate`` per round) and score each."""
    default_prompts, _, _, _ = _bfcl()
    steps = default_prompts.MAXIMUM_STEP_LIMIT if max_steps is None else max_steps
    run_name = f"looptool_{uuid.uuid4().hex[:12]}"
    convs = [Conversation(e, run_name, steps) for e in entries]
    results: dict[str, Result] = {}
    try:
        while True:
            open_ = [c for c in convs if not c.done]
            for c in [c for c in convs if c.done and c.entry.id not in results]:
                results[c.entry.id] = score(c)
                _clear_instances(run_name, c.entry.id)
                if progress is not None:
                    progress(1)
            if not open_:
                break
            got = backend.generate([c.request() for c in open_], sampling)
            if len(got) != len(open_):
                raise RuntimeError(
                    f"backend {backend.name} returned {len(got)} completions for {len(open_)} requests"
                )
            for c, comp in zip(open_, got, strict=True):
                c.advance(comp)
    finally:
        _clear_instances(run_name)
    return [results[e.id] for e in entries]


def aggregate(per_category: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """BFCL's multi-turn overall: the unweighted mean of the four categories (those evaluated)."""
    accs = [per_category[c]["accuracy"] for c in CATEGORIES if c in per_category]
    return {
        "overall": round(sum(accs) / len(accs), 4) if accs else None,
        "categories_missing": [c for c in CATEGORIES if c not in per_category],
    }
