"""Building the REST API: flask-smorest, the blueprints, problem+json errors, the OpenAPI document.

Callers authenticate with ``Authorization: Bearer fdt_...`` (API tokens) or the web UI's session
cookie; cookie-authenticated writes must send ``X-Requested-With: frontdesk``. Every error is an
``application/problem+json`` document with a field-level ``errors`` map.
"""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from flask import Flask, request
from flask_smorest.utils import prepare_response

from frontdesk.api import account, messages, meta, people, queues, relations, tickets
from frontdesk.api.blueprint import check_csrf
from frontdesk.api.errors import (
    PROBLEM_MIMETYPE,
    ProblemSchema,
    is_api_request,
    register_app_error_handler,
)
from frontdesk.auth import access

BLUEPRINTS = (
    tickets.blp,
    messages.blp,
    relations.blp,
    people.blp,
    queues.blp,
    meta.blp,
    account.blp,
)
DOCS_BLUEPRINT = "api-docs"


class FrontdeskApi(flask_smorest.Api):
    """flask-smorest's Api with problem+json errors that stay out of the non-API pages."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_app_error_handler(self._app)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Error (problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def init_api(app: Flask) -> None:
    """Mount the API blueprints and the OpenAPI document on ``app``."""
    app.config.setdefault("API_TITLE", "Frontdesk")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    cookie = app.config.get("SESSION_COOKIE_NAME") or "session"
    api = FrontdeskApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Authenticate with an API token (Authorization: Bearer fdt_...) or the "
                    "session cookie set by POST /api/v1/session; cookie-authenticated writes "
                    "must send X-Requested-With: frontdesk. Errors are application/problem+json."
                )
            },
            "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme(
        "sessionCookie", {"type": "apiKey", "in": "cookie", "name": cookie}
    )
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.extensions["frontdesk.api"] = api
    _declare_openapi_public(app)
    core = {blp.name for blp in BLUEPRINTS}

    @app.before_request
    def _csrf_for_plugin_api_routes() -> None:
        # Plugins may mount JSON routes under /api/v1/<name>; the same defence covers them.
        if request.url_rule is not None and request.blueprint not in core and is_api_request():
            check_csrf()


def _declare_openapi_public(app: Flask) -> None:
    # flask-smorest serves its documents from bound methods, which cannot carry a rule themselves.
    for endpoint, serve in list(app.view_functions.items()):
        if endpoint.startswith(DOCS_BLUEPRINT + "."):
            app.view_functions[endpoint] = access("public")(_public_view(serve))


def _public_view(serve: Any) -> Any:
    def view(**kwargs: Any) -> Any:
        return serve(**kwargs)

    view.__name__ = getattr(serve, "__name__", "openapi")
    return view
