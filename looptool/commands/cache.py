"""``looptool cache show|verify|prune``: look into and clean the content-addressed call cache.

The cache (:mod:`looptool.llm.cache`) makes a re-run stage replay the model calls it already paid for. It is
keyed by the backend's identity (backend, model, server URL, weights fingerprint, chat-template arguments),
the request and the sampling; these commands show what it holds, check every row, and delete rows by age,
model, backend or validity.
"""

from __future__ import annotations

import datetime as dt
import json

import click

_DIR = click.option(
    "--dir", "directory", default=None, help="Cache folder (default: $LOOPTOOL_CACHE_DIR or .looptool-cache)."
)


def _open(directory: str | None):
    from pathlib import Path

    from looptool.llm.cache import DB_NAME, CallCache
    from looptool.llm.config import cache_dir

    folder = Path(directory or cache_dir())
    if not (folder / DB_NAME).exists():
        raise click.ClickException(f"{folder / DB_NAME}: no call cache here")
    return CallCache(folder)


def _when(t: float | None) -> str:
    return "-" if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


@click.group("cache")
def cache_cmd() -> None:
    """Show, verify and prune the call cache.

    Example: looptool cache prune --older-than 30 --invalid
    """


@cache_cmd.command("show")
@_DIR
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show_cmd(directory: str | None, fmt: str) -> None:
    """Rows by backend, model and operation, with their age.

    Example: looptool cache show --format json
    """
    store = _open(directory)
    try:
        s = store.summary()
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(s, indent=2))
        return
    click.echo(f"{s['path']}: {s['rows']} rows, {s['bytes'] / 1e6:.1f} MB")
    for g in s["groups"]:
        click.echo(
            f"  {g['rows']:>8}  {g['backend']:<12} {g['op']:<8} {g['model']}  ({_when(g['oldest'])} .. {_when(g['newest'])})"
        )


@cache_cmd.command("verify")
@_DIR
def verify_cmd(directory: str | None) -> None:
    """Check the database and every stored response; exit 1 when a row is not a usable completion.

    Example: looptool cache verify --dir .looptool-cache
    """
    store = _open(directory)
    try:
        n, bad = store.verify()
    finally:
        store.close()
    for key, problem in bad[:10]:
        click.echo(f"  {key}: {problem}")
    if bad:
        raise click.ClickException(
            f"{store.path}: {len(bad)} of {n} rows are not usable completions (they are re-run, not replayed); "
            "`looptool cache prune --invalid` deletes them"
        )
    click.echo(f"{store.path}: {n} rows, all usable")


@cache_cmd.command("prune")
@_DIR
@click.option("--invalid", is_flag=True, help="Rows that are not usable completions.")
@click.option(
    "--older-than", "days", type=click.FloatRange(min=0), default=None, help="Rows older than DAYS."
)
@click.option("--model", default=None, help="Rows of this model name.")
@click.option("--backend", default=None, help="Rows of this backend (transformers, vllm, openai).")
def prune_cmd(
    directory: str | None, invalid: bool, days: float | None, model: str | None, backend: str | None
) -> None:
    """Delete the rows matching every given condition (at least one is needed).

    Example: looptool cache prune --invalid
    """
    if not (invalid or days is not None or model or backend):
        raise click.UsageError("give at least one of --invalid, --older-than, --model, --backend")
    store = _open(directory)
    try:
        n = store.prune(
            invalid=invalid, older_than_s=None if days is None else days * 86400, model=model, backend=backend
        )
        left = store.count()
    finally:
        store.close()
    click.echo(f"{store.path}: deleted {n} rows, {left} left")
