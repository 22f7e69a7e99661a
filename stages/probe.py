"""Stage probe@j: greedy-decode D_j with model_j (Greedy Capability Probing)."""

import click

from looptool.io import write_json
from looptool.llm import BackendConfig, get_backend
from looptool.probe import ProbeConfig, run_probe
from looptool.stage import section_config


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--iteration", type=int, required=True)
@click.option("--model", required=True, help="model_j checkpoint.")
@click.option("--data", required=True, help="D_j.")
@click.option("--out", required=True)
@click.option("--metrics", required=True)
def main(params_path: str, iteration: int, model: str, data: str, out: str, metrics: str) -> None:
    cfg = section_config(ProbeConfig, "probe", params_path, key=iteration)
    student = section_config(BackendConfig, "backends.student", params_path, key=iteration)
    with get_backend(student, model=model) as backend:
        m = run_probe(data, backend, cfg, iteration, out)
    write_json({"iteration": iteration, **m}, metrics)
    click.echo(f"probe@{iteration}: mastered {m['mastered']}/{m['n']} ({m['mastered_rate']:.1%}) in {m['seconds']} s")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
