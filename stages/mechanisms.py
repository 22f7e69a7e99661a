"""Stage mechanisms@j: targeting, expansion fidelity and label purity of iteration j (one greedy pass of model_j
on D_{j+1}'s expansions and Seed-new rows and a random pool draw of the same size and pattern mix)."""

from pathlib import Path

import click

from looptool.config import ConfigError, load_params, section
from looptool.llm import BackendConfig
from looptool.llm.factory import opened_backend
from looptool.mechanisms import MechanismsInputs, run_mechanisms
from looptool.probe import ProbeConfig
from looptool.stage import iteration as wiring
from looptool.stage import iteration_options, metrics_option, section_config, write_metrics


@click.command()
@iteration_options
@click.option("--model", required=True, help="model_j checkpoint (models/iter_j).")
@click.option("--probe", "probe_path", required=True, help="Probe rows of D_j (data/iter_j/probe.parquet).")
@click.option("--verdicts", required=True, help="Verdicts of D_j (data/iter_j/verdicts.parquet).")
@click.option("--next-data", required=True, help="D_{j+1} (data/iter_{j+1}/train.parquet).")
@click.option("--next-used", required=True, help="Pool ids used up to D_{j+1} (none is drawn).")
@click.option("--pool", required=True, help="Seed pool (the random draw).")
@click.option("--noise-truth", required=True, help="Clean labels of the noisy pool rows (label purity).")
@click.option("--out", required=True, help="model_j's answers of the pass (data/iter_j/mechanisms.parquet).")
@metrics_option("Metrics JSON (metrics/mechanisms/iter_j.json).")
def main(
    params_path: str,
    iteration: int,
    data: str,
    model: str,
    probe_path: str,
    verdicts: str,
    next_data: str,
    next_used: str,
    pool: str,
    noise_truth: str,
    out: str,
    metrics: str,
) -> None:
    """Measure what iteration j's probe, JGLV and EDDE did to the data, with the probe's decoder and scoring."""
    params = load_params(params_path)
    wiring(params, iteration)  # checks prev/next of this iteration
    random_seed = section(params, "seed.random_seed", 0)
    if not isinstance(random_seed, int) or isinstance(random_seed, bool):
        raise ConfigError(f"{params_path}:seed.random_seed: got {random_seed!r}, expected an integer")
    cfg = section_config(ProbeConfig, "probe", params_path, key=iteration)
    student = section_config(BackendConfig, "backends.student", params_path, key=iteration)
    inputs = MechanismsInputs(
        Path(data), Path(probe_path), Path(verdicts), Path(next_data), Path(next_used), Path(pool),
        Path(noise_truth),
    )  # fmt: skip
    with opened_backend(student, model=model) as backend:
        m = run_mechanisms(
            inputs=inputs, out=out, cfg=cfg, iteration=iteration, random_seed=random_seed, backend=backend
        )
    write_metrics(m, metrics)
    t, f = m["targeting"], m["fidelity"]["overall"]
    click.echo(
        f"mechanisms@{iteration}: model_{iteration} fails {t['targeted']['k']}/{t['targeted']['n']} of "
        f"D_{iteration + 1}'s EE + Seed-new rows vs {t['random']['k']}/{t['random']['n']} random pool rows; "
        f"expansions {f['expansion']['k']}/{f['expansion']['n']} vs their seeds {f['seed']['k']}/{f['seed']['n']}"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
