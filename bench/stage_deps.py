"""Code files each dvc.yaml stage depends on, and which stages a change to given files re-runs.

    python bench/stage_deps.py [--tree DIR] [FILE ...]

A folder dep counts the .py files under it. Run it on two checkouts (``--tree``) to compare dvc.yaml's wiring
before and after a change; tests/test_dvc_wiring.py checks that the deps cover each stage's import closure.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml


def stage_files(tree: Path) -> dict[str, set[str]]:
    """Stage name -> the looptool/ and stages/ .py files its deps cover."""
    out: dict[str, set[str]] = {}
    for name, st in yaml.safe_load((tree / "dvc.yaml").read_text())["stages"].items():
        files: set[str] = set()
        for d in st.get("do", st).get("deps", []):
            d = d if isinstance(d, str) else next(iter(d))
            if not d.startswith(("looptool/", "stages/")):
                continue
            p = tree / d
            if p.is_dir():
                files |= {
                    q.relative_to(tree).as_posix() for q in p.rglob("*.py") if "__pycache__" not in q.parts
                }
            elif d.endswith(".py"):
                files.add(d)
        out[name] = files
    return out


@click.command()
@click.option("--tree", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."))
@click.argument("changed", nargs=-1)
def main(tree: Path, changed: tuple[str, ...]) -> None:
    per = stage_files(tree)
    click.echo(f"{'stage':15} {'code files':>10}")
    for name, files in per.items():
        click.echo(f"{name:15} {len(files):>10}")
    for f in changed:
        click.echo(
            f"a change to {f} re-runs: {', '.join(n for n, s in per.items() if f in s) or '(no stage)'}"
        )


if __name__ == "__main__":
    main()
