"""Mechanism figures of iteration j: does each step of the loop do what it claims? Measured on the loop's own
outputs, with no extra training and one extra greedy pass of model_j (stage ``mechanisms@j``, after merge@j).

* **targeting**: model_j's failure rate on the rows of D_{j+1} it has not been probed on, the expansions (EE)
  and the Seed-new rows, against a random draw from the unused pool of the same size and pattern mix (ES and
  HPPL are failed / mastered by model_j by construction). The loop targets its data when EE fail more often
  than random rows.
* **expansion fidelity**: model_j's failure rate on the expansions of D_{j+1} against the error seeds they came
  from, per pattern (EDDE's premise: same difficulty, another domain). A seed's failure is its probe@j answer
  scored against the seed's label after JGLV (a LABEL_WRONG correction takes the prediction as the label, so
  that seed counts as mastered). Each expansion is paired with its seed (paired bootstrap of the difference).
* **parts**: model_j's failure rate on every part of D_j, read from probe@j (so ``mechanisms@{j+1}``'s parts are
  model_{j+1} on D_{j+1}: the report shows them beside iteration j's targeting).
* **label purity**: among the rows of D_j (and of D_{j+1}) whose label was corrupted by ``seed.label_noise``
  (``noise_truth.parquet``), the share whose label is still wrong (no ToolMatch with the clean label). The
  static arm (``loop.static``) keeps D_1, so its purity never changes; the figure is the same function.

Every figure is ``{rate, k, n, ci95}`` (Wilson 95%); differences carry their own interval (Newcombe for the
targeted rows against the independent random draw, a paired bootstrap for expansions against their seeds).
Predictions go through :func:`looptool.probe.probe`, so they are scored by ToolMatch exactly as the probe scores
them, and through the backend's call cache, so a re-run pays nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from looptool import storage
from looptool.config import ConfigError
from looptool.consistency import check_probe, check_verdicts, unique_ids
from looptool.llm.base import Backend
from looptool.match import tool_match
from looptool.merge import USED
from looptool.probe import ProbeConfig, probe
from looptool.schema import LOOP_PARTS, NOISE_TRUTH, PROBE, SAMPLE, TRAIN, VERDICT, Column
from looptool.stats import newcombe, paired_bootstrap, wilson

GROUPS = ("expansion", "seed_new", "random")
"""Rows of the extra greedy pass: D_{j+1}'s expansions and Seed-new rows, and the random pool draw."""

MECHANISMS = PROBE.extend("mechanisms", Column("group", pl.String, choices=GROUPS))
"""``data/iter_j/mechanisms.parquet``: model_j's greedy answers to the rows of the pass, with their group."""


def share(k: int, n: int) -> dict[str, Any]:
    """``{rate, k, n, ci95}`` of ``k`` out of ``n`` (Wilson 95%; ``rate`` None when ``n`` is 0).

    >>> share(3, 12)
    {'rate': 0.25, 'k': 3, 'n': 12, 'ci95': [0.0889, 0.5323]}
    """
    return {"rate": round(k / n, 4) if n else None, "k": int(k), "n": int(n), "ci95": list(wilson(k, n))}


def _pattern() -> pl.Expr:
    return pl.col("meta").str.json_path_match("$.pattern").fill_null("?").alias("pattern")


def failures(scored: pl.DataFrame) -> dict[str, Any]:
    """Failure share of PROBE-like rows (``mastered``, ``error``); rows the backend could not answer are left out
    (neither mastered nor failed)."""
    ok = scored.filter(pl.col("error").is_null())
    return share(int((~ok["mastered"]).sum()), ok.height)


def parts_failure(data: pl.DataFrame, probed: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """model_j's failure share on each part of D_j (``data``), from probe@j (``probed``); parts D_j lacks are
    left out."""
    joined = data.select("sample_id", "part").join(probed, on="sample_id")
    return {
        p: failures(joined.filter(pl.col("part") == p)) for p in LOOP_PARTS if (joined["part"] == p).any()
    }


def random_draw(
    pool: pl.DataFrame, exclude: set[str], want: dict[str, int], seed: str
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Rows of ``pool`` not in ``exclude``, ``want[pattern]`` of each pattern, in the order of
    ``md5(sample_id:seed)`` (independent of file order); returns the rows and how many of each pattern the pool
    lacked (a pattern with too few unused rows gives what it has)."""
    cand = pool.filter(~pl.col("sample_id").is_in(list(exclude))).with_columns(
        _pattern(),
        pl.col("sample_id")
        .map_elements(lambda s: hashlib.md5(f"{s}:{seed}".encode()).hexdigest(), return_dtype=pl.String)
        .alias("_k"),
    )
    picked, short = [], {}
    for pat, n in sorted(want.items()):
        rows = cand.filter(pl.col("pattern") == pat).sort("_k").head(n)
        picked.append(rows)
        if rows.height < n:
            short[pat] = n - rows.height
    out = pl.concat(picked) if picked else cand.head(0)
    return out.select(SAMPLE.names), short


def targeting(scored: pl.DataFrame) -> dict[str, Any]:
    """Failure shares of the pass's groups (``scored``: MECHANISMS rows) and the targeted rows (expansions and
    Seed-new together) against the random draw (Newcombe interval of the difference)."""
    out: dict[str, Any] = {g: failures(scored.filter(pl.col("group") == g)) for g in GROUPS}
    out["targeted"] = failures(scored.filter(pl.col("group") != "random"))
    t, r = out["targeted"], out["random"]
    out["targeted_minus_random"] = newcombe(t["k"], t["n"], r["k"], r["n"])
    e = out["expansion"]
    out["expansion_minus_random"] = newcombe(e["k"], e["n"], r["k"], r["n"])
    return out


def seed_failed(data: pl.DataFrame, probed: pl.DataFrame, verdicts: pl.DataFrame) -> dict[str, bool]:
    """For every sample of D_j that model_j answered: does its probe@j answer fail the label as it stands after
    JGLV (LABEL_WRONG with a new label replaces it, as merge applies it)? Scored by ToolMatch."""
    v = verdicts.select("sample_id", "verdict", "new_label")
    j = (
        data.select("sample_id", "label", "tools")
        .join(probed, on="sample_id")
        .join(v, on="sample_id", how="left")
    )
    out = {}
    for sid, label, tools, calls, err, verdict, new in j.select(
        "sample_id", "label", "tools", "calls", "error", "verdict", "new_label"
    ).iter_rows():
        if err is not None:
            continue
        gold = new if verdict == "LABEL_WRONG" and new is not None else label
        out[sid] = not (calls is not None and tool_match(json.loads(calls), gold, tools))
    return out


def fidelity(
    expansions: pl.DataFrame, scored: pl.DataFrame, seeds: dict[str, bool], data: pl.DataFrame
) -> dict[str, Any]:
    """Expansions (``expansions``: D_{j+1}'s EE rows; ``scored``: model_j's answers to them) against the error
    seeds they came from (``seeds``: :func:`seed_failed`; ``data``: D_j, for the seed's pattern), overall and per
    seed pattern. Each expansion is paired with its seed: ``expansion_minus_seed`` is the paired bootstrap of
    the difference of failure (an expansion as hard as its seed gives 0). ``unpaired``: expansions left out (no
    answer of model_j, or no seed answered in ``seeds``)."""
    pats = dict(data.select("sample_id", _pattern()).iter_rows())
    rows = (
        expansions.select("sample_id", "parent_id")
        .join(scored.filter(pl.col("error").is_null()).select("sample_id", "mastered"), on="sample_id")
        .filter(pl.col("parent_id").is_in(list(seeds)))
    )
    pairs = [(pats.get(par, "?"), par, not m) for _, par, m in rows.iter_rows()]

    def figure(ps: list[tuple[str, str, bool]]) -> dict[str, Any]:
        parents = sorted({par for _, par, _ in ps})
        exp_fail = [f for _, _, f in ps]
        seed_fail = [seeds[par] for _, par, _ in ps]
        return {
            "expansion": share(sum(exp_fail), len(exp_fail)),
            "seed": share(sum(seeds[p] for p in parents), len(parents)),
            "expansion_minus_seed": paired_bootstrap(exp_fail, seed_fail, resamples=2000),
        }

    return {
        "overall": figure(pairs),
        "by_pattern": {p: figure([x for x in pairs if x[0] == p]) for p in sorted({x[0] for x in pairs})},
        "unpaired": expansions.height - rows.height,
    }


def purity(data: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Any]:
    """Among the rows of ``data`` whose label was corrupted (``truth``: NOISE_TRUTH), the share whose label is
    still wrong (no ToolMatch with the clean label)."""
    t = truth.select("sample_id", "clean_label").join(
        data.select("sample_id", "label", "tools"), on="sample_id"
    )
    wrong = sum(
        not tool_match(json.loads(label), clean, tools)
        for clean, label, tools in t.select("clean_label", "label", "tools").iter_rows()
    )
    return share(wrong, t.height)


@dataclass
class MechanismsInputs:
    """The files mechanisms@j reads (paths from dvc.yaml)."""

    data: Path
    """D_j."""
    probe: Path
    """probe@j's answers to D_j."""
    verdicts: Path
    """verify@j's verdicts (the seeds' labels after JGLV)."""
    next_data: Path
    """D_{j+1}, written by merge@j."""
    next_used: Path
    """The pool ids D_1 .. D_{j+1} took (the random draw takes none of them)."""
    pool: Path
    noise_truth: Path


def run_mechanisms(
    *,
    inputs: MechanismsInputs,
    out: str | Path,
    cfg: ProbeConfig,
    iteration: int,
    random_seed: int,
    backend: Backend,
) -> dict[str, Any]:
    """Stage mechanisms@j: greedy-decode D_{j+1}'s expansions and Seed-new rows and a random pool draw of the
    same size and pattern mix with model_j (``backend``, probe settings ``cfg``), write the answers (``out``,
    MECHANISMS rows) and return the figures (targeting, fidelity, parts, purity)."""
    t0 = time.perf_counter()
    if cfg.limit is not None:  # the figures need every row of the pass answered
        raise ConfigError(
            f"probe.limit: got {cfg.limit!r}, expected null in a pipeline run (mechanisms@{iteration} decodes every "
            "expansion and Seed-new row of the next dataset and the random draw)"
        )
    inp = inputs
    data = storage.read_parquet(inp.data, TRAIN)
    probed = storage.read_parquet(inp.probe, PROBE)
    verdicts = storage.read_parquet(inp.verdicts, VERDICT)
    nxt = storage.read_parquet(inp.next_data, TRAIN)
    pool = storage.read_parquet(inp.pool, SAMPLE, deep=False)
    check_probe(probed, data, str(inp.probe), str(inp.data))
    check_verdicts(verdicts, probed, str(inp.verdicts), str(inp.probe))
    unique_ids(nxt, str(inp.next_data))
    unique_ids(pool, str(inp.pool))

    targeted = nxt.filter(pl.col("part").is_in(["expansion", "seed_new"]))
    want = dict(targeted.group_by(_pattern()).len().iter_rows())
    exclude = set(storage.read_parquet(inp.next_used, USED)["sample_id"].to_list()) | set(nxt["sample_id"])
    draw, short = random_draw(pool, exclude, want, f"mechanisms:{random_seed}:{iteration}")
    rows = pl.concat([targeted.select(SAMPLE.names), draw])
    groups = targeted.select("sample_id", pl.col("part").alias("group")).vstack(
        draw.select("sample_id", pl.lit("random").alias("group"))
    )
    greedy = replace(cfg, samples=0)  # the figures are greedy answers; probe.samples is for probe@j
    answers = probe(rows, backend, greedy, iteration) if rows.height else PROBE.empty()
    scored = answers.join(groups, on="sample_id", how="left", maintain_order="left")
    storage.write_parquet(scored, out, MECHANISMS)

    seeds = seed_failed(data, probed, verdicts)
    expansions = nxt.filter(pl.col("part") == "expansion")
    truth = storage.read_parquet(inp.noise_truth, NOISE_TRUTH)
    return {
        "iteration": iteration,
        "targeting": targeting(scored),
        "random_draw": {"asked": targeted.height, "drawn": draw.height, "pool_short": short},
        "fidelity": fidelity(expansions, scored.filter(pl.col("group") == "expansion"), seeds, data),
        "parts": parts_failure(data, probed),
        "purity": {"d_j": purity(data, truth), "d_next": purity(nxt, truth)},
        "unscored": int(scored["error"].is_not_null().sum()),
        "wall_s": round(time.perf_counter() - t0, 2),
        "cache": backend.stats() or {},
    }
