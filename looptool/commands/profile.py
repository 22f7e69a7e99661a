"""``looptool profile``: list, show and apply named params profiles (:mod:`looptool.profiles`)."""

from __future__ import annotations

import click


@click.group("profile")
def profile_cmd() -> None:
    """Named params sets (configs/profiles/*.yaml), applied onto params.yaml keeping its comments.

    Example: looptool profile apply paper-gpu --dry-run
    """


@profile_cmd.command("list")
def list_cmd() -> None:
    """The profiles there are."""
    from looptool.profiles import available, profile_dir

    for name in available():
        click.echo(name)
    if not available():
        click.echo(f"no profiles in {profile_dir()}")


@profile_cmd.command("apply")
@click.argument("name")
@click.option(
    "--params", "params_path", default="params.yaml", show_default=True, help="params file to change."
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def apply_cmd(name: str, params_path: str, dry_run: bool) -> None:
    """Set every key of profile NAME (or a .yaml path) in params.yaml; other keys and comments stay."""
    from looptool.profiles import ProfileError, apply_profile

    try:
        changes = apply_profile(name, params_path, dry_run=dry_run)
    except (ProfileError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from None
    for key, old, new in changes:
        click.echo(f"{key}: {old!r} -> {new!r}")
    verb = "would change" if dry_run else "changed"
    click.echo(f"{params_path}: {verb} {len(changes)} key(s) from profile {name}")
