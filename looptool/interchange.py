"""Import datasets from other tools' formats, and export D_j for other trainers.

Import reads OpenAI messages+tools JSONL or BFCL question files and writes SAMPLE rows (origin ``import``,
iteration 0, ``sample_id = make_sample_id(tools, messages)``). Export writes D_j (or the pool) as OpenAI
JSONL or LLaMA-Factory ShareGPT. Both stream in chunks: import never holds more than a chunk of rows, export
reads record batches from DuckDB.

Decision points of an OpenAI conversation (one JSON object a line: ``{"messages": [...], "tools": [...]}``)
----------------------------------------------------------------------------------------------------------
Every assistant message is a candidate, with the messages before it as the context:

* an assistant turn with ``tool_calls`` is a decision point; its label is its calls;
* an assistant *text* turn is a decision point with label ``[]`` (answer in text, call nothing; the text is
  kept as ``meta.reply``) when it directly follows a user message -- a refusal or a clarifying question --
  or when it carries ``"weight": 1``. A text turn after tool results (a summary of them) is not: the loop
  trains the decision to call, and a summary after the results teaches nothing about that;
* an assistant turn with ``"weight": 0`` (OpenAI fine-tuning's "do not train on this turn") is never one.

Export writes one line per decision point: the context with its assistant turns marked ``"weight": 0``, then
the label as a final assistant turn with ``"weight": 1`` (calls as ``tool_calls``; a ``[]`` label as a text
turn from ``meta.reply``). Importing that line gives back exactly the one decision point, so
import -> export -> import keeps sample ids, tools, messages and labels identical.

Canonical form written by import (what ``sample_id`` hashes)
------------------------------------------------------------
* tools: :func:`looptool.calls.normalize_tool` (``{name, description, parameters}``; the OpenAI
  ``{"type": "function", "function": ...}`` wrapper removed), parameters checked as JSON Schema;
* messages: only the keys ``role``, ``content``, ``name``, ``tool_calls``, ``tool_call_id``; content given as
  a list of text parts is joined into one string; each tool call is
  ``{"type": "function", "function": {"name", "arguments": <object>}}`` (plus its ``id`` when given),
  arguments parsed from JSON text when they are a string;
* label: ``[{name, arguments}]``, checked against the tools with :func:`looptool.calls.validate_calls`.

BFCL (question file + ``possible_answer/<same name>`` beside it): one decision point per entry, the label
from the ground truth with the first acceptable value of each parameter (``""`` first means "omitted");
BFCL's types are turned into JSON Schema by BFCL's own map (dict -> object, float -> number, tuple -> array,
any -> string; Java/JavaScript type names likewise; :func:`looptool.evaluate.bfcl.json_schema_type`). Irrelevance categories have no answer file: label ``[]``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.calls import normalize_tool, render_target, validate_calls
from looptool.evaluate.bfcl import category_of, json_schema_type, read_answers
from looptool.schema import REJECTED, SAMPLE, Schema, make_sample_id
from looptool.storage import temp_path

__all__ = [
    "ExportReport",
    "ImportReport",
    "InterchangeError",
    "bfcl_schema",
    "decision_points",
    "export_dataset",
    "import_files",
    "normalize_messages",
    "normalize_tools",
    "read_bfcl",
    "read_openai",
    "to_openai",
    "to_sharegpt",
]

IMPORT_FORMATS = ("auto", "openai", "bfcl")
EXPORT_FORMATS = ("openai", "sharegpt")
MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
ROLES = ("system", "user", "assistant", "tool")

class InterchangeError(ValueError):
    """Bad input for import/export; the message names file, line and field."""


class FieldError(ValueError):
    """A problem with one field of one record (``field`` is a path like ``messages[2].tool_calls[0]``)."""

    def __init__(self, field: str, message: str, reason: str = "invalid_record"):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.reason = reason


# --- normalisation ----------------------------------------------------------------------------------------


def normalize_tools(tools: Any, field: str = "tools") -> list[dict[str, Any]]:
    """Check and normalise a tools list (OpenAI wrapper or plain functions) to ``{name, description,
    parameters}``; each ``parameters`` must be a valid JSON Schema of type object."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise FieldError(field, f"must be a list of tools, got {type(tools).__name__}", "invalid_tools")
    out = []
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        here = f"{field}[{i}]"
        if not isinstance(tool, dict):
            raise FieldError(here, "must be an object", "invalid_tools")
        if "type" in tool and tool["type"] != "function":
            raise FieldError(
                here, f"only function tools are supported, got type {tool['type']!r}", "invalid_tools"
            )
        fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        name = fn.get("name")
        if not isinstance(name, str) or not name.strip():
            raise FieldError(f"{here}.name", "must be a non-empty string", "invalid_tools")
        here = f"{field}[{i}] ({name})"
        if not isinstance(fn.get("description", ""), str):
            raise FieldError(f"{here}.description", "must be a string", "invalid_tools")
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise FieldError(f"{here}.parameters", "must be a JSON Schema object", "invalid_tools")
        if params:
            if params.get("type", "object") != "object":
                raise FieldError(
                    f"{here}.parameters",
                    f"must be a schema of type object, got {params.get('type')!r}",
                    "invalid_tools",
                )
            problem = _schema_problem(jsonutil.dumps(params))
            if problem:
                raise FieldError(
                    f"{here}.parameters{problem[0]}", f"invalid JSON Schema: {problem[1]}", "invalid_tools"
                )
        if name in seen:
            raise FieldError(here, f"duplicate tool name {name!r}", "invalid_tools")
        seen.add(name)
        out.append(normalize_tool(fn))
    return out


@lru_cache(maxsize=8192)
def _schema_problem(params_json: str) -> tuple[str, str] | None:
    """(path, message) of the first way a tool's parameters break their JSON Schema metaschema, or None.

    Cached by canonical JSON: datasets repeat the same tools across many rows. A schema without ``$schema``
    is checked against the Draft 7 metaschema: it covers every keyword tool schemas use, and checking is
    6x faster than against Draft 2020-12's (measured: 0.27 vs 1.5 ms a BFCL schema), which matters at
    millions of rows.
    """
    from jsonschema import Draft7Validator, validators
    from jsonschema.exceptions import best_match

    schema = json.loads(params_json)
    cls = validators.validator_for(schema, default=Draft7Validator)
    err = best_match(_meta_validator(cls).iter_errors(schema))
    if err is None:
        return None
    path = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return path, err.message


@lru_cache(maxsize=8)
def _meta_validator(cls):
    return cls(cls.META_SCHEMA)


def _content(value: Any, field: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for j, part in enumerate(value):
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                raise FieldError(f"{field}[{j}]", "only text content parts are supported", "invalid_messages")
        return "".join(texts)
    raise FieldError(
        field,
        f"must be a string, null or a list of text parts, got {type(value).__name__}",
        "invalid_messages",
    )


def _tool_call(tc: Any, field: str) -> dict[str, Any]:
    if not isinstance(tc, dict):
        raise FieldError(field, "must be an object", "invalid_messages")
    fn = tc.get("function") if isinstance(tc.get("function"), dict) else tc
    name = fn.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldError(f"{field}.function.name", "must be a non-empty string", "invalid_messages")
    args = fn.get("arguments")
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise FieldError(
                f"{field}.function.arguments", f"not valid JSON ({e.msg} at char {e.pos})", "invalid_messages"
            ) from None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise FieldError(
            f"{field}.function.arguments",
            f"must be a JSON object, got {type(args).__name__}",
            "invalid_messages",
        )
    out: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": args}}
    if tc.get("id") is not None:
        out["id"] = tc["id"]
    return out


def normalize_messages(messages: Any, field: str = "messages") -> list[dict[str, Any]]:
    """Check and normalise OpenAI chat messages to the canonical form (module docstring)."""
    if not isinstance(messages, list) or not messages:
        raise FieldError(field, "must be a non-empty list of messages", "invalid_messages")
    out = []
    for i, m in enumerate(messages):
        here = f"{field}[{i}]"
        if not isinstance(m, dict):
            raise FieldError(here, "must be an object", "invalid_messages")
        role = m.get("role")
        if role not in ROLES:
            raise FieldError(
                f"{here}.role", f"must be one of {list(ROLES)}, got {role!r}", "invalid_messages"
            )
        n = {k: m[k] for k in MESSAGE_KEYS if k in m}
        if "content" in n:
            n["content"] = _content(n["content"], f"{here}.content")
        calls = n.pop("tool_calls", None)
        if calls:
            if role != "assistant":
                raise FieldError(
                    f"{here}.tool_calls", "only assistant messages may have tool_calls", "invalid_messages"
                )
            if not isinstance(calls, list):
                raise FieldError(f"{here}.tool_calls", "must be a list", "invalid_messages")
            n["tool_calls"] = [_tool_call(tc, f"{here}.tool_calls[{j}]") for j, tc in enumerate(calls)]
        if role in ("system", "user", "tool") and not isinstance(n.get("content"), str):
            raise FieldError(f"{here}.content", f"a {role} message needs text content", "invalid_messages")
        if role == "assistant" and not n.get("tool_calls") and not isinstance(n.get("content"), str):
            raise FieldError(
                f"{here}.content", "an assistant message needs text content or tool_calls", "invalid_messages"
            )
        out.append(n)
    return out


def _label_of(msg: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}
        for tc in msg.get("tool_calls") or []
    ]


def _infer_pattern(tools: list[dict[str, Any]], prefix: list[dict[str, Any]], label: list[Any]) -> str:
    """The seed pattern an imported decision point most resembles (stored with ``pattern_inferred``).

    A ``[]`` label reads as ``irrelevant``: a clarifying question (``missing_arg``) cannot be told apart.
    """
    if not label:
        return "irrelevant"
    if any(m["role"] == "assistant" for m in prefix):
        return "multi_turn"
    if len(label) > 1:
        return "parallel"
    if len(tools) > 1:
        return "distractor"
    return "single"


def decision_points(
    raw_messages: list[Any], messages: list[dict[str, Any]]
) -> Iterator[tuple[int, list[Any], str | None]]:
    """(index, label, reply) of each decision point of a conversation (rules in the module docstring).

    ``raw_messages`` are the messages as read (for ``weight``), ``messages`` their normalised form.
    """
    for i, m in enumerate(messages):
        if m["role"] != "assistant" or i == 0:
            continue
        weight = raw_messages[i].get("weight")
        if weight is not None and weight not in (0, 1):
            raise FieldError(f"messages[{i}].weight", f"must be 0 or 1, got {weight!r}", "invalid_messages")
        if weight == 0:
            continue
        if m.get("tool_calls"):
            yield i, _label_of(m), None
        elif messages[i - 1]["role"] == "user" or weight == 1:
            yield i, [], m.get("content") or ""


# --- readers: each yields Item(row) or Item(error) ---------------------------------------------------------


@dataclass
class Item:
    """One candidate row from an input file: a SAMPLE row (JSON columns as text) or why it was refused."""

    where: str
    row: dict[str, Any] | None = None
    reason: str | None = None
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # what could be read, for the rejected file
    label_digest: str | None = None


def _sample_row(tools, messages, label, meta) -> dict[str, Any]:
    return {
        "sample_id": make_sample_id(tools, messages),
        "tools": jsonutil.dumps(tools),
        "messages": jsonutil.dumps(messages),
        "label": jsonutil.dumps(label),
        "origin": "import",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
        "meta": jsonutil.dumps(meta),
    }


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; bytes are decoded per line so an encoding error names
    its line."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise InterchangeError(f"{path}:{n}: not UTF-8 text ({e.reason} at byte {e.start})") from None
            if line.strip():
                yield n, line


def _parse_line(path: Path, n: int, line: str) -> tuple[Any, Item | None]:
    where = f"{path}:{n}"
    try:
        return json.loads(line), None
    except json.JSONDecodeError as e:
        return None, Item(
            where,
            reason="invalid_json",
            error=f"{where}: not valid JSON ({e.msg} at char {e.pos})",
            raw={"text": line[:2000]},
        )


def read_openai(path: str | Path, check_labels: bool = True) -> Iterator[Item]:
    """Decision points of an OpenAI messages+tools JSONL file (labels checked against the tools unless
    ``check_labels`` is False)."""
    path = Path(path)
    for n, line in _lines(path):
        where = f"{path}:{n}"
        rec, bad = _parse_line(path, n, line)
        if bad:
            yield bad
            continue
        try:
            if not isinstance(rec, dict):
                raise FieldError("<line>", f"must be a JSON object, got {type(rec).__name__}")
            if "messages" not in rec:
                raise FieldError("messages", f"missing (keys: {sorted(rec)})", "invalid_messages")
            tools = normalize_tools(rec.get("tools"))
            raw_messages = rec["messages"]
            messages = normalize_messages(raw_messages)
            points = list(decision_points(raw_messages, messages))
        except FieldError as e:
            raw = rec if isinstance(rec, dict) else {"value": rec}
            yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=raw)
            continue
        if not points:
            yield Item(
                where,
                reason="no_decision_point",
                error=f"{where}: messages: no assistant turn is a decision point (see import rules)",
                raw={"tools": tools, "messages": messages},
            )
            continue
        for i, label, reply in points:
            prefix = messages[:i]
            meta: dict[str, Any] = {
                "source": str(path),
                "line": n,
                "turn": i,
                "format": "openai",
                "pattern": _infer_pattern(tools, prefix, label),
                "pattern_inferred": True,
            }
            if reply is not None:
                meta["reply"] = reply
            yield _checked(where, f"messages[{i}]", tools, prefix, label, meta, check_labels)


def _checked(where: str, field: str, tools, prefix, label, meta, check_labels: bool = True) -> Item:
    """A candidate row, its label validated against its tools."""
    problems = validate_calls(label, tools) if check_labels else []
    raw = {"tools": tools, "messages": prefix, "label": label, "meta": meta}
    if problems:
        return Item(
            where, reason="invalid_label", error=f"{where}: {field} (label): {'; '.join(problems)}", raw=raw
        )
    row = _sample_row(tools, prefix, label, meta)
    for col in SAMPLE.columns:  # the same checks the schema runs when a stage reads the file
        if col.json is not None:
            msg = col.json(json.loads(row[col.name]))
            if msg:
                return Item(where, reason="schema", error=f"{where}: {field}: {col.name}: {msg}", raw=raw)
    return Item(where, row=row, label_digest=jsonutil.digest(label))


def bfcl_schema(schema: Any) -> Any:
    """A BFCL parameter schema as JSON Schema (types renamed recursively by BFCL's own map,
    :func:`looptool.evaluate.bfcl.json_schema_type`: ``any`` is a string, as BFCL checks it)."""
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


def read_bfcl(
    path: str | Path, answers: str | Path | None = None, check_labels: bool = True
) -> Iterator[Item]:
    """Decision points of a BFCL question file, labels from its possible-answer file."""
    path = Path(path)
    category = bfcl_category(path)
    answers = Path(answers) if answers is not None else path.parent / "possible_answer" / path.name
    try:
        truth = read_answers(answers) if answers.exists() else {}
    except ValueError as e:
        raise InterchangeError(str(e)) from None
    irrelevance = "irrelevance" in category
    for n, line in _lines(path):
        where = f"{path}:{n}"
        rec, bad = _parse_line(path, n, line)
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
            "pattern": _infer_pattern(tools, messages, label),
            "pattern_inferred": True,
        }
        yield _checked(where, f"id {entry_id}", tools, messages, label, meta, check_labels)


def detect_format(path: str | Path) -> str:
    """``openai`` or ``bfcl``, from the keys of the first record."""
    path = Path(path)
    for n, line in _lines(path):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InterchangeError(
                f"{path}:{n}: not valid JSON ({e.msg}); cannot detect the format"
            ) from None
        if isinstance(rec, dict) and "messages" in rec:
            return "openai"
        if isinstance(rec, dict) and "question" in rec and "function" in rec:
            return "bfcl"
        keys = sorted(rec) if isinstance(rec, dict) else type(rec).__name__
        raise InterchangeError(
            f"{path}:{n}: unknown format (keys {keys}); expected 'messages' (openai) "
            "or 'question' + 'function' (bfcl)"
        )
    raise InterchangeError(f"{path}: empty file")


# --- chunked, atomic Parquet writer -----------------------------------------------------------------------


class ChunkWriter:
    """Rows appended in chunks to a temporary Parquet file, renamed into place on :meth:`close`."""

    def __init__(self, path: str | Path, schema: Schema, chunk_rows: int = 5000, deep: bool = True):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.schema = schema
        self.chunk_rows = chunk_rows
        self.deep = deep
        self.rows = 0
        self._buf: list[dict[str, Any]] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = temp_path(self.path)
        self._arrow = schema.empty().to_arrow().schema
        self._writer = pq.ParquetWriter(self._tmp, self._arrow, compression="zstd")

    def append(self, row: dict[str, Any]) -> None:
        self._buf.append(row)
        if len(self._buf) >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        from looptool.schema import frame

        df = self.schema.validate(
            frame(self._buf, self.schema), where=f"{self.path} (rows {self.rows}+)", deep=self.deep
        )
        self._writer.write_table(df.to_arrow().cast(self._arrow))
        self.rows += len(self._buf)
        self._buf = []

    def close(self) -> Path:
        self._flush()
        self._writer.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self._tmp.unlink(missing_ok=True)


# --- import -----------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    out: Path
    rows: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejected_path: Path | None = None
    first_errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "rows": self.rows,
            "rejected": self.rejected,
            "reasons": self.reasons,
            "rejected_path": str(self.rejected_path) if self.rejected_path else None,
            "first_errors": self.first_errors,
        }


def rejected_path_for(out: str | Path) -> Path:
    """``x.parquet`` -> ``x_rejected.parquet`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}_rejected.parquet")


def _rejected_row(item: Item) -> dict[str, Any]:
    raw = item.raw
    tools, messages, label = (
        raw.get("tools", raw.get("function")),
        raw.get("messages", raw.get("question")),
        raw.get("label"),
    )
    meta = dict(raw.get("meta") or {})
    file, _, line = item.where.rpartition(":")
    meta.setdefault("source", file)
    meta.setdefault("line", int(line) if line.isdigit() else line)
    if "text" in raw:
        meta["text"] = raw["text"]
    try:
        sid = make_sample_id(tools, messages) if tools is not None and messages is not None else None
    except (TypeError, ValueError):
        sid = None
    return {
        "sample_id": sid or jsonutil.digest({"where": item.where, "raw": raw}),
        "tools": _json_or_text(tools if tools is not None else []),
        "messages": _json_or_text(messages if messages is not None else []),
        "label": _json_or_text(label if label is not None else []),
        "origin": "import",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
        "meta": _json_or_text(meta),
        "reason": item.reason or "invalid",
        "detail": item.error,
    }


def _json_or_text(value: Any) -> str:
    try:
        return jsonutil.dumps(value)
    except (TypeError, ValueError):
        return jsonutil.dumps(repr(value))


def _items(
    paths: Iterable[str | Path], fmt: str, answers: str | Path | None, check_labels: bool
) -> Iterator[Item]:
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise InterchangeError(f"{p}: no such file")
        f = detect_format(p) if fmt == "auto" else fmt
        if f == "openai":
            yield from read_openai(p, check_labels)
        elif f == "bfcl":
            yield from read_bfcl(p, answers, check_labels)
        else:
            raise InterchangeError(f"unknown import format {fmt!r} (choose from {list(IMPORT_FORMATS)})")


def import_files(
    paths: str | Path | Iterable[str | Path],
    out: str | Path,
    fmt: str = "auto",
    on_error: str = "skip",
    answers: str | Path | None = None,
    chunk_rows: int = 5000,
    progress: bool = False,
    check_labels: bool = True,
) -> ImportReport:
    """Import decision points from OpenAI JSONL or BFCL files into a SAMPLE Parquet file at ``out``.

    ``on_error="fail"`` raises :class:`InterchangeError` at the first bad row and writes nothing;
    ``"skip"`` writes bad rows with their reason to ``<out stem>_rejected.parquet`` (REJECTED schema; its
    JSON columns hold whatever could be read). The rejected file is written on every successful import,
    empty when nothing was refused, so a stale one from an earlier run never lingers. A repeated decision point (same sample_id) with the same
    label is kept once and its copies are flagged ``duplicate``; with a different label it is an error
    (``conflicting_duplicate``). ``check_labels=False`` keeps labels that break their tool's schema (e.g.
    re-importing a pool whose injected label noise JGLV is meant to find); everything else is still checked.
    """
    if fmt not in IMPORT_FORMATS:
        raise InterchangeError(f"unknown import format {fmt!r} (choose from {list(IMPORT_FORMATS)})")
    if on_error not in ("skip", "fail"):
        raise InterchangeError(f"on_error must be 'skip' or 'fail', got {on_error!r}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = Path(out)
    report = ImportReport(out)
    reasons: Counter[str] = Counter()
    seen: dict[str, tuple[str, str]] = {}
    writer = ChunkWriter(out, SAMPLE, chunk_rows, deep=False)  # rows are checked one by one in _checked
    rejected_rows = ChunkWriter(rejected_path_for(out), REJECTED, chunk_rows, deep=False)
    items: Iterable[Item] = _items(paths, fmt, answers, check_labels)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="import", unit=" rows")
    try:
        for item in items:
            if item.row is not None:
                sid = item.row["sample_id"]
                prev = seen.get(sid)
                if prev is None:
                    seen[sid] = (item.where, item.label_digest or "")
                    writer.append(item.row)
                    continue
                if prev[1] == item.label_digest:
                    item = Item(
                        item.where,
                        reason="duplicate",
                        raw=_raw_of(item.row),
                        error=f"{item.where}: same decision point and label as {prev[0]} (kept once)",
                    )
                else:
                    item = Item(
                        item.where,
                        reason="conflicting_duplicate",
                        raw=_raw_of(item.row),
                        error=f"{item.where}: label: same decision point as {prev[0]} with a different label",
                    )
            if on_error == "fail" and item.reason != "duplicate":
                raise InterchangeError(item.error or f"{item.where}: {item.reason}")
            reasons[item.reason or "invalid"] += 1
            if len(report.first_errors) < 10:
                report.first_errors.append(item.error or item.where)
            rejected_rows.append(_rejected_row(item))
        writer.close()
        report.rejected_path = rejected_rows.close()  # always written (maybe empty): no stale file survives
    except BaseException:
        writer.abort()
        rejected_rows.abort()
        raise
    report.rows = writer.rows
    report.rejected = sum(reasons.values())
    report.reasons = dict(reasons)
    return report


def _raw_of(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(row[k]) for k in ("tools", "messages", "label", "meta")}


# --- export -----------------------------------------------------------------------------------------------


def _openai_tool_call(tc: dict[str, Any], k: int | None = None) -> dict[str, Any]:
    fn = tc.get("function", tc)
    args = fn.get("arguments") or {}
    out: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": fn["name"],
            "arguments": args if isinstance(args, str) else json.dumps(args, ensure_ascii=False),
        },
    }
    if tc.get("id") is not None:
        out = {"id": tc["id"], **out}
    elif k is not None:
        out = {"id": f"call_{k}", **out}
    return out


def _parsed(row: dict[str, Any]) -> tuple[list, list, list, dict]:
    meta = json.loads(row["meta"]) if row.get("meta") else {}
    return json.loads(row["tools"]), json.loads(row["messages"]), json.loads(row["label"]), meta or {}


def to_openai(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as one OpenAI fine-tuning line: context (assistant turns ``weight: 0``) + label turn."""
    tools, messages, label, meta = _parsed(row)
    out = []
    for m in messages:
        m = {"role": m.get("role"), **{k: v for k, v in m.items() if k != "role"}}  # role first, for readers
        if m.get("role") == "assistant":
            if m.get("tool_calls"):
                m["tool_calls"] = [_openai_tool_call(tc) for tc in m["tool_calls"]]
            m["weight"] = 0
        out.append(m)
    final: dict[str, Any] = {"role": "assistant"}
    if label:
        final["content"] = None
        final["tool_calls"] = [_openai_tool_call({"function": c}, k) for k, c in enumerate(label)]
    else:
        final["content"] = render_target([], meta.get("reply"))
    final["weight"] = 1
    out.append(final)
    return {"messages": out, "tools": [{"type": "function", "function": _tool_order(t)} for t in tools]}


def _tool_order(tool: dict[str, Any]) -> dict[str, Any]:
    first = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
    return {**first, **{k: v for k, v in tool.items() if k not in first}}


_ODD = ("human", "observation")  # LLaMA-Factory: turns alternate (human|observation), (gpt|function_call)


def _calls_value(calls: list[dict[str, Any]]) -> str:
    calls = [{"name": c["name"], "arguments": c.get("arguments") or {}} for c in calls]
    return json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)


def to_sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    """A SAMPLE row as a LLaMA-Factory ShareGPT record (``conversations`` + ``tools`` JSON text).

    Consecutive user messages, or consecutive tool results (parallel calls), are joined with a newline, since
    LLaMA-Factory needs strictly alternating turns; the text of an assistant turn that also calls tools is
    dropped (ShareGPT's ``function_call`` holds only the calls). Raises ValueError when the turns cannot
    alternate (e.g. a user message right after a tool result).
    """
    from looptool.prompts.render import message_calls

    tools, messages, label, meta = _parsed(row)
    system = [m.get("content") or "" for m in messages if m.get("role") == "system"]
    turns: list[list[str]] = []
    for m in messages:
        role = m.get("role")
        if role == "system":
            continue
        if role == "user":
            tag, value = "human", m.get("content") or ""
        elif role == "tool":
            tag, value = "observation", m.get("content") or ""
        elif m.get("tool_calls"):
            tag, value = "function_call", _calls_value(message_calls(m))
        else:
            tag, value = "gpt", m.get("content") or ""
        if turns and turns[-1][0] == tag and tag in _ODD:
            turns[-1][1] += "\n" + value
        else:
            turns.append([tag, value])
    turns.append(
        ["function_call", _calls_value(label)] if label else ["gpt", render_target([], meta.get("reply"))]
    )
    for k, (tag, _) in enumerate(turns):
        if (tag in _ODD) != (k % 2 == 0):
            raise ValueError(
                f"turn {k} is {tag!r}: ShareGPT turns must alternate human/observation and gpt/function_call"
            )
    conv = [{"from": "system", "value": "\n\n".join(system)}] if system else []
    conv += [{"from": tag, "value": value} for tag, value in turns]
    return {"conversations": conv, "tools": json.dumps([_tool_order(t) for t in tools], ensure_ascii=False)}


@dataclass
class ExportReport:
    out: Path
    dataset: str
    rows: int = 0
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "dataset": self.dataset,
            "rows": self.rows,
            "skipped": self.skipped,
            "skipped_examples": self.skipped_examples,
        }


def export_dataset(
    ref: str,
    out: str | Path,
    fmt: str = "openai",
    data_dir: str | Path = "data",
    repo: str | Path | None = None,
    chunk_rows: int = 2000,
) -> ExportReport:
    """Write a dataset (``iter_J``, ``pool``, a path or ``REV:PATH``) for another trainer.

    ``openai``: JSONL, one decision point a line (:func:`to_openai`). ``sharegpt``: LLaMA-Factory records
    (:func:`to_sharegpt`), JSONL, or one JSON array when ``out`` ends in ``.json``. Rows that cannot be
    written in the format are skipped and listed in the report (sharegpt only).
    """
    from looptool.lineage import _check_columns, open_dataset
    from looptool.storage import connect, parquet_source

    if fmt not in EXPORT_FORMATS:
        raise InterchangeError(f"unknown export format {fmt!r} (choose from {list(EXPORT_FORMATS)})")
    convert = to_openai if fmt == "openai" else to_sharegpt
    as_array = fmt == "sharegpt" and Path(out).suffix == ".json"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_dataset(ref, data_dir, repo) as ds:
        report = ExportReport(out, ds.name)
        con = connect()
        tmp = temp_path(out)
        try:
            cols = _check_columns(con, ds, ("sample_id", "tools", "messages", "label"))
            meta = "meta" if "meta" in cols else "NULL::VARCHAR AS meta"
            rel = con.sql(f"SELECT sample_id, tools, messages, label, {meta} FROM {parquet_source(ds.path)}")
            # DuckDB >= 2 names it to_arrow_reader; 1.x fetch_record_batch.
            batches = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch
            reader = batches(chunk_rows)
            with open(tmp, "w", encoding="utf-8") as f:
                if as_array:
                    f.write("[\n")
                for batch in reader:
                    for row in batch.to_pylist():
                        try:
                            rec = convert(row)
                        except (ValueError, KeyError, TypeError) as e:
                            report.skipped += 1
                            if len(report.skipped_examples) < 10:
                                report.skipped_examples.append(f"{row['sample_id']}: {e}")
                            continue
                        text = json.dumps(rec, ensure_ascii=False)
                        if as_array:
                            text = ("  " if report.rows == 0 else ",\n  ") + text
                        else:
                            text += "\n"
                        f.write(text)
                        report.rows += 1
                if as_array:
                    f.write("\n]\n")
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            con.close()
    return report
