"""Error pages in the user's language; ``/api/`` paths keep their problem+json answers."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from frontdesk.i18n import _l

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in to see this page."),
    403: _l("You are not allowed to see this page."),
    404: _l("There is nothing here."),
    405: _l("This page does not accept that kind of request."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
}
CSRF_MESSAGE = _l("The form has expired. Reload the page and try again.")


def error_page(error: HTTPException) -> Any:
    if request.path.startswith("/api/") and current_app.extensions.get("frontdesk.role") == "web":
        from frontdesk.api.errors import http_exception_response

        return http_exception_response(error)
    if request.path.startswith("/socket.io"):
        return error
    code = error.code or 500
    message = CSRF_MESSAGE if error.description == "csrf" else MESSAGES.get(code, error.name)
    if code == 401:
        from flask import redirect, url_for

        if request.method == "GET" and not request.path.startswith("/static/"):
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
    response = current_app.make_response(
        (render_template("errors/error.html", code=code, message=message), code)
    )
    for header, value in error.get_headers():
        if header.lower() != "content-type":
            response.headers[header] = value
    return response


def init_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, error_page)
