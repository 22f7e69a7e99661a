"""Stage merge@j: D_{j+1} = error seeds + expansions + high-PPL mastered + fresh seed samples."""

from pathlib import Path

import click

from looptool.config import load_params
from looptool.io import write_json
from looptool.merge import LoopInputs, MergeConfig, merge
from looptool.stage import LoopConfig, section_config
from looptool.stage import iteration as wiring


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--iteration", type=int, required=True)
@click.option("--data", required=True, help="D_j.")
@click.option("--probe", "probe_path", required=True)
@click.option("--verdicts", required=True)
@click.option("--expansions", required=True)
@click.option("--expansions-rejected", default=None)
@click.option("--pool", required=True)
@click.option("--used", required=True, help="Pool ids used up to D_j.")
@click.option("--first", required=True, help="D_1 (for the static baseline).")
@click.option("--out", required=True, help="D_{j+1}.")
@click.option("--out-used", required=True)
@click.option("--events", required=True)
@click.option("--metrics", required=True)
def main(params_path, iteration, data, probe_path, verdicts, expansions, expansions_rejected, pool, used, first, out, out_used, events, metrics) -> None:
    wiring(load_params(params_path), iteration)  # checks prev/next of this iteration
    cfg = section_config(MergeConfig, "merge", params_path, key=iteration)
    loop = section_config(LoopConfig, "loop", params_path, key=iteration)
    inp = LoopInputs(
        Path(data), Path(probe_path), Path(verdicts), Path(expansions), Path(pool), Path(used), Path(first),
        Path(expansions_rejected) if expansions_rejected else None,
    )
    m = merge(inp, cfg, iteration, hppl=loop.hppl, edde=loop.edde, static=loop.static, out=out, used_out=out_used, events_out=events)
    write_json(m, metrics)
    click.echo(f"merge@{iteration}: D_{iteration + 1} = {m['parts']} ({m['size']} samples)")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
