"""The web-form plugin's gettext domain ("webform"), for Python code and for its templates.

Catalogs live in ``translations/<locale>/LC_MESSAGES/webform.po`` (compiled to ``.mo``) beside
this module. The plugin's templates extend the portal's layout, whose strings belong to the
core's domain; the templates' ``_`` and ``ngettext`` therefore answer from this domain's catalog
when it has the message and leave every other message to the core's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_babel
from flask_babel import Domain

from frontdesk.i18n import make_gettext

TRANSLATIONS = str(Path(__file__).parent / "translations")

_, _l = make_gettext("webform", TRANSLATIONS)
_catalog = Domain(translation_directories=TRANSLATIONS, domain="webform")


def template_gettext(string: str, **variables: Any) -> str:
    """``_`` in the plugin's templates: this domain's message, else the core's."""
    text = _catalog.get_translations().ugettext(string)
    if text == string:  # not in this domain's catalog
        return flask_babel.gettext(string, **variables)
    return text % variables if variables else text


def template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """``ngettext`` in the plugin's templates, with the fallback of :func:`template_gettext`."""
    text = _catalog.get_translations().ungettext(singular, plural, num)
    if text == (singular if num == 1 else plural):
        return flask_babel.ngettext(singular, plural, num, **variables)
    return text % {"num": num, **variables}


def template_functions() -> dict[str, Any]:
    return {"_": template_gettext, "gettext": template_gettext, "ngettext": template_ngettext}
