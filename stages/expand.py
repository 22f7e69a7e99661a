"""Stage expand@j: k new samples per verified failure (Error-Driven Data Expansion)."""

from pathlib import Path

import click

from looptool.expand import ExpandConfig, ExpandInputs, run_expand
from looptool.llm import BackendConfig
from looptool.llm.factory import opened_backend
from looptool.stage import LoopConfig, iteration_options, metrics_option, section_config, write_metrics
from looptool.synth.config import SeedConfig


@click.command()
@iteration_options
@click.option("--probe", "probe_path", required=True, help="Probe rows of D_j (data/iter_j/probe.parquet).")
@click.option("--verdicts", required=True, help="Verdicts of D_j (data/iter_j/verdicts.parquet).")
@click.option("--pool", required=True, help="Seed pool (for de-duplication).")
@click.option("--heldout", required=True, help="Held-out split (for de-duplication).")
@click.option("--out", required=True, help="New samples (data/iter_j/expansions.parquet).")
@click.option(
    "--rejected", required=True, help="Rejected candidates (data/iter_j/expansions_rejected.parquet)."
)
@metrics_option("Metrics JSON (metrics/expand/iter_j.json).")
def main(
    params_path: str,
    iteration: int,
    data: str,
    probe_path: str,
    verdicts: str,
    pool: str,
    heldout: str,
    out: str,
    rejected: str,
    metrics: str,
) -> None:
    """New samples from each verified failure, through the synthesizer or the generator backend."""
    cfg = section_config(ExpandConfig, "expand", params_path, key=iteration)
    loop = section_config(LoopConfig, "loop", params_path, key=iteration)
    synth_cfg = section_config(SeedConfig, "seed", params_path)
    gen_cfg = section_config(BackendConfig, "backends.generator", params_path, key=iteration)
    with opened_backend(gen_cfg if cfg.mode == "llm" and loop.edde else None) as generator:
        m = run_expand(
            inputs=ExpandInputs(Path(data), Path(probe_path), Path(verdicts), Path(pool), Path(heldout)),
            out=out, rejected=rejected, cfg=cfg, synth_cfg=synth_cfg, iteration=iteration, enabled=loop.edde,
            generator=generator,
        )  # fmt: skip
    write_metrics(m, metrics)
    click.echo(
        f"expand@{iteration}: {m['seeds']} seeds -> {m['made']} new samples, {m['rejected']} rejected {m['rejected_by_reason']}"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
