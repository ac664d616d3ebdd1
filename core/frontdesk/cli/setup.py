"""``frontdesk init``: create the instance folder and its configuration with a fresh secret key."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from frontdesk.config import default_instance_path


@click.command("init")
@click.option("--database-url", default=None, help="Database URL (default: SQLite in the instance).")
@click.option("--force", is_flag=True, help="Overwrite an existing frontdesk.toml.")
@click.pass_context
def init(ctx: click.Context, database_url: str | None, force: bool) -> None:
    """Write instance/frontdesk.toml with a generated SECRET_KEY."""
    holder = ctx.obj
    instance = Path(holder.instance_path).resolve() if holder and holder.instance_path else default_instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    target = instance / "frontdesk.toml"
    if target.exists() and not force:
        click.echo(f"{target} exists; keeping it (use --force to replace it)")
        return
    lines = [
        "# Frontdesk instance configuration. Environment variables FRONTDESK_* override it.",
        f'SECRET_KEY = "{secrets.token_urlsafe(48)}"',
    ]
    if database_url:
        lines.append(f'DATABASE_URL = "{database_url}"')
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target.chmod(0o600)
    click.echo(f"wrote {target}")


COMMANDS = [init]
