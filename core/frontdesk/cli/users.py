"""``frontdesk user create|password|token``: manage people from the command line."""

from __future__ import annotations

import click
from flask import Flask

from frontdesk.cli.context import with_app


@click.group("user")
def user() -> None:
    """Create users, set passwords, issue API tokens."""


def _fail_on_service_error(fn):  # type: ignore[no-untyped-def]
    from functools import wraps

    from frontdesk.services import ServiceError

    @wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except ServiceError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            raise click.ClickException(f"{exc.detail}" + (f" ({details})" if details else "")) from exc

    return wrapper


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--role", type=click.Choice(["admin", "agent", "customer"]), default="agent", show_default=True)
@click.option("--language", default=None, help="Preferred language (en, it, ro, ru, fa).")
@click.option("--queue", "queues", multiple=True, help="Queue key to join (repeatable).")
@click.password_option(help="Password (prompted when not given).")
@with_app()
@_fail_on_service_error
def create_cmd(
    app: Flask, email: str, name: str, role: str, language: str | None, queues: tuple[str, ...], password: str
) -> None:
    """Create a user with EMAIL (the first admin, for example)."""
    from sqlalchemy import select

    from frontdesk.db import session
    from frontdesk.models import Queue
    from frontdesk.services import create_user

    found = list(session.scalars(select(Queue).where(Queue.key.in_(queues)))) if queues else []
    missing = sorted(set(queues) - {q.key for q in found})
    if missing:
        raise click.ClickException(f"no queue with key {', '.join(missing)}")
    created = create_user(
        email=email, name=name, role=role, password=password, language=language, queues=found
    )
    click.echo(f"created {created.role} {created.email} (id {created.id})")


@user.command("password")
@click.argument("email")
@click.password_option(help="New password (prompted when not given).")
@with_app()
@_fail_on_service_error
def password_cmd(app: Flask, email: str, password: str) -> None:
    """Set the password of the user with EMAIL."""
    from frontdesk.services import find_user_by_email, set_password

    target = find_user_by_email(email)
    if target is None:
        raise click.ClickException(f"no user with email {email}")
    set_password(target, password)
    click.echo(f"password of {target.email} changed")


@user.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@with_app()
@_fail_on_service_error
def token_cmd(app: Flask, email: str, name: str) -> None:
    """Issue an API token for EMAIL; it is printed once and never stored in plain text."""
    from frontdesk.services import create_api_token, find_user_by_email

    target = find_user_by_email(email)
    if target is None:
        raise click.ClickException(f"no user with email {email}")
    _row, plain = create_api_token(target, name)
    click.echo(plain)


COMMANDS = [user]
