"""Per-pattern and paired analysis of one efficacy run: python docs/efficacy/analyze.py RUN_DIR, where RUN_DIR holds
loop/{shared,loop_seed0}/ and static/static_seed0/ as bench/efficacy.py wrote them (here: the device run's
metrics, data and eval results, untarred)."""

import json
import sys

import polars as pl

from looptool.stats import paired_bootstrap, wilson

if len(sys.argv) != 2:
    sys.exit("usage: python docs/efficacy/analyze.py RUN_DIR  (the folder bench/efficacy.py wrote)")
G = sys.argv[1]


def sc(p):
    df = pl.read_parquet(p).filter(pl.col("benchmark") == "heldout")
    return dict(zip(df["id"].to_list(), [bool(v) for v in df["valid"].to_list()]))


S = {
    "base": sc(f"{G}/loop/shared/data/eval/base.parquet"),
    "warmup": sc(f"{G}/loop/shared/data/eval/warmup.parquet"),
}
for arm in ("loop", "static"):
    for j in (1, 2, 3):
        S[f"{arm}{j}"] = sc(f"{G}/{arm}/{arm}_seed0/data/eval/{arm}_seed0_iter_{j}.parquet")
held = pl.read_parquet(f"{G}/loop/shared/data/seed/heldout.parquet")
pat = {
    r["sample_id"]: json.loads(r["meta"] or "{}").get("pattern")
    for r in held.select("sample_id", "meta").iter_rows(named=True)
}
print("| model | ToolMatch | 95% CI | n | correct |\n|---|---|---|---|---|")
for k, v in S.items():
    n, c = len(v), sum(v.values())
    print(f"| {k} | {c / n:.3f} | {list(wilson(c, n))} | {n} | {c} |")


def P(a, b):
    ids = sorted(set(S[a]) & set(S[b]))
    r = paired_bootstrap([S[a][i] for i in ids], [S[b][i] for i in ids])
    print(f"| {a} - {b} | {r['diff']:+.3f} | {r['ci95']} | {r['n']} | {r['a_only']} | {r['b_only']} |")


print(
    "\n| paired difference | diff | 95% CI (paired bootstrap, 10k, seed 0) | n | a only | b only |\n|---|---|---|---|---|---|"
)
for j in (1, 2, 3):
    P(f"loop{j}", f"static{j}")
for arm in ("loop", "static"):
    for j in (1, 2, 3):
        P(f"{arm}{j}", "warmup")
for arm in ("loop", "static"):
    for j in (1, 2, 3):
        P(f"{arm}{j}", "base")
P("warmup", "base")
pats = sorted({p for p in pat.values() if p})
print("\n| pattern | n | " + " | ".join(S) + " |\n|---|---|" + "---|" * len(S))
for p in pats:
    ids = [i for i in S["base"] if pat.get(i) == p]
    print(f"| {p} | {len(ids)} | " + " | ".join(f"{sum(S[k][i] for i in ids)}" for k in S) + " |")
# D_j composition and loop signals
for arm in ("loop", "static"):
    for j in (1, 2, 3):
        base = f"{G}/{arm}/{arm}_seed0/metrics"

        def rd(x, base=base, j=j):
            try:
                return json.load(open(f"{base}/{x}/iter_{j}.json"))
            except FileNotFoundError:
                return {}

        tr, pr, ve, ex, me = rd("train"), rd("probe"), rd("verify"), rd("expand"), rd("merge")
        nr = ve.get("noise_recovery") or {}
        print(
            f"{arm} iter {j}: D_{j} parts {tr.get('parts')} loss {tr.get('loss_first'):.3f}->{tr.get('loss_last'):.3f} "
            f"train {tr.get('wall_s')} s | probe mastered {pr.get('mastered')}/{pr.get('n')} | verdicts {ve.get('verdicts')} "
            f"| noisy in D {nr.get('noisy_in_dataset')} noisy failed {nr.get('noisy_failed')} corrections {nr.get('corrections')} correct {nr.get('correct_corrections')} "
            f"| expanded {ex.get('made')} | next {me.get('parts')}"
        )

# Rules-only label verification audit on D_1 (the verify runs whose D_j is D_1: loop iter 1, static iters 1-3),
# against noise_truth: precision = corrections on noisy rows / corrections, recall = corrections on noisy rows /
# noisy rows in D_1, false-correction rate = corrections on clean rows / clean rows that failed the probe.
truth = pl.read_parquet(f"{G}/loop/shared/data/seed/noise_truth.parquet")
noisy = dict(zip(truth["sample_id"].to_list(), truth["clean_label"].to_list()))
d1 = pl.read_parquet(f"{G}/loop/shared/data/iter_1/train.parquet")["sample_id"].to_list()
n_noisy = sum(1 for i in d1 if i in noisy)
print(
    f"\n| verify run (rules only, D_1: {len(d1)} rows, {n_noisy} noisy) | failed | LABEL_WRONG | on noisy | exact clean label | "
    "precision | recall | clean failed | false corrections |\n|---|---|---|---|---|---|---|---|---|"
)
for arm, j in (("loop", 1), ("static", 1), ("static", 2), ("static", 3)):
    v = pl.read_parquet(f"{G}/{arm}/{arm}_seed0/data/iter_{j}/verdicts.parquet")
    lw = v.filter(pl.col("verdict") == "LABEL_WRONG")
    tp = lw.filter(pl.col("sample_id").is_in(list(noisy)))
    exact = sum(
        1
        for r in tp.iter_rows(named=True)
        if json.loads(r["new_label"] or "null") == json.loads(noisy[r["sample_id"]])
    )
    clean_failed = v.filter(~pl.col("sample_id").is_in(list(noisy))).height
    fc = lw.height - tp.height
    prec = f"{tp.height / lw.height:.2f}" if lw.height else "-"
    print(
        f"| {arm} iter {j} | {v.height} | {lw.height} | {tp.height} | {exact} | {prec} | {tp.height / n_noisy:.2f} "
        f"[{wilson(tp.height, n_noisy)[0]}, {wilson(tp.height, n_noisy)[1]}] | {clean_failed} | {fc} ({fc / clean_failed:.3f}) |"
    )

# loop - static split by what the answer is: a tool call (distractor, multi_turn, parallel, single) or none
# (irrelevant, missing_arg): where does the difference come from?
NO_CALL = {"irrelevant", "missing_arg"}
print("\n| loop - static | answer | n | diff | 95% CI (paired bootstrap) | loop only | static only |\n|---|---|---|---|---|---|---|")
for j in (1, 2, 3):
    for kind, keep in (("call", lambda p: p not in NO_CALL), ("no call", lambda p: p in NO_CALL)):
        ids = sorted(i for i in S["base"] if keep(pat.get(i)))
        r = paired_bootstrap([S[f"loop{j}"][i] for i in ids], [S[f"static{j}"][i] for i in ids])
        print(f"| iter {j} | {kind} | {r['n']} | {r['diff']:+.3f} | {r['ci95']} | {r['a_only']} | {r['b_only']} |")
