"""``looptool prepare-model`` (also the DVC stage ``prepare_model``: stages/prepare_model.py runs this command)."""

from __future__ import annotations

import click


@click.command("prepare-model")
@click.option(
    "--source",
    default=None,
    help="embedded:smollm2-135m-instruct, a HF directory, a .gguf file or a hub id (default: params.yaml model.source).",
)
@click.option(
    "--params",
    "params_path",
    default="params.yaml",
    show_default=True,
    help="params.yaml to read model.* from (ignored if absent).",
)
@click.option("--out", "out_dir", default="models/base", show_default=True, help="Output folder.")
@click.option(
    "--metrics",
    "metrics",
    default=None,
    help="Write what was prepared to this JSON (metrics/prepare_model.json).",
)
@click.option("--overwrite", is_flag=True, help="Replace the --metrics file when it exists.")
def prepare_model_cmd(
    source: str | None, params_path: str, out_dir: str, metrics: str | None, overwrite: bool
) -> None:
    """Turn the base model into a Hugging Face checkpoint (or a pointer) under OUT.

    An existing OUT is replaced only when looptool wrote it (it holds .looptool-output); under DVC the stage
    starts without it (DVC removes a stage's outputs before running it).

    Example: looptool prepare-model --source ./my-checkpoint --out models/base
    """
    import time
    from pathlib import Path

    from looptool.config import from_dict, load_params
    from looptool.model import ModelConfig, run_prepare_model
    from looptool.outputs import prepare_output
    from looptool.stage import write_metrics

    if metrics:
        prepare_output(metrics, what="--metrics", overwrite=overwrite)
    data = load_params(params_path).get("model", {}) if Path(params_path).exists() else {}
    cfg = from_dict(ModelConfig, data, f"{params_path}:model")
    if source:
        cfg.source = source
    t0 = time.perf_counter()
    m = run_prepare_model(out=out_dir, cfg=cfg)
    m["wall_s"] = round(time.perf_counter() - t0, 2)
    write_metrics(m, metrics or None)
    click.echo(f"{out_dir}: {m}")
