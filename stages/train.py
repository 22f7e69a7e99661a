"""DVC stage ``train@j``: GRPO on D_j from model_{j-1} (params: ``train`` with ``iterations.<j>.train``).

One process, or with ``train.launcher`` set (``ddp``, ``zero2``, ``zero3`` or an accelerate config path) the
script re-runs itself under ``accelerate launch`` with the same options (:mod:`looptool.train.launch`).
"""

import sys

import click

from looptool.config import load_params
from looptool.stage import iteration as wiring
from looptool.stage import iteration_options, metrics_option, section_config, write_metrics
from looptool.train.config import TrainConfig
from looptool.train.launch import relaunch, should_launch
from looptool.train.run import run_train


@click.command()
@iteration_options
@click.option("--model", required=True, help="Checkpoint to start from (models/iter_{j-1}).")
@click.option("--out", required=True, help="Where the trained checkpoint goes (models/iter_j).")
@metrics_option("Metrics JSON (metrics/train/iter_j.json).")
def main(params_path: str, iteration: int, data: str, model: str, out: str, metrics: str) -> None:
    """Train model_j: GRPO with the ToolMatch reward (``train.method: grpo``) or SFT on D_j's labels (``sft``)."""
    params = load_params(params_path)
    it = wiring(params, iteration)  # checks prev/next of this iteration
    cfg = section_config(TrainConfig, "train", params_path, key=iteration, params=params)
    if should_launch(cfg):  # train.launcher: run this script again under accelerate launch
        raise SystemExit(relaunch(cfg, __file__, sys.argv[1:]))
    m = run_train(model=model, data=data, out=out, cfg=cfg, iteration=it.key, seed=it.seed)
    write_metrics(m, metrics)  # under accelerate launch, one process writes the metrics
    if cfg.method == "sft":
        click.echo(
            f"train@{iteration} (sft): {m['steps']} steps on {m['samples']} rows, loss {m['loss_first']} -> "
            f"{m['loss_last']}, {m['wall_s']} s -> {out}"
        )
        return
    click.echo(
        f"train@{iteration}: {m['steps']} steps, reward {m['reward_first']} -> {m['reward_last']}, "
        f"zero-advantage groups {m['zero_std_frac_mean']}, {m['wall_s']} s -> {out}"
    )
    if m["dynamic_sampling"]:
        ds = m["dynamic_sampling"]
        click.echo(
            f"train@{iteration}: dynamic sampling replaced {ds['replaced']} of {ds['empty']} equal-reward "
            f"group(s) ({ds['resampled']} prompt(s) tried); {m['signal_steps']} of {m['steps']} steps had a "
            "learning signal"
        )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
