"""``looptool eval``: evaluate any checkpoint outside the pipeline (the evaluate stages' function,
:func:`looptool.evaluate.run_evaluate`)."""

from __future__ import annotations

import click


@click.command("eval")
@click.argument("model")
@click.option("--bfcl", "bfcl_dir", default=None, help="BFCL data folder (BFCL_v3_*.json or bfcl-eval's BFCL_v4_*.json, with possible_answer/); default: params eval.bfcl_dir.")
@click.option("--acebench", "acebench_dir", default=None, help="ACEBench English data folder (data_*.json, with possible_answer/); default: params eval.acebench_dir.")
@click.option("--heldout", default=None, help="Held-out split Parquet (SAMPLE schema), e.g. data/seed/heldout.parquet.")
@click.option("--limit", type=int, default=None, help="Entries per category (default: params eval.limit; 0 = all).")
@click.option("--bfcl-categories", default=None, help="Comma-separated BFCL categories (default: params or all single-turn python).")
@click.option("--acebench-categories", default=None, help="Comma-separated ACEBench categories (default: params or normal+special).")
@click.option("--max-new-tokens", type=int, default=None, help="Longest answer (default: params eval.max_new_tokens).")
@click.option("--out", "out_path", default=None, help="Write the metrics JSON here (default: print only).")
@click.option("--results", "results_path", default=None, help="Write one Parquet row per answer here.")
@click.option("--params", "params_path", default="params.yaml", show_default=True,
              help="params.yaml for the eval and backends.student defaults (ignored if absent).")
def eval_cmd(
    model: str,
    bfcl_dir: str | None,
    acebench_dir: str | None,
    heldout: str | None,
    limit: int | None,
    bfcl_categories: str | None,
    acebench_categories: str | None,
    max_new_tokens: int | None,
    out_path: str | None,
    results_path: str | None,
    params_path: str,
) -> None:
    """Score checkpoint MODEL on BFCL-v3 single-turn, ACEBench (normal + special) and a held-out split."""
    import json
    from pathlib import Path

    from looptool.config import from_dict, load_params
    from looptool.evaluate import EvalConfig, run_evaluate
    from looptool.llm.config import BackendConfig
    from looptool.stage import opened_backend
    from looptool.storage import write_json

    params = load_params(params_path) if Path(params_path).exists() else {}
    data = dict(params.get("eval") or {})
    # A folder given on the command line wins; otherwise params' (if any); none: that benchmark is skipped.
    if bfcl_dir is not None:
        data["bfcl_dir"] = bfcl_dir
    if acebench_dir is not None:
        data["acebench_dir"] = acebench_dir
    if limit is not None:
        data["limit"] = limit or None
    if bfcl_categories:
        data["bfcl_categories"] = [c.strip() for c in bfcl_categories.split(",") if c.strip()]
    if acebench_categories:
        data["acebench_categories"] = [c.strip() for c in acebench_categories.split(",") if c.strip()]
    if max_new_tokens is not None:
        data["max_new_tokens"] = max_new_tokens
    cfg = from_dict(EvalConfig, data, "eval (params + options)")
    student = from_dict(BackendConfig, (params.get("backends") or {}).get("student") or {}, "backends.student")

    with opened_backend(student, model=model) as backend:
        m = run_evaluate(model=model, heldout=heldout, results=results_path, cfg=cfg, backend=backend)
    if out_path:
        write_json(m, out_path)
        click.echo(f"metrics -> {out_path}")
    click.echo(json.dumps({"summary": m["summary"], "run": m["run"]}, indent=2))
