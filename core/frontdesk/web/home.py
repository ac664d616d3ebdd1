"""The public front page (``/``) and the health check (``/healthz``) for load balancers."""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template_string
from flask_babel import get_locale

from frontdesk.auth import access
from frontdesk.i18n import _

log = logging.getLogger(__name__)
bp = Blueprint("home", __name__)

RTL_LANGUAGES = {"ar", "fa", "he", "ur"}

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
main{max-width:40rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.5rem;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{margin-top:0;font-size:1.75rem}
code{background:#eef0f3;padding:.1rem .3rem;border-radius:.2rem}
li{margin:.4rem 0}
a{color:#1558b0}
"""
# The page allows its one style block by hash and nothing else: no scripts, frames or forms.
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{STYLE_HASH}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

PAGE = """<!doctype html>
<html lang="{{ lang }}" dir="{{ direction }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ style|safe }}</style>
</head>
<body>
<main>
<h1>{{ title }}</h1>
<p>{{ intro }}</p>
<h2>{{ api_heading }}</h2>
<ul>
<li><a href="{{ url_for('home.index') }}api/v1/openapi.json"><code>/api/v1/openapi.json</code></a>
 &mdash; {{ openapi_text }}</li>
<li><a href="{{ url_for('home.index') }}api/v1/tickets"><code>/api/v1/tickets</code></a>
 &mdash; {{ tickets_text }}</li>
<li><a href="{{ url_for('home.healthz') }}"><code>/healthz</code></a> &mdash; {{ health_text }}</li>
</ul>
</main>
</body>
</html>
"""


@bp.get("/")
@access("public")
def index() -> Response:
    """What this instance is and where its API starts."""
    locale = get_locale()
    lang = locale.language if locale else current_app.config["DEFAULT_LANGUAGE"]
    html = render_template_string(
        PAGE,
        lang=lang,
        direction="rtl" if lang in RTL_LANGUAGES else "ltr",
        style=STYLE,
        title=_("Frontdesk helpdesk"),
        intro=_(
            "This is a Frontdesk helpdesk: tickets from every channel, routed to the right team, "
            "answered on time."
        ),
        api_heading=_("API"),
        openapi_text=_("the OpenAPI description of the REST API"),
        tickets_text=_("tickets (sign in or send an API token)"),
        health_text=_("health of this instance"),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
