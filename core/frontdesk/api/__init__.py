"""The REST API under ``/api/v1``: JSON in and out, OpenAPI 3 at ``/api/v1/openapi.json``.

Callers authenticate with ``Authorization: Bearer fdt_...`` (API tokens) or the web UI's session
cookie; cookie-authenticated writes must send ``X-Requested-With: frontdesk``. Every error is an
``application/problem+json`` document with a field-level ``errors`` map.

The package itself imports nothing heavy: the desk's pages share its query and pagination
modules, and a job worker, which mounts no API, must not load flask-smorest and apispec for them.
:mod:`frontdesk.api.setup` builds the API.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_api(app: Flask) -> None:
    """Mount the REST API and its OpenAPI document on ``app``."""
    from frontdesk.api.setup import init_api as mount

    mount(app)


def __getattr__(name: str) -> Any:
    if name == "BLUEPRINTS":
        from frontdesk.api.setup import BLUEPRINTS

        return BLUEPRINTS
    raise AttributeError(name)
