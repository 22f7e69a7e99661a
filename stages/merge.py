"""Stage merge@j: D_{j+1} = error seeds + expansions + high-PPL mastered + fresh seed samples."""

from pathlib import Path

import click

from looptool.config import load_params
from looptool.merge import LoopInputs, MergeConfig, run_merge
from looptool.stage import LoopConfig, iteration_options, metrics_option, section_config, write_metrics
from looptool.stage import iteration as wiring


@click.command()
@iteration_options
@click.option("--probe", "probe_path", required=True, help="Probe rows of D_j.")
@click.option("--verdicts", required=True, help="Verdicts of D_j.")
@click.option("--expansions", required=True, help="New samples of expand@j.")
@click.option("--expansions-rejected", default=None, help="Rejected expansions (lineage 'rejected' events).")
@click.option("--pool", required=True, help="Seed pool (fresh samples).")
@click.option("--used", required=True, help="Pool ids used up to D_j.")
@click.option("--first", required=True, help="D_1 (for the static baseline).")
@click.option("--out", required=True, help="D_{j+1}.")
@click.option("--out-used", required=True, help="Pool ids used up to D_{j+1}.")
@click.option("--events", required=True, help="Lineage events of iteration j.")
@metrics_option("Metrics JSON (metrics/merge/iter_j.json).")
def main(
    params_path: str,
    iteration: int,
    data: str,
    probe_path: str,
    verdicts: str,
    expansions: str,
    expansions_rejected: str | None,
    pool: str,
    used: str,
    first: str,
    out: str,
    out_used: str,
    events: str,
    metrics: str,
) -> None:
    """Assemble the next dataset from this iteration's probe, verdicts and expansions."""
    wiring(load_params(params_path), iteration)  # checks prev/next of this iteration
    cfg = section_config(MergeConfig, "merge", params_path, key=iteration)
    loop = section_config(LoopConfig, "loop", params_path, key=iteration)
    inputs = LoopInputs(
        Path(data), Path(probe_path), Path(verdicts), Path(expansions), Path(pool), Path(used), Path(first),
        Path(expansions_rejected) if expansions_rejected else None,
    )  # fmt: skip
    m = run_merge(
        inputs=inputs, out=out, used_out=out_used, events=events, cfg=cfg, loop=loop, iteration=iteration
    )
    write_metrics(m, metrics)
    click.echo(f"merge@{iteration}: D_{iteration + 1} = {m['parts']} ({m['size']} samples)")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
