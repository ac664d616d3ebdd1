"""The admin area (``/admin``): queues and teams, agents, statuses, custom fields, plugins, themes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Each module adds its routes to ``bp``.
from frontdesk.web.admin import agents, fields, queues, views  # noqa: E402,F401
