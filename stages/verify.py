"""Stage verify@j: a verdict for every failed sample of D_j (Judgement-Guided Label Verification)."""

import click

from looptool.io import write_json
from looptool.llm import BackendConfig, get_backend
from looptool.stage import LoopConfig, section_config
from looptool.verify import VerifyConfig, run_verify


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--iteration", type=int, required=True)
@click.option("--data", required=True, help="D_j.")
@click.option("--probe", "probe_path", required=True)
@click.option("--noise-truth", default=None, help="Injected-noise truth, read only for the recovery metric.")
@click.option("--out", required=True)
@click.option("--metrics", required=True)
def main(params_path, iteration, data, probe_path, noise_truth, out, metrics) -> None:
    cfg = section_config(VerifyConfig, "verify", params_path, key=iteration)
    loop = section_config(LoopConfig, "loop", params_path, key=iteration)
    judge_cfg = section_config(BackendConfig, "backends.judge", params_path, key=iteration)
    judge = get_backend(judge_cfg) if judge_cfg.enabled and loop.jglv else None
    try:
        m = run_verify(data, probe_path, cfg, iteration, judge, loop.jglv, out, noise_truth)
    finally:
        if judge is not None:
            judge.close()
    write_json({"iteration": iteration, **m}, metrics)
    rec = m.get("noise_recovery") or {}
    click.echo(
        f"verify@{iteration}: {m['failed']} failed -> {m['verdicts']} (by {m['decided_by']}); "
        f"label recovery precision {rec.get('precision')} recall {rec.get('recall')}"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
