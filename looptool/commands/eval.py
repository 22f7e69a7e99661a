"""``looptool eval``: evaluate any checkpoint outside the pipeline (the evaluate stages' function,
:func:`looptool.evaluate.run_evaluate`)."""

from __future__ import annotations

import click


def _folder_or(value: str | None, *keywords: str) -> str | None:
    """An explicitly named folder must exist (checked before the model loads); keywords pass."""
    from pathlib import Path

    if value is None or value.lower() in keywords or Path(value).is_dir():
        return value
    words = " or ".join(f"'{k}'" for k in keywords)
    raise click.BadParameter(f"{value}: no such folder (expected a data folder or {words})")


PIPELINE_HELDOUT = "data/seed/heldout.parquet"
"""The held-out split the pipeline's evaluate stages score (their ``--heldout`` in dvc.yaml)."""


def _heldout_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--heldout``: an existing file, or ``none``; unset stays None (:func:`resolve_heldout` decides)."""
    from pathlib import Path

    if value is None or value.lower() == "none":
        return value
    if Path(value).is_dir():
        raise click.BadParameter(f"File '{value}' is a directory.")
    if not Path(value).is_file():
        raise click.BadParameter(f"File '{value}' does not exist.")
    return value


def resolve_heldout(value: str | None, root: str = ".") -> tuple[str | None, str | None]:
    """The held-out split to score and a note saying where it came from: the file given; none for ``none``;
    unset: the pipeline's split (:data:`PIPELINE_HELDOUT`) when it exists under ``root``, so ``looptool eval``
    scores the split the report's figures come from.

    >>> resolve_heldout("none")
    (None, None)
    >>> resolve_heldout(None, root="/nonexistent")[0] is None
    True
    """
    from pathlib import Path

    if value is not None:
        return (None, None) if value.lower() == "none" else (value, None)
    path = Path(root) / PIPELINE_HELDOUT
    if path.is_file():
        return str(path), (
            f"--heldout not given: scoring the pipeline's split {PIPELINE_HELDOUT} (--heldout none to skip it)"
        )
    return None, None


@click.command("eval")
@click.argument("model")
@click.option(
    "--bfcl",
    "bfcl_dir",
    default=None,
    callback=lambda c, p, v: _folder_or(v, "auto", "none"),
    help="BFCL data folder (BFCL_v3_*.json or bfcl-eval's BFCL_v4_*.json, with possible_answer/), 'auto' (the bfcl-eval package's data) or 'none'; default: params eval.bfcl_dir, else auto.",
)
@click.option(
    "--acebench",
    "acebench_dir",
    default=None,
    callback=lambda c, p, v: _folder_or(v, "auto", "none"),
    help="ACEBench English data folder (data_*.json, with possible_answer/), 'auto' (the `make acebench` checkout, if there) or 'none'; default: params eval.acebench_dir.",
)
@click.option(
    "--acebench-code",
    "acebench_code_dir",
    default=None,
    help="ACEBench checkout for the agent categories (its scenario classes and prompts); default: params eval.acebench_code_dir, or the checkout holding --acebench.",
)
@click.option(
    "--user-url",
    default=None,
    help="agent_multi_turn's simulated user: an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1); default: params backends.user.",
)
@click.option("--user-model", default=None, help="The simulated user's served model name (with --user-url).")
@click.option(
    "--heldout",
    default=None,
    callback=_heldout_option,
    help="Held-out split Parquet (SAMPLE schema) or 'none'; default: the pipeline's split data/seed/heldout.parquet when it exists here.",
)
@click.option(
    "--limit", type=int, default=None, help="Entries per category (default: params eval.limit; 0 = all)."
)
@click.option(
    "--bfcl-categories",
    default=None,
    help="Comma-separated BFCL categories: single-turn (simple, ..., live_relevance), multi-turn (multi_turn_base, multi_turn_miss_func, multi_turn_miss_param, multi_turn_long_context, or multi_turn for all four) (default: params or all single-turn python).",
)
@click.option(
    "--acebench-categories",
    default=None,
    help="Comma-separated ACEBench categories: normal_*, special_*, agent_multi_turn, agent_multi_step (default: params or normal+special).",
)
@click.option(
    "--acebench-scoring",
    type=click.Choice(["official", "looptool"]),
    default=None,
    help="ACEBench answer decoding: official (as ACEBench's eval_main) or looptool (the project's parser) (default: params or official).",
)
@click.option(
    "--max-new-tokens", type=int, default=None, help="Longest answer (default: params eval.max_new_tokens)."
)
@click.option("--out", "out_path", default=None, help="Write the metrics JSON here (default: print only).")
@click.option("--results", "results_path", default=None, help="Write one Parquet row per answer here.")
@click.option("--overwrite", is_flag=True, help="Replace the --out / --results files when they exist.")
@click.option(
    "--params",
    "params_path",
    default="params.yaml",
    show_default=True,
    help="params.yaml for the eval and backends.student defaults (ignored if absent).",
)
def eval_cmd(
    model: str,
    bfcl_dir: str | None,
    acebench_dir: str | None,
    acebench_code_dir: str | None,
    user_url: str | None,
    user_model: str | None,
    heldout: str | None,
    limit: int | None,
    bfcl_categories: str | None,
    acebench_categories: str | None,
    acebench_scoring: str | None,
    max_new_tokens: int | None,
    out_path: str | None,
    results_path: str | None,
    params_path: str,
    overwrite: bool,
) -> None:
    """Score checkpoint MODEL on BFCL (single- and multi-turn), ACEBench and a held-out split.

    MODEL: a checkpoint folder (models/iter_2) or a hub id (Qwen/Qwen3-8B); a path is never looked up on the hub.
    Resumable: every model call goes through the call cache (backends.student.cache), so a run stopped half-way
    replays what it had done and continues. Prints a table per category (n, accuracy, 95% interval).

    Example: looptool eval models/iter_2 --limit 20 (scores data/seed/heldout.parquet when it is there)
    """
    import json
    from pathlib import Path

    from looptool.config import from_dict, load_params
    from looptool.model import check_model_ref

    check_model_ref(model)  # before anything slow: a mistyped folder fails in a second, with no network call
    from looptool.outputs import prepare_output

    heldout, heldout_note = resolve_heldout(heldout)
    inputs = [p for p in (heldout, params_path) if p]
    for opt, path in (("--out", out_path), ("--results", results_path)):
        if path:  # refused now, not after the whole evaluation
            prepare_output(path, inputs, opt, overwrite=overwrite)
    explicit = (
        click.get_current_context().get_parameter_source("params_path") != click.core.ParameterSource.DEFAULT
    )
    if explicit and not Path(params_path).is_file():
        raise click.BadParameter(f"{params_path}: no such file", param_hint="--params")

    from looptool.evaluate.run import EvalConfig, run_evaluate
    from looptool.llm.config import BackendConfig
    from looptool.llm.factory import opened_backend
    from looptool.stage import write_metrics

    params = load_params(params_path) if Path(params_path).exists() else {}
    data = dict(params.get("eval") or {})
    # A folder given on the command line wins; otherwise params' (if any); none: that benchmark is skipped.
    if bfcl_dir is not None:
        data["bfcl_dir"] = None if bfcl_dir.lower() == "none" else bfcl_dir
    if acebench_dir is not None:
        data["acebench_dir"] = None if acebench_dir.lower() == "none" else acebench_dir
    if acebench_code_dir is not None:
        data["acebench_code_dir"] = acebench_code_dir
    if acebench_scoring is not None:
        data["acebench_scoring"] = acebench_scoring
    if limit is not None:
        data["limit"] = limit or None
    if bfcl_categories:
        data["bfcl_categories"] = [c.strip() for c in bfcl_categories.split(",") if c.strip()]
    if acebench_categories:
        data["acebench_categories"] = [c.strip() for c in acebench_categories.split(",") if c.strip()]
    if max_new_tokens is not None:
        data["max_new_tokens"] = max_new_tokens
    cfg = from_dict(EvalConfig, data, "eval (params + options)")
    student = from_dict(
        BackendConfig, (params.get("backends") or {}).get("student") or {}, "backends.student"
    )
    user_data = dict((params.get("backends") or {}).get("user") or {"backend": "none"})
    if user_url:
        user_data.update({"backend": "openai", "base_url": user_url})
    if user_model:
        user_data["model"] = user_model
    user = from_dict(BackendConfig, user_data, "backends.user (params + options)")

    if heldout_note:  # once the options and params are known to be good: a bad one stays a one-line error
        click.echo(f"note: {heldout_note}", err=True)
    needs_user = user.enabled and "agent_multi_turn" in cfg.acebench_categories
    with (
        opened_backend(student, model=model) as backend,
        opened_backend(user if needs_user else None) as user_backend,
    ):
        m = run_evaluate(
            model=model, heldout=heldout, results=results_path, cfg=cfg, backend=backend, user=user_backend
        )
    click.echo(summary_table(m))
    for bench in ("heldout", "bfcl", "acebench"):  # defaults that are absent are skipped, with a note
        why = (m.get(bench) or {}).get("skipped") if isinstance(m.get(bench), dict) else None
        if why:
            click.echo(f"note: {bench} skipped: {why}", err=True)
    if out_path:
        write_metrics(m, out_path)
        click.echo(f"metrics -> {out_path}")
    click.echo(json.dumps({"summary": m["summary"], "run": m["run"]}, indent=2))


def _fmt(v: object) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def summary_table(m: dict) -> str:
    """Per benchmark category: n, accuracy and the 95% interval (``ci95``, when the metrics carry it); the
    group figures after, with their n (a mean of category accuracies has no interval) and, when computed from
    part of their categories, which are missing; skipped benchmarks last."""
    from looptool.evaluate.summary import skipped_of

    rows = [("benchmark", "category", "n", "accuracy", "95% interval")]
    h = m.get("heldout") or {}
    if "accuracy" in h:
        ci = h.get("ci95")
        rows.append(
            (
                "heldout",
                "heldout",
                _fmt(h.get("n")),
                _fmt(h["accuracy"]),
                f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-",
            )
        )
    from looptool.evaluate.summary import HELDOUT_SPLIT, heldout_figure

    for key in HELDOUT_SPLIT:  # call rows (primary), no-call rows, and what never calling would score
        f = heldout_figure(m, key)
        if f and f.get("mean", f.get("accuracy")) is not None:
            ci = f.get("ci95")
            rows.append(
                (
                    "heldout",
                    key.removeprefix("heldout_"),
                    _fmt(f.get("n")),
                    _fmt(f.get("mean", f.get("accuracy"))),
                    f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-",
                )
            )
    for bench in ("bfcl", "acebench"):
        for cat, v in ((m.get(bench) or {}).get("categories") or {}).items():
            if "accuracy" not in v:
                continue
            ci = v.get("ci95")
            rows.append(
                (
                    bench,
                    cat,
                    _fmt(v.get("n")),
                    _fmt(v["accuracy"]),
                    f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-",
                )
            )
    from looptool.evaluate.summary import group_figure

    for key, val in (m.get("summary") or {}).items():
        if val is not None and key != "heldout" and key not in HELDOUT_SPLIT:
            # a mean of category accuracies: its n, no interval, and which categories when not all
            g = group_figure(m, key)
            note = (
                f"(mean of categories; {len(g['categories'])} of {g['of']}, missing {', '.join(g['missing'])})"
                if g and g["partial"]
                else "(mean of categories)"
            )
            rows.append(("summary", key, _fmt(g["n"]) if g else "-", _fmt(val), note))
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for what, why in skipped_of(m).items():
        lines.append(f"skipped: {what}: {why}")
    return "\n".join(lines)
