"""``frontdesk demo load``: fill an empty instance with demo data and print how to sign in."""

from __future__ import annotations

import click
from flask import Flask

from frontdesk.cli.context import with_app


@click.group("demo")
def demo() -> None:
    """Demo data for trying Frontdesk out."""


@demo.command("load")
@click.option("--seed", default=None, type=int, help="Random seed (the same seed, the same data).")
@click.option(
    "--url", default="http://127.0.0.1:5000", show_default=True, help="Where the app is served."
)
@with_app()
def load_cmd(app: Flask, seed: int | None, url: str) -> None:
    """Load queues, agents, customers and 200 tickets into an empty database."""
    from frontdesk.demo import DEFAULT_SEED, DEMO_PASSWORD, load_demo
    from frontdesk.services import ServiceError

    try:
        result = load_demo(seed=DEFAULT_SEED if seed is None else seed)
    except ServiceError as exc:
        raise click.ClickException(f"could not load the demo data: {exc}") from exc
    if result.loaded:
        click.echo(
            f"Loaded the demo: {result.tickets} tickets from {result.customers} customers "
            f"in 5 languages."
        )
    else:
        click.echo(f"Nothing to do: {result.reason}.")
    if result.logins:
        click.echo("")
        click.echo(f"Demo logins (password for every account: {DEMO_PASSWORD})")
        width = max(len(login.email) for login in result.logins)
        for login in result.logins:
            click.echo(f"  {login.role:<9} {login.email:<{width}}  {login.name}")
        click.echo("")
        click.echo(f"Open {url}: agent desk {url}/desk/, customer portal {url}/portal")
        click.echo(f"(API: {url}/api/v1/openapi.json)")


COMMANDS = [demo]
