"""Static files of the active theme, looked up through its parents: ``/static/themes/<file>``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory
from flask.typing import ResponseReturnValue

from frontdesk.auth import access
from frontdesk.web.theming import theme_static_file

bp = Blueprint("themes", __name__)


@bp.get("/static/themes/<path:filename>")
@access("public")
def static(filename: str) -> ResponseReturnValue:
    found = theme_static_file(current_app, filename)
    if found is None:
        abort(404)
    folder, name = found
    return send_from_directory(folder, name, max_age=3600)
