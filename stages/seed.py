"""DVC stage ``seed``: synthesize the seed corpus (pool, test and dev splits, rejected rows, label-noise truth), or
with ``seed.mode: import`` read it from the user's files (:mod:`looptool.synth.imported`).

python stages/seed.py --params params.yaml --out-dir data/seed --metrics metrics/seed.json
"""

import click

from looptool.llm.factory import opened_backend
from looptool.stage import metrics_option, params_option, write_metrics
from looptool.synth import load_seed_config, run_seed
from looptool.synth.imported import run_import_seed


@click.command()
@params_option("params file (section seed)")
@click.option("--out-dir", required=True, help="folder for pool/heldout/dev/rejected/noise_truth.parquet")
@metrics_option("metrics JSON to write")
def main(params_path: str, out_dir: str, metrics: str) -> None:
    """Synthesize, verify and split the seed corpus (backends.generator in llm mode, backends.judge if set)."""
    cfg = load_seed_config(params_path)
    if cfg.mode == "import":  # the pool from the user's files
        m = run_import_seed(out_dir=out_dir, cfg=cfg)
    else:
        with (
            opened_backend(cfg.generator if cfg.mode == "llm" else None) as generator,
            opened_backend(cfg.judge if cfg.judge.enabled else None) as judge,
        ):
            m = run_seed(out_dir=out_dir, cfg=cfg, generator=generator, judge=judge)
    write_metrics(m, metrics)
    click.echo(
        f"seed: pool {m['pool']['size']} ({m['pool']['by_pattern']}), heldout {m['heldout']['size']} "
        f"({', '.join(m['heldout']['domains'])}), dev {m['dev']['size']} ({', '.join(m['dev']['domains'])}), rejected {m['rejected']['total']} {m['rejected']['by_reason']}, "
        f"noise {m['noise']['count']} {m['noise']['by_kind']}, {m['wall_s']} s"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
