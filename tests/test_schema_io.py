"""Record schemas, validation errors that name file/row/column, atomic Parquet IO, DuckDB helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from looptool import storage
from looptool.schema import EVENT, SAMPLE, TRAIN, SchemaError, frame, make_sample_id, rows

TOOLS = [
    {
        "name": "f",
        "description": "d",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
    }
]


def sample(i: int = 0, **over):
    msgs = [{"role": "user", "content": f"call f with {i}"}]
    row = {
        "sample_id": make_sample_id(TOOLS, msgs),
        "tools": TOOLS,
        "messages": msgs,
        "label": [{"name": "f", "arguments": {"a": i}}],
        "origin": "seed",
        "parent_id": None,
        "iteration": 0,
        "label_rev": 0,
        "meta": {"pattern": "single"},
    }
    row.update(over)
    return row


def test_sample_id_is_content_hash_independent_of_key_order_and_label():
    msgs = [{"role": "user", "content": "hi"}]
    a = make_sample_id(TOOLS, msgs)
    b = make_sample_id(json.dumps(TOOLS, indent=2), json.dumps([{"content": "hi", "role": "user"}]))
    assert a == b and len(a) == 16
    assert make_sample_id(TOOLS, [{"role": "user", "content": "hello"}]) != a


def test_write_read_roundtrip(tmp_path):
    df = frame([sample(i) for i in range(3)], SAMPLE)
    path = storage.write_parquet(df, tmp_path / "a" / "b" / "pool.parquet", SAMPLE)  # parents created
    back = storage.read_parquet(path, SAMPLE)
    assert back.equals(df)
    assert rows(back, ["label"])[2]["label"] == [{"name": "f", "arguments": {"a": 2}}]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("over", "column", "needle"),
    [
        ({"label": '[{"name": "f"}]'}, "label", "exactly the keys"),
        ({"label": "{not json"}, "label", "not valid JSON"),
        ({"origin": "web"}, "origin", "is not one of"),
        ({"tools": '{"name": "f"}'}, "tools", "must be a JSON list"),
        ({"messages": '[{"role": "robot"}]'}, "messages", "role"),
        ({"meta": "[]"}, "meta", "JSON object"),
        ({"sample_id": None}, "sample_id", "null in a required column"),
    ],
)
def test_validation_error_names_file_row_column(tmp_path, over, column, needle):
    good = [sample(i) for i in range(4)]
    df = frame(good[:2] + [sample(2, **over)] + good[3:], SAMPLE)
    with pytest.raises(SchemaError) as e:
        storage.write_parquet(df, tmp_path / "bad.parquet", SAMPLE)
    msg = str(e.value)
    assert "bad.parquet" in msg and "row 2" in msg and f"column '{column}'" in msg and needle in msg
    assert not (tmp_path / "bad.parquet").exists()


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "d.parquet"
    storage.write_parquet(frame([sample(0)], SAMPLE), path, SAMPLE)
    before = path.read_bytes()
    with pytest.raises(SchemaError):
        storage.write_parquet(frame([sample(1, origin="nope")], SAMPLE), path, SAMPLE)
    assert path.read_bytes() == before  # nothing already written is lost


def test_missing_and_extra_columns_and_casts(tmp_path):
    df = frame([sample(0)], SAMPLE)
    with pytest.raises(SchemaError, match="missing column"):
        SAMPLE.validate(df.drop("label"), "x.parquet")
    with pytest.raises(SchemaError, match="unexpected column"):
        SAMPLE.validate(df.with_columns(pl.lit(1).alias("zzz")), "x.parquet")
    cast = SAMPLE.validate(df.with_columns(pl.col("iteration").cast(pl.Int32)), "x.parquet")
    assert cast.schema["iteration"] == pl.Int64
    with pytest.raises(SchemaError, match=r"row 0 column 'iteration': cannot cast"):
        SAMPLE.validate(df.with_columns(pl.lit("x").alias("iteration")), "x.parquet")
    with pytest.raises(SchemaError, match="column 'part'"):
        TRAIN.validate(df.with_columns(pl.lit("other").alias("part")), "x.parquet")


def test_read_missing_or_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        storage.read_parquet(tmp_path / "nope.parquet")
    bad = tmp_path / "corrupt.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(SchemaError, match="corrupt.parquet"):
        storage.read_parquet(bad, SAMPLE)


def test_duckdb_over_parquet_globs(tmp_path):
    for j in (1, 2):
        storage.write_parquet(
            frame([sample(i + 10 * j) for i in range(3)], SAMPLE),
            tmp_path / f"iter_{j}" / "t.parquet",
            SAMPLE,
        )
    src = storage.parquet_source(str(tmp_path / "iter_*" / "t.parquet"))
    out = storage.query(f"SELECT count(*) AS n, count(DISTINCT sample_id) AS u FROM {src}")
    assert out.row(0) == (6, 6)
    quoted = tmp_path / "it's"
    storage.write_parquet(frame([sample(99)], SAMPLE), quoted / "t.parquet", SAMPLE)
    assert storage.query(f"SELECT count(*) FROM {storage.parquet_source(quoted / 't.parquet')}").item() == 1
    pattern = storage.query(
        f"SELECT json_extract_string(meta, '$.pattern') AS p, count(*) AS n FROM {src} GROUP BY p"
    )
    assert pattern.to_dicts() == [{"p": "single", "n": 6}]


def test_write_json_atomic_sorted(tmp_path):
    p = storage.write_json({"b": 1, "a": {"y": 2.5}}, tmp_path / "m" / "x.json")
    assert p.read_text().startswith('{\n  "a"')
    assert storage.read_json(p) == {"a": {"y": 2.5}, "b": 1}


def test_event_schema():
    df = frame(
        [
            {
                "sample_id": "s",
                "iteration": 1,
                "event": "judged",
                "parent_id": None,
                "detail": {"verdict": "PRED_WRONG"},
            }
        ],
        EVENT,
    )
    EVENT.validate(df, "events.parquet")
    with pytest.raises(SchemaError, match="JSON object"):
        EVENT.validate(df.with_columns(pl.lit("[1]").alias("detail")), "events.parquet")


def test_no_temp_files_left_on_error(tmp_path, monkeypatch):
    def boom(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", boom)
    with pytest.raises(OSError):
        storage.write_parquet(frame([sample(0)], SAMPLE), tmp_path / "x.parquet", SAMPLE)
    assert os.listdir(tmp_path) == []
    assert not Path(tmp_path / "x.parquet").exists()
