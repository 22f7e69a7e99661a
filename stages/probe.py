"""Stage probe@j: greedy-decode D_j with model_j (Greedy Capability Probing); with probe.samples, pass rates."""

import click

from looptool.llm import BackendConfig
from looptool.llm.factory import opened_backend
from looptool.probe import ProbeConfig, run_probe
from looptool.stage import iteration_options, metrics_option, section_config, write_metrics


@click.command()
@iteration_options
@click.option("--model", required=True, help="model_j checkpoint (models/iter_j).")
@click.option("--out", required=True, help="Probe rows (data/iter_j/probe.parquet).")
@metrics_option("Metrics JSON (metrics/probe/iter_j.json).")
def main(params_path: str, iteration: int, model: str, data: str, out: str, metrics: str) -> None:
    """Decode every sample of D_j greedily with the student backend and mark what it masters."""
    cfg = section_config(ProbeConfig, "probe", params_path, key=iteration)
    student = section_config(BackendConfig, "backends.student", params_path, key=iteration)
    with opened_backend(student, model=model) as backend:
        m = run_probe(data=data, out=out, cfg=cfg, iteration=iteration, backend=backend)
    write_metrics(m, metrics)
    sampled = m.get("sampled")
    extra = (
        f", {cfg.samples} draws each: {sampled['boundary']} mastered with pass rate < 1, "
        f"{sampled['failed_solvable']} failed with pass rate > 0"
        if sampled
        else ""
    )
    click.echo(
        f"probe@{iteration}: mastered {m['mastered']}/{m['n']} ({m['mastered_rate']:.1%}){extra} in {m['wall_s']} s"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
