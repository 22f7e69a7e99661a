"""A sample's history: its rows in every dataset and its events in loop order (``looptool lineage``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looptool.lineage.datasets import (
    DatasetError,
    _columns,
    _loads,
    _records,
    event_files,
    find_datasets,
)
from looptool.storage import connect, parquet_source

# Order of event kinds inside one iteration: what happens first in the loop comes first.
_EVENT_ORDER = (
    "created", "probed", "boundary", "judged", "relabeled", "expanded", "rejected", "selected", "dropped"
)  # fmt: skip


# --- lineage ----------------------------------------------------------------------------------------------


@dataclass
class Lineage:
    """A sample's history: its rows in each dataset and its events in iteration order."""

    sample_id: str
    datasets: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def origin(self) -> str | None:
        for e in self.events:
            if e["event"] == "created" and e["sample_id"] == self.sample_id:
                return e["detail"].get("origin")
        return self.datasets[0]["origin"] if self.datasets else None

    @property
    def parent_id(self) -> str | None:
        for e in self.events:  # "created" of an expansion, or "rejected" of a refused candidate
            if e["sample_id"] == self.sample_id and e["parent_id"]:
                return e["parent_id"]
        for d in self.datasets:
            if d.get("parent_id"):
                return d["parent_id"]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id,
            "origin": self.origin,
            "parent_id": self.parent_id,
            "datasets": self.datasets,
            "events": self.events,
        }


def _ids_sql(data_dir: Path) -> list[str]:
    """SELECT statements listing sample ids of every dataset and event file (for prefix resolution)."""
    sources = [p for _, p in find_datasets(data_dir)] + event_files(data_dir)
    return [f"SELECT sample_id FROM {parquet_source(p)}" for p in sources]


def resolve_sample_id(prefix: str, data_dir: str | Path = "data", con=None) -> str:
    """The one sample id under ``data_dir`` that starts with ``prefix`` (an exact id wins)."""
    prefix = prefix.strip()
    if not prefix:
        raise DatasetError("empty sample id")
    data_dir = Path(data_dir)
    parts = _ids_sql(data_dir)
    if not parts:
        raise DatasetError(f"no datasets or event files under {data_dir}")
    own = con is None
    con = con or connect()
    try:
        found = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT sample_id FROM ({' UNION ALL '.join(parts)}) "
                "WHERE starts_with(sample_id, ?) ORDER BY sample_id LIMIT 11",
                [prefix],
            ).fetchall()
        ]
    finally:
        if own:
            con.close()
    if prefix in found:
        return prefix
    if not found:
        raise DatasetError(f"no sample id starts with '{prefix}' under {data_dir}")
    if len(found) > 1:
        more = " ..." if len(found) > 10 else ""
        raise DatasetError(f"sample id prefix '{prefix}' is ambiguous: {', '.join(found[:10])}{more}")
    return found[0]


def lineage(sample_id: str, data_dir: str | Path = "data") -> Lineage:
    """Everything the loop did to one sample (``sample_id`` may be a unique prefix), in iteration order.

    Includes the ``rejected`` events of candidate children (their ``parent_id`` is this sample), since a
    rejected expansion is part of its parent's story.
    """
    data_dir = Path(data_dir)
    con = connect()
    try:
        sid = resolve_sample_id(sample_id, data_dir, con)
        datasets = []
        found = find_datasets(data_dir)
        if found:
            selects = []
            for name, path in found:
                src = parquet_source(path)
                cols = _columns(con, src)
                part = "part" if "part" in cols else "NULL::VARCHAR AS part"
                lit = "'" + name.replace("'", "''") + "'"
                selects.append(
                    f"SELECT {lit} AS dataset, {part}, origin, parent_id, iteration, label_rev, label "
                    f"FROM {src} WHERE sample_id = $sid"
                )
            for r in _records(con.execute(" UNION ALL ".join(selects), {"sid": sid})):
                r["label"] = _loads(r["label"])
                datasets.append(r)
        events: list[dict[str, Any]] = []
        files = event_files(data_dir)
        if files:
            order = ", ".join(f"'{k}'" for k in _EVENT_ORDER)
            rows = _records(
                con.execute(
                    f"""
                    SELECT sample_id, iteration, event, parent_id, detail
                    FROM {parquet_source(files)}
                    WHERE sample_id = $sid OR (parent_id = $sid AND event = 'rejected')
                    ORDER BY iteration,
                             coalesce(list_position([{order}], event), {len(_EVENT_ORDER) + 1}),
                             sample_id
                    """,
                    {"sid": sid},
                )
            )
            for r in rows:
                r["detail"] = _loads(r["detail"]) or {}
                r["text"] = describe_event(r, sid)
                events.append(r)
        return Lineage(sid, datasets, events)
    finally:
        con.close()


def format_label(label: Any, limit: int | None = 160) -> str:
    """A label as readable calls ``f(a=1); g(b="x")`` (``[]`` -> ``[] (text answer)``), cut to ``limit``."""
    if isinstance(label, str):
        label = _loads(label)
    if label is None:
        return "?"
    if isinstance(label, list) and not label:
        return "[] (text answer)"
    if not isinstance(label, list):
        text = json.dumps(label, ensure_ascii=False)
    else:
        calls = []
        for c in label:
            if isinstance(c, dict) and "name" in c:
                args = ", ".join(
                    f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in (c.get("arguments") or {}).items()
                )
                calls.append(f"{c['name']}({args})")
            else:
                calls.append(json.dumps(c, ensure_ascii=False))
        text = "; ".join(calls)
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def describe_event(e: dict[str, Any], subject: str | None = None) -> str:
    """One line for an event (``detail`` already parsed); ``subject`` marks events of other samples."""
    d = e.get("detail") or {}
    kind = e["event"]
    if subject is not None and e["sample_id"] != subject:
        if kind == "rejected":
            return (
                f"candidate expansion {e['sample_id']} rejected"
                f"{' at ' + d['stage'] if d.get('stage') else ''}: {d.get('reason', '?')}"
            )
        return f"{kind} of {e['sample_id']}: {json.dumps(d, ensure_ascii=False)}"
    if kind == "created":
        origin = d.get("origin", "?")
        if origin == "expansion" or e.get("parent_id"):
            return f"created as {origin} of {e.get('parent_id') or '?'}"
        return f"created ({origin})"
    if kind == "selected":
        return f"selected into D_{d.get('into', '?')} as {d.get('part', '?')}"
    if kind == "dropped":
        return (
            f"not selected into D_{d.get('into', '?')} as {d.get('part', '?')}: the parts offered more than "
            f"merge.dataset_size ({d.get('dataset_size', '?')})"
        )
    if kind == "probed":
        state = "mastered" if d.get("mastered") else "failed"
        extra = []
        if d.get("ppl") is not None:
            extra.append(f"PPL {float(d['ppl']):.3g}")
        if d.get("parse_error"):
            extra.append(f"parse error: {d['parse_error']}")
        if d.get("pass_rate") is not None:
            extra.append(f"pass rate {float(d['pass_rate']):.2f} of {d.get('n_samples', '?')} draws")
        return f"probed: {state}" + (f" ({', '.join(extra)})" if extra else "")
    if kind == "boundary":
        cap = "" if d.get("within_cap", True) else ", past merge.boundary_share"
        return f"on the boundary: greedy right, pass rate {float(d.get('pass_rate') or 0):.2f}{cap}"
    if kind == "judged":
        by = d.get("decided_by", "?")
        by = {"llm": "LLM judge", "rule": "rule"}.get(by, by)
        text = f"judged {d.get('verdict', '?')} by {by}"
        if d.get("rationale"):
            text += f": {d['rationale']}"
        return text
    if kind == "relabeled":
        rev = f" (label_rev {d['label_rev']})" if d.get("label_rev") is not None else ""
        return f"relabeled {format_label(d.get('old_label'))} -> {format_label(d.get('new_label'))}{rev}"
    if kind == "expanded":
        children = d.get("children") or []
        return f"expanded into {len(children)} children: {', '.join(map(str, children))}"
    if kind == "rejected":
        where = f" at {d['stage']}" if d.get("stage") else ""
        return f"rejected{where}: {d.get('reason', '?')}"
    return f"{kind}: {json.dumps(d, ensure_ascii=False)}"
