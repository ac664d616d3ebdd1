"""Translation and locale formatting (public API).

``make_gettext(domain)`` gives a plugin its ``_`` and ``_l``; the core's domain is ``messages``
and its catalogs are the project's ``translations/`` folder (``frontdesk/translations`` inside
the wheel). A plugin's domain is its name; its catalogs are ``<package>/translations`` unless it
passes another folder. Outside an app context (imports, plain scripts) text stays English;
inside one without a request (jobs, CLI) it is in ``DEFAULT_LANGUAGE`` unless
``flask_babel.force_locale`` says otherwise.

The ``format_*`` functions (also the template filters ``datetimeformat``, ``numberformat`` ...)
format in the user's locale and time zone, with the locale's own digits (Persian: ۱۲۳).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask_babel
from babel import Locale, numbers
from flask import Flask, current_app, has_app_context, has_request_context
from flask_babel import Babel, Domain, LazyString, get_locale

CORE_DOMAIN = "messages"
PACKAGE_DIR = Path(__file__).resolve().parent

# CLDR names the digits a locale writes by default; Babel knows the name but not the digits.
NATIVE_DIGITS = {"arab": "٠١٢٣٤٥٦٧٨٩", "arabext": "۰۱۲۳۴۵۶۷۸۹"}


def core_translations_dir() -> Path:
    """The core's catalogs: packaged inside the wheel, else the source checkout's."""
    packaged = PACKAGE_DIR / "translations"
    checkout = PACKAGE_DIR.parent.parent / "translations"
    return packaged if packaged.is_dir() else checkout


def plugin_translation_dirs(app: Flask) -> dict[str, str]:
    """``{plugin name: its package's translations folder}`` for the app's loaded plugins."""
    found: dict[str, str] = {}
    for name, plugin in app.extensions["frontdesk.registry"].plugins.items():
        if plugin.builtin or not plugin.package_root:
            continue
        try:
            spec = importlib.util.find_spec(plugin.package_root)
        except (ImportError, ValueError):  # an object registered in a test, not a package
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(location) / "translations"
            if folder.is_dir():
                found[name] = str(folder)
                break
    return found


class _PluginDomain(Domain):
    """A gettext domain whose catalogs default to the plugin's package (found through the app)."""

    @property
    def translation_directories(self) -> list[str]:
        if self._translation_directories is not None:
            return self._translation_directories
        folder = plugin_translation_dirs(current_app).get(self.domain[0])
        return [folder] if folder else []


def _domain_for(domain: str, translation_directories: Any) -> Callable[[], Domain]:
    if domain == CORE_DOMAIN and translation_directories is None:
        # The same object the templates' gettext uses, so both share one catalog cache.
        return flask_babel.get_domain
    dom = _PluginDomain(translation_directories=translation_directories, domain=domain)
    return lambda: dom


def make_gettext(
    domain: str = CORE_DOMAIN, translation_directories: str | list[str] | None = None
) -> tuple[Callable[..., str], Callable[..., LazyString]]:
    """Return ``(_, _l)``: immediate and lazy gettext bound to ``domain``."""
    get_domain = _domain_for(domain, translation_directories)

    def gettext(string: str, **variables: Any) -> str:
        if not has_app_context():
            return string % variables if variables else string
        return get_domain().gettext(string, **variables)

    def lazy_gettext(string: str, **variables: Any) -> LazyString:
        return LazyString(gettext, string, **variables)

    return gettext, lazy_gettext


def make_ngettext(
    domain: str = CORE_DOMAIN, translation_directories: str | list[str] | None = None
) -> Callable[..., str]:
    """Return ``ngettext(singular, plural, num, **variables)`` bound to ``domain``.

    ``%(num)d`` in the message is ``num``; the catalog picks the plural form for the language.
    """
    get_domain = _domain_for(domain, translation_directories)

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        if not has_app_context():
            variables.setdefault("num", num)
            return (singular if num == 1 else plural) % variables
        return get_domain().ngettext(singular, plural, num, **variables)

    return ngettext


_, _l = make_gettext()
ngettext = make_ngettext()


# --- Formatting in the user's locale ----------------------------------------------------------


def localize_digits(text: str, locale: Locale | str | None = None) -> str:
    """``text`` with ASCII digits written in the locale's own digits (Persian ۰-۹)."""
    if locale is None:
        locale = get_locale() if has_app_context() else None
    if locale is None:
        return text
    digits = NATIVE_DIGITS.get(Locale.parse(locale).default_numbering_system)
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


def _native(format_function: Callable[..., str]) -> Callable[..., str]:
    def wrapper(*args: Any, **kwargs: Any) -> str:
        return localize_digits(format_function(*args, **kwargs))

    wrapper.__name__ = format_function.__name__
    wrapper.__doc__ = format_function.__doc__
    return wrapper


def _number_locale() -> Locale:
    return get_locale() or Locale.parse(current_app.config["DEFAULT_LANGUAGE"])


def format_number(number: Any) -> str:
    """``number`` with the locale's grouping, separators and digits."""
    return format_decimal(number)


def format_decimal(number: Any, format: str | None = None) -> str:
    locale = _number_locale()
    text = numbers.format_decimal(number, format=format, locale=locale, numbering_system="default")
    return localize_digits(text, locale)


def format_percent(number: Any, format: str | None = None) -> str:
    locale = _number_locale()
    text = numbers.format_percent(number, format=format, locale=locale, numbering_system="default")
    return localize_digits(text, locale)


def format_currency(number: Any, currency: str, format: str | None = None) -> str:
    locale = _number_locale()
    text = numbers.format_currency(
        number, currency, format=format, locale=locale, numbering_system="default"
    )
    return localize_digits(text, locale)


format_datetime = _native(flask_babel.format_datetime)
format_date = _native(flask_babel.format_date)
format_time = _native(flask_babel.format_time)
format_timedelta = _native(flask_babel.format_timedelta)

FILTERS = {
    "datetimeformat": format_datetime,
    "dateformat": format_date,
    "timeformat": format_time,
    "timedeltaformat": format_timedelta,
    "numberformat": format_number,
    "decimalformat": format_decimal,
    "currencyformat": format_currency,
    "percentformat": format_percent,
}


def init_i18n(
    app: Flask,
    locale_selector: Callable[[], str | None],
    timezone_selector: Callable[[], str | None],
) -> None:
    """Set Flask-Babel up: the core's catalogs, defaults from the config, the format filters."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(core_translations_dir())
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LANGUAGE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config.get("DEFAULT_TIMEZONE") or "UTC"

    def timezone() -> str | None:
        # Jobs format dates too; without a request there is no user whose zone to use.
        return timezone_selector() if has_request_context() else None

    Babel(app, locale_selector=locale_selector, timezone_selector=timezone)
    app.jinja_env.filters.update(FILTERS)

    # Flask-Babel caches the locale and time zone on ``g``; an app context that outlives a
    # request (tests, a worker handling several) must not pass one request's language on.
    app.before_request(flask_babel.refresh)
    app.teardown_request(lambda _exc: flask_babel.refresh())


__all__ = [
    "CORE_DOMAIN",
    "_",
    "_l",
    "core_translations_dir",
    "format_currency",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_percent",
    "format_time",
    "format_timedelta",
    "init_i18n",
    "localize_digits",
    "make_gettext",
    "make_ngettext",
    "ngettext",
]
