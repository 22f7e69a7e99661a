"""Stage prepare_model: the base model as a Hugging Face checkpoint (or a pointer) under --out."""

import click

from looptool.config import from_dict, load_params
from looptool.io import write_json
from looptool.model import ModelConfig, prepare_model


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--out", required=True, help="Output folder (models/base).")
@click.option("--metrics", default=None, help="Optional JSON with what was prepared.")
def main(params_path: str, out: str, metrics: str | None) -> None:
    cfg = from_dict(ModelConfig, load_params(params_path).get("model"), f"{params_path}:model")
    info = prepare_model(cfg, out)
    click.echo(f"prepare_model: {info}")
    if metrics:
        write_json(info, metrics)


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
