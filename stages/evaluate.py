"""DVC stages ``evaluate_base`` and ``evaluate@j``: score model_j on the held-out split, BFCL and ACEBench
(params: ``eval`` with ``iterations.<j>.eval``, ``backends.student``, and ``backends.user`` for ACEBench's
agent_multi_turn). ``looptool eval`` runs the same
:func:`looptool.evaluate.run_evaluate` outside the pipeline."""

import click

from looptool.evaluate.run import EvalConfig, run_evaluate
from looptool.llm.config import BackendConfig
from looptool.llm.factory import opened_backend
from looptool.stage import iteration_option, metrics_option, params_option, section_config, write_metrics


@click.command()
@params_option()
@iteration_option("Iteration j (0: the warm-up model).")
@click.option("--model", required=True, help="Checkpoint to evaluate (models/iter_j).")
@click.option(
    "--heldout", default=None, help="Held-out split (data/seed/heldout.parquet); skipped if absent."
)
@metrics_option("Metrics JSON (metrics/eval/iter_j.json).")
@click.option("--results", default=None, help="One row per answer (data/eval/iter_j.parquet).")
def main(
    params_path: str, iteration: int, model: str, heldout: str | None, metrics: str, results: str | None
) -> None:
    """Evaluate one checkpoint with greedy decoding through the student backend."""
    key = iteration if iteration > 0 else None
    cfg = section_config(EvalConfig, "eval", params_path, key=key)
    student = section_config(BackendConfig, "backends.student", params_path, key=key)
    user_cfg = section_config(BackendConfig, "backends.user", params_path, key=key)  # ACEBench agent's user
    needs_user = user_cfg.enabled and "agent_multi_turn" in cfg.acebench_categories
    with (
        opened_backend(student, model=model) as backend,
        opened_backend(user_cfg if needs_user else None) as user,
    ):
        m = run_evaluate(
            model=model,
            heldout=heldout,
            results=results,
            cfg=cfg,
            iteration=iteration,
            backend=backend,
            user=user,
        )
    write_metrics(m, metrics)
    shown = ", ".join(f"{k} {v:.3f}" for k, v in m["summary"].items() if v is not None) or "nothing evaluated"
    click.echo(f"evaluate@{iteration}: {shown} ({m['run']['prompts']} prompts, {m['wall_s']} s)")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
