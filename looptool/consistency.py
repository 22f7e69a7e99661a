"""Checks of a stage's inputs against each other, beyond each file's own schema.

A schema check (:mod:`looptool.schema`) sees one file. These see how the files of one iteration fit together:
ids are unique, the probe covers D_j exactly, and the verdicts cover exactly the samples the probe failed.
A gap or a duplicate would otherwise pass silently (a D_1 with half its ids twice, a probe of 10 samples
dropping the other 54 from D_{j+1}). Each failure is one line naming the file and the first offending ids.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from looptool.errors import InputError


def _few(ids: Iterable[str], n: int = 3) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:n])
    return shown + (f" (+{len(ids) - n} more)" if len(ids) > n else "")


def unique_ids(df: pl.DataFrame, where: str, column: str = "sample_id") -> None:
    """Every ``sample_id`` of ``df`` once."""
    dup = df.filter(pl.col(column).is_duplicated())[column].unique().to_list()
    if dup:
        raise InputError(f"{where}: {len(dup)} duplicate {column}(s), e.g. {_few(dup)}; ids must be unique")


def same_ids(df: pl.DataFrame, expected: Iterable[str], where: str, what: str) -> None:
    """``df``'s ids are unique and exactly ``expected`` (``what`` says what they should cover)."""
    unique_ids(df, where)
    got, want = set(df["sample_id"].to_list()), set(expected)
    missing, extra = want - got, got - want
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {_few(missing)})")
        if extra:
            parts.append(f"{len(extra)} not expected (e.g. {_few(extra)})")
        raise InputError(f"{where}: must cover {what} exactly: " + "; ".join(parts))


def failed_ids(probed: pl.DataFrame) -> list[str]:
    """Samples the student failed: answered (no backend error) and not mastered."""
    cond = ~pl.col("mastered")
    if "error" in probed.columns:
        cond = cond & pl.col("error").is_null()
    return probed.filter(cond)["sample_id"].to_list()


def check_probe(probed: pl.DataFrame, data: pl.DataFrame, probe_path: str, data_path: str) -> None:
    """The probe of D_j covers every sample of D_j once."""
    unique_ids(data, data_path)
    same_ids(probed, data["sample_id"].to_list(), probe_path, f"the samples of {data_path}")


def check_verdicts(verdicts: pl.DataFrame, probed: pl.DataFrame, verdicts_path: str, probe_path: str) -> None:
    """One verdict for each failed sample of the probe, and none for another."""
    same_ids(verdicts, failed_ids(probed), verdicts_path, f"the failed samples of {probe_path}")
