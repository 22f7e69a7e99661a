"""``looptool prepare-model``."""

from __future__ import annotations

import click


@click.command("prepare-model")
@click.option("--source", default=None, help="embedded:smollm2-135m-instruct, a HF directory, a .gguf file or a hub id (default: params.yaml model.source).")
@click.option("--params", "params_path", default="params.yaml", show_default=True, help="params.yaml to read model.* from.")
@click.option("--out", "out_dir", default="models/base", show_default=True, help="Output folder.")
def prepare_model_cmd(source: str | None, params_path: str, out_dir: str) -> None:
    """Turn the base model into a Hugging Face checkpoint (or a pointer) under OUT.

    Example: looptool prepare-model --source ./my-checkpoint --out models/base
    """
    from pathlib import Path

    from looptool.config import from_dict, load_params
    from looptool.model import ModelConfig, prepare_model

    data = load_params(params_path).get("model", {}) if Path(params_path).exists() else {}
    cfg = from_dict(ModelConfig, data, f"{params_path}:model")
    if source:
        cfg.source = source
    info = prepare_model(cfg, out_dir)
    click.echo(f"{out_dir}: {info}")
