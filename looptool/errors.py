"""Errors that end a command or a stage with one line and a non-zero exit status.

They are :class:`click.ClickException` subclasses, so a click command (every stage script and ``looptool``
command) that lets one escape prints ``Error: <one line>`` and exits 1, with no traceback, and DVC records
nothing for the stage: the next ``dvc repro`` runs it again.
"""

from __future__ import annotations

import click


class StageError(click.ClickException):
    """A failure the user can act on, told in one line (file / params key / backend and the reason)."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # one line, whatever the parts held

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.message,))


class BackendFailure(StageError):
    """Too many calls of one role's backend failed: the stage's output would be built on errors."""


class InputError(StageError, ValueError):
    """A stage input (Parquet file, CLI argument) that does not satisfy what the stage needs."""
