"""``frontdesk db upgrade|downgrade|current|check``."""

from __future__ import annotations

import click
from flask import Flask

from frontdesk.cli.context import with_app


@click.group("db")
def db() -> None:
    """Database migrations (core first, then each plugin)."""


@db.command("upgrade")
@click.option("--source", default=None, help="Only this source (core or a plugin name).")
@click.argument("revision", default="heads")
@with_app(check_migrations=False)
def upgrade_cmd(app: Flask, source: str | None, revision: str) -> None:
    """Migrate to the newest schema (or REVISION)."""
    from frontdesk.migrations import status, upgrade

    upgrade(app, revision, only=source)
    for src, current, _head in status(app):
        click.echo(f"{src.name}: {', '.join(sorted(current)) or 'empty'}")


@db.command("downgrade")
@click.argument("source")
@click.argument("revision")
@with_app(check_migrations=False)
def downgrade_cmd(app: Flask, source: str, revision: str) -> None:
    """Take SOURCE (core or a plugin) back to REVISION (``base`` removes its tables)."""
    from frontdesk.migrations import MigrationError, downgrade

    try:
        downgrade(app, source, revision)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{source}: downgraded to {revision}")


@db.command("current")
@with_app(check_migrations=False)
def current_cmd(app: Flask) -> None:
    """Show each source's revision and head."""
    from frontdesk.migrations import status

    for src, current, head in status(app):
        state = "up to date" if current == head else "BEHIND"
        click.echo(
            f"{src.name}: {', '.join(sorted(current)) or 'empty'} "
            f"(head {', '.join(sorted(head))}) {state}"
        )


@db.command("check")
@with_app(check_migrations=False)
def check_cmd(app: Flask) -> None:
    """Fail unless every source is at its head and the models match the migrated schema."""
    from frontdesk.migrations import import_plugin_models, schema_differences, status

    problems = [
        f"{src.name} is at {', '.join(sorted(cur)) or 'nothing'}, head is {', '.join(sorted(head))}"
        for src, cur, head in status(app)
        if cur != head
    ]
    import_plugin_models(app)
    for name, diffs in schema_differences(app).items():
        problems.extend(f"{name}: models differ from migrations: {d}" for d in diffs)
    if problems:
        raise click.ClickException("\n".join(problems) + "\nRun `frontdesk db upgrade`, or add a migration.")
    click.echo("database is current and matches the models")


@db.command("revision")
@click.argument("source")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--rev-id", default=None, help="Revision id (default: <source>_<next number>).")
@with_app(check_migrations=False)
def revision_cmd(app: Flask, source: str, message: str, rev_id: str | None) -> None:
    """Write SOURCE's next migration from the difference between its models and the database.

    Migrate the database to the current head first; review the generated file before committing.
    """
    from frontdesk.migrations import MigrationError, autogenerate_revision

    try:
        path = autogenerate_revision(app, source, message, rev_id)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path}")


COMMANDS = [db]
