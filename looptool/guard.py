"""One place that turns a failure into one line on stderr and a non-zero exit, for the CLI and the stage scripts.

A user's mistake (a params key, a path, a file format, a missing model, a closed server) should read as one
line naming the thing and what was expected, not as a traceback. ``--debug`` (CLI) or ``LOOPTOOL_DEBUG=1``
(CLI and stage scripts, which DVC runs without options) re-raises instead, traceback included.
``-v`` / ``LOOPTOOL_LOG_LEVEL`` (``DEBUG``, ``INFO``, ``WARNING``) set how much the ``looptool`` loggers say.

A stage script ends with ``run_stage(main)`` instead of ``main()``:

.. code-block:: python

    if __name__ == "__main__":
        run_stage(main)
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from looptool.secrets import scrub

DEBUG_ENV = "LOOPTOOL_DEBUG"
LEVEL_ENV = "LOOPTOOL_LOG_LEVEL"
STAGE_ENV = "LOOPTOOL_STAGE"  # the progress bar's name (looptool.llm.progress reads it)
MAX_CHARS = 600

_TRUE = {"1", "true", "yes", "on"}


def debug_enabled(flag: bool = False) -> bool:
    """``--debug`` given, or ``LOOPTOOL_DEBUG`` set to 1/true/yes/on."""
    return flag or os.environ.get(DEBUG_ENV, "").strip().lower() in _TRUE


def _terminal() -> bool:
    """As :func:`looptool.llm.progress.bars_enabled` (not imported: see the note on _USER_ERRORS)."""
    env = os.environ.get("LOOPTOOL_PROGRESS", "").strip().lower()
    if env in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return env in ("1", "true", "yes", "on")
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def setup_logging(verbosity: int = 0) -> int:
    """Log ``looptool.*`` at INFO by default, DEBUG with ``-v``; ``-vv`` also shows other libraries' DEBUG.

    ``LOOPTOOL_LOG_LEVEL`` (a level name or number) wins over the default but not over ``-v``. Only the
    ``looptool`` logger gets a handler (other libraries keep their own logging); at the default level the
    model hub's retry warnings are left out: the one-line error says what failed. Returns the level of the
    ``looptool`` logger.
    """
    level = logging.INFO
    env = os.environ.get(LEVEL_ENV, "").strip()
    if env:
        level = int(env) if env.isdigit() else logging.getLevelName(env.upper())
        if not isinstance(level, int):
            raise click.UsageError(f"{LEVEL_ENV}={env!r}: expected DEBUG, INFO, WARNING, ERROR or a number")
    if verbosity >= 1:
        level = logging.DEBUG
    logger = logging.getLogger("looptool")
    if not any(getattr(h, "_looptool", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._looptool = True  # type: ignore[attr-defined]
        # records still propagate (pytest's caplog, a root handler someone configured): then the root's
        # handlers print them and this one stays quiet, so no line is printed twice
        handler.addFilter(lambda record: not logging.getLogger().handlers)
        logger.addHandler(handler)
    logger.setLevel(level)
    if not _terminal():  # no library bars (model loading, downloads) drawn into pipes and logs either
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if verbosity >= 2:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    elif verbosity == 0 and level > logging.DEBUG:
        # read when huggingface_hub is imported (later, lazily): its retry warnings stay out of the one line
        os.environ.setdefault("HF_HUB_VERBOSITY", "error")
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    return level


def _oserror(e: OSError) -> str:
    what = e.filename if e.filename is not None else ""
    why = (e.strerror or str(e)).rstrip(".")
    if isinstance(e, FileNotFoundError):
        why = "no such file or directory"
    return f"{what}: {why}" if what else why


# Errors whose message is written for the user (ConfigError, DatasetError, InterchangeError, ... are ValueErrors;
# a missing file or model is an OSError): shown as they are. Anything else gets its type name in front and the
# hint that the traceback is one switch away. (No looptool imports here: every stage script imports this module,
# so it is a code dep of every stage in dvc.yaml.)
_USER_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, KeyError)


def one_line(e: BaseException, hint: str = f"{DEBUG_ENV}=1 shows the traceback") -> str:
    """The message of ``e`` as a single line (whitespace collapsed, capped at ``MAX_CHARS``)."""
    if isinstance(e, OSError) and not type(e).__module__.startswith("looptool") and e.filename is not None:
        msg = _oserror(e)
    elif isinstance(e, KeyError) and type(e) is KeyError:
        msg = f"missing key {e.args[0]!r}" if e.args else "missing key"
    else:
        msg = str(e)
    msg = scrub(" ".join(msg.split())) or ""  # a key in any exception's text (an HTTP stack's, a library's)
    if not isinstance(e, _USER_ERRORS) or not msg:
        msg = f"{type(e).__name__}: {msg}" if msg else type(e).__name__
        if hint:
            msg += f" ({hint})"
    if len(msg) > MAX_CHARS:
        msg = msg[: MAX_CHARS - 3] + "..."
    return msg


def usage_line(e: click.UsageError) -> str:
    """A click usage error as one line: what is wrong, and where the help is."""
    where = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
    return f"Error: {' '.join(e.format_message().split())}{where}"


def click_main(cmd: click.Command, args: list[str] | None, prog_name: str | None, **extra: Any) -> NoReturn:
    """``cmd.main`` in standalone style, but a usage error is one line (click prints usage and a hint
    around it) and every failure exits non-zero without a traceback."""
    try:
        rv = cmd.main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
    except click.UsageError as e:
        click.echo(usage_line(e), err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        click.echo(f"Error: {' '.join(e.format_message().split())}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Aborted!", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


def run_stage(cmd: click.Command, name: str | None = None, args: list[str] | None = None) -> NoReturn:
    """Run a stage script's click command: logging set up, the stage's name for its progress bar
    (``LOOPTOOL_STAGE``, read by :mod:`looptool.llm.progress`), and any failure reported as
    ``Error: <one line>`` (as click prints it) with exit code 1 (``LOOPTOOL_DEBUG=1``: the traceback)."""
    argv = list(sys.argv[1:] if args is None else args)
    name = name or Path(sys.argv[0]).stem
    prog = f"python stages/{name}.py"
    if "--iteration" in argv[:-1]:  # probe@2: the name dvc shows for the stage
        name = f"{name}@{argv[argv.index('--iteration') + 1]}"
    code = 0
    if not cmd.epilog:  # the example of a stage's --help: its command line lives in dvc.yaml
        cmd.epilog = (
            "Example: dvc repro (DVC runs this script with the paths and params dvc.yaml gives it; "
            "`dvc stage list` shows its stages)"
        )
    before = os.environ.get(STAGE_ENV)
    os.environ[STAGE_ENV] = name
    try:
        setup_logging()
        rv = cmd.main(args=argv, prog_name=prog, standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.UsageError as e:
        click.echo(usage_line(e), err=True)
        code = e.exit_code
    except click.ClickException as e:
        if debug_enabled():
            traceback.print_exc()
        click.echo(f"Error: {' '.join(e.format_message().split())}", err=True)
        code = e.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo(f"{name}: interrupted", err=True)
        code = 130
    except Exception as e:
        if debug_enabled():
            raise
        click.echo(f"Error: {one_line(e)}", err=True)
        code = 1
    finally:
        if before is None:
            os.environ.pop(STAGE_ENV, None)
        else:
            os.environ[STAGE_ENV] = before
    sys.exit(code)


def guard_cli(ctx: click.Context, invoke: Any) -> Any:
    """Call ``invoke()`` (a click group's invoke); a non-click exception becomes a one-line ClickException."""
    try:
        return invoke()
    except (click.exceptions.Exit, click.Abort, click.UsageError):
        raise
    except click.ClickException:
        if debug_enabled(bool(ctx.params.get("debug"))):  # a one-line error of ours: the traceback on request
            traceback.print_exc()
        raise
    except Exception as e:
        if debug_enabled(bool(ctx.params.get("debug"))):
            raise
        raise click.ClickException(one_line(e, hint="--debug shows the traceback")) from None
