"""The catalogs are complete and in step with the code: the core's and each first-party plugin's.

A new or changed message fails here until `frontdesk i18n extract`, `update` (with the
translations filled in) and `compile` have run; see docs/i18n.md.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pytest
from frontdesk.cli.i18n import (
    Catalogs,
    compiled,
    core_catalogs,
    extract,
    package_catalogs,
    plural_forms,
    problems,
    read_catalog,
)
from frontdesk.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = DEFAULTS["LANGUAGES"]
FIX = "run `frontdesk i18n extract{flag}` and `update{flag}`, translate, then `compile{flag}`"


def first_party_catalogs() -> list[Catalogs]:
    """The core's catalogs and those of every plugin project in channels/ and plugins/."""
    found = [core_catalogs()]
    for pyproject in sorted(
        [*ROOT.glob("channels/*/pyproject.toml"), *ROOT.glob("plugins/*/pyproject.toml")]
    ):
        project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
        entry_points = project.get("entry-points", {}).get("frontdesk.plugins", {})
        for name, target in entry_points.items():
            package = pyproject.parent / target.split(":")[0].split(".")[0]
            found.append(package_catalogs(name, package, project["name"], project.get("version")))
    return found


CATALOGS = first_party_catalogs()


def _id(catalogs: Catalogs) -> str:
    return catalogs.domain


@functools.cache
def marked_messages(domain: str) -> frozenset[object]:
    catalogs = next(c for c in CATALOGS if c.domain == domain)
    return frozenset(m.id for m in extract(catalogs) if m.id)


def _hint(catalogs: Catalogs) -> str:
    return FIX.format(flag="" if catalogs.domain == "messages" else f" --plugin {catalogs.domain}")


def _catalog_files() -> list[tuple[Catalogs, str]]:
    return [(c, locale) for c in CATALOGS for locale in c.locales()]


@pytest.mark.parametrize("catalogs", CATALOGS, ids=_id)
def test_every_interface_language_has_a_catalog_where_messages_are_marked(catalogs):
    if not marked_messages(catalogs.domain):
        # Nothing to translate: then there must be no catalogs to keep up to date either.
        assert not catalogs.locales(), f"{catalogs.domain} marks no messages but has catalogs"
        return
    missing = sorted(set(LANGUAGES) - set(catalogs.locales()))
    assert not missing, f"{catalogs.domain}: no catalog for {missing}; {_hint(catalogs)}"


@pytest.mark.parametrize("catalogs", CATALOGS, ids=_id)
def test_the_template_and_the_catalogs_hold_exactly_the_marked_messages(catalogs, tmp_path):
    marked = marked_messages(catalogs.domain)
    fresh = extract(catalogs, tmp_path / "fresh.pot")  # what a run of `extract` would write
    assert {m.id for m in fresh if m.id} == marked
    for locale in catalogs.locales():
        ids = {m.id for m in read_catalog(catalogs.po(locale)) if m.id}
        assert not marked - ids, (
            f"{locale}: missing {sorted(map(str, marked - ids))}; {_hint(catalogs)}"
        )
        assert not ids - marked, f"{locale}: no longer in the code {sorted(map(str, ids - marked))}"


@pytest.mark.parametrize(
    "catalogs,locale", _catalog_files(), ids=[f"{c.domain}-{loc}" for c, loc in _catalog_files()]
)
def test_the_catalog_has_no_untranslated_or_fuzzy_entry(catalogs, locale):
    found = problems(read_catalog(catalogs.po(locale)))
    assert not found, (
        f"{catalogs.po(locale)}:\n  "
        + "\n  ".join(found[:40])
        + (f"\n  ... {len(found) - 40} more" if len(found) > 40 else "")
    )


@pytest.mark.parametrize(
    "catalogs,locale", _catalog_files(), ids=[f"{c.domain}-{loc}" for c, loc in _catalog_files()]
)
def test_the_compiled_catalog_matches_its_source(catalogs, locale):
    mo = catalogs.mo(locale)
    assert mo.is_file(), f"{mo} is missing; {_hint(catalogs)}"
    assert mo.read_bytes() == compiled(read_catalog(catalogs.po(locale))), (
        f"{mo} is older than its .po; run `frontdesk i18n compile`"
    )


@pytest.mark.parametrize(
    "catalogs,locale", _catalog_files(), ids=[f"{c.domain}-{loc}" for c, loc in _catalog_files()]
)
def test_plural_forms_follow_the_language(catalogs, locale):
    catalog = read_catalog(catalogs.po(locale))
    assert catalog.plural_forms == plural_forms(locale)
    expected = {"en": 2, "it": 2, "ro": 3, "ru": 3, "fa": 2}
    if locale in expected:
        assert catalog.num_plurals == expected[locale]


def test_a_catalog_with_a_gap_or_a_fuzzy_entry_is_reported(tmp_path):
    po = tmp_path / "ru" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: ru\\n"\n'
        f'"Plural-Forms: {plural_forms("ru")}\\n"\n\n'
        'msgid "Saved"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Sent"\nmsgstr "Отправлено"\n\n'
        'msgid "%(num)d ticket"\nmsgid_plural "%(num)d tickets"\n'
        'msgstr[0] "%(num)d заявка"\nmsgstr[1] "%(num)d заявки"\nmsgstr[2] ""\n\n'
        '#, python-format\nmsgid "Hello %(name)s"\nmsgstr "Привет %(who)s"\n',
        encoding="utf-8",
    )
    found = problems(read_catalog(po))
    assert "untranslated: 'Saved'" in found
    assert "fuzzy: 'Sent'" in found
    assert "untranslated: ('%(num)d ticket', '%(num)d tickets')" in found
    assert any(p.startswith("'Hello %(name)s'") for p in found), found
