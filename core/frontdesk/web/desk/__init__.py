"""The agent desk (``/desk``): queue views, the ticket page, people pages, the profile."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")

# Each module adds its routes to ``bp``.
from frontdesk.web.desk import bulk, people, profile, ticket, ticket_actions, views  # noqa: E402,F401
