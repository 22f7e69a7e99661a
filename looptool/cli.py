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
    "cache": "looptool.commands.cache:cache_cmd",
    "card": "looptool.commands.card:card_cmd",
    "profile": "looptool.commands.profile:profile_cmd",
    "times": "looptool.commands.times:times_cmd",
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

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from looptool.guard import click_main

        click_main(super(), args, prog_name or "looptool", complete_var=complete_var, **extra)

    def invoke(self, ctx: click.Context):
        # Every failure below this point ends as one line on stderr (guard_cli); --debug re-raises it.
        from looptool.guard import guard_cli

        return guard_cli(ctx, lambda: super(LazyGroup, self).invoke(ctx))

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
    "cache": "Show, verify and prune the call cache (model calls replayed on a re-run).",
    "card": "Write the model card (README.md with hub metadata) of one iteration's checkpoint.",
    "profile": "Apply a named params profile (e.g. paper-gpu) to params.yaml, keeping its comments.",
    "times": "Where a run's time went: seconds and share per stage and iteration, from the stages' metrics.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="looptool")
@click.option("--debug", is_flag=True, help="Show the traceback of an error (also: LOOPTOOL_DEBUG=1).")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log output: -v DEBUG for looptool, -vv for every library (also: LOOPTOOL_LOG_LEVEL).",
)
def main(debug: bool, verbose: int) -> None:
    """looptool: train tool-calling LLMs in a closed data-training loop (LoopTool), orchestrated by DVC.

    Example: looptool stats iter_2
    """
    from looptool.guard import setup_logging

    setup_logging(verbose)


if __name__ == "__main__":
    main()
