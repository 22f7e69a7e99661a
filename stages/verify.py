"""Stage verify@j: a verdict for every failed sample of D_j (Judgement-Guided Label Verification)."""

import click

from looptool.llm import BackendConfig
from looptool.llm.factory import opened_backend
from looptool.stage import LoopConfig, iteration_options, metrics_option, section_config, write_metrics
from looptool.verify import VerifyConfig, run_verify


@click.command()
@iteration_options
@click.option("--probe", "probe_path", required=True, help="Probe rows of D_j (data/iter_j/probe.parquet).")
@click.option("--noise-truth", default=None, help="Injected-noise truth, read only for the recovery metric.")
@click.option("--out", required=True, help="Verdicts (data/iter_j/verdicts.parquet).")
@metrics_option("Metrics JSON (metrics/verify/iter_j.json).")
def main(
    params_path: str,
    iteration: int,
    data: str,
    probe_path: str,
    noise_truth: str | None,
    out: str,
    metrics: str,
) -> None:
    """Rules first, then the judge backend (when configured and loop.jglv)."""
    cfg = section_config(VerifyConfig, "verify", params_path, key=iteration)
    loop = section_config(LoopConfig, "loop", params_path, key=iteration)
    judge_cfg = section_config(BackendConfig, "backends.judge", params_path, key=iteration)
    with opened_backend(judge_cfg if judge_cfg.enabled and loop.jglv else None) as judge:
        m = run_verify(
            data=data, probe=probe_path, out=out, noise_truth=noise_truth,
            cfg=cfg, iteration=iteration, enabled=loop.jglv, judge=judge,
        )  # fmt: skip
    write_metrics(m, metrics)
    rec = m.get("noise_recovery") or {}
    click.echo(
        f"verify@{iteration}: {m['failed']} failed -> {m['verdicts']} (by {m['decided_by']}); "
        f"label recovery precision {rec.get('precision')} recall {rec.get('recall')}"
    )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
