"""The loop figures the report shows: every stage's metrics per iteration (:func:`collect`), the labels of
its figures, one-cell renderings of them, and what the metrics say about the models (an unchanged model, a
judge that ran)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from looptool import storage
from looptool.schema import LOOP_PARTS, PARTS
from looptool.stats import add_ci, wilson

STAGES = ("train", "probe", "verify", "expand", "merge", "mechanisms")
ACCURACY_KEYS = (
    "heldout",
    "bfcl_overall",
    "bfcl_single_turn",
    "bfcl_non_live",
    "bfcl_live",
    "bfcl_multi_turn",
    "acebench_overall",
    "acebench_normal",
    "acebench_special",
)
ACCURACY_LABELS = {
    "heldout": "held-out (ToolMatch)",
    "bfcl_overall": "BFCL overall (v3)",
    "bfcl_single_turn": "BFCL single-turn overall",
    "bfcl_multi_turn": "BFCL multi-turn",
    "acebench_overall": "ACEBench overall",
    "bfcl_non_live": "BFCL non-live",
    "bfcl_live": "BFCL live",
    "acebench_normal": "ACEBench normal",
    "acebench_special": "ACEBench special",
}
PART_LABELS = {
    "seed_new": "Seed-new",
    "error_seed": "ES (error seeds)",
    "expansion": "EE (expansions)",
    "high_ppl": "HPPL (high perplexity)",
    "boundary": "Boundary (pass rate < 1)",
}
PART_COLOURS = {"boundary": "tab:purple"}
"""The opt-in part's own colour (stacked last, so the paper's four keep the default cycle's)."""


def _parts_in(mix: list[dict[str, Any]]) -> tuple[str, ...]:
    """The paper's parts, and ``boundary`` where a dataset holds that opt-in part."""
    return LOOP_PARTS if any("boundary" in r for r in mix) else PARTS


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return storage.read_json(path)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def collect(metrics_dir: str | Path, iterations: Iterable[int | str]) -> dict[str, Any]:
    """Every metrics file there is, per iteration (0 = the warm-up model's evaluation)."""
    root = Path(metrics_dir)
    keys = sorted({0, *(int(k) for k in iterations)})
    rows = []
    for j in keys:
        row: dict[str, Any] = {"iteration": j}
        ev = _read(root / "eval" / f"iter_{j}.json")
        if ev is not None:
            row["eval"] = ev
        for stage in STAGES:
            m = _read(root / stage / f"iter_{j}.json")
            if m is not None:
                row[stage] = m
        rows.append(row)
    setup = {
        name: m for name in ("seed", "select", "warmup") if (m := _read(root / f"{name}.json")) is not None
    }
    # no wall-clock timestamp: metrics/loop.json is git-tracked and must not change when nothing else did;
    # every {accuracy, correct, n} gets its Wilson 95% interval (ci95), including metrics written before stats existed
    return {"setup": setup, "iterations": add_ci(rows)}


def _summary(ev: dict[str, Any]) -> dict[str, Any]:
    if "summary" in ev:
        return ev["summary"]
    from looptool.evaluate.summary import summary_of

    return summary_of(ev)


HELDOUT_SPLIT_LABELS = {
    "heldout_call": "held-out call rows (ToolMatch)",
    "heldout_call_names": "call rows: function names",
    "heldout_call_arg_f1": "call rows: argument F1",
    "heldout_no_call": "held-out no-call rows (ToolMatch)",
    "heldout_never_call": "never-call score (share of no-call rows)",
}
"""The held-out split (:data:`looptool.evaluate.HELDOUT_SPLIT`): call-row ToolMatch is the primary figure."""


def _split_figure(ev: dict[str, Any], key: str) -> dict[str, Any]:
    from looptool.evaluate.summary import heldout_figure

    return heldout_figure(ev, key) or {}


def _cell(fig: dict[str, Any]) -> str | None:
    """``0.200 [0.057, 0.510] n=10`` of a figure with ``accuracy`` (or ``mean``), ``ci95`` and ``n``."""
    v = fig.get("mean", fig.get("accuracy"))
    if v is None:
        return None
    ci = fig.get("ci95")
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] n={fig.get('n')}" if ci else f"{v:.3f} n={fig.get('n')}"


def _heldout_ci(ev: dict[str, Any]) -> tuple[float | None, float | None, int | None]:
    h = ev.get("heldout") or {}
    if not isinstance(h.get("n"), int) or not h["n"] or not isinstance(h.get("correct"), int):
        return None, None, None
    lo, hi = h.get("ci95") or wilson(h["correct"], h["n"])
    return lo, hi, h["n"]


def _group(ev: dict[str, Any], key: str) -> dict[str, Any] | None:
    from looptool.evaluate.summary import group_figure

    return group_figure(ev, key)


def _group_cell(ev: dict[str, Any], key: str) -> str | None:
    """``0.007 n=7`` of a benchmark group figure; ``0.200 n=5, 5 of 7 categories`` when built from part of its
    categories (no interval: a mean of category accuracies is not one proportion)."""
    from looptool.evaluate.summary import group_label

    g = _group(ev, key)
    return None if g is None else f"{g['value']:.3f} {group_label(g)}"


def _probe_cell(probe: dict[str, Any]) -> str | None:
    """Probe's mastered share with its Wilson interval and n (the rate alone when the counts are absent)."""
    rate, k, n = probe.get("mastered_rate"), probe.get("mastered"), probe.get("n")
    if isinstance(k, int) and isinstance(n, int) and n > 0:
        lo, hi = wilson(k, n)
        return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}] n={n}"
    return None if rate is None else f"{rate:.3f}"


def _train_cell(train: dict[str, Any]) -> str | None:
    """The last step's mean reward (SFT: the last loss) and how many optimizer steps had a reward signal."""
    if not train:
        return None
    if train.get("reward_last") is None:
        loss = train.get("loss_last", train.get("loss"))
        return None if loss is None else f"loss {loss:.3f}, {train.get('steps')} steps"
    out = f"{train['reward_last']:.3f}"
    if isinstance(train.get("signal_steps"), int) and train.get("steps") is not None:
        out += f"; signal on {train['signal_steps']} of {train['steps']} steps"
    return out


def _relabeled_cell(verify: dict[str, Any]) -> str | None:
    """LABEL_WRONG verdicts out of the failed samples judged."""
    k = (verify.get("verdicts") or {}).get("LABEL_WRONG")
    if k is None:
        return None
    n = verify.get("failed")
    if not isinstance(n, int):
        n = sum(int(v) for v in (verify.get("verdicts") or {}).values())
    return f"{k} of {n} failed"


def _weights(ev: dict[str, Any] | None) -> str | None:
    w = (((ev or {}).get("run") or {}).get("backend") or {}).get("weights")
    return w if isinstance(w, str) and w else None


def unchanged_model(
    j: int, ev: dict[str, Any] | None, prev_ev: dict[str, Any] | None, train: dict[str, Any] | None
) -> str | None:
    """Why model_j is model_{j-1} (None: it changed, or nothing says it did not). Evidence, strongest first: the
    two evaluations scored the same weights (``run.backend.weights``, a SHA-256 of the checkpoint's files);
    unless the digests differ, GRPO@j with no reward signal on any step (every group's rewards equal: zero
    advantage, no gradient).

    >>> unchanged_model(1, {"run": {"backend": {"weights": "sha256:ab"}}},
    ...                 {"run": {"backend": {"weights": "sha256:ab"}}}, None)
    'model_1 has the same weights as model_0 (sha256:ab in both evaluations)'
    >>> unchanged_model(2, None, None, {"no_signal": True, "steps": 4}) is not None
    True
    """
    w, pw = _weights(ev), _weights(prev_ev)
    if w is not None and pw is not None:
        if w == pw:
            return f"model_{j} has the same weights as model_{j - 1} ({w} in both evaluations)"
        return None
    if (train or {}).get("no_signal") is True:
        return (
            f"model_{j} equals model_{j - 1}: GRPO@{j} had no reward signal on any of its {train.get('steps')} "
            "steps (every group's rewards were equal: zero advantage, no gradient)"
        )
    return None


def unchanged_models(loop: dict[str, Any]) -> dict[int, str]:
    """:func:`unchanged_model` of every iteration j >= 1 of the loop figures."""
    by = {r["iteration"]: r for r in loop["iterations"]}
    out = {}
    for j, r in by.items():
        if j < 1:
            continue
        why = unchanged_model(j, r.get("eval"), (by.get(j - 1) or {}).get("eval"), r.get("train"))
        if why:
            out[j] = why
    return out


def judge_ran(loop: dict[str, Any]) -> bool | None:
    """Whether a judge decided any verdict (``verify.decided_by.llm``); None when the verify metrics do not say
    (written before ``decided_by`` existed) or there are none."""
    seen = [r["verify"] for r in loop["iterations"] if r.get("verify")]
    known = [v for v in seen if isinstance(v.get("decided_by"), dict)]
    if not known:
        return None
    return any(int(v["decided_by"].get("llm") or 0) > 0 for v in known)


def _judge_note(loop: dict[str, Any]) -> str:
    judges = {str(r["verify"]["judge"]) for r in loop["iterations"] if (r.get("verify") or {}).get("judge")}
    if judges:
        return f"judge configured ({', '.join(sorted(judges))}) but no verdict came from it: verdicts by rule"
    return "no judge configured: verdicts by rule"
