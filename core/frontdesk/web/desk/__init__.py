"""The agent desk (``/desk``): queue views, the ticket page, people pages, the profile."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")

# Each module adds its routes to ``bp``.
from frontdesk.web.desk import (  # noqa: E402,F401
    bulk,
    people,
    profile,
    saved_views,
    ticket,
    ticket_actions,
    views,
)
