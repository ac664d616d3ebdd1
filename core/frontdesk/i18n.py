"""Translation helpers (public API): ``make_gettext(domain)`` gives a plugin its ``_`` and ``_l``.

Each plugin has its own gettext domain (its name); the core's domain is ``messages``. Outside a
request (startup, CLI) lazy strings render in the default language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import has_request_context
from flask_babel import Domain, LazyString


def make_gettext(domain: str = "messages", translation_directories: Any = None) -> tuple[Callable[..., str], Callable[..., LazyString]]:
    """Return ``(_, _l)``: immediate and lazy gettext bound to ``domain``."""
    dom = Domain(translation_directories=translation_directories, domain=domain) if translation_directories else Domain(domain=domain)

    def gettext(string: str, **variables: Any) -> str:
        if not has_request_context():
            return string % variables if variables else string
        return dom.gettext(string, **variables)

    def lazy_gettext(string: str, **variables: Any) -> LazyString:
        return LazyString(gettext, string, **variables)

    return gettext, lazy_gettext


_, _l = make_gettext()

__all__ = ["_", "_l", "make_gettext"]
