"""Judge audit: how well does label verification (JGLV) recover injected label noise, per judge setting?

Audit set: every pool row with an injected label error (``data/seed/noise_truth.parquet``) plus as many clean pool
rows (seeded choice), as one TRAIN-schema dataset. The student model probes it once (``stages/probe.py``); then
``stages/verify.py`` runs once per judge setting on the same predictions: the rules alone (``backends.judge:
none``), and each ``--judge`` given (a YAML mapping for ``backends.judge``, e.g. the embedded model in-process
``{backend: transformers, model: models/base}`` or any OpenAI-compatible server ``{backend: openai, base_url:
..., model: ...}``) in each of ``--modes`` (verify.judge_mode: ``generate`` reads a JSON verdict, with each of
``--votes``; ``likelihood`` picks the most likely of the four verdicts through the backend's ``score``, with each
of ``--likelihood-votes``: 1 = one candidate order, 2 = both orders must agree). Figures against the truth: precision (corrections that hit a noisy
row), recall (noisy rows corrected), exact recoveries and exact precision (new label = the clean label; verify's
own ``noise_recovery`` counts only these as right), false-correction rate
(clean failed rows called LABEL_WRONG), each with its n and a Wilson 95% interval. Example::

    python bench/judge_audit.py --run-dir /tmp/eff/shared --student models/iter_0 \\
        --judge '{backend: transformers, model: models/base}' --votes 1,3 --out /tmp/audit.json

``--run-dir`` is a folder with ``params.yaml`` and ``data/seed/`` (e.g. a ``bench/efficacy.py`` shared folder or
the project root after ``dvc repro seed``); the audit files go to ``<run-dir>/audit/``.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from efficacy import ROOT, Stages  # noqa: E402  (bench/efficacy.py: dvc.yaml's stage commands, in-process)

from looptool.config import load_yaml  # noqa: E402


def _audit_set(run_dir: Path, seed: int, limit: int | None) -> tuple[Path, int, int]:
    import polars as pl

    from looptool import storage
    from looptool.schema import SAMPLE, TRAIN

    pool = storage.read_parquet(run_dir / "data" / "seed" / "pool.parquet", SAMPLE)
    truth = pl.read_parquet(run_dir / "data" / "seed" / "noise_truth.parquet")
    noisy = pool.filter(pl.col("sample_id").is_in(truth["sample_id"].to_list()))
    clean = pool.filter(~pl.col("sample_id").is_in(truth["sample_id"].to_list())).sample(
        n=min(noisy.height, pool.height - noisy.height), seed=seed
    )
    if limit is not None and noisy.height > limit:
        # a seeded subset OF the full audit set (so its probe answers replay from the call cache)
        noisy, clean = noisy.sample(n=limit, seed=seed), clean.sample(n=min(limit, clean.height), seed=seed)
    audit = pl.concat([noisy, clean]).with_columns(pl.lit("seed_new").alias("part"))
    out = run_dir / "audit" / "data" / "iter_1" / "train.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    storage.write_parquet(audit, out, TRAIN)
    return out, noisy.height, clean.height


def _figures(verdicts: Path | list[dict[str, Any]], truth_path: Path, audit_path: Path) -> dict[str, Any]:
    """The audit figures of one setting's verdicts (verify's verdicts.parquet, or simulated VERDICT rows)."""
    import polars as pl

    from looptool.stats import wilson
    from looptool.verify import majority

    if isinstance(verdicts, list):
        v = pl.DataFrame(
            [
                {
                    **r,
                    "old_label": json.dumps(r["old_label"]),
                    "new_label": None if r["new_label"] is None else json.dumps(r["new_label"]),
                    "votes": json.dumps(r["votes"]),
                }
                for r in verdicts
            ],
            schema={
                k: pl.String
                for k in (
                    "sample_id",
                    "verdict",
                    "decided_by",
                    "rationale",
                    "old_label",
                    "new_label",
                    "votes",
                )
            }
            | {"iteration": pl.Int64},
        )
    else:
        v = pl.read_parquet(verdicts)
    truth = pl.read_parquet(truth_path)
    audit_ids = set(pl.read_parquet(audit_path, columns=["sample_id"])["sample_id"].to_list())
    clean_label = {
        sid: lab
        for sid, lab in zip(truth["sample_id"].to_list(), truth["clean_label"].to_list(), strict=True)
        if sid in audit_ids  # the noisy rows of the audit set (all of them without --limit)
    }
    failed_noisy = v.filter(pl.col("sample_id").is_in(list(clean_label)))
    failed_clean = v.height - failed_noisy.height
    lw = v.filter(pl.col("verdict") == "LABEL_WRONG")
    hits = lw.filter(pl.col("sample_id").is_in(list(clean_label)))
    exact = sum(
        1
        for r in hits.iter_rows(named=True)
        if r["new_label"] is not None
        and json.loads(r["new_label"]) == json.loads(clean_label[r["sample_id"]])
    )
    false_corr = lw.height - hits.height

    def fig(k: int, n: int) -> dict[str, Any]:
        return {"value": round(k / n, 4) if n else None, "k": k, "n": n, "ci95": list(wilson(k, n))}

    # rows the judge was asked about (their votes are recorded) and what its votes were
    judged = [
        (verdict, json.loads(votes))
        for verdict, votes in v.select("verdict", "votes").iter_rows()
        if votes and json.loads(votes)
    ]
    flat = [x for _, vs in judged for x in vs]
    # the judge's own abstentions (its votes had no strict majority), also where the grounding rule then decided
    judge_abstained = sum(1 for _, vs in judged if majority([x.get("verdict") for x in vs]) is None)
    # rows with readable votes from both candidate orders: does the order change the (most common) verdict?
    per_order = []
    for _, vs in judged:
        by = {
            pos: Counter(x["verdict"] for x in vs if x["pred_position"] == pos and x.get("verdict"))
            for pos in (1, 2)
        }
        if by[1] and by[2]:
            per_order.append(by[1].most_common(1)[0][0] != by[2].most_common(1)[0][0])
    return {
        "failed": v.height,
        "failed_noisy": failed_noisy.height,
        "failed_clean": failed_clean,
        "judged": len(judged),
        "judge_abstained": fig(judge_abstained, len(judged)),
        "votes_cast": len(flat),
        "votes_unreadable": sum(1 for x in flat if x.get("verdict") is None),
        "vote_errors": dict(Counter((x.get("error") or "")[:60] for x in flat if x.get("verdict") is None)),
        "order_dependent": fig(sum(per_order), len(per_order)),
        "verdicts": {k: int(c) for k, c in v.group_by("verdict").len().iter_rows()},
        "decided_by": {k: int(c) for k, c in v.group_by("decided_by").len().iter_rows()},
        "precision": fig(hits.height, lw.height),
        "recall": fig(hits.height, len(clean_label)),
        "recall_of_failed_noisy": fig(hits.height, failed_noisy.height),
        "exact_recovery": fig(exact, len(clean_label)),
        "exact_precision": fig(exact, lw.height),  # corrections that restored the clean label exactly
        "false_correction_rate": fig(false_corr, failed_clean),
        **label_purity(audit_path, v.to_dicts(), truth_path),
    }


SIM_VERDICTS = ("PRED_WRONG", "LABEL_WRONG", "BOTH_CORRECT", "BOTH_WRONG")


def simulated_verdicts(
    audit_path: Path, probe_path: Path, truth_path: Path, accuracy: float, seed: int
) -> list[dict[str, Any]]:
    """VERDICT rows from a simulated judge of the given accuracy (a bench-only dial, never a looptool backend).

    Every failed row goes through verify's own rule cascade first, exactly as when a judge is configured (the
    grounding rule then only backs up an abstaining judge, and this judge never abstains). A row the rules leave
    open gets its TRUE verdict with probability ``accuracy`` and otherwise one of the other three, uniformly. The
    truth comes from ``noise_truth``: a noisy row whose prediction ToolMatches the clean label is LABEL_WRONG, a
    noisy row whose prediction does not is BOTH_WRONG, a clean row that failed is PRED_WRONG. Draws are seeded
    per row (``seed``, accuracy, sample_id), so they do not depend on row order.
    """
    import random

    import polars as pl

    from looptool.match import tool_match
    from looptool.verify import Decision, _row, rule_decision

    data = pl.read_parquet(audit_path)
    probe = pl.read_parquet(probe_path)
    truth = pl.read_parquet(truth_path)
    clean_label = dict(truth.select("sample_id", "clean_label").iter_rows())
    failed = probe.filter(~pl.col("mastered") & pl.col("error").is_null()).join(data, on="sample_id")
    rows = []
    for r in failed.sort("sample_id").iter_rows(named=True):
        label, tools, messages = (json.loads(r[k]) for k in ("label", "tools", "messages"))
        pred = json.loads(r["calls"]) if r["calls"] is not None else None
        base = {"sample_id": r["sample_id"], "iteration": 1, "old_label": label}
        decision, _ = rule_decision(pred, r["parse_error"], label, tools, messages, decide_grounding=False)
        if decision is None:
            sid = r["sample_id"]
            if sid in clean_label:
                true = "LABEL_WRONG" if tool_match(pred, clean_label[sid], tools) else "BOTH_WRONG"
            else:
                true = "PRED_WRONG"
            rng = random.Random(f"{seed}:{accuracy}:{sid}")
            said = true if rng.random() < accuracy else rng.choice([v for v in SIM_VERDICTS if v != true])
            vote = {"verdict": said, "pred_position": 1, "true": true}
            decision = Decision(said, "llm", f"simulated judge, accuracy {accuracy}", [vote])
        rows.append(_row(base, decision, pred))
    return rows


def label_purity(audit_path: Path, verdicts: list[dict[str, Any]], truth_path: Path) -> dict[str, Any]:
    """Labels of the audit set after verification against the truth: noisy rows still wrong, all rows right.

    A row's label after verification is its new label where the verdict is LABEL_WRONG, else its old one; it is
    right when it ToolMatches the clean label (clean rows: their own label).
    """
    import polars as pl

    from looptool.match import tool_match
    from looptool.stats import wilson

    data = pl.read_parquet(audit_path)
    clean_label = dict(pl.read_parquet(truth_path).select("sample_id", "clean_label").iter_rows())
    new = {
        v["sample_id"]: json.loads(v["new_label"]) if isinstance(v["new_label"], str) else v["new_label"]
        for v in verdicts
        if v["verdict"] == "LABEL_WRONG" and v["new_label"] is not None
    }
    noisy_wrong = right = noisy = 0
    for sid, label, tools in data.select("sample_id", "label", "tools").iter_rows():
        after = new.get(sid, json.loads(label))
        ok = tool_match(after, clean_label.get(sid, label), tools)
        right += ok
        if sid in clean_label:
            noisy += 1
            noisy_wrong += not ok

    def fig(k: int, n: int) -> dict[str, Any]:
        return {"value": round(k / n, 4) if n else None, "k": k, "n": n, "ci95": list(wilson(k, n))}

    return {"noisy_still_wrong": fig(noisy_wrong, noisy), "purity": fig(right, data.height)}


def _commit() -> str | None:
    """The checkout's git commit (the code the figures come from), or None outside a git checkout."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _fig(f: dict[str, Any]) -> str:
    if not f["n"]:
        return "- (0/0)"
    return f"{f['value']:.3f} ({f['k']}/{f['n']}) [{f['ci95'][0]:.3f}, {f['ci95'][1]:.3f}]"


def render(runs: list[dict[str, Any]]) -> str:
    """Markdown of one or more audit results (this command's ``--out`` JSON), one section per run."""
    out = [
        "# Judge audit: label verification (JGLV) against the injected noise",
        "",
        "Generated by `bench/judge_audit.py` from its output JSON (`--render JSON... --md FILE`); do not edit by "
        'hand. Reading and context: RESULTS.md (section "Judge audit").',
        "",
        "Figures against `noise_truth` (each: value (k/n) [Wilson 95% interval]): **precision** = corrections "
        "(LABEL_WRONG) on noisy rows / corrections; **recall** = noisy rows corrected / noisy rows in the audit "
        "set; **exact recoveries** = corrections that restore the clean label exactly / noisy rows; **exact "
        "precision** = those / corrections; "
        "**false-correction rate** = corrections on clean rows / clean rows that failed the probe; **judge "
        "abstained** = rows the judge was asked about where its votes had no strict majority / rows it was asked "
        "about (since the grounding-rule fallback, such a row is decided by that rule when the rule had evidence). *failed* = "
        "rows the student got wrong (only these are verified); *judged* = rows the rules left to the judge. "
        "CPU s = process CPU time (all threads) of that verify run, judge model loading included. **noisy labels "
        "still wrong** = noisy rows whose label after verification still does not ToolMatch the clean label / noisy "
        "rows; **label purity** = audit rows whose label after verification ToolMatches the true label / audit "
        "rows (n.r. = not recorded by that run). A **simulated judge, accuracy p** (`--simulate`) decides what the "
        "rules leave open: the true verdict with probability p, else one of the other three uniformly (seeded per "
        "row); the truth is LABEL_WRONG for a noisy row whose prediction ToolMatches the clean label, BOTH_WRONG for "
        "another noisy row, PRED_WRONG for a clean row.",
    ]
    for res in runs:
        rows = res["audit_rows"]
        subset = f", a seeded subset (`--limit {res['limit']}`)" if res.get("limit") else ""
        out += [
            "",
            f"## {rows['noisy']} noisy + {rows['clean']} clean pool rows{subset}; student `{res['student']}`",
            "",
            f"Command: `{res['command']}`"
            + (f" (code: commit {res['commit']})" if res.get("commit") else ""),
            "",
            f"Probe of the audit set by the student: {res['probe']['wall_s']:.0f} s wall, "
            f"{res['probe']['cpu_s']:.0f} s CPU. Judge: temperature {res['judge_temperature_when_votes_gt_1']} "
            f"when votes > 1 in generate mode (0 otherwise), at most {res['judge_max_new_tokens']} new tokens. "
            f"All stages: {res['cpu_s']:.0f} s CPU.",
            "",
            "| setting | failed (noisy / clean) | judged | judge abstained | LABEL_WRONG | precision | recall "
            "| exact recoveries | exact precision | false-correction rate | noisy labels still wrong "
            "| label purity | CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in res["settings"].items():
            out.append(
                f"| {name} | {r['failed']} ({r['failed_noisy']} / {r['failed_clean']}) | {r['judged']} "
                f"| {_fig(r['judge_abstained'])} | {r['verdicts'].get('LABEL_WRONG', 0)} | {_fig(r['precision'])} "
                f"| {_fig(r['recall'])} | {_fig(r['exact_recovery'])} | {_fig(r['exact_precision'])} "
                f"| {_fig(r['false_correction_rate'])} "
                f"| {_fig(r['noisy_still_wrong']) if 'noisy_still_wrong' in r else 'n.r.'} "
                f"| {_fig(r['purity']) if 'purity' in r else 'n.r.'} | {r['cpu_s']:.1f} |"
            )
        out += ["", "Verdicts and unreadable judge votes per setting:", ""]
        for name, r in res["settings"].items():
            errs = "; ".join(f"{k or '(none)'}: {n}" for k, n in sorted(r["vote_errors"].items()))
            verdicts = ", ".join(f"{k} {n}" for k, n in sorted(r["verdicts"].items()))
            order = r["order_dependent"]
            out.append(
                f"- {name}: {verdicts}; votes cast {r['votes_cast']}, unreadable {r['votes_unreadable']}"
                + (f" ({errs})" if errs else "")
                + (
                    "; rows with readable votes in both candidate orders whose verdict changes with the order: "
                    + _fig(order)
                    if order["n"]
                    else ""
                )
            )
    return "\n".join(out) + "\n"


@click.command()
@click.option("--run-dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--student", help="Checkpoint whose predictions are verified (e.g. models/iter_0).")
@click.option("--judge", "judges", multiple=True, help="A backends.judge mapping (YAML); repeat for several.")
@click.option(
    "--votes",
    "votes_csv",
    default="1",
    show_default=True,
    help="verify.votes values of generate mode, comma-separated (votes > 1 sample at --temperature).",
)
@click.option(
    "--likelihood-votes",
    "lvotes_csv",
    default="1,2",
    show_default=True,
    help="verify.votes values of likelihood mode: 1 (one candidate order) and/or 2 (both orders must agree).",
)
@click.option(
    "--modes",
    "modes_csv",
    default="generate",
    show_default=True,
    help="verify.judge_mode values, comma-separated: generate (JSON verdict) and/or likelihood (score).",
)
@click.option(
    "--temperature", default=0.7, show_default=True, help="verify.judge_temperature when votes > 1."
)
@click.option(
    "--seed", default=0, show_default=True, help="Choice of the clean rows (and of --limit noisy rows)."
)
@click.option(
    "--limit", type=int, default=None, help="At most this many noisy rows (and as many clean); default all."
)
@click.option(
    "--simulate",
    "simulate_csv",
    default="",
    help="Also score simulated judges of these accuracies (comma-separated, e.g. 0.6,0.8,0.95): the true "
    "verdict with that probability, else one of the other three uniformly (bench only).",
)
@click.option("--out", "out_json", default=None, help="Write the figures to this JSON file.")
@click.option(
    "--render",
    "render_json",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Only write --md from these audit JSON files (this command's --out), one section each; run nothing.",
)
@click.option(
    "--md", "md_path", default=None, help="Write the figures as markdown (e.g. docs/efficacy/JUDGE_AUDIT.md)."
)
def main(
    run_dir: Path,
    student: str,
    judges: tuple[str, ...],
    votes_csv: str,
    lvotes_csv: str,
    modes_csv: str,
    temperature: float,
    seed: int,
    limit: int | None,
    simulate_csv: str,
    out_json: str | None,
    render_json: tuple[str, ...],
    md_path: str | None,
) -> None:
    """Precision, recall and false corrections of label verification against the injected noise."""
    if render_json:
        if not md_path:
            raise click.UsageError("--render needs --md")
        Path(md_path).write_text(render([json.loads(Path(f).read_text()) for f in render_json]))
        return
    if run_dir is None or student is None:
        raise click.UsageError("--run-dir and --student are required (unless --render)")
    run_dir = run_dir.resolve()
    base = load_yaml((run_dir / "params.yaml").read_text(), str(run_dir / "params.yaml"))
    data, n_noisy, n_clean = _audit_set(run_dir, seed, limit)
    work = data.parents[2]
    links = {sub: run_dir / sub for sub in ("data/seed", "models") if (run_dir / sub).exists()}
    for sub, target in {**links, "stages": ROOT / "stages"}.items():
        link = work / sub
        if link.is_symlink() and link.resolve() != target.resolve():
            link.unlink()  # left by an audit run from another checkout (or a moved run folder)
        if not link.exists():
            link.symlink_to(target)
    stages = Stages(ROOT / "dvc.yaml")
    student_path = str(Path(student).resolve()) if Path(student).exists() else student

    def params(judge: dict | None, votes: int, mode: str = "generate") -> None:
        p = json.loads(json.dumps(base))
        p.setdefault("backends", {})["judge"] = judge or {"backend": "none"}
        temp = temperature if votes > 1 and mode == "generate" else 0.0
        p.setdefault("verify", {}).update(votes=votes, judge_temperature=temp, judge_mode=mode)
        p.setdefault("loop", {})["jglv"] = True
        p["iterations"] = {"1": {"prev": "0", "next": "2"}}
        (work / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))

    params(None, 1)
    probe = stages.argv("probe", "1", {"prev": "0", "next": "2"})
    probe[probe.index("--model") + 1] = student_path
    results: dict[str, Any] = {
        "command": "python bench/judge_audit.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "commit": _commit(),
        "audit_rows": {"noisy": n_noisy, "clean": n_clean},
        "limit": limit,
        "seed": seed,
        "student": student,
        "judge_temperature_when_votes_gt_1": temperature,
        "judge_max_new_tokens": (base.get("verify") or {}).get("max_new_tokens", 512),
        "probe": stages.run(work, "probe", "audit", probe),
        "settings": {},
    }
    settings = [("rules", None, 1, "generate")]
    for j in judges:
        spec = load_yaml(j, "--judge")
        for mode in modes_csv.split(","):
            for v in (int(x) for x in (lvotes_csv if mode == "likelihood" else votes_csv).split(",")):
                who = spec.get("model") or spec.get("base_url")
                settings.append((f"{spec.get('backend')}:{who}:{mode}:votes={v}", spec, v, mode))
    truth = run_dir / "data" / "seed" / "noise_truth.parquet"
    for name, spec, votes, mode in settings:
        if name == "rules":  # the simulated judges decide what the rules leave open, beside the rules alone
            for acc in (float(x) for x in simulate_csv.split(",") if x.strip()):
                import time

                t0, c0 = time.perf_counter(), time.process_time()
                rows = simulated_verdicts(data, work / "data" / "iter_1" / "probe.parquet", truth, acc, seed)
                results["settings"][f"simulated judge, accuracy {acc}"] = {
                    **_figures(rows, truth, data),
                    "wall_s": round(time.perf_counter() - t0, 2),
                    "cpu_s": round(time.process_time() - c0, 2),
                }
        params(spec, votes, mode)
        verify = stages.argv("verify", "1", {"prev": "0", "next": "2"})
        rec = stages.run(work, "verify", f"audit/{name}", verify)
        results["settings"][name] = {
            **_figures(work / "data" / "iter_1" / "verdicts.parquet", truth, data),
            "wall_s": rec["wall_s"],
            "cpu_s": rec["cpu_s"],
        }
        r = results["settings"][name]
        click.echo(
            f"{name}: precision {r['precision']}, recall {r['recall']}, exact {r['exact_recovery']}, "
            f"false corrections {r['false_correction_rate']}, {r['verdicts']}, "
            f"judge abstained {r['judge_abstained']}, {r['cpu_s']} s CPU",
            err=True,
        )
        results["cpu_s"] = round(sum(t["cpu_s"] for t in stages.timings), 2)
        results["timings"] = stages.timings
        if out_json:  # after every setting, so a stopped run keeps what it measured
            Path(out_json).write_text(json.dumps(results, indent=2) + "\n")
    if md_path:
        Path(md_path).write_text(render([results]))


if __name__ == "__main__":
    main()
