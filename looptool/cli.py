"""The ``looptool`` command line.

Commands are registered by name with the module that implements them and imported only when run, so
``looptool --help`` starts without importing torch.
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, str] = {
    "prepare-model": "looptool.commands.model:prepare_model_cmd",
    "diff": "looptool.commands.data:diff_cmd",
    "lineage": "looptool.commands.data:lineage_cmd",
    "stats": "looptool.commands.data:stats_cmd",
    "import": "looptool.commands.data:import_cmd",
    "export": "looptool.commands.data:export_cmd",
    "eval": "looptool.commands.eval:eval_cmd",
    "profile": "looptool.commands.profile:profile_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module (which would import torch).
        rows = [(name, _SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


_SHORT_HELP: dict[str, str] = {
    "prepare-model": "Turn the base model (embedded SmolLM2 GGUF, a directory or an id) into models/base.",
    "diff": "Compare two datasets (iterations or git revisions): added, removed, relabeled samples.",
    "lineage": "Every event of one sample across iterations (created, selected, probed, judged, ...).",
    "stats": "Composition of a dataset by part, origin, pattern, domain and label_rev.",
    "import": "Import OpenAI, ShareGPT, Hermes, xLAM, BFCL, Parquet or datasets-folder data as decision points.",
    "export": "Export a dataset as OpenAI JSONL, LLaMA-Factory ShareGPT, a TRL datasets folder or verl parquet.",
    "eval": "Evaluate a checkpoint on BFCL-v3 single-turn, ACEBench and a held-out split.",
    "profile": "Apply a named params profile (e.g. paper-gpu) to params.yaml, keeping its comments.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="looptool")
def main() -> None:
    """looptool: train tool-calling LLMs in a closed data-training loop (LoopTool), orchestrated by DVC."""


if __name__ == "__main__":
    main()
