"""Page security: CSRF tokens, security headers and the Content-Security-Policy, safe redirects.

Every state-changing request to a page (not ``/api/``, which has its own rules) must carry the
session's CSRF token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header; views that
verify their own token (public embeddable forms) opt out with :func:`csrf_exempt`.

Pages get a Content-Security-Policy with no inline script or style: every script and style sheet
is a file served from this origin.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request, session

F = TypeVar("F", bound=Callable[..., Any])

CSRF_SESSION_KEY = "csrf_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
EXEMPT_ATTR = "_frontdesk_csrf_exempt"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def csrf_exempt(view: F) -> F:
    """Let ``view`` take unsafe requests without the session's CSRF token (it checks its own)."""
    setattr(view, EXEMPT_ATTR, True)
    return view


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def rotate_csrf_token() -> None:
    """Drop the token so the next form gets a fresh one (at sign-in and sign-out)."""
    session.pop(CSRF_SESSION_KEY, None)


def _is_page_request() -> bool:
    return not request.path.startswith(("/api/", "/socket.io"))


def check_csrf() -> None:
    """Refuse an unsafe page request without the session's token (400)."""
    if request.method not in UNSAFE_METHODS or not _is_page_request():
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, EXEMPT_ATTR, False):
        return
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="csrf")


def set_security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if _is_page_request() and response.mimetype == "text/html":
        if response.headers.get("Content-Security-Policy", PAGE_CSP) == PAGE_CSP:
            # A page with its own frame-ancestors (an embeddable form) must not be contradicted.
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        if request.endpoint not in ("static",) and "Cache-Control" not in response.headers:
            # Pages show one person's tickets: never kept by shared caches.
            response.headers["Cache-Control"] = "private, no-store"
    return response


def safe_next_url(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return default
    return target


def init_security(app: Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(set_security_headers)
