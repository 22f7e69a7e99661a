"""Stage select: D_1 = a fixed-size sample of the seed pool (part seed_new)."""

import click

from looptool.merge import SelectConfig, run_select
from looptool.stage import metrics_option, params_option, section_config, write_metrics


@click.command()
@params_option()
@click.option("--pool", required=True, help="Seed pool (data/seed/pool.parquet).")
@click.option("--out", required=True, help="D_1 (data/iter_1/train.parquet).")
@click.option("--used", required=True, help="Pool ids used so far.")
@click.option("--events", required=True, help="Creation and selection events of the pool.")
@metrics_option("Metrics JSON (metrics/select.json).", required=False)
def main(params_path: str, pool: str, out: str, used: str, events: str, metrics: str | None) -> None:
    """Draw D_1 from the seed pool (stratified by pattern when select.stratify)."""
    cfg = section_config(SelectConfig, "select", params_path)
    m = run_select(pool=pool, out=out, used=used, events=events, cfg=cfg)
    write_metrics(m, metrics)
    click.echo(f"select: D_1 has {m['size']} of {m['pool']} pool samples; patterns {m['patterns']}")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
