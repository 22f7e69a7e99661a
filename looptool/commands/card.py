"""``looptool card``: the model card (README.md with hub metadata) of one iteration's checkpoint."""

from __future__ import annotations

import re

import click


@click.command("card")
@click.argument("iteration", required=False)
@click.option(
    "--into",
    "into",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="A copy of the checkpoint to write the card into as README.md, for sharing or pushing it (e.g. "
    "publish/iter_2 after `cp -rL models/iter_2 publish/`); a DVC output such as models/iter_2 is refused.",
)
@click.option(
    "--out", default=None, help="Where to write the card (default: reports/cards/iter_J/README.md)."
)
@click.option(
    "--params",
    "params_path",
    default="params.yaml",
    show_default=True,
    help="params.yaml (model.source; select.dataset_size for D_1's size without data/).",
)
@click.option(
    "--metrics-dir",
    default="metrics",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The stages' metrics.",
)
@click.option(
    "--data-dir",
    default="data",
    show_default=True,
    help="The datasets (optional: origins and relabeled counts).",
)
@click.option(
    "--lock", default="dvc.lock", show_default=True, help="dvc.lock (md5 of the model and data files)."
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the card instead of writing it.")
def card_cmd(
    iteration: str | None,
    into: str | None,
    out: str | None,
    params_path: str,
    metrics_dir: str,
    data_dir: str,
    lock: str,
    to_stdout: bool,
) -> None:
    """Write the model card of ITERATION (J or iter_J; 0 = the warm-up model): base model, training method
    and parameters, D_J's size and composition, evaluation figures with n and intervals, data sources and
    licences, git revision. Works from metrics and params alone (models/ and data/ may be absent).

    With --into DIR and no ITERATION, the iteration is read from DIR's name (iter_J). The report stage's card
    (reports/cards/iter_J/README.md) is copied when it exists; otherwise a new one is written. DIR must not be
    a DVC output (models/iter_J is one: a README.md in it would make `dvc repro` retrain from iteration J), so
    copy the checkpoint out first.

    Example: mkdir -p publish && cp -rL models/iter_2 publish/ && looptool card 2 --into publish/iter_2
    """
    from pathlib import Path

    from looptool.card import CardInputs, card_facts, is_card, render_card, write_card
    from looptool.outputs import prepare_output
    from looptool.storage import write_text

    if iteration is None:
        if into is None:
            raise click.UsageError("give ITERATION (e.g. 2) or --into DIR/iter_J (a copy of the checkpoint)")
        iteration = Path(into).name
    m = re.fullmatch(r"(?:iter_)?(\d+)", iteration.strip())
    if m is None:
        raise click.BadParameter(
            f"{iteration!r}: expected J or iter_J, e.g. 2 or iter_2", param_hint="ITERATION"
        )
    j = int(m.group(1))
    inputs = CardInputs(params=params_path, metrics_dir=metrics_dir, data_dir=data_dir, lock=lock)
    if to_stdout:
        click.echo(render_card(card_facts(j, inputs)), nl=False)
        return
    report_card = Path("reports") / "cards" / f"iter_{j}" / "README.md"
    if into is not None:
        from looptool.outputs import dvc_output

        tracked = dvc_output(into)
        if tracked is not None:
            out_path, declared = tracked
            copy = Path("publish") / Path(into).name
            raise click.ClickException(
                f"--into {into}: a DVC output ({out_path} in {declared}); a README.md in it would make `dvc repro` "
                f"re-run its stage and everything after it. Copy the checkpoint out and write the card into the "
                f"copy: mkdir -p {copy.parent} && cp -rL {into} {copy.parent}/ && looptool card {j} --into {copy}"
            )
        dest = Path(into) / "README.md"
        if out is None and report_card.exists():
            prepare_output(dest, what="card", ours=is_card)  # never over the checkpoint's own README.md
            write_text(report_card.read_text(encoding="utf-8"), dest)
            click.echo(f"{dest}: copied from {report_card}")
        else:
            write_card(j, dest, inputs)
            click.echo(f"{dest}: model card of iteration {j}")
        return
    path = write_card(j, out or report_card, inputs)
    click.echo(f"{path}: model card of iteration {j}")
