"""DVC stage ``warmup``: optional SFT on the seed pool -> models/iter_0 (params: ``warmup``).

``warmup.enabled: false`` hard-links the base to models/iter_0 unchanged.
"""

from __future__ import annotations

import logging

import click


@click.command()
@click.option("--model", "model_path", required=True, help="Base checkpoint (models/base).")
@click.option("--pool", "pool_path", required=True, help="Seed pool (data/seed/pool.parquet).")
@click.option(
    "--heldout",
    "heldout_path",
    default=None,
    help="Dev samples for the before/after loss (data/seed/dev.parquet).",
)
@click.option("--out", "out_dir", required=True, help="Output checkpoint (models/iter_0).")
@click.option("--metrics", "metrics_path", required=True, help="Metrics JSON (metrics/warmup.json).")
@click.option(
    "--params", "params_path", default="params.yaml", show_default=True, help="params.yaml to read."
)
def main(
    model_path: str,
    pool_path: str,
    heldout_path: str | None,
    out_dir: str,
    metrics_path: str,
    params_path: str,
) -> None:
    """SFT warm-up of the base on the pool's labels (loss on the completion only)."""
    from looptool.stage import is_main_process, section_config
    from looptool.storage import write_json
    from looptool.train.config import WarmupConfig
    from looptool.train.sft import warmup_sft

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = section_config(WarmupConfig, "warmup", params_path)
    m = warmup_sft(cfg, model_path, pool_path, out_dir, heldout_path=heldout_path)
    if is_main_process():  # under accelerate launch, one process writes the metrics
        write_json(m, metrics_path)
    if not m["enabled"]:
        click.echo(f"warmup: disabled, {model_path} linked to {out_dir}")
        return
    click.echo(
        f"warmup: {m['steps']} steps, loss {m['loss_first']} -> {m['loss_last']}, held-out loss "
        f"{m['heldout_loss_before']} -> {m['heldout_loss_after']}, {m['wall_s']} s -> {out_dir}"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
