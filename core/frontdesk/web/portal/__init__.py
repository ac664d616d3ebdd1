"""The customer portal (``/<locale>/portal``; ``/portal`` redirects by preference)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("portal", __name__)

from frontdesk.web.portal import views  # noqa: E402,F401
from frontdesk.web.portal import account, profile, tickets  # noqa: E402,F401
