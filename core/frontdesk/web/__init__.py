"""The core's web pages (server-rendered HTML); the REST API lives in :mod:`frontdesk.api`."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    """Install themes, page security and template context; register the page blueprints."""
    from frontdesk.web.assets import bp as theme_assets
    from frontdesk.web.context import init_context
    from frontdesk.web.errors import init_errors
    from frontdesk.web.home import bp as home
    from frontdesk.web.plugin_static import bp as plugin_static
    from frontdesk.web.security import init_security
    from frontdesk.web.signin import bp as signin
    from frontdesk.web.theming import init_themes

    init_themes(app)
    init_security(app)
    init_context(app)
    init_errors(app)
    app.register_blueprint(home)
    app.register_blueprint(plugin_static)
    app.register_blueprint(theme_assets)
    app.register_blueprint(signin)
    from frontdesk.web.admin import bp as admin
    from frontdesk.web.desk import bp as desk
    from frontdesk.web.portal import bp as portal

    app.register_blueprint(desk)
    app.register_blueprint(admin)
    app.register_blueprint(portal)
