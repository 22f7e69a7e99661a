#!/usr/bin/env bash
# The held-out study of PLAN.md (issue 25), as run: the boundary D_2, then per training seed the three arms
# (train, then score the compared checkpoints on the 300 test rows). Run from a frozen checkout of the code
# (CODE), with nothing else on the machine; everything it writes goes under OUT.
#
#   CODE=<frozen checkout> SRC=<efficacy loop/seed0 folder> OUT=<output folder> \
#       bash docs/efficacy/grpo-signal/run.sh > OUT.log 2>&1
#
# SRC is the CPU efficacy study's loop/seed0 work folder (docs/efficacy/cpu-2026-12-05): its model_1
# (models/iter_1), D_1, the default D_2 (data/iter_2/train.parquet), params.yaml, and the shared corpus behind
# data/seed (its heldout.parquet is the 300-row test split).
set -euo pipefail
: "${CODE:?frozen checkout}" "${SRC:?efficacy loop/seed0 folder}" "${OUT:?output folder}"
SEEDS=${SEEDS:-"1 2"}
PY=${PY:-python}
export PYTHONPATH=$CODE
export LOOPTOOL_CACHE_DIR=$OUT/llm-cache # empty at the start: nothing decoded before is reused
mkdir -p "$OUT" "$LOOPTOOL_CACHE_DIR"
SEED_DIR=$(readlink -f "$SRC/data/seed")
MODEL1=$(readlink -f "$SRC/models/iter_1")
HELDOUT=$SEED_DIR/heldout.parquet
stamp() { echo "[$(date -u +%H:%M:%S)] $*"; }

# --- 1. the boundary D_2: probe@1 with probe.samples 4, then verify@1, expand@1, merge@1 with loop.boundary
B=$OUT/boundary
if [ ! -f "$B/data/iter_2/train.parquet" ]; then
    mkdir -p "$B/models" "$B/data/iter_1" "$B/data/iter_2"
    for m in base iter_0 iter_1; do ln -sfn "$(readlink -f "$SRC/models/$m")" "$B/models/$m"; done
    ln -sfn "$SEED_DIR" "$B/data/seed"
    for f in train.parquet pool_used.parquet; do
        ln -sfn "$(readlink -f "$SRC/data/iter_1/$f")" "$B/data/iter_1/$f"
    done
    $PY - "$SRC/params.yaml" "$B/params.yaml" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p.setdefault("probe", {})["samples"] = 4
p.setdefault("loop", {})["boundary"] = True
yaml.safe_dump(p, open(sys.argv[2], "w"), sort_keys=False)
EOF
    cd "$B"
    I=data/iter_1
    stamp "boundary D_2: probe@1 (samples 4)"
    /usr/bin/time -f "probe %e s wall, %U+%S s CPU" $PY "$CODE/stages/probe.py" --iteration 1 \
        --model models/iter_1 --data $I/train.parquet --out $I/probe.parquet --metrics metrics/probe/iter_1.json
    $PY "$CODE/stages/verify.py" --iteration 1 --data $I/train.parquet --probe $I/probe.parquet \
        --noise-truth data/seed/noise_truth.parquet --out $I/verdicts.parquet --metrics metrics/verify/iter_1.json
    $PY "$CODE/stages/expand.py" --iteration 1 --data $I/train.parquet --probe $I/probe.parquet \
        --verdicts $I/verdicts.parquet --pool data/seed/pool.parquet --heldout data/seed/heldout.parquet \
        --out $I/expansions.parquet --rejected $I/expansions_rejected.parquet --metrics metrics/expand/iter_1.json
    $PY "$CODE/stages/merge.py" --iteration 1 --data $I/train.parquet --probe $I/probe.parquet \
        --verdicts $I/verdicts.parquet --expansions $I/expansions.parquet \
        --expansions-rejected $I/expansions_rejected.parquet --pool data/seed/pool.parquet \
        --used $I/pool_used.parquet --first $I/train.parquet --out data/iter_2/train.parquet \
        --out-used data/iter_2/pool_used.parquet --events $I/events.parquet --metrics metrics/merge/iter_1.json
    cd - >/dev/null
    stamp "boundary D_2 done"
fi

# --- 2. the arms' train sections: params.yaml's (GRPO), with only the plan's switches
for arm in default bd bdp; do
    $PY - "$CODE/params.yaml" "$OUT/params-$arm.yaml" "$arm" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
t = p["train"]
assert t["method"] == "grpo", t["method"]
if sys.argv[3] in ("bd", "bdp"):
    t["dynamic_sampling"], t["max_resample"] = True, 4
if sys.argv[3] == "bdp":
    t["reward"] = "partial"
yaml.safe_dump({"train": t}, open(sys.argv[2], "w"), sort_keys=False)
EOF
done

GAIN="$PY $CODE/bench/grpo_gain.py"
EVAL_ARGS=(--heldout "$HELDOUT" --per-pattern 1000 --exclude-default 0 --deadline 00:00)

# --- 3. model_1 on the test rows, once (each arm's folder gets a copy as its step 0)
if [ ! -f "$OUT/model1/eval_step_0.json" ]; then
    stamp "model_1 on test"
    $GAIN evaluate --model "$MODEL1" --work "$OUT/model1" --grid 12 "${EVAL_ARGS[@]}"
fi

train_eval() { # arm data grid seed eval_grid
    local arm=$1 data=$2 grid=$3 seed=$4 egrid=$5 w=$OUT/s$4-$1
    if [ ! -f "$w/train_metrics.json" ]; then
        stamp "seed $seed $arm: train (grid $grid)"
        $GAIN train --model "$MODEL1" --data "$data" --work "$w" --params "$OUT/params-$arm.yaml" --grid "$grid" \
            --seed "$seed"
    fi
    cp -n "$OUT/model1/eval_step_0.json" "$OUT/model1/eval_rows.json" "$w/"
    stamp "seed $seed $arm: evaluate steps $egrid"
    $GAIN evaluate --model "$MODEL1" --work "$w" --grid "$egrid" "${EVAL_ARGS[@]}"
}

for seed in $SEEDS; do
    train_eval default "$SRC/data/iter_2/train.parquet" 4,8,12,16,20,24 "$seed" 12
    train_eval bd "$B/data/iter_2/train.parquet" 4,8,12 "$seed" 12
    # the default's equal-rollouts checkpoint: the grid step nearest bd's rollouts at step 12, from below
    eq=$($PY - "$OUT/s$seed-bd/train_metrics.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["rollouts_total"]
print(max(s for s in (4, 8, 12, 16, 20, 24) if 4 * s <= r))
EOF
)
    echo "{\"bd_rollouts\": $($PY -c "import json;print(json.load(open('$OUT/s$seed-bd/train_metrics.json'))['rollouts_total'])"), \"default_step\": $eq}" > "$OUT/s$seed-equal-rollouts.json"
    stamp "seed $seed: equal rollouts -> default step $eq"
    $GAIN evaluate --model "$MODEL1" --work "$OUT/s$seed-default" --grid "12,$eq" "${EVAL_ARGS[@]}"
    train_eval bdp "$B/data/iter_2/train.parquet" 4,8,12 "$seed" 12
done
stamp "study done"
