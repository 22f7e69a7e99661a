"""Judgement-Guided Label Verification (JGLV): for each failed sample, is the prediction or the label wrong?

A cascade, cheapest first:

1. rules on the schema: an unparseable or schema-violating prediction beside a valid label is PRED_WRONG; a
   schema-violating label beside a valid prediction is LABEL_WRONG; both violating is BOTH_WRONG; two answers
   equal once schema defaults are filled in are BOTH_CORRECT;
2. rules on grounding (the seed verification's rule, :func:`looptool.checks.ungrounded_arguments`: a
   value must be said in a user turn or tool result, in any of the ways people write it): when exactly one
   side invents values the conversation does not contain, that side is wrong (with ``verify.grounding_rule``:
   decided by rule when no judge is configured; with a judge, recorded as evidence for it, and the rule decides
   only when the judge abstains);
3. the LLM judge (``backends.judge``): both candidates in a random order, ``verify.votes`` votes, a strict
   majority of all votes decides (one judge meets it with one vote); unparseable or split -> ABSTAIN, unless
   the grounding rule had one-sided evidence (step 2), which then decides. With
   ``verify.judge_mode: likelihood`` the judge generates nothing: each vote is the most likely of the four verdict
   replies under the backend's ``score`` (for small local judges that cannot write the JSON verdict); two such
   votes are the two candidate orders, which must agree.

Never relabel on doubt: LABEL_WRONG, and only LABEL_WRONG, replaces the label with the prediction.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from looptool import storage
from looptool.calls import tool_index, validate_calls
from looptool.checks import ungrounded_arguments  # the seed verification's own grounding rule
from looptool.consistency import check_probe, failed_ids
from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.match import tool_match
from looptool.prompts.judge import JUDGE_VERDICTS, VERDICT_SCHEMA, judge_messages, parse_judge
from looptool.schema import NOISE_TRUTH, PROBE, TRAIN, VERDICT, VERDICTS, frame


@dataclass
class VerifyConfig:
    """``verify`` section."""

    votes: int = 1
    """Judge votes per sample; a verdict needs a strict majority of all votes."""
    judge_temperature: float = 0.0
    """Judge sampling temperature (use > 0 with several votes, e.g. 0.7)."""
    max_new_tokens: int = 512
    """Room for the judge's analysis and verdict."""
    grounding_rule: bool = True
    """Decide one-sided grounding evidence by rule: without a judge at once, with a judge when it abstains (the
    rule alone: 52 of 52 corrections right in ``bench/judge_audit.py``'s audit; a judge that cannot answer
    would otherwise turn those into abstentions). False: such samples go to the judge or abstain."""
    seed: int = 0
    """Seed of the candidate order (the iteration number is added)."""
    judge_mode: str = "generate"
    """How the judge answers: ``generate`` (it writes its analysis and a JSON verdict, read strictly) or
    ``likelihood`` (no generation: the four verdicts are scored as the reply ``{"verdict": "..."}`` through the
    backend's ``score`` and the most likely one is the vote; for a local judge that cannot follow the output
    format, e.g. a small in-process model; the transformers and vllm backends score, a server does not).
    Scoring is deterministic (no sampling, ``judge_temperature`` is not used), so a likelihood vote can differ
    only by the candidate order, and there are two: ``votes: 1`` scores one seeded random order, ``votes: 2``
    scores both orders and decides only when they agree (a position-bias check); more votes would only repeat
    the two orders, so they are refused."""

    def __post_init__(self) -> None:
        if self.votes < 1:
            raise ValueError("votes must be >= 1")
        if self.judge_temperature < 0 or self.max_new_tokens < 1:
            raise ValueError("judge_temperature must be >= 0 and max_new_tokens >= 1")
        if self.judge_mode not in ("generate", "likelihood"):
            raise ValueError(f"judge_mode={self.judge_mode!r} must be generate or likelihood")
        if self.votes > 1 and self.judge_temperature == 0 and self.judge_mode == "generate":
            raise ValueError("votes > 1 needs judge_temperature > 0 (greedy votes are all the same)")
        if self.judge_mode == "likelihood" and self.votes > 2:
            raise ValueError(
                f"votes={self.votes} with judge_mode likelihood: likelihood votes are deterministic and differ "
                "only by the candidate order (two orders), so use 1 (one order) or 2 (both orders must agree)"
            )


@dataclass(frozen=True)
class Decision:
    verdict: str
    decided_by: str  # rule | llm | abstain
    rationale: str
    votes: list[dict[str, Any]]


def _fill_defaults(calls: list[dict[str, Any]], tools: Any) -> list[dict[str, Any]]:
    index = tool_index(tools)
    out = []
    for c in calls:
        props = ((index.get(c["name"]) or {}).get("parameters") or {}).get("properties") or {}
        args = dict(c["arguments"])
        for k, spec in props.items():
            if k not in args and isinstance(spec, dict) and "default" in spec:
                args[k] = spec["default"]
        out.append({"name": c["name"], "arguments": args})
    return out


def rule_decision(
    pred: list[dict[str, Any]] | None,
    parse_error: str | None,
    label: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    decide_grounding: bool,
) -> tuple[Decision | None, str]:
    """The rule cascade. Returns (decision or None, evidence text for the judge / rationale)."""
    label_bad = validate_calls(label, tools)
    if pred is None:
        if label_bad:
            return Decision(
                "BOTH_WRONG",
                "rule",
                f"unparseable prediction ({parse_error}); label violates schema: {'; '.join(label_bad)}",
                [],
            ), ""
        return Decision("PRED_WRONG", "rule", f"unparseable prediction: {parse_error}", []), ""
    pred_bad = validate_calls(pred, tools)
    if pred_bad and not label_bad:
        return Decision("PRED_WRONG", "rule", "prediction violates schema: " + "; ".join(pred_bad), []), ""
    if label_bad and not pred_bad:
        return Decision("LABEL_WRONG", "rule", "label violates schema: " + "; ".join(label_bad), []), ""
    if label_bad and pred_bad:
        return Decision(
            "BOTH_WRONG", "rule", "both violate schema: " + "; ".join(pred_bad + label_bad), []
        ), ""
    if tool_match(_fill_defaults(pred, tools), _fill_defaults(label, tools), tools):
        return Decision("BOTH_CORRECT", "rule", "equal once schema defaults are filled in", []), ""
    u_pred, u_label = (
        ungrounded_arguments(pred, tools, messages),
        ungrounded_arguments(label, tools, messages),
    )
    evidence = ""
    if u_pred and not u_label:
        evidence = f"prediction invents values not in the conversation: {', '.join(u_pred)}"
        if decide_grounding:
            return Decision("PRED_WRONG", "rule", evidence, []), evidence
    elif u_label and not u_pred and pred:
        evidence = f"label has values not in the conversation ({', '.join(u_label)}); the prediction's are all grounded"
        if decide_grounding:
            return Decision("LABEL_WRONG", "rule", evidence, []), evidence
    return None, evidence


_MAP = {
    # (verdict, which position holds the prediction) -> our verdict
    ("CANDIDATE_1_WRONG", 1): "PRED_WRONG",
    ("CANDIDATE_1_WRONG", 2): "LABEL_WRONG",
    ("CANDIDATE_2_WRONG", 1): "LABEL_WRONG",
    ("CANDIDATE_2_WRONG", 2): "PRED_WRONG",
}


def map_verdict(judge_verdict: str, pred_position: int) -> str:
    """A positional judge verdict as PRED_WRONG / LABEL_WRONG / BOTH_*."""
    return _MAP.get((judge_verdict, pred_position), judge_verdict)


def majority(votes: list[str | None]) -> str | None:
    """The verdict held by a strict majority of all votes (abstentions count against), else None."""
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        return None
    verdict, n = counts.most_common(1)[0]
    return verdict if n * 2 > len(votes) else None


def judge_requests(
    sid: str,
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    pred: list[dict[str, Any]],
    pred_text: str,
    label: list[dict[str, Any]],
    reply: str | None,
    cfg: VerifyConfig,
    iteration: int,
) -> list[tuple[Request, int]]:
    """``cfg.votes`` judge requests, each with its own random candidate order; returns (request, pred_pos).
    In likelihood mode the second vote takes the other order (scoring has no randomness to vary)."""
    out = []
    first = random.Random(f"{cfg.seed + iteration}:{sid}:0").choice((1, 2))
    for vote in range(cfg.votes):
        rng = random.Random(f"{cfg.seed + iteration}:{sid}:{vote}")
        pred_pos = rng.choice((1, 2))
        if cfg.judge_mode == "likelihood":
            pred_pos = first if vote % 2 == 0 else 3 - first
        cands = [(pred, pred_text), (label, reply)] if pred_pos == 1 else [(label, reply), (pred, pred_text)]
        msgs = judge_messages(tools, messages, cands[0][0], cands[1][0], cands[0][1], cands[1][1])
        out.append((Request.chat(msgs, key=f"{sid}:{vote}", json_schema=VERDICT_SCHEMA), pred_pos))
    return out


def verify(
    data: pl.DataFrame,
    probed: pl.DataFrame,
    cfg: VerifyConfig,
    iteration: int,
    judge: Backend | None,
    enabled: bool = True,
) -> pl.DataFrame:
    """A verdict for every failed sample of D_j (VERDICT rows)."""
    failed = probed.filter(~pl.col("mastered") & pl.col("error").is_null()).join(
        data, on="sample_id", how="inner"
    )
    rows: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], list[tuple[Request, int]], str]] = []
    for r in failed.iter_rows(named=True):
        label = json.loads(r["label"])
        base = {"sample_id": r["sample_id"], "iteration": iteration, "old_label": label}
        if not enabled:
            rows.append(
                {
                    **base,
                    "verdict": "ABSTAIN",
                    "decided_by": "abstain",
                    "rationale": "JGLV disabled (loop.jglv=false)",
                    "new_label": None,
                    "votes": [],
                }
            )
            continue
        tools, messages = json.loads(r["tools"]), json.loads(r["messages"])
        pred = json.loads(r["calls"]) if r["calls"] is not None else None
        decision, evidence = rule_decision(
            pred,
            r["parse_error"],
            label,
            tools,
            messages,
            decide_grounding=judge is None and cfg.grounding_rule,
        )
        if decision is not None:
            rows.append(_row(base, decision, pred))
            continue
        if judge is None:
            why = "no rule applies and no judge is configured" + (
                f"; evidence: {evidence}" if evidence else ""
            )
            rows.append(_row(base, Decision("ABSTAIN", "abstain", why, []), pred))
            continue
        fallback = None  # what the grounding rule decides if the judge abstains
        if evidence and cfg.grounding_rule:
            fallback = rule_decision(pred, r["parse_error"], label, tools, messages, decide_grounding=True)[0]
        meta = json.loads(r["meta"]) if r["meta"] else {}
        reqs = judge_requests(
            r["sample_id"],
            tools,
            messages,
            pred or [],
            r["prediction"],
            label,
            meta.get("reply"),
            cfg,
            iteration,
        )
        pending.append((base | {"_pred": pred, "_fallback": fallback}, reqs, evidence))

    if pending:
        flat = [req for _, reqs, _ in pending for req, _ in reqs]
        if cfg.judge_mode == "likelihood":
            comps = likelihood_verdicts(judge, flat)
        else:
            sampling = Sampling(
                max_new_tokens=cfg.max_new_tokens,
                temperature=cfg.judge_temperature,
                seed=cfg.seed + iteration,
            )
            comps = judge.generate(flat, sampling)
        k = 0
        for base, reqs, evidence in pending:
            votes, mapped = [], []
            for (_, pred_pos), comp in zip(reqs, comps[k : k + len(reqs)]):
                reply = parse_judge(comp.text) if comp.ok else None
                v = map_verdict(reply.verdict, pred_pos) if reply is not None and reply.verdict else None
                mapped.append(v)
                votes.append(
                    {
                        "pred_position": pred_pos,
                        "verdict": v,
                        "analysis": reply.analysis if reply else "",
                        "error": comp.error or (reply.error if reply else None),
                    }
                )
            k += len(reqs)
            winner = majority(mapped)
            pred, fallback = base.pop("_pred"), base.pop("_fallback")
            if winner is None:
                why = "judge votes split or unparseable: " + ", ".join(
                    str(v["verdict"] or v["error"]) for v in votes
                )
                if fallback is not None:
                    decision = Decision(fallback.verdict, "rule", f"{fallback.rationale} ({why})", votes)
                else:
                    decision = Decision("ABSTAIN", "abstain", why, votes)
                rows.append(_row(base, decision, pred))
            else:
                analysis = next(
                    (v["analysis"] for v in votes if v["verdict"] == winner and v["analysis"]), ""
                )
                why = analysis or f"judge verdict {winner}"
                if evidence:
                    why += f" [rule evidence: {evidence}]"
                rows.append(_row(base, Decision(winner, "llm", why, votes), pred))
    return frame(rows, VERDICT) if rows else VERDICT.empty()


def verdict_reply(verdict: str) -> str:
    """The reply text whose likelihood stands for ``verdict`` (``judge_mode: likelihood``)."""
    return json.dumps({"verdict": verdict})


def likelihood_verdicts(judge: Backend, requests: list[Request]) -> list[Completion]:
    """For each judge request, the verdict whose reply (:func:`verdict_reply`) has the highest total
    log-probability under ``judge``, as a :class:`Completion` whose text is that reply, so it is read like a
    generated verdict. A request whose scoring failed gives the error.

    Scoring is deterministic, so requests with the same content (the votes of one sample that drew the same
    candidate order) are scored once. Each distinct prompt is one ``score`` call with its four replies: a local
    backend then runs the long prompt once and only the short replies from its KV cache (in one call for all
    prompts, a batch mixes prompts and every row runs its own judge prompt: about 4x the work on a CPU)."""
    options = list(JUDGE_VERDICTS)
    texts = [verdict_reply(v) for v in options]
    distinct: dict[str, Completion] = {}
    out = []
    for r in requests:
        content = r.content_key()
        if content not in distinct:
            group = judge.score([r] * len(options), texts)
            bad = next((c for c in group if not c.ok or not c.logprobs), None)
            if bad is not None:
                distinct[content] = Completion(error=bad.error or "judge returned no log-probabilities")
            else:
                totals = [sum(c.logprobs) for c in group]
                best = max(range(len(options)), key=lambda j: totals[j])
                distinct[content] = Completion(text=verdict_reply(options[best]), logprobs=[totals[best]])
        out.append(distinct[content])
    return out


def _row(base: dict[str, Any], d: Decision, pred: list[dict[str, Any]] | None) -> dict[str, Any]:
    relabel = d.verdict == "LABEL_WRONG" and pred is not None
    return {
        **base,
        "verdict": d.verdict,
        "decided_by": d.decided_by,
        "rationale": d.rationale,
        "new_label": pred if relabel else None,
        "votes": d.votes,
    }


def recovery(
    data: pl.DataFrame, probed: pl.DataFrame, verdicts: pl.DataFrame, truth: pl.DataFrame
) -> dict[str, Any]:
    """Precision and recall of label corrections against the injected noise (``noise_truth.parquet``).

    A noisy sample counts while its label in D_j is still the noisy one. A correction is right when the new
    label ToolMatches the clean label.
    """
    t = truth.join(data.select("sample_id", "label", "tools"), on="sample_id", how="inner")
    noisy = {
        sid: (clean, tools)
        for sid, clean, noisy_label, label, tools in t.select(
            "sample_id", "clean_label", "noisy_label", "label", "tools"
        ).iter_rows()
        if tool_match(json.loads(label), noisy_label, tools)
    }
    kinds = dict(t.select("sample_id", "kind").iter_rows())
    failed = set(probed.filter(~pl.col("mastered"))["sample_id"].to_list())
    corrections = verdicts.filter(pl.col("verdict") == "LABEL_WRONG")
    tp, tp_kinds = 0, Counter()
    for sid, new in corrections.select("sample_id", "new_label").iter_rows():
        if sid in noisy and new is not None and tool_match(json.loads(new), noisy[sid][0], noisy[sid][1]):
            tp += 1
            tp_kinds[kinds[sid]] += 1
    n_corr, n_noisy = corrections.height, len(noisy)
    noisy_failed = len(failed & set(noisy))
    by_kind = Counter(kinds[s] for s in noisy)
    return {
        "noisy_in_dataset": n_noisy,
        "noisy_failed": noisy_failed,
        "corrections": n_corr,
        "correct_corrections": tp,
        "precision": round(tp / n_corr, 4) if n_corr else None,
        "recall": round(tp / n_noisy, 4) if n_noisy else None,
        "recall_of_failed": round(tp / noisy_failed, 4) if noisy_failed else None,
        "by_kind": {k: {"noisy": n, "recovered": tp_kinds.get(k, 0)} for k, n in sorted(by_kind.items())},
    }


def verify_metrics(
    verdicts: pl.DataFrame, n_failed: int, seconds: float, extra: dict[str, Any]
) -> dict[str, Any]:
    counts = Counter(verdicts["verdict"].to_list())
    by = Counter(verdicts["decided_by"].to_list())
    return {
        "failed": n_failed,
        "verdicts": {v: int(counts.get(v, 0)) for v in VERDICTS},
        "decided_by": {d: int(by.get(d, 0)) for d in ("rule", "llm", "abstain")},
        "relabeled": int(verdicts["new_label"].is_not_null().sum()),
        "wall_s": round(seconds, 2),
        **extra,
    }


def run_verify(
    *,
    data: str | Path,
    probe: str | Path,
    out: str | Path,
    noise_truth: str | Path | None = None,
    cfg: VerifyConfig,
    iteration: int,
    enabled: bool,
    judge: Backend | None,
) -> dict[str, Any]:
    """Stage verify@j: a verdict for every failed sample of D_j (``data``, probed in ``probe``) to ``out``;
    returns the metrics. ``noise_truth`` (if it exists) is read only for the recovery metric; ``enabled`` is
    ``loop.jglv``."""
    t0 = time.perf_counter()
    rows = storage.read_parquet(data, TRAIN)
    probed = storage.read_parquet(probe, PROBE)
    check_probe(probed, rows, str(probe), str(data))
    verdicts = verify(rows, probed, cfg, iteration, judge, enabled)
    storage.write_parquet(verdicts, out, VERDICT)
    extra: dict[str, Any] = {
        "iteration": iteration,
        "judge": judge.identity() if judge is not None else None,
        "enabled": enabled,
    }
    if judge is not None and judge.stats() is not None:
        extra["cache"] = judge.stats()
    if noise_truth and Path(noise_truth).exists():
        extra["noise_recovery"] = recovery(
            rows, probed, verdicts, storage.read_parquet(noise_truth, NOISE_TRUTH)
        )
    return verify_metrics(verdicts, len(failed_ids(probed)), time.perf_counter() - t0, extra)


__all__ = ["VerifyConfig", "verify", "run_verify", "rule_decision", "recovery", "majority", "map_verdict"]
