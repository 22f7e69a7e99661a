"""DVC stage ``warmup``: optional SFT on the seed pool -> models/iter_0 (params: ``warmup``).

``warmup.enabled: false`` hard-links the base to models/iter_0 unchanged.
"""

import click

from looptool.stage import metrics_option, params_option, section_config, write_metrics
from looptool.train.config import WarmupConfig
from looptool.train.sft import run_warmup


@click.command()
@click.option("--model", required=True, help="Base checkpoint (models/base).")
@click.option("--pool", required=True, help="Seed pool (data/seed/pool.parquet).")
@click.option(
    "--heldout", default=None, help="Dev samples for the before/after loss (data/seed/dev.parquet)."
)
@click.option("--out", required=True, help="Output checkpoint (models/iter_0).")
@metrics_option("Metrics JSON (metrics/warmup.json).")
@params_option()
def main(model: str, pool: str, heldout: str | None, out: str, metrics: str, params_path: str) -> None:
    """SFT warm-up of the base on the pool's labels (loss on the completion only)."""
    cfg = section_config(WarmupConfig, "warmup", params_path)
    m = run_warmup(model=model, pool=pool, out=out, heldout=heldout, cfg=cfg)
    write_metrics(m, metrics)  # under accelerate launch, one process writes the metrics
    if not m["enabled"]:
        click.echo(f"warmup: disabled, {model} linked to {out}")
        return
    click.echo(
        f"warmup: {m['steps']} steps, loss {m['loss_first']} -> {m['loss_last']}, held-out loss "
        f"{m['heldout_loss_before']} -> {m['heldout_loss_after']}, {m['wall_s']} s -> {out}"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
