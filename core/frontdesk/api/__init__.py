"""The REST API under ``/api/v1``."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from frontdesk.auth import access


def init_api(app: Flask) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")

    @bp.get("/plugins")
    @access("staff")
    def plugins():  # placeholder until the full API lands
        registry = app.extensions["frontdesk.registry"]
        return jsonify([{"name": p.name} for p in registry.plugins.values()])

    app.register_blueprint(bp)
