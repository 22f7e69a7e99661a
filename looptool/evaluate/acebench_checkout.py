"""Where ACEBench comes from: a pinned upstream commit, cloned by ``make acebench``, found by ``auto``.

ACEBench (MIT) ships no package and its files are not ours to redistribute, so the repository holds none of
them: ``make acebench`` fetches :data:`COMMIT` of :data:`URL` into :data:`DEFAULT_DIR` (git-ignored) and runs
this module on it (``python -m looptool.evaluate.acebench_checkout DIR --commit SHA``), which checks that every
file the evaluation reads is there. ``eval.acebench_dir: auto`` then means that checkout's ``data_all/data_en``
when it is present (relative to the working directory: the project root for DVC stages); otherwise ACEBench is
skipped and the reason (with the command that gets it) is in the metrics and the report's headline.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from looptool.evaluate.acebench import ALL_CATEGORIES

URL = "https://github.com/ACEBench/ACEBench"
COMMIT = "e6db74b735ead22c24f27367606a9408573b848f"
"""Upstream's head of 2025-08-24 (the data and code of 97c6c4c, PR #5; only the leaderboard page differs)."""
DEFAULT_DIR = "third_party/ACEBench"
DATA_SUBDIR = "data_all/data_en"
GET_IT = "run `make acebench` (clones ACEBench, MIT, at a pinned commit into third_party/ACEBench)"

_CODE = (  # what looptool.evaluate.acebench_agent imports for the agent categories
    "model_inference/prompt_en.py",
    "model_inference/multi_turn/APIModel_user.py",
    "model_inference/multi_turn/common_agent.py",
    "model_inference/multi_step/common_agent_step.py",
    *(
        f"model_inference/{kind}/scenariosen/{mod}.py"
        for kind in ("multi_turn", "multi_step")
        for mod in (
            "phone_platform/base_api",
            "phone_platform/message",
            "phone_platform/reminder",
            "phone_platform/food_services",
            "travel",
        )
    ),
)
EXPECTED_FILES = (
    "LICENSE.md",
    *(f"{DATA_SUBDIR}/data_{c}.json" for c in ALL_CATEGORIES),
    *(f"{DATA_SUBDIR}/possible_answer/data_{c}.json" for c in ALL_CATEGORIES),
    *_CODE,
)
"""Every file of a checkout that the evaluation reads, relative to its root."""


def missing_files(root: str | Path) -> list[str]:
    """The :data:`EXPECTED_FILES` that ``root`` lacks (empty or non-regular files count as missing)."""
    r = Path(root)
    return [f for f in EXPECTED_FILES if not (r / f).is_file() or (r / f).stat().st_size == 0]


def head_commit(root: str | Path) -> str | None:
    """The commit a checkout's detached HEAD names (as ``make acebench`` leaves it), else None."""
    try:
        text = (Path(root) / ".git" / "HEAD").read_text().strip()
    except OSError:
        return None
    return text if re.fullmatch(r"[0-9a-f]{40}", text) else None


def check(root: str | Path) -> Path:
    """``root`` if it is a complete ACEBench checkout; else a one-line error naming what is missing."""
    missing = missing_files(root)
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise FileNotFoundError(
            f"{root}: not a complete ACEBench checkout (missing {', '.join(missing[:3])}{more}); {GET_IT}"
        )
    return Path(root)


def resolve_auto() -> tuple[Path | None, str | None]:
    """``eval.acebench_dir: auto``: the data folder of the ``make acebench`` checkout, or (None, why not).
    A checkout that is there but incomplete is an error, not a skip."""
    root = Path(DEFAULT_DIR)
    if not root.exists():
        return None, f"eval.acebench_dir is auto but {DEFAULT_DIR} is not there: {GET_IT}"
    return check(root) / DATA_SUBDIR, None


def data_label(root: Path) -> str:
    """How tracked metrics name the auto checkout: the folder and its commit, not this machine's path."""
    checkout = root.parent.parent
    sha = head_commit(checkout)
    return f"auto ({DEFAULT_DIR} @ {sha[:7]})" if sha else f"auto ({DEFAULT_DIR})"


@click.command()
@click.argument("root", type=click.Path(file_okay=False))
@click.option("--commit", default=None, help="The commit the checkout's HEAD must be at.")
def main(root: str, commit: str | None) -> None:
    """Check that ROOT is a complete ACEBench checkout (at --commit)."""
    from looptool.errors import StageError

    try:
        check(root)
    except FileNotFoundError as e:
        raise StageError(str(e)) from None
    head = head_commit(root)
    if commit and head != commit:
        raise StageError(f"{root}: HEAD is at {head or 'no detached commit'}, expected {commit}")
    n = len(list((Path(root) / DATA_SUBDIR).glob("data_*.json")))
    click.echo(f"ACEBench checkout {root} @ {(head or '?')[:7]}: {n} English data files, agent code present")


if __name__ == "__main__":
    from looptool.guard import click_main

    click_main(main, None, "python -m looptool.evaluate.acebench_checkout")
