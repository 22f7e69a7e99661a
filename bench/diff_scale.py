"""``looptool diff`` at scale: two 1,000,000-row iterations, DuckDB (ours) against a pandas merge.

    flock /tmp/looptool-heavy.lock python bench/diff_scale.py [--rows 1000000] [--work-dir DIR] [--keep]

Builds D_a and D_b with realistic columns (JSON tools of 2-5 functions, messages with some multi-turn
history, labels of 1-2 calls, meta), where D_b drops a fraction of D_a, adds new rows and relabels some kept
ones. Then runs, each in a fresh subprocess so peak memory is its own: ``looptool.lineage.diff`` and a pandas
``merge(how="outer")`` computing the same counts, breakdowns, part transitions and examples. Prints wall
time of the diff itself and of the whole process, the speed-up, and each child's peak RSS (``VmHWM`` from
/proc, with ``getrusage(RUSAGE_SELF).ru_maxrss`` beside it; the datasets are built in a child too, so no
contender inherits a large high-water mark from its parent).
Goals: >= 5x faster than pandas, <= 2 GB peak for ours. The two results are compared, so a fast wrong
answer fails loudly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CITIES = [
    "Paris",
    "Rome",
    "Oslo",
    "Lima",
    "Cairo",
    "Quito",
    "Hanoi",
    "Perth",
    "Dakar",
    "Riga",
    "Bern",
    "Kyiv",
]
VERBS = ["search", "get", "book", "cancel", "list", "update", "create", "find"]
NOUNS = ["flight", "hotel", "weather", "order", "invoice", "ticket", "meeting", "route", "account", "review"]
PARAM_TYPES = [
    ("city", {"type": "string", "description": "City name, e.g. Paris or San Francisco."}),
    ("date", {"type": "string", "description": "Date in ISO format YYYY-MM-DD.", "format": "date"}),
    ("count", {"type": "integer", "description": "How many results to return.", "minimum": 1, "maximum": 50}),
    ("budget", {"type": "number", "description": "Maximum price in the user's currency."}),
    (
        "unit",
        {"type": "string", "enum": ["metric", "imperial"], "description": "Unit system for the result."},
    ),
    ("tags", {"type": "array", "items": {"type": "string"}, "description": "Free-form filter tags."}),
    ("urgent", {"type": "boolean", "description": "Whether the request should be prioritised."}),
]


def _tool_sets(rng, n: int = 400) -> list[tuple[str, list[str]]]:
    """n JSON tool lists (2-5 functions with 2-5 parameters each), with their function names."""
    out = []
    for _ in range(n):
        names = []
        tools = []
        for _ in range(int(rng.integers(2, 6))):
            name = f"{VERBS[int(rng.integers(len(VERBS)))]}_{NOUNS[int(rng.integers(len(NOUNS)))]}_{int(rng.integers(100))}"
            k = int(rng.integers(2, 6))
            idx = rng.choice(len(PARAM_TYPES), size=k, replace=False)
            props = {PARAM_TYPES[i][0]: PARAM_TYPES[i][1] for i in idx}
            tools.append(
                {
                    "name": name,
                    "description": f"{name.replace('_', ' ').capitalize()}: looks up or changes records in the "
                    "backing service and returns a JSON summary of the result.",
                    "parameters": {"type": "object", "properties": props, "required": list(props)[:1]},
                }
            )
            names.append(name)
        out.append((json.dumps(tools, sort_keys=True, separators=(",", ":")), names))
    return out


def _label(name: str, city: str, i: int, n_calls: int, variant: int = 0) -> str:
    calls = [
        {
            "name": name,
            "arguments": {
                "city": city,
                "count": (i + k + variant) % 20 + 1,
                "date": f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            },
        }
        for k in range(n_calls)
    ]
    return json.dumps(calls, sort_keys=True, separators=(",", ":"))


def _rows(rng, tool_sets, lo: int, hi: int):
    """Columns of rows lo..hi-1 (a deterministic function of the row index)."""
    import numpy as np

    from looptool.schema import PARTS

    n = hi - lo
    ts = rng.integers(len(tool_sets), size=n)
    multi = rng.random(n) < 0.2
    n_calls = np.where(rng.random(n) < 0.15, 2, 1)
    empty = rng.random(n) < 0.05
    part = rng.choice(len(PARTS), size=n, p=[0.4, 0.25, 0.25, 0.1])
    cols = {
        k: []
        for k in (
            "sample_id",
            "tools",
            "messages",
            "label",
            "origin",
            "parent_id",
            "iteration",
            "label_rev",
            "meta",
            "part",
        )
    }
    for j in range(n):
        i = lo + j
        tools, names = tool_sets[ts[j]]
        city = CITIES[i % len(CITIES)]
        name = names[i % len(names)]
        user = (
            f"Hi! Request #{i}: could you help me with {name.replace('_', ' ')} for {city}? I need it for "
            f"a trip next month and want the {i % 7 + 2} best options, ideally under {i % 900 + 100} EUR."
        )
        msgs = [{"role": "user", "content": user}]
        if multi[j]:
            msgs += [
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"type": "function", "function": {"name": names[0], "arguments": {"city": city}}}
                    ],
                },
                {
                    "role": "tool",
                    "content": json.dumps({"status": "ok", "items": [f"{city}-{i}-{k}" for k in range(3)]}),
                },
                {
                    "role": "user",
                    "content": f"Thanks. Now the same for {CITIES[(i + 3) % len(CITIES)]}, please.",
                },
            ]
        p = PARTS[part[j]]
        cols["sample_id"].append(hashlib.blake2b(str(i).encode(), digest_size=8).hexdigest())
        cols["tools"].append(tools)
        cols["messages"].append(json.dumps(msgs, sort_keys=True, separators=(",", ":")))
        cols["label"].append("[]" if empty[j] else _label(name, city, i, int(n_calls[j])))
        cols["origin"].append("expansion" if p == "expansion" else "seed")
        cols["parent_id"].append(
            hashlib.blake2b(str(i // 3).encode(), digest_size=8).hexdigest() if p == "expansion" else None
        )
        cols["iteration"].append(0 if p != "expansion" else 1)
        cols["label_rev"].append(0)
        cols["meta"].append(
            json.dumps(
                {
                    "pattern": "multi_turn" if multi[j] else ("parallel" if n_calls[j] > 1 else "single"),
                    "domain": f"travel/{NOUNS[i % len(NOUNS)]}",
                    "generator": "bench",
                }
            )
        )
        cols["part"].append(p)
    return cols


def build(work: Path, rows: int, removed: float, added: float, relabeled: float, chunk: int = 100_000):
    """Write a.parquet (rows) and b.parquet (a minus removed, plus added, some labels changed)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    a_path, b_path = work / "a.parquet", work / "b.parquet"
    stamp = work / "params.json"
    params = {"rows": rows, "removed": removed, "added": added, "relabeled": relabeled}
    if a_path.exists() and b_path.exists() and stamp.exists():
        done = json.loads(stamp.read_text())
        if {k: v for k, v in done.items() if k != "truth"} == params:
            return a_path, b_path, done
    rng = np.random.default_rng(0)
    tool_sets = _tool_sets(rng)
    schema = pa.schema(
        [
            ("sample_id", pa.string()),
            ("tools", pa.string()),
            ("messages", pa.string()),
            ("label", pa.string()),
            ("origin", pa.string()),
            ("parent_id", pa.string()),
            ("iteration", pa.int64()),
            ("label_rev", pa.int64()),
            ("meta", pa.string()),
            ("part", pa.string()),
        ]
    )
    wa = pq.ParquetWriter(a_path, schema, compression="zstd")
    wb = pq.ParquetWriter(b_path, schema, compression="zstd")
    n_added = int(rows * added)
    truth = {"added": n_added, "removed": 0, "relabeled": 0}
    for lo in range(0, rows, chunk):
        hi = min(rows, lo + chunk)
        cols = _rows(rng, tool_sets, lo, hi)
        wa.write_table(pa.table(cols, schema=schema))
        u = rng.random(hi - lo)
        keep = u >= removed
        relabel = keep & (u < removed + relabeled)
        truth["removed"] += int((~keep).sum())
        truth["relabeled"] += int(relabel.sum())
        for j in np.flatnonzero(relabel):
            i = lo + int(j)
            old = json.loads(cols["label"][j])
            name = old[0]["name"] if old else "search_flight_0"
            cols["label"][j] = _label(name, CITIES[(i + 5) % len(CITIES)], i, max(1, len(old)), variant=1)
            cols["label_rev"][j] = 1
            cols["part"][j] = "error_seed"
        idx = np.flatnonzero(keep)
        wb.write_table(pa.table({k: [v[j] for j in idx] for k, v in cols.items()}, schema=schema))
    for lo in range(rows, rows + n_added, chunk):
        hi = min(rows + n_added, lo + chunk)
        wb.write_table(pa.table(_rows(rng, tool_sets, lo, hi), schema=schema))
    wa.close()
    wb.close()
    truth["unchanged"] = rows - truth["removed"] - truth["relabeled"]
    params["truth"] = truth
    stamp.write_text(json.dumps(params))
    return a_path, b_path, params


# --- the two contenders, each run in its own process ------------------------------------------------------


def run_ours(a: str, b: str, examples: int) -> dict:
    from looptool.lineage import diff

    t0 = time.perf_counter()
    res = diff(a, b, examples=examples, threads=os.cpu_count(), memory_limit="1GB")
    dt = time.perf_counter() - t0
    return {
        "seconds": dt,
        "counts": res.counts,
        "by_part": sorted((r["status"], r["part"] or "", r["n"]) for r in res.by_part),
        "transitions": sorted((t["part_a"] or "", t["part_b"] or "", t["n"]) for t in res.transitions),
        "relabeled_examples": [e["sample_id"] for e in res.examples["relabeled"]],
    }


def run_pandas(a: str, b: str, examples: int) -> dict:
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    cols = ["sample_id", "label", "part", "origin"]
    da, db = pd.read_parquet(a, columns=cols), pd.read_parquet(b, columns=cols)
    m = da.merge(db, on="sample_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    m["status"] = np.select(
        [m["_merge"].eq("right_only"), m["_merge"].eq("left_only"), m["label_a"].ne(m["label_b"])],
        ["added", "removed", "relabeled"],
        "unchanged",
    )
    m["part"] = m["part_b"].fillna(m["part_a"])
    m["origin"] = m["origin_b"].fillna(m["origin_a"])
    counts = m["status"].value_counts().to_dict()
    by_part = m.groupby(["status", "part"], dropna=False).size()
    m.groupby(["status", "origin"], dropna=False).size()
    kept = m[m["status"].isin(["relabeled", "unchanged"]) & m["part_a"].ne(m["part_b"])]
    trans = kept.groupby(["part_a", "part_b"]).size()
    ex = m.sort_values("sample_id").groupby("status").head(examples)
    relabeled = ex[ex["status"] == "relabeled"][["sample_id", "label_a", "label_b"]]
    dt = time.perf_counter() - t0
    return {
        "seconds": dt,
        "counts": {k: int(counts.get(k, 0)) for k in ("added", "removed", "relabeled", "unchanged")},
        "by_part": sorted((s, p if isinstance(p, str) else "", int(n)) for (s, p), n in by_part.items()),
        "transitions": sorted((pa, pb, int(n)) for (pa, pb), n in trans.items()),
        "relabeled_examples": relabeled["sample_id"].tolist(),
    }


def _vm_hwm_mb() -> float | None:
    """Peak RSS of this process image from /proc (Linux). Unlike ru_maxrss it restarts at exec, so it does
    not inherit the parent's high-water mark."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child(which: str, a: str, b: str, examples: int) -> None:
    out = (run_ours if which == "ours" else run_pandas)(a, b, examples)
    out["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    hwm = _vm_hwm_mb()
    out["peak_rss_mb"] = hwm if hwm is not None else out["ru_maxrss_mb"]
    print("RESULT " + json.dumps(out))


def contend(which: str, a: Path, b: Path, examples: int) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", which, str(a), str(b), "--examples", str(examples)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{which} failed:\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    res = json.loads(line[len("RESULT ") :])
    res["process_seconds"] = wall
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--removed", type=float, default=0.10)
    ap.add_argument("--added", type=float, default=0.10)
    ap.add_argument("--relabeled", type=float, default=0.05)
    ap.add_argument("--examples", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each contender (best time reported)")
    ap.add_argument(
        "--work-dir", default=None, help="where to build the datasets (reused when the params match)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated datasets")
    ap.add_argument("--child", nargs=3, metavar=("WHICH", "A", "B"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child[0] == "build":  # the parent stays small, so children do not inherit a big ru_maxrss
            params = build(Path(args.child[1]), args.rows, args.removed, args.added, args.relabeled)[2]
            print("RESULT " + json.dumps(params))
        else:
            child(args.child[0], args.child[1], args.child[2], args.examples)
        return
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="looptool-diff-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "build",
                str(work),
                "-",
                "--rows",
                str(args.rows),
                "--removed",
                str(args.removed),
                "--added",
                str(args.added),
                "--relabeled",
                str(args.relabeled),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"building the datasets failed:\n{proc.stderr[-3000:]}")
        params = json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))[7:])
        a, b = work / "a.parquet", work / "b.parquet"
        print(
            f"datasets: {a} ({a.stat().st_size / 2**20:.0f} MiB), {b} ({b.stat().st_size / 2**20:.0f} MiB); "
            f"built or reused in {time.perf_counter() - t0:.1f}s; expected {params['truth']}"
        )
        ours = min(
            (contend("ours", a, b, args.examples) for _ in range(args.repeat)), key=lambda r: r["seconds"]
        )
        theirs = min(
            (contend("pandas", a, b, args.examples) for _ in range(args.repeat)), key=lambda r: r["seconds"]
        )
        for key in ("counts", "by_part", "transitions", "relabeled_examples"):
            if json.dumps(ours[key]) != json.dumps(theirs[key]):
                raise SystemExit(f"results differ on {key}:\n ours   {ours[key]}\n pandas {theirs[key]}")
        if ours["counts"] != params["truth"]:
            raise SystemExit(f"counts {ours['counts']} differ from the generated truth {params['truth']}")
        print(f"counts (both, equal to the generated truth): {ours['counts']}")
        print(f"{'':8} {'diff s':>8} {'process s':>10} {'peak RSS MiB':>13}")
        for name, r in (("looptool", ours), ("pandas", theirs)):
            print(f"{name:8} {r['seconds']:8.2f} {r['process_seconds']:10.2f} {r['peak_rss_mb']:13.0f}")
        print(
            f"speed-up (diff time): {theirs['seconds'] / ours['seconds']:.1f}x (goal >= 5x); "
            f"process wall: {theirs['process_seconds'] / ours['process_seconds']:.1f}x"
        )
        print(
            f"peak RSS (VmHWM) ours: {ours['peak_rss_mb']:.0f} MiB (goal <= 2048); pandas "
            f"{theirs['peak_rss_mb']:.0f} MiB (ru_maxrss: ours {ours['ru_maxrss_mb']:.0f}, pandas "
            f"{theirs['ru_maxrss_mb']:.0f} MiB)"
        )
    finally:
        if not args.keep and not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
