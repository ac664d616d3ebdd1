"""Pages speak the visitor's language: catalogs found, plurals right, dates and numbers local."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import render_template_string, request
from flask_babel import force_locale
from frontdesk.cli.i18n import (
    compile_catalogs,
    core_catalogs,
    extract,
    package_catalogs,
    read_catalog,
    update,
)
from frontdesk.i18n import _, format_number, make_gettext, make_ngettext, ngettext
from frontdesk.testing.helpers import login, post_form

SIGN_IN = {"en": "Sign in", "it": "Accedi", "ro": "Autentificare", "ru": "Войти", "fa": "ورود"}
NOTHING_HERE = {"it": "Qui non c'è niente.", "ro": "Aici nu este nimic."}


def test_the_signin_page_speaks_the_browsers_language(client):
    # One client, one app context, five languages: nothing of a request's language sticks.
    for lang, title in SIGN_IN.items():
        page = client.get("/signin", headers={"Accept-Language": f"{lang},en;q=0.5"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "fa" else "ltr"}">' in html
        assert f"<title>{title} · Frontdesk</title>" in html
        assert f'<button type="submit" class="primary">{title}</button>' in html


def test_a_wrong_password_is_refused_in_the_visitors_language(client, customer):
    page = post_form(
        client,
        "/signin",
        {"email": customer.email, "password": "not the password"},
        headers={"Accept-Language": "ru"},
    )
    assert page.status_code == 401
    assert "Неверный адрес электронной почты или пароль." in page.get_data(as_text=True)


def test_an_expired_form_is_explained_in_the_visitors_language(client):
    page = client.post("/signin", data={"csrf_token": "stale"}, headers={"Accept-Language": "it"})
    assert page.status_code == 400
    assert "Il modulo è scaduto. Ricarica la pagina e riprova." in page.get_data(as_text=True)


def test_the_users_preference_beats_the_browser(app, make_customer):
    client = login(app.test_client(), make_customer(language="ro"))
    page = client.get("/no-such-page", headers={"Accept-Language": "it"})
    assert page.status_code == 404
    assert NOTHING_HERE["ro"] in page.get_data(as_text=True)
    anonymous = app.test_client().get("/no-such-page", headers={"Accept-Language": "it"})
    assert NOTHING_HERE["it"] in anonymous.get_data(as_text=True)


def test_python_messages_translate_in_a_request_and_under_force_locale(app):
    with app.test_request_context("/", headers={"Accept-Language": "fa"}):
        assert _("Wrong email or password.") == "ایمیل یا گذرواژه نادرست است."
    # A job has an app context but no request: the language comes from force_locale.
    with force_locale("it"):
        assert _("Wrong email or password.") == "Email o password errata."
    assert _("Wrong email or password.") == "Wrong email or password."  # DEFAULT_LANGUAGE


def test_a_plugins_messages_come_from_its_own_domain(app):
    import frontdesk_email

    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        assert str(frontdesk_email.plugin_info.label) == "Электронная почта"
        # Without a folder, the domain is found through the loaded plugin's package.
        email_gettext, _lazy = make_gettext("email")
        assert email_gettext("Email") == "Электронная почта"
        # The core's catalog does not leak into a plugin's domain and back.
        assert make_gettext("email")[0]("Sign in") == "Sign in"


def test_every_plural_form_is_chosen_by_the_number_in_russian(app):
    plural = [m for m in read_catalog(core_catalogs().po("ru")) if m.pluralizable and m.id]
    assert plural, "the core catalog has no plural message to check"
    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        for message in plural:
            singular, plural_id = message.id
            others = {k: "X" for k in re.findall(r"%\((\w+)\)", singular + plural_id)}
            others.pop("num", None)
            for n, form in ((1, 0), (21, 0), (2, 1), (5, 2), (11, 2), (22, 1)):
                expected = message.string[form] % {"num": n, **others}
                assert ngettext(singular, plural_id, n, **others) == expected, (message.id, n)


def test_a_plugin_gets_plurals_from_its_domain_too(app, tmp_path):
    package = tmp_path / "frontdesk_parcel"
    (package / "translations").mkdir(parents=True)
    (package / "__init__.py").write_text(
        'ngettext("%(num)d parcel", "%(num)d parcels", 3)\n', encoding="utf-8"
    )
    catalogs = package_catalogs("parcel", package)
    extract(catalogs, catalogs.pot)
    update(catalogs, ["ru"])
    po = catalogs.po("ru")
    po.write_text(
        po.read_text("utf-8").replace(
            'msgstr[0] ""\nmsgstr[1] ""\nmsgstr[2] ""',
            'msgstr[0] "%(num)d посылка"\nmsgstr[1] "%(num)d посылки"\nmsgstr[2] "%(num)d посылок"',
        ),
        encoding="utf-8",
    )
    assert compile_catalogs(catalogs, ["ru"]) == {"ru": []}
    parcels = make_ngettext("parcel", str(catalogs.folder))
    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        words = [parcels("%(num)d parcel", "%(num)d parcels", n) for n in (1, 2, 5, 21)]
    assert words == ["1 посылка", "2 посылки", "5 посылок", "21 посылка"]


@pytest.mark.parametrize(
    "language,zone,expected_date,expected_number",
    [
        ("fa", "Asia/Tehran", "۱۷:۳۷", "۱٬۲۳۴٬۵۶۷٫۵"),  # UTC+3:30, Persian digits and separators
        ("ru", "Europe/Moscow", "5 марта 2024 г.", "1 234 567,5"),
        ("it", "Europe/Rome", "5 mar 2024, 15:07", "1.234.567,5"),
        ("en", "America/New_York", "Mar 5, 2024, 9:07", "1,234,567.5"),
    ],
)
def test_dates_and_numbers_follow_the_users_locale_and_time_zone(
    app, make_agent, language, zone, expected_date, expected_number
):
    agent = make_agent(language=language, timezone=zone)
    when = datetime(2024, 3, 5, 14, 7, tzinfo=UTC)
    with app.test_request_context("/desk"):
        request.frontdesk_actor = agent  # what signing in sets on the request
        text = render_template_string(
            "{{ when|datetimeformat('medium') }} | {{ when|dateformat('long') }} | "
            "{{ n|numberformat }}",
            when=when,
            n=1234567.5,
        )
        number = format_number(1234567.5)
    assert number.replace("\xa0", " ").replace("\u202f", " ") == expected_number
    text = re.sub("[\u200e\u200f]", "", text).replace("\xa0", " ").replace("\u202f", " ")
    assert expected_date in text
    assert expected_number in text
    if language == "fa":
        assert not re.search(r"[0-9]", text), text
