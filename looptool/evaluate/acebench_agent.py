"""ACEBench agent categories (``agent_multi_turn``, ``agent_multi_step``): the student converses with ACEBench's
executable scenarios (phone platform: messages, reminders, food delivery; travel booking) and, in multi-turn,
with a simulated user played by a model of the ``backends.user`` role.

ACEBench ships no package, so its code is read from an ACEBench checkout (``eval.acebench_code_dir``, or the
checkout that holds ``eval.acebench_dir`` when that is its ``data_all/data_en``): the scenario classes
(``model_inference/{multi_turn,multi_step}/scenariosen``), the agent prompts
(``multi_turn/common_agent.py``, ``multi_step/common_agent_step.py``, ``prompt_en.py``) and the simulated
user's prompts (``multi_turn/APIModel_user.py``). Nothing of it is copied here. The layout is that of the
upstream repository at the commit ``make acebench`` fetches (:mod:`looptool.evaluate.acebench_checkout`; forks
such as ``yxli2123/ACEBench`` moved these files after it); ``tests/data/acebench`` holds fixtures of our own in
that layout.

The loop follows ACEBench's ``common_inference.multi_turn_inference`` / ``multi_step_inference``:

* multi-turn: the user model gets the user prompt with the entry's instruction and "Is there anything you
  need help with today?" and opens the conversation; the agent gets its system prompt (plus the travel or
  phone-platform prompt) and "Below is the list of APIs you can use ... Conversation history 1..t:" with the
  transcript so far (``user:`` / ``agent:`` / ``execution:`` lines); an answer with calls goes to the
  executor, any other answer to the user; the conversation ends when a message (after the second) contains
  "finish conversation", or after 40 messages;
* multi-step: the entry's question opens the transcript, the agent calls until it answers in text.

End state: after the conversation, the attributes ACEBench saves of every scenario instance (``SAVED_CLASS``)
are compared with the ground truth by ACEBench's ``agent_checker`` rule (every ground-truth class present,
each saved attribute equal; dict attributes key by key), after a JSON round trip as in ACEBench (which
scores its saved result files). Process accuracy: the fraction of ``mile_stone`` calls found in order among
the executed calls (ACEBench's ``agent_eval_process``).

DEVIATIONS (each for safety or portability): calls are read with :func:`looptool.calls.parse` (never
``eval``) and run by method name on the instance that has it, so an answer in the ``<tool_call>`` format
counts too; a call's record for the process check is its canonical ACEBench rendering
``[name(key='value', ...)]`` rather than the raw text; the simulated user's own earlier replies are sent to the
user model as ``assistant`` messages (ACEBench sends them as ``system`` messages, which many chat templates
reject mid-conversation); an exception inside a call reports ``Error during execution: <error>`` and stops
that message's remaining calls (ACEBench's executor does the same, with a formatting slip).
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool.calls import Call, parse
from looptool.llm.base import Backend, Completion, Request, Sampling

CATEGORIES = ("agent_multi_turn", "agent_multi_step")
MAX_MESSAGES = 40
"""ACEBench's ``max_dialog_turns`` default: messages in one conversation."""
FINISH = "finish conversation"
USER_OPENING = "Is there anything you need help with today?"
SAVED_CLASS = {
    "BaseApi": ["wifi", "logged_in"],
    "MessageApi": ["inbox"],
    "ReminderApi": ["reminder_list"],
    "FoodPlatform": ["users", "logged_in_users", "orders"],
    "Travel": ["users", "reservations"],
}
"""The scenario attributes ACEBench saves and scores (``common_inference.SAVED_CLASS``)."""
_MODULES = {
    "BaseApi": "scenariosen.phone_platform.base_api",
    "MessageApi": "scenariosen.phone_platform.message",
    "ReminderApi": "scenariosen.phone_platform.reminder",
    "FoodPlatform": "scenariosen.phone_platform.food_services",
    "Travel": "scenariosen.travel",
}


def find_code_dir(code_dir: str | None, data_dir: str | Path | None) -> Path | None:
    """The ACEBench checkout: ``code_dir`` (must be one), else the checkout holding ``data_dir``, else None."""
    if code_dir:
        p = Path(code_dir)
        if not (p / "model_inference" / "multi_turn").is_dir():
            raise FileNotFoundError(
                f"eval.acebench_code_dir: {code_dir} is not an ACEBench checkout (no model_inference/multi_turn/)"
            )
        return p
    if data_dir:
        root = Path(data_dir).resolve().parent.parent
        if (root / "model_inference" / "multi_turn").is_dir():
            return root
    return None


def _forget_modules() -> None:
    for name in [m for m in sys.modules if m == "model_inference" or m.startswith("model_inference.")]:
        del sys.modules[name]


@dataclass
class AceCode:
    """What the evaluation reads from an ACEBench checkout."""

    root: Path
    user_prompts: dict[str, str]
    agent_system: dict[str, str]
    agent_user: dict[str, str]
    scene_prompts: dict[str, str]
    classes: dict[str, dict[str, type]]

    @classmethod
    def load(cls, root: str | Path) -> AceCode:
        root = Path(root).resolve()
        added = str(root) not in sys.path
        if added:
            sys.path.insert(0, str(root))
        _forget_modules()  # another checkout's modules of the same names, imported earlier, must not be reused
        try:
            user = importlib.import_module("model_inference.multi_turn.APIModel_user")
            turn = importlib.import_module("model_inference.multi_turn.common_agent")
            step = importlib.import_module("model_inference.multi_step.common_agent_step")
            prompts = importlib.import_module("model_inference.prompt_en")
            classes = {
                kind: {
                    name: getattr(importlib.import_module(f"model_inference.{kind}.{mod}"), name)
                    for name, mod in _MODULES.items()
                }
                for kind in ("multi_turn", "multi_step")
            }
        except (ImportError, AttributeError) as e:
            raise RuntimeError(
                f"{root}: cannot read ACEBench's agent code ({type(e).__name__}: {e})"
            ) from None
        finally:
            _forget_modules()  # the classes keep their modules alive; the names stay free for the next load
            if added:
                with contextlib.suppress(ValueError):
                    sys.path.remove(str(root))
        return cls(
            root,
            {"BaseApi": user.SYSTEM_PROMPT_BASE_EN, "Travel": user.SYSTEM_PROMPT_TRAVEL_EN},
            {
                "multi_turn": turn.MULTI_TURN_AGENT_PROMPT_SYSTEM_EN,
                "multi_step": step.MULTI_TURN_AGENT_PROMPT_SYSTEM_EN,
            },
            {
                "multi_turn": turn.MULTI_TURN_AGENT_PROMPT_USER_EN,
                "multi_step": step.MULTI_TURN_AGENT_PROMPT_USER_EN,
            },
            {"Travel": prompts.TRAVEL_PROMPT_EN, "BaseApi": prompts.BASE_PROMPT_EN},
            classes,
        )


@dataclass
class Entry:
    id: str
    category: str
    question: str
    functions: list[dict[str, Any]]
    initial_config: dict[str, Any]
    involved_classes: list[str]
    ground_truth: list[dict[str, Any]]
    mile_stone: list[Any]

    @property
    def kind(self) -> str:
        return self.category.removeprefix("agent_")


def load_category(data_dir: str | Path, category: str) -> tuple[list[Entry], int]:
    """Entries of an agent category (file order) and the file's entry count."""
    from looptool.evaluate.acebench import category_file
    from looptool.jsonutil import read_jsonl

    if category not in CATEGORIES:
        raise ValueError(f"{category!r} is not an ACEBench agent category; known: {list(CATEGORIES)}")
    qpath, apath = category_file(data_dir, category), category_file(data_dir, category, answers=True)
    for p in (qpath, apath):
        if not p.exists():
            raise FileNotFoundError(f"{p}: ACEBench file not found")
    answers = {a["id"]: a for a in read_jsonl(apath)}
    questions = read_jsonl(qpath)
    out = []
    for n, q in enumerate(questions, 1):
        for key in ("id", "question", "function", "involved_classes"):
            if key not in q:
                raise ValueError(f"{qpath}:{n}: entry without '{key}'")
        a = answers.get(q["id"])
        if a is None:
            raise ValueError(f"{qpath}:{n}: entry {q['id']} has no possible answer in {apath}")
        unknown = [c for c in q["involved_classes"] if c not in SAVED_CLASS]
        if unknown:
            raise ValueError(f"{qpath}:{n}: unknown scenario class(es) {unknown}")
        gt = a["ground_truth"] if isinstance(a["ground_truth"], list) else [a["ground_truth"]]
        out.append(
            Entry(
                q["id"],
                category,
                q["question"],
                q["function"],
                q.get("initial_config") or {},
                list(q["involved_classes"]),
                gt,
                a.get("mile_stone") or [],
            )
        )
    return out, len(questions)


# --- execution -----------------------------------------------------------------------------------------------


def ace_render(calls: list[Call] | tuple[Call, ...]) -> str:
    """Calls as ACEBench writes them: ``[name(key='value', n=1), other()]``."""
    return (
        "["
        + ", ".join(
            f"{c.name}(" + ", ".join(f"{k}={v!r}" for k, v in c.arguments.items()) + ")" for c in calls
        )
        + "]"
    )


def _result_text(value: Any) -> Any:
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict):
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = str(value)
    else:
        text = str(value)
    try:  # ACEBench's executor role reads each result back as JSON where it can
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return text


class Environment:
    """The entry's scenario instances, created on the first executed call as ACEBench does."""

    def __init__(self, code: AceCode, entry: Entry):
        self.code, self.entry = code, entry
        self.instances: dict[str, Any] | None = None

    def _create(self) -> dict[str, Any]:
        classes = self.code.classes[self.entry.kind]
        out = {}
        base = self.entry.initial_config.get("BaseApi", {})
        for name in self.entry.involved_classes:
            inst = classes[name]()
            inst._load_scenario(copy.deepcopy(self.entry.initial_config.get(name, {})), long_context=False)
            inst._load_scenario(copy.deepcopy(base), long_context=False)
            out[name] = inst
        return out

    def methods(self) -> dict[str, list[str]]:
        """Public method name -> the involved classes that have it."""
        classes = self.code.classes[self.entry.kind]
        out: dict[str, list[str]] = {}
        for name in self.entry.involved_classes:
            for m, _ in inspect.getmembers(classes[name], predicate=inspect.isfunction):
                if not m.startswith("_"):
                    out.setdefault(m, []).append(name)
        return out

    def execute(self, calls: tuple[Call, ...]) -> list[Any]:
        """Run ``calls`` (method name + literal arguments, never ``eval``); one result per call."""
        if self.instances is None:
            self.instances = self._create()
        owners = self.methods()
        results: list[Any] = []
        for call in calls:
            if call.name not in owners:
                results.append(f"Error during execution: name '{call.name}' is not defined")
                break
            try:
                value: Any = None
                for cls_name in owners[call.name]:  # ACEBench calls the method on every instance that has it
                    value = getattr(self.instances[cls_name], call.name)(**call.arguments)
            except Exception as e:  # a call the scenario rejects: its error text goes back to the agent
                results.append(f"Error during execution: {e}")
                break
            results.append(_result_text(value))
        return results

    def state(self) -> list[dict[str, Any]]:
        """The saved attributes of every instance, JSON round-tripped (ACEBench scores its result files)."""
        if self.instances is None:
            return []
        out = []
        for name, inst in self.instances.items():
            out.append({name: {k: v for k, v in vars(inst).items() if k in SAVED_CLASS[name]}})
        return json.loads(json.dumps(out, default=str))


# --- scoring (ACEBench's agent_eval / agent_checker / agent_eval_process) -------------------------------------


def check_state(state: list[dict[str, Any]], ground_truth: list[dict[str, Any]]) -> tuple[bool, list[str]]:
    """ACEBench's end-state verdict."""
    if len(ground_truth) != len(state):
        return False, [f"wrong number of class: expected {len(ground_truth)}, got {len(state)}"]
    errors: list[str] = []
    for gt in ground_truth:
        keys = set(gt)
        matched = next((m for m in state if set(m) == keys), None)
        if matched is None:
            continue  # (sic) ACEBench does not fail a class it cannot match when the counts agree
        scenario = next(iter(gt))
        expected, got = gt[scenario], matched[next(iter(matched))]
        for attr, value in got.items():
            if attr not in expected:
                errors.append(f"class({scenario}) attributes({attr}) missing in possible_answer.")
                continue
            want = expected[attr]
            if isinstance(want, dict):
                for k, v in want.items():
                    if not isinstance(value, dict) or k not in value:
                        errors.append(
                            f"class({scenario}) attributes({attr}) wrong, [expected: {want}, real: {value}]"
                        )
                    elif v != value[k]:
                        errors.append(
                            f"class({scenario}) attributes({attr}.{k}) wrong, [expected: {v}, real: {value[k]}]"
                        )
            elif want != value:
                errors.append(
                    f"class({scenario}) attributes({attr}) wrong, [expected: {want}, real: {value}]"
                )
    return not errors, errors


def process_accuracy(executed: list[str], mile_stone: list[Any]) -> float:
    """Fraction of the milestone calls found, in order, among the executed ones (best of alternatives)."""

    def one(stones: list[str]) -> float:
        if not stones:
            return 1.0
        i, found = 0, 0
        for stone in stones:
            while i < len(executed):
                i += 1
                if executed[i - 1].strip() == stone.strip():
                    found += 1
                    break
        return round(found / len(stones), 3)

    if mile_stone and isinstance(mile_stone[0], list):
        return max(one(m) for m in mile_stone)
    return one(mile_stone)


# --- the conversation --------------------------------------------------------------------------------------------


@dataclass
class Conversation:
    entry: Entry
    code: AceCode
    max_messages: int = MAX_MESSAGES
    env: Environment = field(init=False)
    history: str = ""
    user_messages: list[dict[str, str]] = field(default_factory=list)
    turn: str = "agent"
    """Who speaks next: ``user`` or ``agent`` (executions happen in place)."""
    n_messages: int = 0
    executed: list[str] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    failure: str | None = None
    n_tokens: int = 0

    def __post_init__(self) -> None:
        self.env = Environment(self.code, self.entry)
        if self.entry.kind == "multi_turn":
            cls = "BaseApi" if "BaseApi" in self.entry.involved_classes else "Travel"
            self.user_messages = [
                {
                    "role": "system",
                    "content": self.code.user_prompts[cls].format(instruction=self.entry.question),
                },
                {"role": "user", "content": USER_OPENING},
            ]
            self.turn = "user"
        else:
            self._add("user", self.entry.question, "user:")
            self.turn = "agent"

    def _add(self, sender: str, message: Any, prefix: str) -> None:
        self.history += f"{prefix}{message}\n"
        self.transcript.append({"sender": sender, "message": message})
        self.n_messages += 1
        # ACEBench: the opening message, then at most MAX_MESSAGES more; "finish conversation" counts from the
        # fourth message on
        finished = self.n_messages > 3 and FINISH in (message if isinstance(message, str) else str(message))
        if finished or self.n_messages > self.max_messages:
            self.done = True

    def request(self) -> tuple[str, Request]:
        key = f"acebench/{self.entry.id}/m{self.n_messages}"
        if self.turn == "user":
            return "user", Request.chat(self.user_messages, key=key)
        kind = self.entry.kind
        system = self.code.agent_system[kind]
        if kind == "multi_turn":
            for cls in ("Travel", "BaseApi"):
                if cls in self.entry.involved_classes:
                    system += self.code.scene_prompts[cls]
        user = self.code.agent_user[kind].format(functions=self.entry.functions, history=self.history)
        return "agent", Request.chat(
            [{"role": "system", "content": system}, {"role": "user", "content": user}], key=key
        )

    def advance(self, comp: Completion) -> None:
        self.n_tokens += len(comp.token_ids)
        if not comp.ok:
            self.failure, self.done = f"{self.turn} backend error: {comp.error}", True
            return
        text = comp.text.strip()
        if self.turn == "user":
            self.user_messages.append({"role": "assistant", "content": text})
            self._add("user", text, "user:")
            self.turn = "agent"
            return
        parsed = parse(text)
        self._add("agent", text, "agent:")
        if self.done:
            return
        if parsed.ok and parsed.calls:
            results = self.env.execute(parsed.calls)
            self.executed.append(ace_render(parsed.calls))
            self._add(
                "execution", results, "execution:" if self.entry.kind == "multi_turn" else "execution result:"
            )
            return  # the agent speaks again
        if self.entry.kind == "multi_step":
            self.done = True  # no user to answer a text reply
            return
        reply = text.removeprefix("agent:")
        self.user_messages.append({"role": "user", "content": reply})
        self.turn = "user"


@dataclass
class Result:
    id: str
    category: str
    valid: bool
    process: float
    error_type: str | None
    error: str | None
    transcript: list[dict[str, Any]]
    calls: list[str]
    n_tokens: int


def score(conv: Conversation) -> Result:
    e = conv.entry
    process = process_accuracy(conv.executed, e.mile_stone)
    if conv.failure is not None:
        return Result(
            e.id,
            e.category,
            False,
            process,
            "agent:backend_error",
            conv.failure,
            conv.transcript,
            conv.executed,
            conv.n_tokens,
        )
    ok, errors = check_state(conv.env.state(), e.ground_truth)
    return Result(
        e.id,
        e.category,
        ok,
        1.0 if ok else process,
        None if ok else "agent:state_mismatch",
        None if ok else json.dumps(errors, ensure_ascii=False, default=str)[:4000],
        conv.transcript,
        conv.executed,
        conv.n_tokens,
    )


def run(
    student: Backend,
    user: Backend | None,
    code: AceCode,
    entries: list[Entry],
    sampling: Sampling,
    user_sampling: Sampling | None = None,
    progress: Any = None,
    max_messages: int = MAX_MESSAGES,
) -> list[Result]:
    """Every conversation, advancing together: one batched call per role and round."""
    if user is None and any(e.kind == "multi_turn" for e in entries):
        raise ValueError("ACEBench agent_multi_turn needs a simulated user (backends.user)")
    user_sampling = user_sampling or Sampling(max_new_tokens=256, temperature=0.0)
    convs = [Conversation(e, code, max_messages) for e in entries]
    results: dict[str, Result] = {}
    while True:
        for c in convs:
            if c.done and c.entry.id not in results:
                results[c.entry.id] = score(c)
                if progress is not None:
                    progress(1)
        open_ = [c for c in convs if not c.done]
        if not open_:
            break
        asks = [(c, *c.request()) for c in open_]
        for role, backend, samp in (("agent", student, sampling), ("user", user, user_sampling)):
            group = [(c, r) for c, who, r in asks if who == role]
            if not group:
                continue
            assert backend is not None
            got = backend.generate([r for _, r in group], samp)
            if len(got) != len(group):
                raise RuntimeError(
                    f"backend {backend.name} returned {len(got)} completions for {len(group)} requests"
                )
            for (c, _), comp in zip(group, got, strict=True):
                c.advance(comp)
    return [results[e.id] for e in entries]
