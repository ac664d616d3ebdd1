"""Plugin static files at ``/static/plugins/<name>/...``, served from each plugin's ``static/``."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory

from frontdesk.auth import access

bp = Blueprint("plugin_static", __name__)


def plugin_static_folder(name: str) -> Path | None:
    plugin = current_app.extensions["frontdesk.registry"].plugins.get(name)
    module_file = getattr(plugin.module, "__file__", None) if plugin else None
    if not module_file:
        return None
    folder = Path(module_file).parent / "static"
    return folder if folder.is_dir() else None


@bp.get("/static/plugins/<name>/<path:filename>")
@access("public")
def plugin_static(name: str, filename: str) -> Response:
    """A file from the enabled plugin ``name``'s ``static/`` folder (never outside it)."""
    folder = plugin_static_folder(name)
    if folder is None:
        abort(404)
    response = send_from_directory(folder, filename, max_age=3600)  # refuses paths leaving folder
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
