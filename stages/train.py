"""DVC stage ``train@j``: GRPO on D_j from model_{j-1} (params: ``train`` with ``iterations.<j>.train``).

One process, or with ``train.launcher`` set (``ddp``, ``zero2``, ``zero3`` or an accelerate config path) the
script re-runs itself under ``accelerate launch`` with the same options (:mod:`looptool.train.launch`).
"""

from __future__ import annotations

import logging
import sys

import click


@click.command()
@click.option(
    "--iteration", "key", required=True, help="Iteration key j (an item of params.yaml iterations)."
)
@click.option("--model", "model_path", required=True, help="Checkpoint to start from (models/iter_{j-1}).")
@click.option("--data", "data_path", required=True, help="D_j: data/iter_j/train.parquet (TRAIN schema).")
@click.option("--out", "out_dir", required=True, help="Where the trained checkpoint goes (models/iter_j).")
@click.option("--metrics", "metrics_path", required=True, help="Metrics JSON (metrics/train/iter_j.json).")
@click.option(
    "--params", "params_path", default="params.yaml", show_default=True, help="params.yaml to read."
)
def main(
    key: str, model_path: str, data_path: str, out_dir: str, metrics_path: str, params_path: str
) -> None:
    """Train model_j: GRPO with the ToolMatch reward (``train.method: grpo``) or SFT on D_j's labels (``sft``)."""
    from looptool.config import load_params
    from looptool.stage import is_main_process, iteration, section_config
    from looptool.storage import write_json
    from looptool.train.config import TrainConfig
    from looptool.train.grpo import train_grpo

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = load_params(params_path)
    it = iteration(params, key)
    cfg = section_config(TrainConfig, "train", params_path, key=key, params=params)
    from looptool.train.launch import relaunch, should_launch

    if should_launch(cfg):  # train.launcher: run this script again under accelerate launch
        raise SystemExit(relaunch(cfg, __file__, sys.argv[1:]))
    if cfg.method == "sft":
        from looptool.train.sft import train_sft

        m = train_sft(cfg, model_path, data_path, out_dir, iteration=it.key, seed=it.seed)
        if is_main_process():  # under accelerate launch, one process writes the metrics
            write_json(m, metrics_path)
        click.echo(
            f"train@{key} (sft): {m['steps']} steps on {m['samples']} rows, loss {m['loss_first']} -> "
            f"{m['loss_last']}, {m['wall_s']} s -> {out_dir}"
        )
        return
    m = train_grpo(cfg, model_path, data_path, out_dir, iteration=it.key, seed=it.seed)
    if is_main_process():  # under accelerate launch, one process writes the metrics
        write_json(m, metrics_path)
    click.echo(
        f"train@{key}: {m['steps']} steps, reward {m['reward_first']} -> {m['reward_last']}, "
        f"zero-advantage groups {m['zero_std_frac_mean']}, {m['wall_s']} s -> {out_dir}"
    )
    if m["dynamic_sampling"]:
        ds = m["dynamic_sampling"]
        click.echo(
            f"train@{key}: dynamic sampling replaced {ds['replaced']} of {ds['empty']} equal-reward group(s) "
            f"({ds['resampled']} prompt(s) tried); {m['signal_steps']} of {m['steps']} steps had a learning signal"
        )


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
