"""``frontdesk i18n extract|update|compile [--plugin NAME]``: the gettext catalogs.

The core's catalogs (domain ``messages``) live in the checkout's ``translations/`` and are
extracted with ``translations/babel.cfg``; a plugin's (domain = its name) live in its package's
``translations/`` and are extracted from the package with the project's ``babel.cfg`` when there
is one, else with :data:`PLUGIN_MAPPING`. Everything goes through Babel's API, so the commands
behave the same wherever Frontdesk is installed. Files are rewritten only when something other
than their time stamps changed, so re-running a command leaves version control quiet.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

import click
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from frontdesk.config import DEFAULTS
from frontdesk.i18n import CORE_DOMAIN, PACKAGE_DIR
from frontdesk.plugins import ENTRY_POINT_GROUP

SOURCE_LANGUAGE = "en"
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
COMMENT_TAGS = ("Translators:",)
PLUGIN_MAPPING = "[python: **.py]\n[jinja2: **/templates/**.html]\nsilent = false\n"
# Babel's gettext table gives Persian one form; CLDR says 0 and 1 are "one", the rest "other".
PLURAL_FORMS = {"fa": "nplurals=2; plural=(n > 1);"}
# Lines that change on every run without saying anything about the messages.
_STAMPS = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.MULTILINE)
PO_WIDTH = 100
COPYRIGHT = "Frontdesk contributors"


class CatalogError(click.ClickException):
    """The catalogs cannot be found or a command cannot run on them."""


@dataclass(frozen=True)
class Catalogs:
    """Where one domain's messages come from and where its catalogs go."""

    domain: str
    source: Path  # extraction runs here; the mapping's patterns are relative to it
    folder: Path  # <locale>/LC_MESSAGES/<domain>.po and .mo, and <domain>.pot
    mapping: str  # babel.cfg text
    project: str = "Frontdesk"
    version: str | None = None

    @property
    def pot(self) -> Path:
        return self.folder / f"{self.domain}.pot"

    def po(self, locale: str) -> Path:
        return self.folder / locale / "LC_MESSAGES" / f"{self.domain}.po"

    def mo(self, locale: str) -> Path:
        return self.po(locale).with_suffix(".mo")

    def locales(self) -> list[str]:
        """Languages that have a catalog."""
        return sorted(
            p.parent.parent.name for p in self.folder.glob(f"*/LC_MESSAGES/{self.domain}.po")
        )


def core_catalogs() -> Catalogs:
    """The core's catalogs; extraction needs a source checkout (``translations/babel.cfg``)."""
    root = PACKAGE_DIR.parent.parent
    config = root / "translations" / "babel.cfg"
    if not config.is_file():
        raise CatalogError(
            f"{config} is missing: the core's catalogs are kept in a source checkout"
        )
    from frontdesk import __version__

    return Catalogs(
        CORE_DOMAIN, root, root / "translations", config.read_text("utf-8"), version=__version__
    )


def package_catalogs(
    domain: str, package: Path, project: str | None = None, version: str | None = None
) -> Catalogs:
    """A plugin package's catalogs: ``<package>/translations``, domain ``domain``."""
    config = package.parent / "babel.cfg"
    mapping = config.read_text("utf-8") if config.is_file() else PLUGIN_MAPPING
    return Catalogs(domain, package, package / "translations", mapping, project or domain, version)


def plugin_catalogs(name: str) -> Catalogs:
    """The catalogs of the installed plugin ``name`` (found through its entry point)."""
    installed = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in installed:
        known = ", ".join(sorted(installed)) or "none"
        raise CatalogError(f"no installed plugin is named {name!r} (installed: {known})")
    ep = installed[name]
    spec = importlib.util.find_spec(ep.module.split(".")[0])
    if spec is None or not spec.submodule_search_locations:
        raise CatalogError(f"plugin {name!r}: {ep.module} is not a package with a folder")
    dist = getattr(ep, "dist", None)
    return package_catalogs(
        name,
        Path(next(iter(spec.submodule_search_locations))),
        project=dist.name if dist else None,
        version=dist.version if dist else None,
    )


def plural_forms(locale: str) -> str:
    """The ``Plural-Forms`` header for ``locale``, from Babel's locale data."""
    if locale in PLURAL_FORMS:
        return PLURAL_FORMS[locale]
    return get_plural(locale).plural_forms


def _render_po(catalog: Catalog, *, template: bool = False) -> bytes:
    out = io.BytesIO()
    write_po(
        out,
        catalog,
        width=PO_WIDTH,
        ignore_obsolete=True,
        include_previous=not template,
        include_lineno=False,
    )
    return out.getvalue()


def _write_if_changed(path: Path, data: bytes, *, ignore_stamps: bool = True) -> bool:
    old = path.read_bytes() if path.is_file() else None
    if old is not None and (
        _STAMPS.sub(b"", old) == _STAMPS.sub(b"", data) if ignore_stamps else old == data
    ):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def extract(catalogs: Catalogs, output: Path | None = None) -> Catalog:
    """Every message the sources mark, as a template catalog (written to ``output`` if given)."""
    method_map, options_map = parse_mapping_cfg(io.StringIO(catalogs.mapping))
    tops = {pattern.split("/", 1)[0] for pattern, _method in method_map}
    source = str(catalogs.source)

    def wanted(path: str) -> bool:
        if Path(path).name.startswith((".", "_")):  # .git, .venv, __pycache__
            return False
        # Walk only the folders the patterns start with (not a virtualenv next to them).
        top = Path(path).relative_to(source).parts[0]
        return any("*" in t for t in tops) or top in tops

    template = Catalog(
        project=catalogs.project,
        version=catalogs.version,
        domain=catalogs.domain,
        header_comment=_header(catalogs),
        copyright_holder=COPYRIGHT,
        charset="utf-8",
        fuzzy=False,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        source,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=wanted,
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    if output is not None:
        _write_if_changed(output, _render_po(template, template=True))
    return template


def _header(catalogs: Catalogs) -> str:
    return (
        f"# Translations template for PROJECT (gettext domain {catalogs.domain}).\n"
        "# Kept up to date with `frontdesk i18n extract|update|compile` (docs/i18n.md).\n#"
    )


def _new_catalog(catalogs: Catalogs, locale: str) -> Catalog:
    return Catalog(
        locale=locale,
        domain=catalogs.domain,
        project=catalogs.project,
        version=catalogs.version,
        header_comment=_header(catalogs),
        copyright_holder=COPYRIGHT,
        last_translator=COPYRIGHT,
        language_team=Locale.parse(locale).english_name,
        revision_date=datetime.now(UTC),
        charset="utf-8",
        fuzzy=False,
    )


def update(catalogs: Catalogs, locales: Iterable[str]) -> dict[str, bool]:
    """Merge the template into each locale's catalog (starting missing ones); ``{locale: written}``.

    English is the source language: its empty entries are filled with the message itself, so
    its catalog is complete and a wording fix needs no code change.
    """
    if not catalogs.pot.is_file():
        raise CatalogError(f"{catalogs.pot} is missing: run `frontdesk i18n extract` first")
    written = {}
    for locale in locales:
        # Read afresh for each language: Catalog.update() adopts the template's message objects.
        with catalogs.pot.open("rb") as fh:
            template = read_po(fh, domain=catalogs.domain)
        path = catalogs.po(locale)
        if path.is_file():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale, domain=catalogs.domain)
        else:
            catalog = _new_catalog(catalogs, locale)
        catalog.mime_headers = [("Plural-Forms", plural_forms(locale))]
        source = locale == SOURCE_LANGUAGE
        # A similar old message is a useful suggestion to a translator, never to the source.
        catalog.update(template, no_fuzzy_matching=source)
        if source:
            for message in catalog:
                if message.id and not any(_strings(message)):
                    message.string = message.id
        written[locale] = _write_if_changed(path, _render_po(catalog))
    return written


def _strings(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (list, tuple)) else (string,)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=path.parent.parent.name, domain=path.stem)


def compiled(catalog: Catalog) -> bytes:
    """The ``.mo`` bytes of ``catalog`` (fuzzy entries left out, as gettext expects)."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def problems(catalog: Catalog) -> list[str]:
    """What keeps ``catalog`` from being complete: untranslated, fuzzy and malformed entries."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = _strings(message)
        if message.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif not all(strings) or (message.pluralizable and len(strings) < catalog.num_plurals):
            found.append(f"untranslated: {message.id!r}")
    found += [f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors]
    return found


def compile_catalogs(catalogs: Catalogs, locales: Iterable[str]) -> dict[str, list[str]]:
    """Write each locale's ``.mo``; ``{locale: problems}`` (incomplete ones are compiled too)."""
    report = {}
    for locale in locales:
        catalog = read_catalog(catalogs.po(locale))
        _write_if_changed(catalogs.mo(locale), compiled(catalog), ignore_stamps=False)
        report[locale] = problems(catalog)
    return report


# --- Commands ---------------------------------------------------------------------------------

plugin_option = click.option(
    "--plugin",
    "plugin",
    metavar="NAME",
    help="An installed plugin's catalogs (its domain is its name) instead of the core's.",
)


def _selected(plugin: str | None) -> Catalogs:
    return plugin_catalogs(plugin) if plugin else core_catalogs()


@click.group("i18n")
def i18n() -> None:
    """Extract, update and compile the gettext catalogs (the core's or a plugin's)."""


@i18n.command("extract")
@plugin_option
def extract_cmd(plugin: str | None) -> None:
    """Collect the marked messages into <domain>.pot."""
    catalogs = _selected(plugin)
    template = extract(catalogs, catalogs.pot)
    click.echo(f"{len(template)} messages in {catalogs.pot}")


@i18n.command("update")
@plugin_option
@click.option(
    "--locale",
    "-l",
    "new_locales",
    multiple=True,
    metavar="CODE",
    help="Also start a catalog for this language (repeatable).",
)
def update_cmd(plugin: str | None, new_locales: tuple[str, ...]) -> None:
    """Merge <domain>.pot into every language's catalog (and start missing ones)."""
    catalogs = _selected(plugin)
    locales = sorted({*catalogs.locales(), *DEFAULTS["LANGUAGES"], *new_locales})
    for locale, written in update(catalogs, locales).items():
        click.echo(f"{locale}: {'updated' if written else 'unchanged'} {catalogs.po(locale)}")


@i18n.command("compile")
@plugin_option
def compile_cmd(plugin: str | None) -> None:
    """Compile every catalog to .mo; fails when one has untranslated or fuzzy entries."""
    catalogs = _selected(plugin)
    report = compile_catalogs(catalogs, catalogs.locales())
    for locale, found in report.items():
        click.echo(f"{locale}: {'complete' if not found else f'{len(found)} to do'}")
        for problem in found:
            click.echo(f"  {problem}", err=True)
    if any(report.values()):
        raise click.ClickException("some catalogs are incomplete (compiled anyway)")


COMMANDS = [i18n]
