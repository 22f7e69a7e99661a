"""Model cards: a ``README.md`` with Hugging Face hub metadata for ``models/iter_j``, from what the pipeline
knows (params, every stage's metrics, the datasets when present, ``dvc.lock``, the git revision).

The cards are written under ``reports/cards/iter_j/README.md`` by the report stage, never inside the model
folders: those are the train stage's outputs, and changing them would re-run everything downstream.
To publish a checkpoint, copy it out of ``models/`` and ``looptool card J --into <the copy>`` writes its card
there (``--into`` refuses a DVC output such as ``models/iter_j``).

Only recorded facts go in: a figure missing from the metrics is said to be missing, not guessed. The card
works without ``models/`` and without ``data/`` (e.g. in a fresh clone before ``dvc pull``): then the model's
files are described by ``dvc.lock`` and the dataset's composition by the merge metrics.

Modules: :mod:`~looptool.card.facts` (what the card states), :mod:`~looptool.card.render` (its Markdown),
:mod:`~looptool.card.write` (writing one card or every iteration's); this package re-exports their names.
"""

from __future__ import annotations

from looptool.card.facts import (
    BENCHMARKS,
    EMBEDDED_HUB_ID,
    EMBEDDED_LICENSE,
    HELDOUT_KEYS,
    CardError,
    CardInputs,
    base_model,
    card_facts,
    git_revision,
)
from looptool.card.render import TITLE, render_card
from looptool.card.write import is_card, write_card, write_cards

__all__ = [
    "BENCHMARKS",
    "EMBEDDED_HUB_ID",
    "EMBEDDED_LICENSE",
    "HELDOUT_KEYS",
    "TITLE",
    "CardError",
    "CardInputs",
    "base_model",
    "card_facts",
    "git_revision",
    "is_card",
    "render_card",
    "write_card",
    "write_cards",
]
