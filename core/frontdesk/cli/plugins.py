"""``frontdesk plugins list [--json]``."""

from __future__ import annotations

import json

import click
from flask import Flask

from frontdesk.cli.context import with_app


def describe_plugins(app: Flask) -> list[dict]:
    """Name, version, category, label and implemented hooks of every loaded plugin."""
    from frontdesk.pluginmanager import hooks_implemented

    pm = app.extensions["frontdesk"]
    out = []
    for plugin in app.extensions["frontdesk.registry"].plugins.values():
        out.append(
            {
                "name": plugin.name,
                "label": plugin.label,
                "version": plugin.version or ("builtin" if plugin.builtin else None),
                "category": plugin.category,
                "builtin": plugin.builtin,
                "distribution": plugin.distribution,
                "urls": plugin.urls,
                "hooks": hooks_implemented(pm, plugin.module),
            }
        )
    return out


@click.group("plugins")
def plugins() -> None:
    """Inspect installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_app(check_migrations=False)
def list_cmd(app: Flask, as_json: bool) -> None:
    """List loaded plugins with version, category and hooks."""
    rows = describe_plugins(app)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['version'] or '-':<10} {row['category']:<12} {', '.join(row['hooks'])}")


COMMANDS = [plugins]
