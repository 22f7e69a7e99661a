"""The one place where looptool uses private interfaces of upstream libraries, one module per library.

What counts as private: underscore names (methods, attributes, module functions), patches matched by an upstream
function's source, APIs an upstream library marks experimental, and behaviour relied on beyond the library's
docs. Each use is a small function of :mod:`looptool.compat.trl` or :mod:`looptool.compat.transformers` whose
docstring says why no public interface serves; every use in a module was checked against the versions of its
library in :data:`CHECKED`, so an upgrade is checked here and nowhere else. ``peft`` has no private use (only
``LoraConfig``, ``PeftModel`` and their public methods), so it has no module and no entry.

At run time, the first private use of a library whose installed version is not in :data:`CHECKED` logs one
warning line (and runs on: most upgrades keep these interfaces); ``tests/test_compat.py`` fails with the same
line, and fails if a private use appears outside this package.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

CHECKED: dict[str, tuple[str, ...]] = {
    "trl": ("1.16.0",),
    "transformers": ("5.25.0",),
}
"""Per library, the versions every private use in its module was checked against (the source read in that
version, ``tests/test_compat.py`` and the tests each use names passing). Add a version only after that."""

_warned: set[str] = set()


def installed(library: str) -> str | None:
    """The installed version of ``library`` (its distribution's metadata), None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(library)
    except PackageNotFoundError:
        return None


def unchecked(library: str, version: str | None) -> str | None:
    """The one-line warning for ``version`` of ``library`` when it is outside :data:`CHECKED`, else None."""
    checked = CHECKED[library]
    if version in checked:
        return None
    return (
        f"{library} {version or '(not installed)'} is not a version looptool's private uses of {library} were "
        f"checked against ({', '.join(checked)}); they may misbehave: re-check looptool/compat/{library}.py"
    )


def check(library: str) -> None:
    """Log :func:`unchecked`'s line for the installed ``library``, once per process (nothing when it is checked).
    Every private use in this package calls it first."""
    if library in _warned:
        return
    _warned.add(library)
    line = unchecked(library, installed(library))
    if line is not None:
        log.warning("%s", line)
