"""``seed.mode: import``: the pool comes from the user's files instead of synthesis.

The files (``seed.import_files``; any format of :mod:`looptool.interchange`, detected per file unless
``seed.import_format`` names one) are read and validated like ``looptool import``: a bad row is kept in
``rejected.parquet`` with its reason and ``file:line: field: message`` in ``detail``. The held-out split
comes from ``seed.import_heldout_files`` when given, else from a seeded fraction
(``seed.import_heldout_fraction``) held out whole by tool (every row whose label calls a held-out tool) or
by domain (``meta.domain``, else BFCL's category, Hermes' category, else the source file). The dev split
(``dev.parquet``, for choices; the test split is for final scores) is a seeded fraction
(``seed.import_dev_fraction``) of what is left, whole keys of the same kind, so disjoint from the test's;
empty, with a warning, when that fraction is 0 or no key can go without taking the whole pool. Then, as for
synthesized seeds: decontamination against ``seed.decontam_dirs`` and label noise (``seed.label_noise``) on
the pool, with the truth in ``noise_truth.parquet``. The outputs are the synthesized seed's files, so the
rest of the loop runs unchanged.

Each row's ``meta`` gets a difficulty ``signature`` (as :func:`looptool.synth.rows.signature_of` computes
it), so ``expand.mode: structured`` can instantiate new samples of the same shape from the synthetic API
catalog; ``expand.mode: llm`` varies the user's own samples.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.schema import NOISE_TRUTH, REJECTED, SAMPLE, frame, rows
from looptool.storage import read_parquet, write_parquet
from looptool.synth.build import split_rng
from looptool.synth.config import SeedConfig
from looptool.synth.decontam import Decontaminator
from looptool.synth.noise import apply_noise, schema_breaks
from looptool.synth.rows import signature_of

JSON_COLS = ("tools", "messages", "label", "meta")
log = logging.getLogger(__name__)


def _read(paths: list[str], cfg: SeedConfig, tmp: Path, name: str) -> tuple[list[dict], list[dict], dict]:
    from looptool.interchange.importer import import_files

    out = tmp / f"{name}.parquet"
    rep = import_files(
        paths, out, fmt=cfg.import_format, on_error="skip", check_labels=cfg.import_check_labels
    )
    accepted = rows(read_parquet(out, SAMPLE), JSON_COLS)
    # rejected rows hold whatever could be read (not necessarily valid messages): shallow checks only
    rejected = rows(read_parquet(rep.rejected_path, REJECTED, deep=False), JSON_COLS)
    return accepted, rejected, rep.to_dict()


def group_of(row: dict[str, Any], by: str) -> list[str]:
    """The held-out keys of a row: the tools its label calls (``tool``), or its domain (``domain``)."""
    meta = row["meta"]
    if by == "tool":
        return sorted({c["name"] for c in row["label"]})
    key = meta.get("domain") or meta.get("category") or Path(str(meta.get("source", "?"))).stem
    return [str(key)]


def split_by_key(
    pool: list[dict], cfg: SeedConfig, fraction: float, rng_name: str
) -> tuple[list[dict], list[dict], list[str]]:
    """(rest, taken, taken keys): whole tools / domains (``import_heldout_by``), in an order seeded by
    ``rng_name``, until ``fraction`` of the rows is taken; a row goes with the split when any of its keys does."""
    want = math.ceil(fraction * len(pool))
    if want == 0:
        return pool, [], []
    keys = sorted({k for r in pool for k in group_of(r, cfg.import_heldout_by)})
    split_rng(cfg, rng_name).shuffle(keys)
    held_keys: set[str] = set()
    held_n = 0
    for k in keys:
        if held_n >= want:
            break
        held_keys.add(k)
        held_n = sum(bool(held_keys & set(group_of(r, cfg.import_heldout_by))) for r in pool)
    held = [r for r in pool if held_keys & set(group_of(r, cfg.import_heldout_by))]
    rest = [r for r in pool if not held_keys & set(group_of(r, cfg.import_heldout_by))]
    return rest, held, sorted(held_keys)


def split_heldout(pool: list[dict], cfg: SeedConfig) -> tuple[list[dict], list[dict], list[str]]:
    """(pool, heldout, held-out keys): whole tools / domains, in a seeded order, until the fraction is met."""
    return split_by_key(pool, cfg, cfg.import_heldout_fraction, "import_heldout")


def split_dev(pool: list[dict], cfg: SeedConfig) -> tuple[list[dict], list[dict], list[str], str | None]:
    """(pool, dev, dev keys, why empty): the dev split, whole keys of ``import_heldout_by`` taken from what
    the held-out split left (so no dev key is a test key), drawn with its own seed after the test's."""
    if cfg.import_dev_fraction == 0:
        return pool, [], [], "seed.import_dev_fraction is 0; set it for a dev split"
    rest, dev, keys = split_by_key(pool, cfg, cfg.import_dev_fraction, "import_dev")
    if not dev:
        return pool, [], [], "no pool rows to take it from"
    if not rest:
        why = (
            f"whole {cfg.import_heldout_by}s for seed.import_dev_fraction={cfg.import_dev_fraction} would "
            "take every pool row"
        )
        return pool, [], [], why
    return rest, dev, keys, None


def _with_signature(row: dict[str, Any]) -> dict[str, Any]:
    meta = dict(row["meta"])
    if "signature" not in meta:
        names = {c["name"] for c in row["label"]}
        turns = sum(m["role"] == "user" for m in row["messages"])
        meta["signature"] = signature_of(
            meta.get("pattern", "single"),
            row["label"],
            row["tools"],
            max(0, len(row["tools"]) - len(names)),
            turns,
        )
    meta.setdefault("reply", None)
    meta.setdefault("generator", "import")
    return {**row, "meta": meta}


def _rejected(row: dict[str, Any], reason: str, detail: str | None, split: str) -> dict[str, Any]:
    return {**row, "meta": {**row["meta"], "split": split}, "reason": reason, "detail": detail}


def run_import_seed(*, out_dir: str | Path, cfg: SeedConfig) -> dict[str, Any]:
    """The seed stage in import mode: write pool / heldout / dev / rejected / noise_truth from the user's
    files; return the metrics."""
    from looptool.interchange.importer import IMPORT_FORMATS

    if cfg.import_format not in IMPORT_FORMATS:
        raise ValueError(f"seed.import_format={cfg.import_format!r} is not one of {list(IMPORT_FORMATS)}")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="looptool-import-") as tmp:
        pool, rejected, pool_rep = _read(cfg.import_files, cfg, Path(tmp), "pool")
        for r in rejected:
            r["meta"]["split"] = "pool"
        held: list[dict] = []
        held_rep: dict | None = None
        if cfg.import_heldout_files:
            held, held_rej, held_rep = _read(cfg.import_heldout_files, cfg, Path(tmp), "heldout")
            for r in held_rej:
                r["meta"]["split"] = "heldout"
            rejected += held_rej
    decontam = (
        Decontaminator(cfg.decontam_dirs, cfg.decontam_ngram, cfg.decontam_threshold)
        if cfg.decontam_dirs
        else None
    )

    def clean(rows_in: list[dict], split: str) -> list[dict]:
        kept = []
        for r in rows_in:
            m = decontam.match_messages(r["messages"]) if decontam is not None else None
            if m is not None:
                rejected.append(
                    _rejected(
                        {**r, "meta": {**r["meta"], "decontam": m.to_json()}},
                        "contaminated",
                        json.dumps(m.to_json()),
                        split,
                    )
                )
                continue
            kept.append(_with_signature(r))
        return kept

    held = clean(held, "heldout")
    held_ids = {r["sample_id"] for r in held}
    in_held = [r for r in pool if r["sample_id"] in held_ids]
    for r in in_held:
        rejected.append(
            _rejected(r, "in_heldout", "the same decision point is in the held-out files", "pool")
        )
    pool = clean([r for r in pool if r["sample_id"] not in held_ids], "pool")
    held_keys: list[str] = []
    if not cfg.import_heldout_files:
        pool, held, held_keys = split_heldout(pool, cfg)
    pool, dev, dev_keys, no_dev = split_dev(
        pool, cfg
    )  # after the test's split: its draws change nothing there
    if no_dev:
        log.warning("seed: %s/dev.parquet is empty (%s)", out_dir, no_dev)
    if not pool:
        raise ValueError(
            f"seed.import_files: no valid pool rows in {cfg.import_files} "
            f"({len(rejected)} rejected: {dict(Counter(r['reason'] for r in rejected))})"
        )
    pool.sort(key=lambda r: r["sample_id"])
    held.sort(key=lambda r: r["sample_id"])
    dev.sort(key=lambda r: r["sample_id"])
    rejected.sort(key=lambda r: (r["reason"], r["sample_id"], jsonutil.dumps(r["label"])))
    noisy, truth = apply_noise(pool, cfg.label_noise, cfg.noise_kinds, split_rng(cfg, "noise"))
    write_parquet(frame(noisy, SAMPLE), out_dir / "pool.parquet", SAMPLE)
    write_parquet(frame(held, SAMPLE), out_dir / "heldout.parquet", SAMPLE)
    rej_path = out_dir / "rejected.parquet"
    write_parquet(REJECTED.validate(frame(rejected, REJECTED), where=str(rej_path), deep=False), rej_path)
    write_parquet(frame(truth, NOISE_TRUTH), out_dir / "noise_truth.parquet", NOISE_TRUTH)
    write_parquet(frame(dev, SAMPLE), out_dir / "dev.parquet", SAMPLE)

    def counts(rs: list[dict], key) -> dict[str, int]:
        return dict(sorted(Counter(key(r) for r in rs).items()))

    by_id = {r["sample_id"]: r for r in pool}
    metrics = {
        "mode": "import",
        "generator": "import",
        "pool": {
            "size": len(pool),
            "by_pattern": counts(pool, lambda r: r["meta"].get("pattern", "?")),
            "by_format": counts(pool, lambda r: r["meta"].get("format", "?")),
            "by_source": counts(pool, lambda r: str(r["meta"].get("source", "?"))),
        },
        "heldout": {
            "size": len(held),
            "by_pattern": counts(held, lambda r: r["meta"].get("pattern", "?")),
            "from": "files" if cfg.import_heldout_files else f"fraction by {cfg.import_heldout_by}",
            "domains": held_keys
            if not cfg.import_heldout_files
            else [str(p) for p in cfg.import_heldout_files],
        },
        "dev": {
            "size": len(dev),
            "by_pattern": counts(dev, lambda r: r["meta"].get("pattern", "?")),
            "from": f"fraction by {cfg.import_heldout_by}",
            "domains": dev_keys,
        },
        "rejected": {
            "total": len(rejected),
            "by_reason": counts(rejected, lambda r: r["reason"]),
            "pool": sum(r["meta"].get("split") == "pool" for r in rejected),
            "heldout": sum(r["meta"].get("split") == "heldout" for r in rejected),
        },
        "noise": {
            "count": len(truth),
            "fraction": round(len(truth) / max(1, len(pool)), 4),
            "by_kind": counts(truth, lambda t: t["kind"]),
            "schema_detectable": sum(
                schema_breaks(t["noisy_label"], by_id[t["sample_id"]]["tools"]) for t in truth
            ),
        },
        "decontam": {
            "enabled": decontam is not None,
            "questions": len(decontam) if decontam else 0,
            "contaminated": sum(r["reason"] == "contaminated" for r in rejected),
            "ngram": cfg.decontam_ngram,
            "threshold": cfg.decontam_threshold,
        },
        "judge": {"enabled": False},
        "import": {"pool": {k: pool_rep[k] for k in ("rows", "rejected", "reasons", "first_errors")}}
        | (
            {"heldout": {k: held_rep[k] for k in ("rows", "rejected", "reasons", "first_errors")}}
            if held_rep
            else {}
        ),
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    return metrics
