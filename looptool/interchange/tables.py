"""Table inputs: Parquet files and local Hugging Face ``datasets`` folders (``save_to_disk``).

Each row is read by its columns (:func:`record_items`): our SAMPLE rows (``sample_id``, ``tools``,
``messages``, ``label``, ``meta``; the id must match its tools and messages; our ``trl`` export's rows by
their ``sample_messages``), verl RL rows (``data_source``,
``prompt``, ``reward_model.ground_truth``, ``extra_info``), or any record a JSON reader knows (OpenAI
``messages``, TRL ``prompt`` + ``completion``, ShareGPT / Hermes ``conversations``, xLAM ``query``).
A row's "line" is its 1-based row number; ``meta.format`` names the row's shape (``looptool``, ``verl``,
``openai``, ...) and ``meta.container`` the table kind (``parquet``, ``datasets``).

Arrow stores a list of messages as structs with one common set of keys, so a key a message did not have
comes back as null: such null keys are dropped again (``content`` excepted); our own exports keep call
arguments as JSON text (verl) or messages in ``datasets``' ``Json`` feature (trl).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from looptool.interchange.normalize import infer_pattern, normalize_messages, normalize_tools
from looptool.interchange.records import FieldError, InterchangeError, Item, checked_item, json_field

SAMPLE_KEYS = frozenset({"sample_id", "tools", "messages", "label"})
TRL_EXPORT_KEYS = frozenset({"sample_id", "tools", "sample_messages", "label"})
"""Our ``trl`` export: its prompt is rendered for one template, ``sample_messages`` holds the sample's own."""
VERL_KEYS = frozenset({"data_source", "prompt", "reward_model"})


def drop_nulls(value: Any, keep: tuple[str, ...] = ("content",)) -> Any:
    """Recursively drop null-valued keys of dicts (except ``keep``): undoes Arrow's struct unification."""
    if isinstance(value, list):
        return [drop_nulls(v, keep) for v in value]
    if isinstance(value, dict):
        return {k: drop_nulls(v, keep) for k, v in value.items() if v is not None or k in keep}
    return value


def _maybe_json(value: Any) -> Any:
    """What a rejected row shows of a column: its JSON value, else its text."""
    try:
        return json_field(value, "", "")
    except FieldError:
        return value


def sample_items(
    tools: Any,
    messages: Any,
    label: Any,
    meta: Any,
    sample_id: str | None,
    where: str,
    base_meta: dict[str, Any],
    check_labels: bool = True,
    id_field: str = "sample_id",
) -> Iterator[Item]:
    """One of our rows (from Parquet, a datasets folder or a verl row): checked, its id recomputed."""
    raw = {
        k: _maybe_json(v)
        for k, v in (("tools", tools), ("messages", messages), ("label", label), ("meta", meta))
    }
    if not isinstance(raw["meta"], dict):
        raw["meta"] = {"meta": raw["meta"]} if raw["meta"] is not None else {}
    try:
        tools = normalize_tools(json_field(tools, "tools", "invalid_tools"))
        messages = normalize_messages(drop_nulls(json_field(messages, "messages", "invalid_messages")))
        label = json_field(label, "label", "invalid_label")
        if not isinstance(label, list) or not all(
            isinstance(c, dict)
            and isinstance(c.get("name"), str)
            and isinstance(c.get("arguments", {}), dict)
            for c in label
        ):
            raise FieldError("label", "must be a list of {name, arguments}", "invalid_label")
        label = [{"name": c["name"], "arguments": c.get("arguments") or {}} for c in label]
        meta = json_field(meta, "meta", "invalid_record") if meta is not None else {}
        if not isinstance(meta, dict):
            raise FieldError("meta", "must be an object", "invalid_record")
    except FieldError as e:
        yield Item(where, reason=e.reason, error=f"{where}: {e}", raw=raw)
        return
    meta = {**meta, **base_meta}
    if "pattern" not in meta:
        meta["pattern"], meta["pattern_inferred"] = infer_pattern(tools, messages, label), True
    item = checked_item(where, "label", tools, messages, label, meta, check_labels)
    if item.row is not None and sample_id is not None and item.row["sample_id"] != sample_id:
        item = Item(
            where,
            reason="sample_id",
            error=f"{where}: {id_field}: {sample_id!r} does not match its tools and messages "
            f"(they hash to {item.row['sample_id']!r})",
            raw=raw,
        )
    yield item


def verl_items(
    rec: dict[str, Any], where: str, base_meta: dict[str, Any], check_labels: bool = True
) -> Iterator[Item]:
    """One verl RL row (as :func:`looptool.interchange.verl.to_verl` writes it, or any with tools in
    ``extra_info.tools``)."""
    extra = rec.get("extra_info") or {}
    rm = rec.get("reward_model") or {}
    if not isinstance(extra, dict) or not isinstance(rm, dict) or "ground_truth" not in rm:
        yield Item(
            where,
            reason="invalid_record",
            error=f"{where}: reward_model.ground_truth: missing (a verl row needs reward_model.ground_truth)",
            raw={"value": str(rec)[:2000]},
        )
        return
    messages = extra.get("messages") or rec.get("prompt")
    yield from sample_items(
        extra.get("tools", "[]"),
        messages,
        rm["ground_truth"],
        extra.get("meta"),
        extra.get("sample_id"),
        where,
        {**base_meta, "data_source": rec.get("data_source")},
        check_labels,
        id_field="extra_info.sample_id",
    )


def record_items(
    rec: Any, where: str, base_meta: dict[str, Any], check_labels: bool = True
) -> Iterator[Item]:
    """Candidate rows of one record of any known shape (module docstring)."""
    from looptool.interchange.dispatch import items_of, record_format

    if isinstance(rec, dict) and (set(rec) >= SAMPLE_KEYS or set(rec) >= TRL_EXPORT_KEYS):
        yield from sample_items(
            rec["tools"],
            rec["messages"] if "messages" in rec else rec["sample_messages"],
            rec["label"],
            rec.get("meta"),
            rec.get("sample_id"),
            where,
            {**base_meta, "format": "looptool"},
            check_labels,
        )
        return
    if isinstance(rec, dict) and set(rec) >= VERL_KEYS:
        yield from verl_items(rec, where, {**base_meta, "format": "verl"}, check_labels)
        return
    try:
        fmt = record_format(rec)
    except FieldError as e:
        yield Item(where, reason=e.reason, error=f"{where}: {e}", raw={"value": str(rec)[:2000]})
        return
    yield from items_of(fmt, drop_nulls(rec), where, {**base_meta, "format": fmt}, check_labels)


def read_parquet_rows(path: str | Path, check_labels: bool = True, batch_rows: int = 2000) -> Iterator[Item]:
    """Candidate rows of a Parquet file, read in record batches."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise InterchangeError(f"{path}: not a Parquet file ({e})") from None
    n = 0
    for batch in pf.iter_batches(batch_size=batch_rows):
        for rec in batch.to_pylist():
            n += 1
            yield from record_items(
                rec, f"{path}:{n}", {"source": str(path), "line": n, "container": "parquet"}, check_labels
            )


def read_hf_dataset(path: str | Path, check_labels: bool = True, split: str | None = None) -> Iterator[Item]:
    """Candidate rows of a local ``datasets`` folder (``Dataset.save_to_disk``; of a ``DatasetDict``, the
    ``train`` split, or its only split)."""
    try:
        from datasets import DatasetDict, load_from_disk
    except ImportError as e:  # pragma: no cover - datasets ships with TRL
        raise InterchangeError(
            f"{path}: reading a datasets folder needs the 'datasets' package ({e})"
        ) from None
    path = Path(path)
    try:
        ds = load_from_disk(str(path))
    except Exception as e:  # FileNotFoundError, or datasets' own errors for a folder it did not write
        raise InterchangeError(f"{path}: not a datasets folder written by save_to_disk ({e})") from None
    if isinstance(ds, DatasetDict):
        name = split or ("train" if "train" in ds else next(iter(ds)) if len(ds) == 1 else None)
        if name is None or name not in ds:
            raise InterchangeError(
                f"{path}: a DatasetDict with splits {sorted(ds)}; name the folder of one split"
            )
        ds, path = ds[name], path / name
    for i, rec in enumerate(ds, 1):
        yield from record_items(
            rec, f"{path}:{i}", {"source": str(path), "line": i, "container": "datasets"}, check_labels
        )
