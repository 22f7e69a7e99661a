"""Tool-call formats: parse model text into calls, render labels as target text, validate against schemas.

Accepted model outputs, in order of preference:

* Hermes/Qwen blocks: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` (several blocks, any
  whitespace), optionally after a ``<think>...</think>`` block;
* a bare JSON call ``{"name": ..., "arguments": ...}`` or a JSON list of them;
* python style ``[f(a=1), g(b="x")]`` or ``f(a=1)`` (BFCL's format), read with :mod:`ast` and
  ``ast.literal_eval`` on each value, never ``eval``; JSON's ``true`` / ``false`` / ``null`` are accepted as
  values (``f(flag=true)``);
* Llama 3.x: ``<|python_tag|>`` followed by ``{"name": ..., "parameters": {...}}`` objects (separated by
  ``;``) or python-style calls; Mistral: ``[TOOL_CALLS]`` followed by a JSON list of calls, or
  ``name[ARGS]{...}`` segments (newer tokenizers);
* anything else is a text answer: no call.

A malformed call is returned as :class:`Parsed` with ``error`` set, never swallowed and never raised.
:func:`parse` accepts all of these; :func:`parse_as` reads one model family's format strictly, and
:func:`call_format_of` picks that format from a tokenizer's chat template.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from looptool import jsonutil

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n(.*?)\n?```$", re.DOTALL)
_PY_CALL_START = re.compile(r"^\[?\s*[A-Za-z_][\w.]*\s*\(")
PYTHON_TAG = "<|python_tag|>"
MISTRAL_TAG = "[TOOL_CALLS]"
_MISTRAL_ARGS = "[ARGS]"
_MISTRAL_CALL_ID = re.compile(r"\[CALL_ID\][^\[]*")
_END_TOKENS = ("<|eom_id|>", "<|eot_id|>", "</s>")
CALL_FORMATS = ("auto", "hermes", "llama3", "mistral", "json", "python")
"""Tool-call output formats: ``hermes`` (Hermes / Qwen ``<tool_call>`` blocks), ``llama3``
(``<|python_tag|>`` / JSON with ``parameters``), ``mistral`` (``[TOOL_CALLS]``), ``json`` (bare JSON call or
list), ``python`` (``[f(a=1)]``); ``auto`` accepts all."""


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Call:
        return cls(d["name"], dict(d.get("arguments") or {}))


@dataclass(frozen=True)
class Parsed:
    """The calls found in a model output, or why none could be read.

    ``calls`` is empty both for a text answer (``error is None``) and a failed parse (``error`` set).
    ``content`` is the text outside the calls (the think block removed).
    """

    calls: tuple[Call, ...] = ()
    error: str | None = None
    content: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def label(self) -> list[dict[str, Any]] | None:
        """The calls in label form ``[{name, arguments}]``; None when the parse failed."""
        return None if self.error else [c.to_dict() for c in self.calls]


def _fail(reason: str, content: str = "") -> Parsed:
    return Parsed((), reason, content)


def parse(text: str | None) -> Parsed:
    """Parse a model output into calls. Never raises for any string input: text nested deeper than
    :data:`looptool.jsonutil.MAX_DEPTH` is a failed parse with that reason."""
    if text is None:
        return _fail("no output")
    try:
        jsonutil.check_depth(text)
        return _parse(text)
    except jsonutil.DepthError as e:
        return _fail(f"call {e}", text)
    except RecursionError:  # defence in depth: a walker deeper than the bracket count says
        return _fail("call nested too deeply", text)


def _parse(text: str) -> Parsed:
    body, err = strip_think(text)
    if err:
        return _fail(err, text)
    if TOOL_CALL_OPEN in body or TOOL_CALL_CLOSE in body:
        return _parse_blocks(body)
    if PYTHON_TAG in body:
        return _parse_llama(body)
    if MISTRAL_TAG in body:
        return _parse_mistral(body)
    stripped = strip_fence(body)
    if stripped.startswith(("{", "[")) or _PY_CALL_START.match(stripped):
        return _parse_bare(stripped)
    return Parsed((), None, stripped)


def parse_as(text: str | None, fmt: str = "auto") -> Parsed:
    """Parse a model output in one family's tool-call format (:data:`CALL_FORMATS`); ``auto`` is
    :func:`parse`. Text in another family's format reads as a text answer (no call), as that model's serving
    stack would read it. Never raises for any string input; an unknown ``fmt`` raises ValueError.

    >>> parse_as('<|python_tag|>{"name": "f", "parameters": {"x": 1}}', "llama3").label()
    [{'name': 'f', 'arguments': {'x': 1}}]
    >>> parse_as('[TOOL_CALLS][{"name": "f", "arguments": {"x": 1}}]', "mistral").label()
    [{'name': 'f', 'arguments': {'x': 1}}]
    >>> parse_as('<tool_call>{"name": "f", "arguments": {}}</tool_call>', "mistral").calls
    ()
    """
    if fmt not in CALL_FORMATS:
        raise ValueError(f"unknown tool-call format {fmt!r} (choose from {list(CALL_FORMATS)})")
    if fmt == "auto" or text is None:
        return parse(text)
    body, err = strip_think(text)
    if err:
        return _fail(err, text)
    if fmt == "hermes":
        if TOOL_CALL_OPEN in body or TOOL_CALL_CLOSE in body:
            return _parse_blocks(body)
        return Parsed((), None, body.strip())
    if fmt == "llama3":
        if PYTHON_TAG in body:
            return _parse_llama(body)
        stripped = _strip_end(body.strip())
        if stripped.startswith("{") or _PY_CALL_START.match(stripped):  # Llama 3.1 JSON / 3.2 pythonic
            return _parse_llama(PYTHON_TAG + stripped)
        return Parsed((), None, stripped)
    if fmt == "mistral":
        return _parse_mistral(body) if MISTRAL_TAG in body else Parsed((), None, body.strip())
    stripped = strip_fence(body)
    if fmt == "json" and stripped.startswith(("{", "[")):
        got, err = _calls_from_json_text(stripped, where="output")
        return _fail(err, stripped) if err else Parsed(tuple(got), None, "")
    if fmt == "python" and _PY_CALL_START.match(stripped):
        got, err = _calls_from_python(stripped)
        return _fail(err, stripped) if err else Parsed(tuple(got), None, "")
    return Parsed((), None, stripped)


def call_format_of(tokenizer_or_template: Any) -> str:
    """The tool-call format a chat template makes its model emit (``auto`` when it shows none)."""
    template = tokenizer_or_template
    if not isinstance(template, str):
        template = getattr(tokenizer_or_template, "chat_template", None) or ""
        if isinstance(template, dict):
            template = "\n".join(str(v) for v in template.values())
    if TOOL_CALL_OPEN in template:
        return "hermes"
    if PYTHON_TAG in template or "<|eom_id|>" in template:
        return "llama3"
    if MISTRAL_TAG in template:
        return "mistral"
    return "auto"


def _strip_end(text: str) -> str:
    for tok in _END_TOKENS:
        if text.endswith(tok):
            text = text[: -len(tok)].rstrip()
    return text


def _parse_llama(body: str) -> Parsed:
    """``<|python_tag|>`` + JSON objects (``;``-separated) or python-style calls."""
    head, _, rest = body.partition(PYTHON_TAG)
    rest = _strip_end(rest.strip())
    if not rest:
        return _fail("empty <|python_tag|> call", body)
    if rest.startswith("{") or (rest.startswith("[") and not _PY_CALL_START.match(rest)):
        calls: list[Call] = []
        pos, k = 0, 0
        while pos < len(rest):
            while pos < len(rest) and rest[pos] in " \t\r\n;":
                pos += 1
            if pos >= len(rest):
                break
            try:
                value, pos = jsonutil.raw_decode(rest, pos)
            except ValueError as e:
                return _fail(f"python_tag call {k + 1}: {_invalid(e)}", body)
            got, err = _calls_from_value(value, where=f"python_tag call {k + 1}")
            if err:
                return _fail(err, body)
            calls.extend(got)
            k += 1
        return Parsed(tuple(calls), None, head.strip())
    got, err = _calls_from_python(rest)
    return _fail(err, body) if err else Parsed(tuple(got), None, head.strip())


def _parse_mistral(body: str) -> Parsed:
    """``[TOOL_CALLS]`` + a JSON list of calls, or ``name[ARGS]{...}`` segments."""
    head, _, rest = body.partition(MISTRAL_TAG)
    rest = _strip_end(rest.strip())
    if rest.startswith(("{", "[")):
        try:
            value = jsonutil.raw_decode(rest)[0]
        except ValueError as e:
            return _fail(f"[TOOL_CALLS]: {_invalid(e)}", body)
        got, err = _calls_from_value(value, where="[TOOL_CALLS]")
        return _fail(err, body) if err else Parsed(tuple(got), None, head.strip())
    calls: list[Call] = []
    for k, seg in enumerate(rest.split(MISTRAL_TAG)):
        seg = _MISTRAL_CALL_ID.sub("", seg.strip())
        name, sep, args_text = seg.partition(_MISTRAL_ARGS)
        if not sep or not name.strip():
            return _fail(f"[TOOL_CALLS] segment {k + 1}: expected name[ARGS]{{...}}", body)
        where = f"[TOOL_CALLS] segment {k + 1}"
        try:
            args = jsonutil.loads(args_text) if args_text.strip() else {}
        except ValueError as e:
            return _fail(f"{where}: {_invalid(e)}", body)
        got, err = _calls_from_value({"name": name.strip(), "arguments": args}, where=where)
        if err:
            return _fail(err, body)
        calls.extend(got)
    return Parsed(tuple(calls), None, head.strip())


def strip_fence(text: str) -> str:
    """The body of one code fence (```lang ... ```) around the whole text, stripped; else the text stripped."""
    stripped = text.strip()
    m = _FENCE.match(stripped)
    return m.group(1).strip() if m else stripped


def json_value(text: str | None) -> tuple[Any, str | None]:
    """The JSON value that is the whole model output (a think block and one code fence allowed around it),
    or (None, reason). The one reading of "JSON in model text" (generator agents, seed judge, expansion)."""
    body, err = strip_think(text or "")
    if err:
        return None, err
    body = strip_fence(body)
    if not body:
        return None, "empty output"
    try:  # depth-bounded; a duplicate key is refused (which of two verdicts would count?)
        return jsonutil.loads(body, unique_keys=True), None
    except json.JSONDecodeError as e:
        return None, f"not a single JSON value ({e.msg} at char {e.pos})"
    except jsonutil.RefusedJSON as e:
        return None, str(e)


def strip_think(text: str) -> tuple[str, str | None]:
    """``text`` without its think block (``<think>...</think>``, or everything up to a lone ``</think>``
    when the template opened it in the prompt); an unclosed block is an error."""
    if _THINK_OPEN in text:
        start = text.index(_THINK_OPEN)
        end = text.find(_THINK_CLOSE, start)
        if end < 0:
            return text, "unclosed <think> block"
        return text[:start] + text[end + len(_THINK_CLOSE) :], None
    if _THINK_CLOSE in text:  # template opened the think block in the prompt
        return text[text.rindex(_THINK_CLOSE) + len(_THINK_CLOSE) :], None
    return text, None


def _parse_blocks(body: str) -> Parsed:
    calls: list[Call] = []
    outside: list[str] = []
    pos = 0
    n = 0
    while True:
        start = body.find(TOOL_CALL_OPEN, pos)
        stray = body.find(TOOL_CALL_CLOSE, pos)
        if start < 0:
            if stray >= 0:
                return _fail(f"stray {TOOL_CALL_CLOSE} without an opening tag", body)
            outside.append(body[pos:])
            break
        if 0 <= stray < start:
            return _fail(f"stray {TOOL_CALL_CLOSE} without an opening tag", body)
        outside.append(body[pos:start])
        n += 1
        end = body.find(TOOL_CALL_CLOSE, start)
        if end < 0:
            return _fail(f"unclosed {TOOL_CALL_OPEN} tag (block {n})", body)
        inner = body[start + len(TOOL_CALL_OPEN) : end]
        got, err = _calls_from_json_text(inner.strip(), where=f"block {n}")
        if err and TOOL_CALL_OPEN in inner:  # a tag inside a JSON string is fine; a real nested block is not
            return _fail(f"nested {TOOL_CALL_OPEN} in block {n}", body)
        if err:
            return _fail(err, body)
        calls.extend(got)
        pos = end + len(TOOL_CALL_CLOSE)
    return Parsed(tuple(calls), None, "".join(outside).strip())


def _parse_bare(text: str) -> Parsed:
    if text.startswith(("{", "[")):
        try:
            value = jsonutil.loads(text)
        except ValueError as e:
            json_err = _invalid(e)
        else:
            got, err = _calls_from_value(value, where="output")
            return _fail(err, text) if err else Parsed(tuple(got), None, "")
    else:
        json_err = None
    got, err = _calls_from_python(text)
    if err is None:
        return Parsed(tuple(got), None, "")
    looks_python = _PY_CALL_START.match(text) is not None
    return _fail(err if looks_python or not json_err else json_err, text)


def _calls_from_json_text(text: str, where: str) -> tuple[list[Call], str | None]:
    try:
        value = jsonutil.loads(text)
    except ValueError as e:
        return [], f"{where}: {_invalid(e)}"
    return _calls_from_value(value, where)


def _invalid(e: ValueError) -> str:
    """Why model text is not a JSON value looptool can use (not JSON, or refused by jsonutil.loads)."""
    return (
        f"invalid JSON: {e.msg} at char {e.pos}"
        if isinstance(e, json.JSONDecodeError)
        else f"refused JSON: {e}"
    )


def _calls_from_value(value: Any, where: str) -> tuple[list[Call], str | None]:
    items = value if isinstance(value, list) else [value]
    calls = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]" if isinstance(value, list) else where
        if not isinstance(item, dict):
            return [], f"{here}: a call must be a JSON object, got {type(item).__name__}"
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            return [], f"{here}: missing or empty 'name'"
        args = item.get("arguments", item.get("parameters", {}))
        if isinstance(args, str):  # some servers send arguments as a JSON string
            try:
                args = jsonutil.loads(args) if args.strip() else {}
            except ValueError as e:
                why = e.msg if isinstance(e, json.JSONDecodeError) else e
                return [], f"{here}: 'arguments' is a string that is not JSON ({why})"
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return [], f"{here}: 'arguments' must be an object, got {type(args).__name__}"
        extra = set(item) - {"name", "arguments", "parameters", "id", "type"}
        if extra:
            return [], f"{here}: unexpected key(s) {sorted(extra)} in a call"
        calls.append(Call(name.strip(), args))
    return calls, None


def _calls_from_python(text: str) -> tuple[list[Call], str | None]:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        return [], f"not python: {e.msg}"
    node = tree.body
    elts = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    calls = []
    for i, el in enumerate(elts):
        if not isinstance(el, ast.Call):
            return [], f"python call {i}: expected f(arg=value), got {type(el).__name__}"
        name = _dotted_name(el.func)
        if name is None:
            return [], f"python call {i}: function name must be a (dotted) identifier"
        if el.args:
            return [], f"python call {i} ({name}): positional arguments are not allowed; use name=value"
        args = {}
        for kw in el.keywords:
            if kw.arg is None:
                return [], f"python call {i} ({name}): **kwargs is not allowed"
            try:
                args[kw.arg] = _plain(_literal(kw.value))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return [], f"python call {i} ({name}): value of '{kw.arg}' is not a literal"
        try:  # what JSON could not hold (1e999 is a Python float, "\ud800" a Python str) is refused as in JSON
            jsonutil.loads(json.dumps(args, ensure_ascii=False))
        except (ValueError, TypeError, RecursionError) as e:  # TypeError: f(x=...) is an Ellipsis
            return [], f"python call {i} ({name}): refused value ({e})"
        calls.append(Call(name, args))
    return calls, None


_JSON_NAMES = {"true": True, "false": False, "null": None}


class _JsonNames(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _JSON_NAMES:
            return ast.copy_location(ast.Constant(_JSON_NAMES[node.id]), node)
        return node


def _literal(node: ast.AST) -> Any:
    """``ast.literal_eval`` of a value, with JSON's ``true`` / ``false`` / ``null`` read as Python's (models
    often write ``f(flag=true)``); any other name or expression is not a literal."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        import copy

        return ast.literal_eval(_JsonNames().visit(copy.deepcopy(node)))


def _dotted_name(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _plain(v: Any) -> Any:
    """literal_eval values as JSON values (tuples and sets become lists)."""
    if isinstance(v, (tuple, list, set, frozenset)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (complex, bytes)):
        raise ValueError("not a JSON value")
    return v


# --- rendering ------------------------------------------------------------------------------------------


def render_call(call: Call | dict[str, Any]) -> str:
    d = call.to_dict() if isinstance(call, Call) else {"name": call["name"], "arguments": call["arguments"]}
    return f"{TOOL_CALL_OPEN}\n{json.dumps(d, ensure_ascii=False)}\n{TOOL_CALL_CLOSE}"


def render_calls(calls: list[Call] | list[dict[str, Any]]) -> str:
    """A label as the assistant's target text: one ``<tool_call>`` block per call."""
    return "\n".join(render_call(c) for c in calls)


def render_target(label: list[dict[str, Any]], reply: str | None = None) -> str:
    """Training target for a label: the calls, or for ``[]`` the text reply (``reply`` or a default)."""
    if label:
        return render_calls(label)
    return reply or "I can't do that with the available tools."


def as_calls(label: Any) -> list[Call]:
    """Label JSON text, a list of dicts, or Calls -> list of Call."""
    if isinstance(label, str):
        label = json.loads(label)
    return [c if isinstance(c, Call) else Call.from_dict(c) for c in label]


# --- tools and schema validation -------------------------------------------------------------------------


def normalize_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """OpenAI ``{"type": "function", "function": {...}}`` or a plain function -> ``{name, description,
    parameters}``."""
    if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
        tool = tool["function"]
    out = {"name": tool["name"], "description": tool.get("description", "")}
    out["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return out


def tool_index(tools: Any) -> dict[str, dict[str, Any]]:
    """Name -> tool for a tools list (or its JSON text)."""
    if isinstance(tools, str):
        return _tool_index_cached(tools)
    return {t["name"]: t for t in (normalize_tool(t) for t in tools)}


@lru_cache(maxsize=4096)
def _tool_index_cached(tools_json: str) -> dict[str, dict[str, Any]]:
    return tool_index(json.loads(tools_json))


@lru_cache(maxsize=4096)
def _validator(params_json: str):
    from jsonschema import Draft202012Validator, validators

    schema = json.loads(params_json)
    cls = validators.validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_call(call: Call | dict[str, Any], tools: Any) -> list[str]:
    """Every way ``call`` breaks its tool's JSON Schema (empty list: valid).

    Unknown function, missing required argument, unknown argument (unless the schema allows additional
    properties), wrong type, value outside an enum or range, bad format.
    """
    if isinstance(call, dict):
        call = Call.from_dict(call)
    try:
        return _validate_call(call, tools)
    except (jsonutil.DepthError, RecursionError):
        return [f"{call.name}: arguments or schema nested deeper than {jsonutil.MAX_DEPTH} levels"]


def _validate_call(call: Call, tools: Any) -> list[str]:
    jsonutil.value_depth(call.arguments)
    index = tool_index(tools)
    tool = index.get(call.name)
    if tool is None:
        return [f"unknown function '{call.name}' (tools: {sorted(index)})"]
    params = tool.get("parameters") or {}
    jsonutil.value_depth(params)
    problems = []
    props = params.get("properties") or {}
    if params.get("additionalProperties", False) is False:
        for arg in call.arguments:
            if arg not in props:
                problems.append(f"{call.name}: unknown argument '{arg}'")
    checked = {k: v for k, v in call.arguments.items() if k in props} if props else call.arguments
    schema = dict(params)
    schema.pop("additionalProperties", None)  # reported above, with a clearer message
    for err in sorted(_validator(jsonutil.dumps(schema)).iter_errors(checked), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", err.message)
            where = f"{call.name}.{path}" if path else call.name
            problems.append(f"{where}: missing required argument '{missing[0] if missing else err.message}'")
        else:
            problems.append(f"{call.name}.{path}: {err.message}" if path else f"{call.name}: {err.message}")
    return problems


def validate_calls(calls: list[Call] | list[dict[str, Any]], tools: Any) -> list[str]:
    """Violations of every call in a label or prediction."""
    out: list[str] = []
    for c in calls:
        out.extend(validate_call(c, tools))
    return out
