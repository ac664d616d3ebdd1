"""The public front page (``/``) and the health check (``/healthz``) for load balancers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template

from frontdesk.auth import access

log = logging.getLogger(__name__)
bp = Blueprint("home", __name__)

@bp.get("/")
@access("public")
def index() -> str:
    """Where people start: the customer portal, the agent desk, and the API for integrations."""
    return render_template("home.html")


@bp.get("/healthz")
@access("public")
def healthz() -> tuple[Response, int]:
    """Whether the database answers and is at the code's schema: 200 when both hold, else 503."""
    report: dict[str, Any] = {"database": "ok", "migrations": "current"}
    try:
        behind = sources_behind(current_app)
    except Exception:  # any failure here means "unreachable"; the detail goes to the log only
        log.exception("health check: database unreachable")
        report.update(database="unreachable", migrations="unknown")
    else:
        if behind:
            report.update(migrations="behind", behind=behind)
    healthy = report["database"] == "ok" and report["migrations"] == "current"
    report["status"] = "ok" if healthy else "failing"
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def sources_behind(app: Flask) -> list[str]:
    """Names of the migration sources whose revision differs from the code's head."""
    from frontdesk.migrations import current_revisions, heads, migration_sources

    cache = app.extensions.setdefault("frontdesk.web.heads", {})
    current = current_revisions(app)  # plain SQL: a health check must not load Alembic
    behind = []
    for source in migration_sources(app):
        if source.name not in cache:  # reading the revision files once per process is enough
            cache[source.name] = heads(source)
        if current.get(source.name, set()) != cache[source.name]:
            behind.append(source.name)
    return behind
