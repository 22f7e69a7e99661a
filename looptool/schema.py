"""Record schemas (polars dtypes) and their validation.

One row of a dataset is one decision point of a conversation (DESIGN.md, "Records"). Every stage reads and
writes Parquet through :mod:`looptool.storage`, which validates against the schemas here, so a bad row is reported
with its file, row and column instead of failing three stages later.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from looptool import jsonutil

ORIGINS = ("seed", "import", "expansion")
PARTS = ("seed_new", "error_seed", "expansion", "high_ppl")
"""The paper's four parts of a merged dataset."""
BOUNDARY = "boundary"
"""The opt-in part (``loop.boundary``): greedy-mastered samples whose sampled pass rate is below 1."""
LOOP_PARTS = (*PARTS, BOUNDARY)
"""Every part a row of D_j may carry; outputs name ``boundary`` only where it occurs."""
VERDICTS = ("PRED_WRONG", "LABEL_WRONG", "BOTH_CORRECT", "BOTH_WRONG", "ABSTAIN")
DECIDED_BY = ("rule", "llm", "abstain")
PATTERNS = ("single", "parallel", "distractor", "multi_turn", "missing_arg", "irrelevant")


class SchemaError(ValueError):
    """A record that does not fit its schema; the message names file, row and column."""


def make_sample_id(tools: Any, messages: Any) -> str:
    """Content hash of (tools, messages): the identity of a decision point, independent of its label.

    Accepts parsed objects or JSON text; JSON text is parsed first so key order and spacing do not matter.
    """
    if isinstance(tools, str):
        tools = json.loads(tools)
    if isinstance(messages, str):
        messages = json.loads(messages)
    return jsonutil.digest({"tools": tools, "messages": messages})


# --- per-value checks for JSON columns (return an error message or None) ---------------------------------


def _check_label(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"label must be a JSON list of calls, got {type(value).__name__}"
    for i, call in enumerate(value):
        if not isinstance(call, dict):
            return f"label[{i}] must be an object {{name, arguments}}"
        if set(call) != {"name", "arguments"}:
            return f"label[{i}] must have exactly the keys name and arguments, got {sorted(call)}"
        if not isinstance(call["name"], str) or not call["name"]:
            return f"label[{i}].name must be a non-empty string"
        if not isinstance(call["arguments"], dict):
            return f"label[{i}].arguments must be an object"
    return None


def _check_tools(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"tools must be a JSON list, got {type(value).__name__}"
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return f"tools[{i}] must be an object with a string 'name'"
        params = tool.get("parameters", {})
        if not isinstance(params, dict):
            return f"tools[{i}].parameters must be a JSON Schema object"
    return None


def _check_messages(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "messages must be a non-empty JSON list"
    for i, msg in enumerate(value):
        if not isinstance(msg, dict) or msg.get("role") not in ("system", "user", "assistant", "tool"):
            return f"messages[{i}] must be an object with role system/user/assistant/tool"
    return None


def _check_object(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be a JSON object, got {type(value).__name__}"


def _check_optional_label(value: Any) -> str | None:
    return None if value is None else _check_label(value)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: Any
    nullable: bool = False
    json: Callable[[Any], str | None] | None = None  # JSON text column, with a check on the parsed value
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Column, ...]
    extra_ok: bool = field(default=False)  # keep columns not named here (e.g. probe details)
    # columns checked and cast when present (placed after the required ones); absent is fine
    optional: tuple[Column, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars(self) -> dict[str, Any]:
        return {c.name: c.dtype for c in self.columns}

    def extend(self, name: str, *columns: Column) -> Schema:
        return Schema(name, self.columns + tuple(columns), self.extra_ok, self.optional)

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars)

    def validate(self, df: pl.DataFrame, where: str = "<frame>", deep: bool = True) -> pl.DataFrame:
        """Check and cast ``df``; return it with the schema's column order (extra columns after, if allowed).

        ``deep`` also parses every JSON cell (:func:`looptool.jsonutil.loads`: no NaN / Infinity, no lone
        surrogate, bounded depth) and runs its check; errors name ``where``, the row and the column.
        """
        missing = [c.name for c in self.columns if c.name not in df.columns]
        if missing:
            raise SchemaError(f"{where}: missing column(s) {missing} for {self.name} (has {df.columns})")
        present = [c for c in self.optional if c.name in df.columns]
        known = set(self.names) | {c.name for c in present}
        extra = [c for c in df.columns if c not in known]
        if extra and not self.extra_ok:
            raise SchemaError(f"{where}: unexpected column(s) {extra} for {self.name}")
        casts = []
        checked = (*self.columns, *present)
        for col in checked:
            s = df.get_column(col.name)
            if s.dtype.is_float() and col.dtype.is_integer():  # a cast would truncate 0.5 to 0
                frac = s.is_not_null() & ((s != s.floor()) | s.is_nan() | s.is_infinite())
                if frac.any():
                    row = int(frac.arg_max())
                    raise SchemaError(
                        f"{where}: row {row} column '{col.name}': {s[row]!r} is not a whole number"
                    )
            if s.dtype != col.dtype:
                try:
                    s = s.cast(col.dtype, strict=True)
                except Exception as e:  # polars raises several exception types for bad casts
                    bad = _first_bad_cast(df.get_column(col.name), col.dtype)
                    raise SchemaError(
                        f"{where}: row {bad} column '{col.name}': cannot cast {df.schema[col.name]} "
                        f"to {col.dtype} ({type(e).__name__})"
                    ) from None
            casts.append(s)
        out = pl.DataFrame(casts).hstack(df.select(extra)) if extra else pl.DataFrame(casts)
        for col in checked:
            s = out.get_column(col.name)
            if not col.nullable and s.null_count():
                row = int(s.is_null().arg_max())
                raise SchemaError(f"{where}: row {row} column '{col.name}': null in a required column")
            if col.choices is not None:
                bad = s.is_not_null() & ~s.is_in(list(col.choices))
                if bad.any():
                    row = int(bad.arg_max())
                    raise SchemaError(
                        f"{where}: row {row} column '{col.name}': {s[row]!r} is not one of {list(col.choices)}"
                    )
            if deep and col.json is not None:
                _check_json_column(s, col, where)
        return out


def _first_bad_cast(s: pl.Series, dtype: Any) -> int:
    for i, v in enumerate(s.to_list()):
        try:
            pl.Series([v]).cast(dtype, strict=True)
        except Exception:
            return i
    return 0


def _check_json_column(s: pl.Series, col: Column, where: str) -> None:
    for row, text in enumerate(s.to_list()):
        if text is None:
            continue
        try:
            value = jsonutil.loads(text)  # finite numbers only: NaN / Infinity are not JSON
        except jsonutil.RefusedJSON as e:
            raise SchemaError(f"{where}: row {row} column '{col.name}': JSON {e}") from None
        except (TypeError, json.JSONDecodeError, RecursionError) as e:
            raise SchemaError(
                f"{where}: row {row} column '{col.name}': not valid JSON ({type(e).__name__}: {e})"
            ) from None
        msg = col.json(value)
        if msg:
            raise SchemaError(f"{where}: row {row} column '{col.name}': {msg}")


def _any(_: Any) -> str | None:
    return None


SAMPLE = Schema(
    "sample",
    (
        Column("sample_id", pl.String),
        Column("tools", pl.String, json=_check_tools),
        Column("messages", pl.String, json=_check_messages),
        Column("label", pl.String, json=_check_label),
        Column("origin", pl.String, choices=ORIGINS),
        Column("parent_id", pl.String, nullable=True),
        Column("iteration", pl.Int64),
        Column("label_rev", pl.Int64),
        Column("meta", pl.String, json=_check_object),
    ),
)
"""A decision point: tools + messages so far -> what the assistant should do next (``label``)."""

TRAIN = SAMPLE.extend("train", Column("part", pl.String, choices=LOOP_PARTS))
"""D_j: samples plus the part of the merge they came from."""

REJECTED = SAMPLE.extend("rejected", Column("reason", pl.String), Column("detail", pl.String, nullable=True))
"""Rows a stage refused, with the reason (flag, don't drop)."""

PROBE = Schema(
    "probe",
    (
        Column("sample_id", pl.String),
        Column("iteration", pl.Int64),
        Column("prediction", pl.String),
        Column("calls", pl.String, nullable=True, json=_check_optional_label),
        Column("parse_error", pl.String, nullable=True),
        Column("mastered", pl.Boolean),
        Column("ppl", pl.Float64, nullable=True),
        Column("n_tokens", pl.Int64),
        Column("error", pl.String, nullable=True),
    ),
    optional=(
        Column("pass_rate", pl.Float64, nullable=True),
        Column("n_samples", pl.Int64),
        Column("failed_sample", pl.String, nullable=True),
    ),
)
"""Greedy Capability Probing: what model_j answered for each sample of D_j. With ``probe.samples: k > 0`` three
more columns: ``pass_rate`` (the share of the sampled decodes that answered which ToolMatch accepts; null
when none answered), ``n_samples`` (how many answered) and ``failed_sample`` (the first rejected sampled
answer's text, the wrong answer EDDE shows for a boundary seed). Absent with k = 0, so the greedy-only
probe file is the paper's."""

VERDICT = Schema(
    "verdict",
    (
        Column("sample_id", pl.String),
        Column("iteration", pl.Int64),
        Column("verdict", pl.String, choices=VERDICTS),
        Column("decided_by", pl.String, choices=DECIDED_BY),
        Column("rationale", pl.String),
        Column("old_label", pl.String, json=_check_label),
        Column("new_label", pl.String, nullable=True, json=_check_optional_label),
        Column("votes", pl.String, json=_any),
    ),
)
"""Judgement-Guided Label Verification: one verdict per failed sample."""

EVENT = Schema(
    "event",
    (
        Column("sample_id", pl.String),
        Column("iteration", pl.Int64),
        Column("event", pl.String),
        Column("parent_id", pl.String, nullable=True),
        Column("detail", pl.String, json=_check_object),
    ),
)
"""Lineage: something that happened to a sample in an iteration."""

NOISE_TRUTH = Schema(
    "noise_truth",
    (
        Column("sample_id", pl.String),
        Column("clean_label", pl.String, json=_check_label),
        Column("noisy_label", pl.String, json=_check_label),
        Column("kind", pl.String),
    ),
)
"""The clean labels of rows corrupted by ``seed.label_noise``; read only by the JGLV recovery metric."""


def frame(rows: Iterable[dict[str, Any]], schema: Schema) -> pl.DataFrame:
    """Build a DataFrame with ``schema``'s dtypes from dict rows (JSON columns may be given as objects)."""
    json_cols = {c.name for c in schema.columns if c.json is not None}
    data: dict[str, list[Any]] = {c.name: [] for c in schema.columns}
    for row in rows:
        for c in schema.columns:
            v = row.get(c.name)
            if c.name in json_cols and v is not None and not isinstance(v, str):
                v = jsonutil.dumps(v)
            data[c.name].append(v)
    return pl.DataFrame(data, schema=schema.polars)


def rows(df: pl.DataFrame, json_columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows of ``df`` as dicts, with the named JSON columns parsed."""
    out = df.to_dicts()
    for r in out:
        for c in json_columns:
            if r.get(c) is not None:
                r[c] = json.loads(r[c])
    return out
