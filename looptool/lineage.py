"""Dataset lineage: where a sample came from, what the loop did to it, and how two datasets differ.

Everything here is DuckDB SQL over the Parquet files the stages write (DESIGN.md, "Records"): D_j =
``<data>/iter_j/train.parquet``, the pool ``<data>/seed/pool.parquet``, and the lineage events
``<data>/seed/events.parquet`` (select, iteration 0) and ``<data>/iter_j/events.parquet`` (merge@j). No
function loads a whole dataset into Python: only aggregates and a few example rows come back, so ``diff`` of
two million-row iterations runs in well under a gigabyte.

Datasets are named by a *reference*:

* ``iter_J`` or ``J`` -> ``<data>/iter_J/train.parquet``; ``seed`` or ``pool`` -> the pool;
* a path to a Parquet file;
* ``REV:PATH`` -> that file at a git revision (``HEAD~1:data/iter_2/train.parquet``, or ``HEAD~1:iter_2``),
  read with ``dvc.api.open`` so DVC-tracked outputs are fetched from the DVC cache or remote.

Event kinds (written by select and merge; ``detail`` is a JSON object):

=============  ==========================================  ===========================================
event          detail                                      meaning
=============  ==========================================  ===========================================
``created``    ``{origin}`` (parent_id for expansions)     the row came into existence
``selected``   ``{into, part}``                            it entered D_into as that part
``probed``     ``{mastered, ppl, parse_error}``            greedy probing of D_j
``judged``     ``{verdict, decided_by, rationale}``        label verification of a failed sample
``relabeled``  ``{old_label, new_label, label_rev}``       the judge replaced the label
``expanded``   ``{children: [ids]}``                       error-driven expansion of this sample
``rejected``   ``{reason, stage}`` (parent_id = parent)    a candidate refused by a stage
``dropped``    ``{into, part, reason, dataset_size}``      a candidate of D_into (error seed,
                                                           expansion, high PPL) left out: the parts
                                                           offered more than ``merge.dataset_size``
=============  ==========================================  ===========================================
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from looptool.storage import connect, parquet_source

__all__ = [
    "Dataset",
    "DatasetError",
    "DiffResult",
    "Lineage",
    "STATUSES",
    "describe_event",
    "diff",
    "event_files",
    "find_datasets",
    "format_label",
    "lineage",
    "mixed_runs",
    "mixed_runs_line",
    "open_dataset",
    "resolve_sample_id",
    "stats",
    "stats_all",
]

STATUSES = ("added", "removed", "relabeled", "unchanged")
"""Diff status of a sample_id between dataset A and dataset B (label compared by MD5 of its JSON text)."""

STATS_DIMENSIONS = ("part", "origin", "pattern", "domain", "label_rev")

# Order of event kinds inside one iteration: what happens first in the loop comes first.
_EVENT_ORDER = (
    "created", "probed", "boundary", "judged", "relabeled", "expanded", "rejected", "selected", "dropped"
)  # fmt: skip
_ITER_RE = re.compile(r"^(?:iter_?|D_?)?(\d+)$")
_POOL_NAMES = ("seed", "pool")


class DatasetError(ValueError):
    """A dataset reference that cannot be resolved or read; the message says what was tried."""


# --- datasets ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A resolved dataset reference: ``path`` is a local Parquet file (a temporary copy for ``REV:PATH``)."""

    ref: str
    name: str
    path: Path
    rev: str | None = None


def find_datasets(data_dir: str | Path = "data") -> list[tuple[str, Path]]:
    """Every dataset under ``data_dir``: the pool, then D_1, D_2, ... in iteration order."""
    data_dir = Path(data_dir)
    out: list[tuple[str, Path]] = []
    pool = data_dir / "seed" / "pool.parquet"
    if pool.exists():
        out.append(("pool", pool))
    iters = []
    for p in data_dir.glob("iter_*/train.parquet"):
        m = re.fullmatch(r"iter_(\d+)", p.parent.name)
        if m:
            iters.append((int(m.group(1)), p))
    out.extend((f"iter_{j}", p) for j, p in sorted(iters))
    return out


def event_files(data_dir: str | Path = "data") -> list[Path]:
    """The lineage event files: ``seed/events.parquet`` then ``iter_j/events.parquet`` by iteration."""
    data_dir = Path(data_dir)
    files = []
    seed = data_dir / "seed" / "events.parquet"
    if seed.exists():
        files.append(seed)
    iters = []
    for p in data_dir.glob("iter_*/events.parquet"):
        m = re.fullmatch(r"iter_(\d+)", p.parent.name)
        if m:
            iters.append((int(m.group(1)), p))
    files.extend(p for _, p in sorted(iters))
    return files


def _named_path(name: str, data_dir: Path) -> tuple[str, Path] | None:
    """``iter_J``/``J``/``seed``/``pool`` -> (canonical name, path under data_dir); None if not a name."""
    if name in _POOL_NAMES:
        return "pool", data_dir / "seed" / "pool.parquet"
    m = _ITER_RE.match(name)
    if m:
        j = int(m.group(1))
        return f"iter_{j}", data_dir / f"iter_{j}" / "train.parquet"
    return None


@contextlib.contextmanager
def open_dataset(
    ref: str, data_dir: str | Path = "data", repo: str | Path | None = None
) -> Iterator[Dataset]:
    """Resolve a dataset reference to a local Parquet file for the duration of the ``with`` block.

    ``repo`` is the git/DVC repository for ``REV:PATH`` references (default: the one containing the current
    directory); PATH is relative to its root.
    """
    data_dir = Path(data_dir)
    ref = str(ref).strip()
    if not ref:
        raise DatasetError("empty dataset reference")
    local = Path(ref)
    if local.suffix == ".parquet" and local.exists():
        yield Dataset(ref, str(local), local)
        return
    named = _named_path(ref, data_dir)
    if named is not None:
        name, path = named
        if not path.exists():
            have = ", ".join(n for n, _ in find_datasets(data_dir)) or "none"
            raise DatasetError(f"dataset '{ref}': {path} does not exist (datasets under {data_dir}: {have})")
        yield Dataset(ref, name, path)
        return
    if ":" not in ref and (local.suffix == ".parquet" or "/" in ref) and not local.exists():
        raise DatasetError(
            f"{ref}: no such file (expected a .parquet file, iter_J, J, seed/pool or REV:PATH)"
        )
    if ":" in ref:
        rev, _, rpath = ref.partition(":")
        if not rev or not rpath:
            raise DatasetError(f"dataset '{ref}': expected REV:PATH, e.g. HEAD~1:data/iter_2/train.parquet")
        named = _named_path(rpath, data_dir)
        if named is not None:
            rpath = named[1].as_posix()
        with tempfile.TemporaryDirectory(prefix="looptool-rev-") as tmp:
            path = Path(tmp) / "dataset.parquet"
            _fetch_revision(rpath, rev, repo, path)
            yield Dataset(ref, f"{rev}:{rpath}", path, rev=rev)
        return
    if local.exists():
        raise DatasetError(f"dataset '{ref}': not a .parquet file")
    raise DatasetError(
        f"dataset '{ref}' not found: expected iter_J, J, seed/pool, a path to a .parquet file, or REV:PATH"
    )


def _fetch_revision(path: str, rev: str, repo: str | Path | None, dest: Path) -> None:
    """Copy ``path`` as of git revision ``rev`` to ``dest`` (DVC-tracked files come from the DVC cache)."""
    import dvc.api

    try:
        with (
            dvc.api.open(path, repo=None if repo is None else str(repo), rev=rev, mode="rb") as src,
            open(dest, "wb") as out,
        ):
            shutil.copyfileobj(src, out, length=1 << 20)
    except Exception as e:  # dvc raises many kinds (PathMissingError, RevError, SCMError, ...)
        raise DatasetError(f"cannot read {path} at revision {rev}: {type(e).__name__}: {e}") from None


def _columns(con, source: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def _check_columns(con, ds: Dataset, needed: tuple[str, ...]) -> list[str]:
    try:
        cols = _columns(con, parquet_source(ds.path))
    except Exception as e:
        # DuckDB's message repeats the query (and the path) on further lines: keep its first line only
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        where = str(ds.path) if ds.name == str(ds.path) else f"{ds.name} ({ds.path})"
        raise DatasetError(f"{where}: not a Parquet file ({why})") from None
    missing = [c for c in needed if c not in cols]
    if missing:
        raise DatasetError(f"{ds.name} ({ds.path}): missing column(s) {missing} (has {cols})")
    return cols


# --- diff -------------------------------------------------------------------------------------------------


@dataclass
class DiffResult:
    """Differences of dataset B against dataset A, keyed by ``sample_id``.

    ``by_part`` and ``by_origin`` count (status, value): B's part/origin for samples in B, A's for removed
    ones (the pool has no part: ``None``). ``transitions`` counts kept samples whose part changed.
    """

    a: str
    b: str
    rows_a: int
    rows_b: int
    counts: dict[str, int]
    by_part: list[dict[str, Any]]
    by_origin: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    examples: dict[str, list[dict[str, Any]]]
    duplicates: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "rows_a": self.rows_a,
            "rows_b": self.rows_b,
            "counts": self.counts,
            "by_part": self.by_part,
            "by_origin": self.by_origin,
            "transitions": self.transitions,
            "examples": self.examples,
            "duplicates": self.duplicates,
        }


def _rows_source(path: Path) -> str:
    """``read_parquet`` of one file with its row numbers, so a few rows can be read back by position (a
    ``file_row_number`` filter skips whole row groups; an id filter scans the id column)."""
    return "read_parquet('" + str(path).replace("'", "''") + "', file_row_number = true)"


def _side_sql(source: str, cols: list[str]) -> str:
    """One row per sample_id with a hash of its label: only 8-byte hashes go through the join.

    Grouping makes a dataset with duplicate ids visible (``n > 1``) instead of multiplying rows in the join.
    """
    part = "any_value(part)" if "part" in cols else "NULL::VARCHAR"
    return (
        f"SELECT sample_id, any_value(hash(label)) AS h, {part} AS part, any_value(origin) AS origin, "
        f"count(*) AS n, min(file_row_number) AS rn FROM {source} GROUP BY sample_id"
    )


def diff(
    a: str,
    b: str,
    data_dir: str | Path = "data",
    examples: int = 5,
    repo: str | Path | None = None,
    threads: int | None = None,
    memory_limit: str | None = "1GB",
) -> DiffResult:
    """Compare dataset B with dataset A: added, removed, relabeled (same sample_id, label changed), unchanged.

    One pass: both sides are reduced to (sample_id, label hash, part, origin), fully outer-joined, and
    aggregated by (status, origin, part in A, part in B) -- a table of a few dozen rows from which every
    breakdown is summed in Python. Labels are compared by DuckDB's 64-bit ``hash()`` of their (canonical)
    JSON text, so no label string travels through the join; a changed label goes unnoticed only on a hash
    collision (odds ~1e-13 at a million rows). ``md5_number`` would make those odds 2^-128 but costs ~0.3 s
    more per million rows on 2 cores (measured), half the whole diff. The labels of the relabeled examples
    are read back afterwards by their row numbers (which skips whole row groups).
    """
    with contextlib.ExitStack() as stack:
        da = stack.enter_context(open_dataset(a, data_dir, repo))
        db = stack.enter_context(open_dataset(b, data_dir, repo))
        con = connect(threads=threads, memory_limit=memory_limit)
        stack.callback(con.close)
        needed = ("sample_id", "label", "origin")
        cols_a = _check_columns(con, da, needed)
        cols_b = _check_columns(con, db, needed)
        src_a, src_b = _rows_source(da.path), _rows_source(db.path)
        n_ex = max(0, int(examples))
        ex_sql = (
            f", min_by({{'sid': sample_id, 'ra': rn_a, 'rb': rn_b}}, sample_id, {n_ex}) AS ex"
            if n_ex
            else ", NULL AS ex"
        )
        groups = _records(
            con.execute(
                f"""
                WITH a AS ({_side_sql(src_a, cols_a)}), b AS ({_side_sql(src_b, cols_b)}),
                j AS (
                    SELECT coalesce(b.sample_id, a.sample_id) AS sample_id,
                           CASE WHEN a.sample_id IS NULL THEN 'added'
                                WHEN b.sample_id IS NULL THEN 'removed'
                                WHEN a.h <> b.h THEN 'relabeled'
                                ELSE 'unchanged' END AS status,
                           a.part AS part_a, b.part AS part_b, coalesce(b.origin, a.origin) AS origin,
                           coalesce(a.n, 0) AS n_a, coalesce(b.n, 0) AS n_b, a.rn AS rn_a, b.rn AS rn_b
                    FROM a FULL OUTER JOIN b ON a.sample_id = b.sample_id)
                SELECT status, origin, part_a, part_b, count(*) AS n, sum(n_a) AS rows_a, sum(n_b) AS rows_b,
                       count(*) FILTER (n_a > 1) AS dup_a, count(*) FILTER (n_b > 1) AS dup_b {ex_sql}
                FROM j GROUP BY ALL
                """
            )
        )
        counts = {s: 0 for s in STATUSES}
        by_part: dict[tuple, int] = {}
        by_origin: dict[tuple, int] = {}
        trans: dict[tuple, int] = {}
        candidates: dict[str, list[tuple[str, Any, Any, Any]]] = {s: [] for s in STATUSES}
        for g in groups:
            s, n = g["status"], int(g["n"])
            part = g["part_b"] if s != "removed" else g["part_a"]
            counts[s] += n
            by_part[(s, part)] = by_part.get((s, part), 0) + n
            by_origin[(s, g["origin"])] = by_origin.get((s, g["origin"]), 0) + n
            if s in ("relabeled", "unchanged") and g["part_a"] != g["part_b"]:
                key = (g["part_a"], g["part_b"])
                trans[key] = trans.get(key, 0) + n
            candidates[s].extend((e["sid"], part, g["origin"], (e["ra"], e["rb"])) for e in g["ex"] or [])
        ex_rows = {s: sorted(c, key=lambda c: c[0])[:n_ex] for s, c in candidates.items() if s != "unchanged"}
        labels = _labels(con, src_a, src_b, {sid: rows for sid, _, _, rows in ex_rows["relabeled"]})
        example_map: dict[str, list[dict[str, Any]]] = {}
        for s, items in ex_rows.items():
            example_map[s] = []
            for sid, part, origin, _ in items:
                item = {"sample_id": sid, "part": part, "origin": origin}
                if s == "relabeled":
                    item["old_label"], item["new_label"] = labels.get(sid, (None, None))
                example_map[s].append(item)

        def key(v: Any) -> tuple:
            return (v is None, "" if v is None else str(v))

        return DiffResult(
            a=da.name,
            b=db.name,
            rows_a=sum(int(g["rows_a"]) for g in groups),
            rows_b=sum(int(g["rows_b"]) for g in groups),
            counts=counts,
            by_part=[
                {"status": s, "part": p, "n": n}
                for (s, p), n in sorted(by_part.items(), key=lambda kv: (kv[0][0], key(kv[0][1])))
            ],
            by_origin=[
                {"status": s, "origin": o, "n": n}
                for (s, o), n in sorted(by_origin.items(), key=lambda kv: (kv[0][0], key(kv[0][1])))
            ],
            transitions=[
                {"part_a": pa, "part_b": pb, "n": n}
                for (pa, pb), n in sorted(
                    trans.items(), key=lambda kv: (-kv[1], key(kv[0][0]), key(kv[0][1]))
                )
            ],
            examples=example_map,
            duplicates={"a": sum(int(g["dup_a"]) for g in groups), "b": sum(int(g["dup_b"]) for g in groups)},
        )


def _labels(con, src_a: str, src_b: str, rows: dict[str, tuple[int, int]]) -> dict[str, tuple[Any, Any]]:
    """(old, new) parsed labels of a few samples, read by their row numbers in A and B."""
    if not rows:
        return {}
    got: dict[str, list[Any]] = {sid: [None, None] for sid in rows}
    for side, src in enumerate((src_a, src_b)):
        nums = ", ".join(str(int(r[side])) for r in rows.values() if r[side] is not None)
        if not nums:
            continue
        for sid, label in con.execute(
            f"SELECT sample_id, label FROM {src} WHERE file_row_number IN ({nums})"
        ).fetchall():
            if sid in got:
                got[sid][side] = _loads(label)
    return {sid: (v[0], v[1]) for sid, v in got.items()}


def _records(rel) -> list[dict[str, Any]]:
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return text


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


# --- stats ------------------------------------------------------------------------------------------------


def _dimension_sql(cols: list[str]) -> dict[str, str]:
    return {
        "part": "part" if "part" in cols else "NULL::VARCHAR",
        "origin": "origin",
        "pattern": "json_extract_string(meta, '$.pattern')" if "meta" in cols else "NULL::VARCHAR",
        "domain": "json_extract_string(meta, '$.domain')" if "meta" in cols else "NULL::VARCHAR",
        "label_rev": "label_rev" if "label_rev" in cols else "NULL::BIGINT",
    }


def stats(
    ref: str, data_dir: str | Path = "data", repo: str | Path | None = None, con=None
) -> dict[str, Any]:
    """Composition of one dataset: rows, distinct ids, and counts by part, origin, pattern, domain, label_rev.

    Each breakdown is a list of ``{value, n, share}`` sorted by count; one pass with GROUPING SETS.
    """
    with open_dataset(ref, data_dir, repo) as ds:
        own = con is None
        con = con or connect()
        try:
            cols = _check_columns(con, ds, ("sample_id", "origin"))
            dims = _dimension_sql(cols)
            src = parquet_source(ds.path)
            inner = ", ".join(f"{expr} AS {name}" for name, expr in dims.items())
            sets = ", ".join(f"({name})" for name in dims)
            gid = ", ".join(dims)
            rows = con.execute(
                f"""
                SELECT grouping({gid}) AS g, {gid}, count(*) AS n
                FROM (SELECT {inner} FROM {src})
                GROUP BY GROUPING SETS ({sets}, ())
                """
            ).fetchall()
            distinct = int(con.execute(f"SELECT count(DISTINCT sample_id) FROM {src}").fetchone()[0])
        finally:
            if own:
                con.close()
    names = list(dims)
    total = 0
    by: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    full = (1 << len(names)) - 1
    for row in rows:
        g, values, n = row[0], row[1 : 1 + len(names)], row[-1]
        if g == full:
            total = int(n)
            continue
        # grouping() sets a bit for every column NOT in the grouping set; the first column is the top bit.
        for i, name in enumerate(names):
            if not (g >> (len(names) - 1 - i)) & 1:
                by[name].append({"value": values[i], "n": int(n)})
    for name in names:
        by[name].sort(key=lambda r: (-r["n"], str(r["value"])))
        for r in by[name]:
            r["share"] = r["n"] / total if total else 0.0
    return {
        "dataset": ds.name,
        "path": str(ds.path) if ds.rev is None else ds.ref,
        "rows": total,
        "distinct_ids": distinct,
        "by": by,
    }


def stats_all(data_dir: str | Path = "data") -> list[dict[str, Any]]:
    """One summary line per dataset under ``data_dir`` (pool, D_1, D_2, ...): totals by part and origin."""
    from looptool.schema import BOUNDARY, LOOP_PARTS, ORIGINS, PARTS

    out = []
    con = connect()
    try:
        for name, path in find_datasets(data_dir):
            src = parquet_source(path)
            cols = _columns(con, src)
            part = "part" if "part" in cols else "NULL::VARCHAR"
            rev = "label_rev" if "label_rev" in cols else "0"
            names = PARTS
            if (
                part == "part"
                and con.execute(f"SELECT count(*) FROM {src} WHERE part = '{BOUNDARY}'").fetchone()[0]
            ):
                names = LOOP_PARTS  # the opt-in part, only where it occurs
            aggs = [f"count(*) FILTER ({part} = '{p}') AS \"{p}\"" for p in names]
            aggs += [f"count(*) FILTER (origin = '{o}') AS \"origin_{o}\"" for o in ORIGINS]
            row = _records(
                con.execute(
                    f"SELECT count(*) AS rows, count(DISTINCT sample_id) AS distinct_ids, {', '.join(aggs)}, "
                    f"count(*) FILTER ({rev} > 0) AS relabeled FROM {src}"
                )
            )[0]
            out.append({"dataset": name, "path": str(path), **{k: int(v) for k, v in row.items()}})
    finally:
        con.close()
    return out


# --- one run or several -----------------------------------------------------------------------------------


def mixed_runs(data_dir: str | Path = "data") -> list[dict[str, Any]]:
    """Datasets under ``data_dir`` that do not follow from the ones before them, judged by content.

    D_1 is drawn from the pool; D_{j+1} holds error seeds and high-PPL samples of D_j, expansions whose
    ``parent_id`` is in D_j, and Seed-new samples of the pool. A row of D_{j+1} that is none of these (and a
    row of D_1 not in the pool) comes from another run: e.g. ``dvc exp run ... select`` on imported data
    leaves the previous run's D_2, D_3 in the workspace. Pairs with a missing side are not checked. Returns
    one ``{dataset, against, foreign, rows}`` per dataset with foreign rows, in iteration order.
    """
    found = dict(find_datasets(data_dir))
    pool = found.get("pool")
    out: list[dict[str, Any]] = []
    con = connect()
    try:
        for name, path in found.items():
            if name == "pool":
                continue
            j = int(name.removeprefix("iter_"))
            prev = found.get(f"iter_{j - 1}")
            src = parquet_source(path)
            cols = _columns(con, src)
            part = "part" if "part" in cols else "NULL::VARCHAR"
            parent = "parent_id" if "parent_id" in cols else "NULL::VARCHAR"
            in_pool = f"sample_id IN (SELECT sample_id FROM {parquet_source(pool)})" if pool else "TRUE"
            if j == 1:
                if pool is None:
                    continue
                against, ok = "the pool", in_pool
            elif prev is None:
                continue
            else:
                in_prev = f"(SELECT sample_id FROM {parquet_source(prev)})"
                against = f"iter_{j - 1} and the pool" if pool else f"iter_{j - 1}"
                ok = f"""CASE {part}
                    WHEN 'error_seed' THEN sample_id IN {in_prev}
                    WHEN 'high_ppl' THEN sample_id IN {in_prev}
                    WHEN 'boundary' THEN sample_id IN {in_prev}
                    WHEN 'expansion' THEN {parent} IN {in_prev}
                    WHEN 'seed_new' THEN {in_pool}
                    ELSE sample_id IN {in_prev} OR {parent} IN {in_prev} OR {in_pool} END"""
            rows, foreign = con.execute(
                f"SELECT count(*), count(*) FILTER (NOT coalesce({ok}, FALSE)) FROM {src}"
            ).fetchone()
            if foreign:
                out.append({"dataset": name, "against": against, "foreign": int(foreign), "rows": int(rows)})
    finally:
        con.close()
    return out


def mixed_runs_line(found: list[dict[str, Any]]) -> str | None:
    """One warning line for :func:`mixed_runs`' findings (None when there are none)."""
    if not found:
        return None
    first, rest = found[0], [f["dataset"] for f in found[1:]]
    also = f" (also {', '.join(rest)})" if rest else ""
    return (
        f"warning: these datasets come from different runs: {first['foreign']} of {first['rows']} samples of "
        f"{first['dataset']} do not follow from {first['against']}{also}; `dvc status` lists the stale stages, "
        "`dvc repro` rebuilds them"
    )
