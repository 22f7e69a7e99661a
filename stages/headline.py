"""Stage headline (and headline_base): one iteration's stage metrics -> metrics/iter_j.json, the few results DVC
shows and compares as metrics (no config echoes, paths, hashes or wall times)."""

import click

from looptool.headline import run_headline
from looptool.stage import write_metrics


@click.command()
@click.option("--eval", "evaluation", required=True, help="Evaluation metrics (metrics/eval/iter_j.json).")
@click.option(
    "--probe", default=None, help="Probe metrics (metrics/probe/iter_j.json); none for iteration 0."
)
@click.option(
    "--verify", default=None, help="Verify metrics (metrics/verify/iter_j.json); none for iteration 0."
)
@click.option("--out", required=True, help="The headline (metrics/iter_j.json).")
def main(evaluation: str, probe: str | None, verify: str | None, out: str) -> None:
    """Write the iteration's headline: held-out (all / call / no-call rows), BFCL groups, D_j's figures."""
    h = run_headline(evaluation=evaluation, probe=probe, verify=verify)
    write_metrics(h, out, sort_keys=False)  # the headline's own key order
    click.echo(f"headline: call rows {h['call']} (n={h['call_n']}) -> {out}")


if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
