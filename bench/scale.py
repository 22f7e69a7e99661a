"""Cost of the loop's non-model stages as the data grows: seed (procedural), select, verify (rules), expand
(structured), merge and ``looptool diff``, at several dataset sizes, each stage in its own child process.

    python bench/scale.py [--sizes 2000 20000 200000] [--work-dir DIR] [--keep] [--stage-timeout 600]
                          [--total-timeout S] [--profile STAGE --sizes N]

``n`` is the loop's dataset size |D_j| (the paper: ~18k samples per iteration). For each n the bench writes
a params.yaml (this checkout's, with the demo's settings except the sizes: ``seed.pool_size`` 1.5 n, so merge
has fresh pool samples left, ``seed.heldout_size`` n/8 as in the demo, ``select.dataset_size`` and
``merge.dataset_size`` n, ``expand.max_samples`` n/4, every model backend ``none``) and runs, each in a fresh
``python`` child that loads its config with the stage script's own loader and calls the library entry point
the DVC stage calls:

    seed      looptool.synth.run_seed                 (pool, held-out split, rejected rows, label noise)
    select    looptool.merge.run_select               (D_1 = n pool samples; pool events)
    probe*    synthesized, not timed as a stage: the model's outputs made from D_1's labels
    verify    looptool.verify.run_verify              (rules only: no judge)
    expand    looptool.expand.run_expand              (structured: the API synthesizer, no model)
    merge     looptool.merge.run_merge                (D_2 = ES + EE + HPPL + Seed-new)
    diff      looptool.lineage.diff("iter_1", "iter_2")  (what ``looptool diff iter_1 iter_2`` calls)

probe* stands in for the student: for each D_1 row a seeded share (30%) of predictions is corrupted (the
label changed with :func:`looptool.synth.noise.corrupt_as`: wrong value, wrong function, dropped or swapped
arguments; a call where text was expected; or a cut-off ``<tool_call>`` block) and the rest repeats the
label; ``mastered`` is then decided as the probe stage does (``parse_as`` + ToolMatch), and each row gets a
seeded perplexity (1 + lognormal) and token count. Its time is printed, marked ``*``, but it is no stage.

Per stage the table shows the seconds of the entry-point call (timed inside the child, imports excluded),
the child's peak resident memory (``ru_maxrss`` of that one child from ``os.wait4``, so no stage inherits
another's high-water mark; it includes the interpreter and imported libraries, ~the ``imports`` row), the
rows the stage wrote, and seconds per 1,000 rows of n. A stage that fails, or runs past ``--stage-timeout``
(or what is left of ``--total-timeout``), is killed and reported as such, and the later stages of that size
are skipped (they need its output).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
STAGES = ("seed", "select", "probe*", "verify", "expand", "merge", "diff")
CORRUPT_SHARE = 0.30
"""Share of synthesized predictions that differ from the label (the student's failures, before parsing)."""


# --- params ---------------------------------------------------------------------------------------------


def bench_params(base: dict[str, Any], n: int) -> dict[str, Any]:
    """The demo's params with the data sizes scaled to a dataset size ``n`` and no model backend."""
    p = json.loads(json.dumps(base))
    for role in ("student", "judge", "generator", "user"):
        p.setdefault("backends", {})[role] = {"backend": "none"}
    p["seed"].update(pool_size=n + n // 2, heldout_size=max(1, n // 8), mode="procedural", decontam_dirs=[])
    p["select"]["dataset_size"] = n
    p["merge"]["dataset_size"] = n
    p["expand"].update(mode="structured", max_samples=max(1, n // 4))
    return p


# --- children: one stage each ----------------------------------------------------------------------------


def _paths(d: Path) -> dict[str, Path]:
    return {
        "params": d / "params.yaml",
        "pool": d / "seed/pool.parquet",
        "heldout": d / "seed/heldout.parquet",
        "noise": d / "seed/noise_truth.parquet",
        "seed_events": d / "seed/events.parquet",
        "d1": d / "iter_1/train.parquet",
        "used1": d / "iter_1/pool_used.parquet",
        "probe": d / "iter_1/probe.parquet",
        "verdicts": d / "iter_1/verdicts.parquet",
        "exp": d / "iter_1/expansions.parquet",
        "exp_rej": d / "iter_1/expansions_rejected.parquet",
        "events1": d / "iter_1/events.parquet",
        "d2": d / "iter_2/train.parquet",
        "used2": d / "iter_2/pool_used.parquet",
    }


def synth_probe(data: Path, out: Path, seed: int = 0) -> dict[str, Any]:
    """PROBE rows for D_j without a model (see the module docstring)."""
    import random

    from looptool import storage
    from looptool.calls import TOOL_CALL_OPEN, parse_as, render_target
    from looptool.match import tool_match
    from looptool.schema import PROBE, TRAIN, frame
    from looptool.synth.noise import corrupt_as

    kinds = ("wrong_value", "wrong_function", "dropped_required", "dropped_optional", "swapped_args")
    rows = []
    df = storage.read_parquet(data, TRAIN)
    for sid, tools_s, msgs_s, label_s, meta_s in df.select(
        "sample_id", "tools", "messages", "label", "meta"
    ).iter_rows():
        rng = random.Random(f"probe:{seed}:{sid}")
        label, tools = json.loads(label_s), json.loads(tools_s)
        reply = (json.loads(meta_s) or {}).get("reply")
        pred = label
        if rng.random() < CORRUPT_SHARE:
            how = rng.random()
            if how < 0.15:  # a cut-off call: parse error
                text = f'{TOOL_CALL_OPEN}\n{{"name": "{tools[0]["name"]}", "arguments": {{'
                pred = None
            elif not label:  # a call where text was expected
                pred = [{"name": tools[0]["name"], "arguments": {}}]
            else:
                row = {"label": label, "tools": tools, "messages": json.loads(msgs_s)}
                got = None
                for kind in rng.sample(kinds, len(kinds)):
                    got = corrupt_as(row, kind, rng)
                    if got is not None:
                        break
                pred = got if got is not None else []
        if pred is not None:
            text = render_target(pred, reply if not pred else None)
        parsed = parse_as(text, "auto")
        rows.append(
            {
                "sample_id": sid,
                "iteration": 1,
                "prediction": text,
                "calls": parsed.label(),
                "parse_error": parsed.error,
                "mastered": bool(parsed.ok and tool_match(parsed, label, tools)),
                "ppl": round(1.0 + rng.lognormvariate(-1.0, 0.6), 6),
                "n_tokens": max(1, len(text) // 4),
                "error": None,
            }
        )
    probed = frame(rows, PROBE)
    storage.write_parquet(probed, out, PROBE)
    return {"rows": probed.height, "mastered": int(probed["mastered"].sum())}


def child(stage: str, d: Path, profile: bool) -> None:
    """Run one stage on the files under ``d``; print one JSON line (seconds of the call, rows written)."""
    # imports first, so the timed call excludes them
    import polars as pl

    from looptool.config import load_params
    from looptool.expand import ExpandConfig, ExpandInputs, run_expand
    from looptool.lineage import diff
    from looptool.llm import BackendConfig
    from looptool.merge import LoopInputs, MergeConfig, SelectConfig, run_merge, run_select
    from looptool.stage import LoopConfig, section_config
    from looptool.synth import SeedConfig, load_seed_config, run_seed
    from looptool.verify import VerifyConfig, run_verify

    p = _paths(d)
    params = str(p["params"])

    def rows(path: Path) -> int:
        return pl.scan_parquet(path).select(pl.len()).collect().item()

    def call() -> tuple[int, str]:
        if stage == "imports":
            return 0, ""
        if stage == "seed":
            m = run_seed(out_dir=d / "seed", cfg=load_seed_config(params), progress=False)
            return m["pool"]["size"] + m["heldout"]["size"], (
                f"pool {m['pool']['size']}, heldout {m['heldout']['size']}, rejected {m['rejected']['total']}, "
                f"noisy {m['noise']['count']}"
            )
        if stage == "select":
            m = run_select(
                pool=p["pool"], out=p["d1"], used=p["used1"], events=p["seed_events"],
                cfg=section_config(SelectConfig, "select", params),
            )  # fmt: skip
            return m["size"], f"D_1 {m['size']} of {m['pool']}"
        if stage == "probe*":
            m = synth_probe(p["d1"], p["probe"])
            return m["rows"], f"mastered {m['mastered']}"
        if stage == "verify":
            cfg = section_config(VerifyConfig, "verify", params, key=1)
            loop = section_config(LoopConfig, "loop", params, key=1)
            judge = section_config(BackendConfig, "backends.judge", params, key=1)
            assert not judge.enabled, "the bench runs without a judge"
            m = run_verify(
                data=p["d1"], probe=p["probe"], out=p["verdicts"], noise_truth=p["noise"],
                cfg=cfg, iteration=1, enabled=loop.jglv, judge=None,
            )  # fmt: skip
            return sum(m["verdicts"].values()), f"failed {m['failed']}: {m['verdicts']}"
        if stage == "expand":
            m = run_expand(
                inputs=ExpandInputs(p["d1"], p["probe"], p["verdicts"], p["pool"], p["heldout"]),
                out=p["exp"], rejected=p["exp_rej"], cfg=section_config(ExpandConfig, "expand", params, key=1),
                synth_cfg=section_config(SeedConfig, "seed", params), iteration=1,
                enabled=section_config(LoopConfig, "loop", params, key=1).edde, generator=None,
            )  # fmt: skip
            return m["made"] + m["rejected"], (
                f"{m['seeds']} seeds, {m['requested']} requested -> {m['made']} made, {m['rejected']} rejected"
            )
        if stage == "merge":
            inputs = LoopInputs(
                p["d1"], p["probe"], p["verdicts"], p["exp"], p["pool"], p["used1"], p["d1"], p["exp_rej"]
            )
            m = run_merge(
                inputs=inputs, out=p["d2"], used_out=p["used2"], events=p["events1"],
                cfg=section_config(MergeConfig, "merge", params, key=1),
                loop=section_config(LoopConfig, "loop", params, key=1), iteration=1,
            )  # fmt: skip
            return m["size"], f"D_2 {m['parts']}"
        if stage == "diff":
            r = diff("iter_1", "iter_2", data_dir=d, examples=5)
            return r.rows_a + r.rows_b, f"{r.counts}"
        raise SystemExit(f"unknown stage {stage!r}; known: imports, {', '.join(STAGES)}")

    load_params(params)  # parse errors surface before the clock starts
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        n_rows, note = call()
        prof.disable()
        secs = time.perf_counter() - t0
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
    else:
        t0 = time.perf_counter()
        n_rows, note = call()
        secs = time.perf_counter() - t0
    if stage == "seed":
        n_rows = rows(p["pool"]) + rows(p["heldout"])
    print(json.dumps({"stage": stage, "seconds": secs, "rows": n_rows, "note": note}), flush=True)


# --- parent ------------------------------------------------------------------------------------------------


def run_child(stage: str, d: Path, timeout: float, profile: bool) -> dict[str, Any]:
    """One stage in a fresh interpreter; its peak RSS from ``os.wait4`` (that child's own rusage)."""
    env = dict(os.environ, PYTHONPATH=str(HERE), POLARS_MAX_THREADS=os.environ.get("POLARS_MAX_THREADS", ""))
    if not env["POLARS_MAX_THREADS"]:
        env.pop("POLARS_MAX_THREADS")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", stage, "--dir", str(d)]
    if profile:
        cmd += ["--profile", stage]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = t0 + timeout
    timed_out = False
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, ru = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for the reaped child
    res: dict[str, Any] = {
        "stage": stage,
        "wall": wall,
        "peak_mib": ru.ru_maxrss / 1024,
        "rc": proc.returncode,
    }
    if profile and err:
        print(err, file=sys.stderr)
    if timed_out:
        res["error"] = f"killed after {timeout:.0f} s (--stage-timeout / --total-timeout)"
    elif proc.returncode != 0:
        res["error"] = f"exit {proc.returncode}: " + (err.strip().splitlines() or ["?"])[-1][:300]
    else:
        res.update(json.loads(out.strip().splitlines()[-1]))
    return res


def fmt_row(n: int, r: dict[str, Any]) -> str:
    if "error" in r:
        return (
            f"{r['stage']:<8} {n:>7} {'-':>9} {r['peak_mib']:>9.0f} {'-':>9} {'-':>8}  FAILED: {r['error']}"
        )
    per_k = r["seconds"] / (n / 1000)
    return (
        f"{r['stage']:<8} {n:>7} {r['seconds']:>9.2f} {r['peak_mib']:>9.0f} {per_k:>9.3f} {r['rows']:>8}  "
        f"{r['note']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 200000], help="dataset sizes n")
    ap.add_argument("--work-dir", type=Path, default=None, help="where the temporary folders go")
    ap.add_argument("--keep", action="store_true", help="keep the data written")
    ap.add_argument("--stage-timeout", type=float, default=600.0, help="seconds before a stage is killed")
    ap.add_argument(
        "--total-timeout",
        type=float,
        default=None,
        help="seconds for the whole bench (stages get what is left)",
    )
    ap.add_argument("--profile", default=None, help="print a cProfile of this stage (stderr)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.dir, profile=args.profile is not None)
        return

    import yaml

    from looptool.config import load_yaml

    base = load_yaml((HERE / "params.yaml").read_text(), "params.yaml")
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=args.work_dir))
    print(f"# bench/scale.py sizes {args.sizes}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "# seconds: the stage's entry-point call (imports excluded); peak MiB: the child's ru_maxrss "
        "(os.wait4); s/1k: seconds per 1,000 rows of n; rows: rows the stage wrote"
    )
    print(f"{'stage':<8} {'n':>7} {'seconds':>9} {'peak MiB':>9} {'s/1k':>9} {'rows':>8}  detail")
    t_all = time.perf_counter()
    try:
        if args.profile is None:
            (work / "params.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
            r = run_child("imports", work, args.stage_timeout, False)
            print(f"{'imports':<8} {'-':>7} {'-':>9} {r['peak_mib']:>9.0f}  (a child that only imports)")
        for n in args.sizes:
            d = work / f"n{n}"
            d.mkdir()
            (d / "params.yaml").write_text(yaml.safe_dump(bench_params(base, n), sort_keys=False))
            for stage in STAGES:
                prof = args.profile == stage
                timeout = args.stage_timeout
                if args.total_timeout is not None:
                    timeout = min(timeout, args.total_timeout - (time.perf_counter() - t_all))
                if timeout <= 0:
                    print(f"# n={n}: stopped before {stage}: --total-timeout spent", flush=True)
                    break
                r = run_child(stage, d, timeout, prof)
                print(fmt_row(n, r), flush=True)
                if "error" in r:
                    print(f"# n={n}: stopped at {stage}; later stages need its output", flush=True)
                    break
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        print(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"# total {time.perf_counter() - t_all:.0f} s")
        if args.keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
