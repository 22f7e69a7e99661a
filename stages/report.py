"""DVC stage ``report``: every stage's metrics per iteration -> metrics/loop.json, plot data, reports/loop.html."""

import click

from looptool.card import CardInputs, write_cards
from looptool.config import load_params
from looptool.report import run_report
from looptool.stage import params_option, write_metrics


@click.command()
@params_option("params.yaml (iterations).")
@click.option("--metrics-dir", default="metrics", show_default=True, help="Where the stages' metrics are.")
@click.option("--out", "loop_json", required=True, help="All figures per iteration (metrics/loop.json).")
@click.option("--plots-dir", required=True, help="Plot data for dvc plots (reports/plots).")
@click.option("--html", "html_path", default=None, help="Self-contained HTML report (reports/loop.html).")
@click.option(
    "--cards-dir", default=None, help="Model cards of every iteration (reports/cards/iter_j/README.md)."
)
def main(
    params_path: str,
    metrics_dir: str,
    loop_json: str,
    plots_dir: str,
    html_path: str | None,
    cards_dir: str | None,
) -> None:
    """Build the loop report from whatever metrics exist."""
    iterations = list((load_params(params_path).get("iterations") or {}).keys())
    loop = run_report(metrics_dir=metrics_dir, iterations=iterations, plots_dir=plots_dir, html=html_path)
    write_metrics(loop, loop_json)
    have = {k for r in loop["iterations"] for k in r if k != "iteration"}
    click.echo(
        f"report: {len(loop['iterations'])} iterations, metrics from {sorted(have) or 'nothing yet'} -> {loop_json}"
    )
    if cards_dir:
        cards = write_cards(iterations, cards_dir, CardInputs(params=params_path, metrics_dir=metrics_dir))
        click.echo(f"report: {len(cards)} model cards -> {cards_dir}")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
