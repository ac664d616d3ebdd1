"""The embeddable form: the script other sites include, who may frame it, who may post to it.

``<script src="https://help.example.com/webform/embed.js" data-locale="it" async></script>``
puts an iframe of ``/<locale>/portal/webform/embed`` where the tag is. The page may be framed by
the sites in ``allowed_origins`` (``Content-Security-Policy: frame-ancestors``); a POST whose
``Origin`` (or, without it, ``Referer``) is neither this site nor one of them is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, request, send_from_directory

from frontdesk.ui import access

from .coreweb import PAGE_CSP
from .schemas import settings

STATIC = Path(__file__).parent / "static"
FRAME_ANCESTORS = re.compile(r"frame-ancestors[^;]*")

bp = Blueprint("webform_embed", __name__, url_prefix="/webform")


@bp.get("/embed.js")
@access("public")
def script() -> Response:
    """The script a site includes to show the form (static: it finds our origin in its URL)."""
    response = send_from_directory(STATIC, "embed.js", mimetype="text/javascript", max_age=3600)
    # Loaded by other sites' pages: say so explicitly, whatever the default policy becomes.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def own_origin() -> str:
    return request.host_url.rstrip("/").lower()


def trusted_origins() -> set[str]:
    return {own_origin(), *settings()["allowed_origins"]}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def post_origin_allowed() -> bool:
    """Whether an embedded form's POST comes from this site or an allowed one.

    Browsers send ``Origin`` with every form POST (``null`` from sandboxed or privacy-stripped
    contexts, which is refused); a client that sends neither header is no browser and is left
    to the form token.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.strip().rstrip("/").lower() in trusted_origins()
    referer = request.headers.get("Referer")
    if referer:
        return _origin_of(referer) in trusted_origins()
    return True


def framed(rv: Any) -> Response:
    """``rv`` as a response that the allowed sites (and this one) may show in a frame."""
    response = make_response(rv)
    ancestors = " ".join(["'self'", *settings()["allowed_origins"]])
    response.headers["Content-Security-Policy"] = FRAME_ANCESTORS.sub(
        f"frame-ancestors {ancestors}", PAGE_CSP
    )
    return response
