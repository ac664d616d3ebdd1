"""``frontdesk i18n extract|update|compile --plugin NAME`` on a plugin installed for the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from click.testing import CliRunner
from frontdesk.cli import main
from frontdesk.cli.i18n import read_catalog

PLUGIN_CODE = """
from .i18n import _, _l, ngettext

LABEL = _l("Parcel tracking")


def summary(count):
    return ngettext("%(num)d parcel on its way", "%(num)d parcels on their way", count)
"""
TEMPLATE = """<h2>{{ _("Deliveries") }}</h2>
<p>{{ ngettext("%(num)d stop", "%(num)d stops", stops) }}</p>
"""


@pytest.fixture
def parcel(tmp_path, monkeypatch):
    """An installed plugin ``parcel`` (package frontdesk_parcel) with Python and template text."""
    site = tmp_path / "site"
    package = site / "frontdesk_parcel"
    (package / "templates" / "parcel").mkdir(parents=True)
    (package / "__init__.py").write_text(PLUGIN_CODE, encoding="utf-8")
    (package / "i18n.py").write_text("", encoding="utf-8")
    (package / "templates" / "parcel" / "panel.html").write_text(TEMPLATE, encoding="utf-8")
    dist = site / "frontdesk_parcel-1.2.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: frontdesk-parcel\nVersion: 1.2\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[frontdesk.plugins]\nparcel = frontdesk_parcel\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    return package / "translations"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["i18n", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_extract_update_compile_a_plugins_catalogs(parcel):
    code, out = run("extract", "--plugin", "parcel")
    assert code == 0, out
    assert "4 messages" in out
    pot = (parcel / "parcel.pot").read_text("utf-8")
    assert 'msgid "Parcel tracking"' in pot and 'msgid "Deliveries"' in pot
    assert 'msgid_plural "%(num)d stops"' in pot
    assert "Project-Id-Version: frontdesk-parcel 1.2" in pot

    code, out = run("update", "--plugin", "parcel")
    assert code == 0, out
    assert sorted(p.parent.parent.name for p in parcel.glob("*/LC_MESSAGES/parcel.po")) == [
        "en",
        "fa",
        "it",
        "ro",
        "ru",
    ]
    ru = read_catalog(parcel / "ru" / "LC_MESSAGES" / "parcel.po")
    assert ru.num_plurals == 3
    assert read_catalog(parcel / "fa" / "LC_MESSAGES" / "parcel.po").num_plurals == 2
    english = read_catalog(parcel / "en" / "LC_MESSAGES" / "parcel.po")
    assert english["Deliveries"].string == "Deliveries"  # the source language is complete

    code, out = run("compile", "--plugin", "parcel")
    assert code == 1
    assert "en: complete" in out and "ru: 4 to do" in out
    assert "untranslated: 'Deliveries'" in out

    po = parcel / "ru" / "LC_MESSAGES" / "parcel.po"
    po.write_text(
        po.read_text("utf-8")
        .replace('msgid "Deliveries"\nmsgstr ""', 'msgid "Deliveries"\nmsgstr "Доставки"')
        .replace(
            'msgid "Parcel tracking"\nmsgstr ""', 'msgid "Parcel tracking"\nmsgstr "Отслеживание"'
        ),
        encoding="utf-8",
    )
    run("compile", "--plugin", "parcel")
    with (parcel / "ru" / "LC_MESSAGES" / "parcel.mo").open("rb") as fh:
        compiled = read_mo(fh)
    assert compiled["Deliveries"].string == "Доставки"


def test_a_changed_message_turns_fuzzy_and_stays_out_of_the_compiled_catalog(parcel):
    run("extract", "--plugin", "parcel")
    run("update", "--plugin", "parcel")
    po = parcel / "it" / "LC_MESSAGES" / "parcel.po"
    po.write_text(
        po.read_text("utf-8").replace(
            'msgid "Deliveries"\nmsgstr ""', 'msgid "Deliveries"\nmsgstr "Consegne"'
        ),
        encoding="utf-8",
    )
    panel = parcel.parent / "templates" / "parcel" / "panel.html"
    panel.write_text(TEMPLATE.replace("Deliveries", "Deliveries today"), encoding="utf-8")
    run("extract", "--plugin", "parcel")
    run("update", "--plugin", "parcel")

    catalog = read_catalog(po)
    assert "Deliveries" not in catalog  # gone from the code, gone from the catalog
    assert catalog["Deliveries today"].fuzzy
    assert catalog["Deliveries today"].string == "Consegne"
    code, out = run("compile", "--plugin", "parcel")
    assert code == 1 and "fuzzy: 'Deliveries today'" in out
    with po.with_suffix(".mo").open("rb") as fh:
        assert "Deliveries today" not in read_mo(fh)


def test_running_again_changes_no_file(parcel):
    for command in ("extract", "update", "compile"):
        run(command, "--plugin", "parcel")
    before = {p: p.read_bytes() for p in parcel.rglob("*") if p.is_file()}
    for command in ("extract", "update", "compile"):
        run(command, "--plugin", "parcel")
    assert {p: p.read_bytes() for p in parcel.rglob("*") if p.is_file()} == before


def test_a_new_language_can_be_started(parcel):
    run("extract", "--plugin", "parcel")
    code, out = run("update", "--plugin", "parcel", "--locale", "de")
    assert code == 0, out
    german = read_catalog(parcel / "de" / "LC_MESSAGES" / "parcel.po")
    assert german.locale_identifier == "de" and "Deliveries" in german


def test_an_unknown_plugin_is_named_with_the_installed_ones(parcel):
    code, out = run("extract", "--plugin", "parcle")
    assert code != 0
    assert "no installed plugin is named 'parcle'" in out and "parcel" in out


def test_update_before_extract_says_what_to_run(parcel):
    code, out = run("update", "--plugin", "parcel")
    assert code != 0 and "run `frontdesk i18n extract` first" in out
    assert not Path(parcel / "en").exists()
