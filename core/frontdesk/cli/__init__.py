"""The ``frontdesk`` command: built-in commands plus one group per plugin (``frontdesk <plugin>``).

Each built-in module here exposes ``COMMANDS``; plugin commands come from ``register_cli_commands``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from frontdesk.cli.context import AppContextHolder

BUILTIN_MODULES = ("setup", "db", "plugins", "serve", "jobs", "transfer", "demo", "users", "i18n")


def _builtin_commands() -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for module_name in BUILTIN_MODULES:
        module = importlib.import_module(f"frontdesk.cli.{module_name}")
        for command in getattr(module, "COMMANDS", []):
            found[command.name] = command
    return found


class FrontdeskGroup(click.Group):
    """Built-in commands, then the plugins' groups (loaded from the app when asked for)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(_builtin_commands())
        try:
            names.update(c.name for c in ctx.ensure_object(AppContextHolder).registry().cli_commands)
        except Exception:  # a broken config must not hide the built-in commands from --help
            pass
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        builtin = _builtin_commands()
        if name in builtin:
            return builtin[name]
        holder = ctx.ensure_object(AppContextHolder)
        for command in holder.registry().cli_commands:
            if command.name == name:
                return command
        return None


@click.group(cls=FrontdeskGroup)
@click.option(
    "--instance",
    type=click.Path(file_okay=False),
    envvar="FRONTDESK_INSTANCE_PATH",
    help="Instance folder (default ./instance).",
)
@click.pass_context
def main(ctx: click.Context, instance: str | None) -> None:
    """Frontdesk helpdesk administration."""
    ctx.ensure_object(AppContextHolder).instance_path = instance


def run() -> Any:
    return main(prog_name="frontdesk")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
