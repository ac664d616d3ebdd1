"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, request

from frontdesk.config import ConfigError, default_instance_path, load_config
from frontdesk.i18n import init_i18n

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Write requests with a body up to this size queue one at a time per process on SQLite.
_QUEUED_BODY_LIMIT = 1 << 20

log = logging.getLogger(__name__)


ROLES = ("web", "worker")


def create_app(
    config: dict[str, Any] | None = None,
    instance_path: str | Path | None = None,
    *,
    role: str = "web",
) -> Flask:
    """Build a Frontdesk app: config, database, plugins, jobs, realtime, blueprints.

    ``config`` overrides every other source. Nothing here queries the database except the
    migration check (``CHECK_MIGRATIONS``), which refuses to start on a database behind its head.

    ``role`` is what the process does. ``"web"`` serves pages, the REST API and Socket.IO.
    ``"worker"`` runs jobs: it starts no Socket.IO server (:func:`frontdesk.realtime.emit` goes
    through the message queue) and mounts no REST API, whose schemas and OpenAPI machinery no
    job uses; pages and plugin blueprints stay, so ``url_for`` builds their URLs in jobs.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    from frontdesk.auth import ACCESS_ATTR, access_rule, current_actor, rule_allows
    from frontdesk.db import Database
    from frontdesk.jobs.backends import init_jobs
    from frontdesk.pluginmanager import build_plugin_manager, register_blueprints
    from frontdesk.realtime import init_realtime

    path = Path(instance_path).resolve() if instance_path else default_instance_path()
    app = Flask("frontdesk", instance_path=str(path), instance_relative_config=False)
    app.config.update(load_config(path, config))
    if not app.config.get("SECRET_KEY"):
        raise ConfigError(
            "SECRET_KEY is not set: run `frontdesk init` to write instance/frontdesk.toml "
            "with a generated key, or set FRONTDESK_SECRET_KEY"
        )
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")

    if hops := int(app.config.get("PROXY_FIX_HOPS") or 0):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only as many hops as the operator says: trusting more would let clients forge their
        # address and slip past per-IP rate limits.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db = Database(app.config["DATABASE_URL"], echo=bool(app.config.get("SQL_ECHO")))
    app.extensions["frontdesk.db"] = db
    app.teardown_appcontext(db.remove)

    pm, registry = build_plugin_manager(app)
    app.extensions["frontdesk"] = pm
    app.extensions["frontdesk.registry"] = registry
    app.extensions["frontdesk.role"] = role
    serves_http = role == "web"

    # Core catalogs in translations/ (frontdesk/translations in the wheel); each plugin's own
    # domain in its package (frontdesk.i18n.make_gettext).
    init_i18n(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    init_jobs(app)
    init_realtime(app, serve=serves_http)

    from frontdesk.web import init_web

    if serves_http:
        from frontdesk.api import init_api

        init_api(app)
    init_web(app)
    register_blueprints(app, pm)
    setattr(app.view_functions["static"], ACCESS_ATTR, "public")

    if db.dialect == "sqlite":

        @app.before_request
        def _queue_write_request() -> None:
            # Registered first, so the request's own reads (the signed-in user) run queued.
            if request.method in _READ_METHODS:
                return
            length = request.content_length
            if length is None or length > _QUEUED_BODY_LIMIT:
                return  # a large upload or a streamed body: not worth holding others up for
            request.get_data(cache=True)  # read first: a slow client holds up no one
            g.frontdesk_write_queued = db.enter_write_request()

        @app.teardown_request
        def _leave_write_queue(_exc: BaseException | None = None) -> None:
            if g.pop("frontdesk_write_queued", False):
                db.leave_write_request()

    @app.before_request
    def _enforce_access_rule() -> None:
        if not serves_http:
            # Its routes exist for url_for only: served, the API's CSRF check would be missing.
            log.error("a %s app was asked to serve %s; refusing it", role, request.path)
            abort(503)
        view = app.view_functions.get(request.endpoint or "")
        if view is None:
            return  # 404/405: Flask answers on its own
        g.frontdesk_source = "api" if request.path.startswith("/api/") else "web"
        rule = access_rule(view)
        if rule is None:
            log.error("route %s declares no access rule; refusing it", request.endpoint)
            abort(403)
        if not rule_allows(rule, current_actor()):
            abort(401 if current_actor() is None else 403)

    if app.config.get("CHECK_MIGRATIONS"):
        from frontdesk.migrations import check_database_current

        with app.app_context():
            check_database_current(app)
    return app


def _select_locale() -> str | None:
    from flask import current_app

    from frontdesk.auth import current_actor

    if not request:
        return current_app.config["DEFAULT_LANGUAGE"]
    return current_app.extensions["frontdesk"].hook.locale_selector(
        request=request, user=current_actor()
    )


def _select_timezone() -> str | None:
    from frontdesk.auth import current_actor

    actor = current_actor()
    return actor.timezone if actor is not None else None
