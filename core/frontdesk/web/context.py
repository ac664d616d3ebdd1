"""What every page template can use: slots, navigation, CSRF, theme assets, locale facts."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from frontdesk.auth import current_actor
from frontdesk.web.security import csrf_token

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
LANGUAGE_NAMES = {
    "en": "English",
    "it": "Italiano",
    "ro": "Română",
    "ru": "Русский",
    "fa": "فارسی",
}


def _hook() -> Any:
    return current_app.extensions["frontdesk"].hook


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else current_app.config["DEFAULT_LANGUAGE"]


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def slot(name: str, **context: Any) -> Markup:
    """The markup the plugins contribute at template slot ``name`` (text is escaped)."""
    parts = _hook().template_slot(name=name, context=context)
    return Markup("").join(escape(p) for p in parts if p)


def nav(area: str) -> list[dict[str, Any]]:
    """Navigation entries of ``area`` for the current user, ordered, with their URLs."""
    items = [item for group in _hook().nav_items(area=area, actor=current_actor()) for item in group or ()]
    entries = []
    for item in sorted(items, key=lambda i: (i.order, i.key)):
        try:
            url = url_for(item.endpoint)
        except BuildError:
            continue  # the page needs arguments or its plugin is disabled: not a nav target
        entries.append(
            {
                "key": item.key,
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": request.endpoint == item.endpoint,
            }
        )
    return entries


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % csrf_token()


def theme_url(filename: str) -> str:
    """URL of a static file of the active theme (or the nearest parent that has it)."""
    return url_for("themes.static", filename=filename)


def asset_urls(area: str) -> list[str]:
    return [url for group in _hook().asset_urls(area=area) for url in group or ()]


def template_globals() -> dict[str, Any]:
    language = current_language() if request else current_app.config["DEFAULT_LANGUAGE"]
    extra: dict[str, Any] = {}
    for contribution in _hook().template_context():
        extra.update(contribution or {})
    return {
        "current_user": current_actor() if request else None,
        "lang": language,
        "text_dir": text_direction(language),
        "languages": [
            {"code": code, "name": LANGUAGE_NAMES.get(code, code)}
            for code in current_app.config["LANGUAGES"]
        ],
        **extra,
    }


def init_context(app: Flask) -> None:
    app.jinja_env.globals.update(
        slot=slot,
        nav=nav,
        csrf_field=csrf_field,
        csrf_token=csrf_token,
        theme_url=theme_url,
        asset_urls=asset_urls,
    )
    app.context_processor(template_globals)
