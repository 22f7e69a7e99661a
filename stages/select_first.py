"""Stage select: D_1 = a fixed-size sample of the seed pool (part seed_new)."""

import click

from looptool.merge import SelectConfig, select_first
from looptool.stage import section_config


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--pool", required=True)
@click.option("--out", required=True, help="D_1 (data/iter_1/train.parquet).")
@click.option("--used", required=True, help="Pool ids used so far.")
@click.option("--events", required=True, help="Creation and selection events of the pool.")
def main(params_path: str, pool: str, out: str, used: str, events: str) -> None:
    cfg = section_config(SelectConfig, "select", params_path)
    info = select_first(pool, cfg, out, used, events)
    click.echo(f"select: D_1 has {info['size']} of {info['pool']} pool samples; patterns {info['patterns']}")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
