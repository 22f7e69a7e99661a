"""ToolMatch throughput on one core: pairs/second over realistic (prediction, label, tools) triples.

    python bench/toolmatch.py [--pairs 200000]

Prints pairs/second for the reward as GRPO and the probe call it (label and tools as JSON text, prediction
already parsed) and for the full path including parsing the model text. Goal: >= 100,000 pairs/s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time

from looptool.calls import parse, render_calls
from looptool.match import tool_match


def make_pairs(n: int, seed: int = 0):
    rng = random.Random(seed)
    tools_pool = []
    for t in range(50):
        props = {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "price": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "flag": {"type": "boolean"},
        }
        tools_pool.append(
            json.dumps(
                [
                    {
                        "name": f"tool_{t}_{k}",
                        "description": "d",
                        "parameters": {"type": "object", "properties": props},
                    }
                    for k in range(3)
                ]
            )
        )
    out = []
    for _ in range(n):
        tools_json = rng.choice(tools_pool)
        tools = json.loads(tools_json)
        n_calls = rng.choice([1, 1, 1, 2, 3])
        label = [
            {
                "name": rng.choice(tools)["name"],
                "arguments": {
                    "city": rng.choice(["Paris", "Rome", "Oslo"]),
                    "days": rng.randint(1, 9),
                    "price": round(rng.random() * 100, 2),
                    "tags": ["a", "b"][: rng.randint(0, 2)],
                },
            }
            for _ in range(n_calls)
        ]
        pred = json.loads(json.dumps(label))
        r = rng.random()
        if r < 0.3:
            pred[0]["arguments"]["days"] += 1
        elif r < 0.4:
            pred.reverse()
        elif r < 0.5:
            pred[0]["arguments"]["days"] = float(pred[0]["arguments"]["days"])
        out.append((pred, render_calls(pred), json.dumps(label), tools_json))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=200_000)
    ap.add_argument("--no-freeze", action="store_true", help="leave the input pairs visible to the GC")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    except (AttributeError, OSError):
        pass
    pairs = make_pairs(args.pairs)
    # The 200k input pairs are millions of live objects that Python's cyclic GC would re-scan on every
    # full collection while the reward allocates; a reward call in a trainer does not hold such a heap.
    # gc.freeze() moves them out of the collector's sight (the collector still runs for what tool_match
    # allocates). --no-freeze measures with them in sight.
    if not args.no_freeze:
        gc.freeze()
    # warm the tool-index cache the way a GRPO run does (same tools repeat across samples)
    for pred, _, label, tools in pairs[:1000]:
        tool_match(pred, label, tools)

    n = len(pairs)
    # CPU seconds of this (single-threaded, pinned) process: what one core delivers, even when other
    # processes share the machine; wall seconds shown beside them.
    w0, c0 = time.perf_counter(), time.process_time()
    hits = sum(tool_match(pred, label, tools) for pred, _, label, tools in pairs)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(
        f"tool_match (parsed prediction, JSON label + tools): {n / cpu:,.0f} pairs/CPU-s "
        f"({n / wall:,.0f} pairs/wall-s; {n} pairs, {hits} matches)"
    )

    w0, c0 = time.perf_counter(), time.process_time()
    hits2 = sum(tool_match(parse(text), label, tools) for _, text, label, tools in pairs)
    wall2, cpu2 = time.perf_counter() - w0, time.process_time() - c0
    print(
        f"parse + tool_match (model text):                  {n / cpu2:,.0f} pairs/CPU-s "
        f"({n / wall2:,.0f} pairs/wall-s)"
    )
    assert hits == hits2
    print(f"gc.freeze() of the input pairs: {not args.no_freeze}")
    print(f"goal >= 100,000 pairs/s on one core: {'met' if n / cpu >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
