"""Writing cards: one into a folder (refusing a file that is not a card of ours), or every iteration's for the
report stage."""

from __future__ import annotations

import re
from pathlib import Path

from looptool.card.facts import CardError, CardInputs, card_facts
from looptool.card.render import TITLE, render_card

_CARD_TITLE = re.compile(r"^# looptool-iter_\d+: " + re.escape(TITLE).replace(r"\{j\}", r"\d+") + "$", re.M)


def is_card(path: str | Path) -> bool:
    """Whether ``path`` is a card looptool wrote (its title line), so a new card may replace it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return _CARD_TITLE.search(f.read(1 << 16)) is not None
    except OSError:
        return False


def write_card(iteration: int, out: str | Path, inputs: CardInputs | None = None) -> Path:
    """Write the card of ``iteration`` to ``out`` (a README.md path); returns it. A file there that is not a
    card of ours (a checkpoint's own README.md) is refused (:func:`looptool.outputs.prepare_output`)."""
    from looptool.outputs import prepare_output
    from looptool.storage import write_text

    out = prepare_output(out, what="card", ours=is_card)
    return write_text(render_card(card_facts(iteration, inputs)), out)


def write_cards(
    iterations: list[int | str], cards_dir: str | Path, inputs: CardInputs | None = None
) -> list[Path]:
    """The report stage's cards: ``<cards_dir>/iter_j/README.md`` for the warm-up model (when it has metrics)
    and every iteration that has training or evaluation metrics; stale cards of other iterations removed
    (only cards of ours: anything else there is left as it is)."""
    cards_dir = Path(cards_dir)
    written = []
    for j in [0, *sorted({int(k) for k in iterations})]:
        try:
            written.append(write_card(j, cards_dir / f"iter_{j}" / "README.md", inputs))
        except CardError:
            continue  # not trained yet
    keep = {p.parent for p in written}
    for old in cards_dir.glob("iter_*"):
        if not old.is_dir() or old.is_symlink() or old in keep:
            continue
        if is_card(old / "README.md"):
            (old / "README.md").unlink()
        if not any(old.iterdir()):
            old.rmdir()
    return written
