"""Stage expand@j: k new samples per verified failure (Error-Driven Data Expansion)."""

import click

from looptool.expand import ExpandConfig, run_expand
from looptool.io import write_json
from looptool.llm import BackendConfig, get_backend
from looptool.stage import LoopConfig, section_config
from looptool.synth import SeedConfig


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--iteration", type=int, required=True)
@click.option("--data", required=True, help="D_j.")
@click.option("--probe", "probe_path", required=True)
@click.option("--verdicts", required=True)
@click.option("--pool", required=True, help="Seed pool (for de-duplication).")
@click.option("--heldout", required=True, help="Held-out split (for de-duplication).")
@click.option("--out", required=True)
@click.option("--rejected", required=True)
@click.option("--metrics", required=True)
def main(params_path, iteration, data, probe_path, verdicts, pool, heldout, out, rejected, metrics) -> None:
    cfg = section_config(ExpandConfig, "expand", params_path, key=iteration)
    loop = section_config(LoopConfig, "loop", params_path, key=iteration)
    seed_cfg = section_config(SeedConfig, "seed", params_path)
    gen_cfg = section_config(BackendConfig, "backends.generator", params_path, key=iteration)
    generator = get_backend(gen_cfg) if cfg.mode == "llm" and loop.edde else None
    try:
        m = run_expand(data, probe_path, verdicts, pool, heldout, cfg, iteration, seed_cfg, generator, loop.edde, out, rejected)
    finally:
        if generator is not None:
            generator.close()
    write_json({"iteration": iteration, **m}, metrics)
    click.echo(f"expand@{iteration}: {m['seeds']} seeds -> {m['made']} new samples, {m['rejected']} rejected {m['rejected_by_reason']}")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
