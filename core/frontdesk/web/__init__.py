"""The core's web pages (server-rendered HTML); the REST API lives in :mod:`frontdesk.api`."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    """Register the core's page blueprints on ``app``."""
    from frontdesk.web.home import bp as home
    from frontdesk.web.plugin_static import bp as plugin_static

    app.register_blueprint(home)
    app.register_blueprint(plugin_static)
