"""Frontdesk: a plugin-based helpdesk framework."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("frontdesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from frontdesk.app import create_app  # noqa: E402

__all__ = ["__version__", "create_app"]
