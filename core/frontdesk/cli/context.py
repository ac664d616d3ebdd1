"""Creating the app for CLI commands, once per invocation."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

import click
from flask import Flask


class AppContextHolder:
    """Holds the app a CLI invocation works on, created on first use."""

    def __init__(self) -> None:
        self.instance_path: str | None = None
        self._app: Flask | None = None
        self.check_migrations = True

    def app(self, check_migrations: bool = True, role: str = "web") -> Flask:
        """The invocation's app; the first caller's ``role`` decides what it mounts."""
        if self._app is None:
            from frontdesk import create_app
            from frontdesk.config import ConfigError

            try:
                self._app = create_app(
                    {"CHECK_MIGRATIONS": False} if not check_migrations else None,
                    instance_path=self.instance_path,
                    role=role,
                )
            except (ConfigError, RuntimeError) as exc:
                raise click.ClickException(str(exc)) from exc
        return self._app

    def registry(self) -> Any:
        return self.app(check_migrations=False).extensions["frontdesk.registry"]


def with_app(
    check_migrations: bool = True, role: str = "web"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command: it runs inside an app context and receives ``app`` first.

    ``role`` is passed to :func:`frontdesk.create_app` (``"worker"`` for commands that run jobs).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @click.pass_context
        def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
            from flask import g

            holder = ctx.ensure_object(AppContextHolder)
            app = holder.app(check_migrations=check_migrations, role=role)
            with app.app_context():
                g.frontdesk_source = "cli"
                return fn(app, *args, **kwargs)

        return update_wrapper(wrapper, fn)

    return decorate
