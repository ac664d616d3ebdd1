"""Portal accounts: sign-up, password sign-in, emailed single-use links, sign-out, profile."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.db import clock_at, session, utcnow
from frontdesk.models import User
from frontdesk.models.signin import SigninLink
from frontdesk.plugins import hookimpl
from frontdesk.services import get_or_create_customer
from frontdesk.testing.helpers import post_form
from frontdesk.testing.plugin import DEFAULT_PASSWORD

NEW_PASSWORD = "a long new passphrase"


class NoticeBox:
    """Takes every notice (as the email channel would) and keeps it for the test to read."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    @hookimpl(tryfirst=True)
    def deliver_notice(self, recipient, kind, subject, text, url):
        self.sent.append(
            {"to": recipient.email, "kind": kind, "subject": subject, "text": text, "url": url}
        )
        return True

    def last_link_path(self) -> str:
        url = self.sent[-1]["url"]
        return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def notices(plugins) -> NoticeBox:
    return plugins.register(NoticeBox())


class Unreachable:
    """No way to reach anyone: every notice stays undelivered."""

    @hookimpl(tryfirst=True)
    def deliver_notice(self, recipient, kind, subject, text, url):
        return None


def _user(email: str) -> User | None:
    session.rollback()
    return session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def _signed_in_as(client) -> int | None:
    with client.session_transaction() as sess:
        return sess.get("user_id")


# --- Password sign-in and sign-out -----------------------------------------------------------


def test_sign_in_with_password_and_out_again(client, customer):
    form = client.get("/it/portal/signin")
    assert form.status_code == 200
    response = post_form(
        client, "/it/portal/signin", {"email": customer.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/it/portal/requests"
    assert _signed_in_as(client) == customer.id

    response = post_form(client, "/it/portal/signout")
    assert response.headers["Location"] == "/it/portal/"
    assert _signed_in_as(client) is None
    assert client.get("/it/portal/requests").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(client, customer):
    data = {"email": customer.email, "password": DEFAULT_PASSWORD}
    response = post_form(client, "/en/portal/signin", {**data, "next": "/en/portal/profile"})
    assert response.headers["Location"] == "/en/portal/profile"
    post_form(client, "/en/portal/signout")
    response = post_form(client, "/en/portal/signin", {**data, "next": "//evil.test/x"})
    assert response.headers["Location"] == "/en/portal/requests"


def test_a_wrong_password_keeps_the_email_and_says_why(client, customer):
    response = post_form(
        client, "/en/portal/signin", {"email": customer.email, "password": "not it at all"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Wrong email or password." in page
    assert f'value="{customer.email}"' in page
    assert _signed_in_as(client) is None


def test_sign_in_without_the_csrf_token_is_refused(client, customer):
    client.get("/en/portal/signin")
    response = client.post(
        "/en/portal/signin", data={"email": customer.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert _signed_in_as(client) is None


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_SIGNIN_PER_EMAIL": [3, 300]}]
)
def test_password_guessing_is_slowed_down(client, customer):
    for _attempt in range(3):
        post_form(client, "/en/portal/signin", {"email": customer.email, "password": "guess"})
    response = post_form(
        client, "/en/portal/signin", {"email": customer.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert _signed_in_as(client) is None


# --- Sign-up --------------------------------------------------------------------------------


def test_sign_up_confirms_the_address_before_the_account_works(client, notices):
    data = {
        "name": "Zahra Karimi",
        "email": "zahra@customer.test",
        "password": NEW_PASSWORD,
        "language": "fa",
    }
    response = post_form(client, "/en/portal/signup", data)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = _user("zahra@customer.test")
    assert (user.name, user.role, user.language, user.password_hash) == (
        "Zahra Karimi",
        "customer",
        "fa",
        None,
    )
    # The password does not work before the address is confirmed.
    refused = post_form(
        client, "/en/portal/signin", {"email": data["email"], "password": NEW_PASSWORD}
    )
    assert refused.status_code == 401

    [notice] = notices.sent
    assert notice["to"] == "zahra@customer.test" and notice["kind"] == "signin_link"
    assert notice["url"].startswith("http://frontdesk.test/fa/portal/signin/link/")
    link = notices.last_link_path()
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert 'dir="rtl"' in confirm.get_data(as_text=True)
    assert _signed_in_as(client) is None  # opening the link (as mail scanners do) is not using it
    response = post_form(client, link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/fa/portal/requests"
    assert _signed_in_as(client) == user.id

    post_form(client, "/fa/portal/signout")
    again = post_form(
        client, "/en/portal/signin", {"email": data["email"], "password": NEW_PASSWORD}
    )
    assert again.status_code == 302


def test_sign_up_errors_come_back_in_the_pages_language_with_what_was_typed(client, notices):
    data = {"name": "  ", "email": "not-an-address", "password": "short", "language": "ru"}
    response = post_form(client, "/it/portal/signup", {**data, "name": "<b>Ana</b>"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<html lang="it"' in page
    assert 'value="not-an-address"' in page
    assert 'value="&lt;b&gt;Ana&lt;/b&gt;"' in page  # kept, and as text
    assert '<option value="ru" selected>' in page
    assert 'aria-invalid="true"' in page
    response = post_form(client, "/en/portal/signup", data)
    page = response.get_data(as_text=True)
    assert "Please enter your name." in page
    assert "Please enter a valid email address." in page
    assert "The password needs at least 8 characters." in page
    assert notices.sent == []


def test_sign_up_with_a_known_address_answers_the_same_and_mails_a_sign_in_link(
    client, notices, app
):
    known = get_or_create_customer("ana@customer.test", "Ana Popescu")  # from an email ticket
    data = {"name": "Someone", "email": "ANA@customer.test", "password": NEW_PASSWORD}
    known_answer = post_form(client, "/en/portal/signup", {**data, "language": "en"})
    new_answer = post_form(
        client,
        "/en/portal/signup",
        {**data, "email": "brand-new@customer.test", "language": "en"},
    )
    assert known_answer.status_code == new_answer.status_code == 200

    def without_address(response):
        return (
            response.get_data(as_text=True)
            .replace("ANA@customer.test", "X")
            .replace("brand-new@customer.test", "X")
        )

    assert without_address(known_answer) == without_address(new_answer)

    to_known = notices.sent[0]
    assert to_known["to"] == "ana@customer.test"
    assert "sign in" in to_known["text"]
    # The link signs Ana in; the password typed by whoever signed up is not hers.
    post_form(client, _path(to_known["url"]))
    assert _signed_in_as(client) == known.id
    assert _user("ana@customer.test").password_hash is None
    assert _user("ana@customer.test").name == "Ana Popescu"


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_sign_up_as_an_agent_address_sends_no_link(client, notices, agent):
    response = post_form(
        client,
        "/en/portal/signup",
        {"name": "X", "email": agent.email, "password": NEW_PASSWORD, "language": "en"},
    )
    assert response.status_code == 200
    [notice] = notices.sent
    assert notice["kind"] == "account_exists"
    assert notice["url"] == "http://frontdesk.test/signin"
    assert session.scalar(select(func.count(SigninLink.id))) == 0


def test_when_no_mail_can_be_sent_sign_up_says_so_and_creates_nothing(client, plugins):
    plugins.register(Unreachable())
    data = {"name": "Ana", "email": "ana@customer.test", "password": NEW_PASSWORD}
    response = post_form(client, "/en/portal/signup", {**data, "language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "We could not send you an email" in page
    assert 'value="ana@customer.test"' in page
    assert _user("ana@customer.test") is None
    assert session.scalar(select(func.count(SigninLink.id))) == 0


# --- Emailed sign-in links ------------------------------------------------------------------


def _ask_for_link(client, email: str, lang: str = "en") -> Any:
    return post_form(client, f"/{lang}/portal/signin/link", {"email": email})


def test_a_sign_in_link_works_once(client, app, notices):
    customer = get_or_create_customer("ana@customer.test", "Ana", language="ro")
    response = _ask_for_link(client, "ana@customer.test")
    assert response.status_code == 200
    [notice] = notices.sent
    assert notice["url"].startswith("http://frontdesk.test/ro/portal/signin/link/")
    link = _path(notice["url"])
    token = link.rsplit("/", 1)[1]
    stored = session.scalars(select(SigninLink)).one()
    # Only a hash is kept: the database alone signs nobody in.
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(stored.__dict__)

    assert post_form(client, link).headers["Location"] == "/ro/portal/requests"
    assert _signed_in_as(client) == customer.id

    other = app.test_client()
    assert other.get(link).status_code == 410
    used_again = post_form(other, link)
    assert used_again.status_code == 410
    # the link's page is in the customer's language (Romanian)
    assert "Acest link nu poate fi folosit" in used_again.get_data(as_text=True)
    assert _signed_in_as(other) is None


def test_a_sign_in_link_expires(client, notices):
    get_or_create_customer("ana@customer.test", "Ana")
    _ask_for_link(client, "ana@customer.test")
    link = notices.last_link_path()
    with clock_at(utcnow() + timedelta(minutes=31)):
        assert client.get(link).status_code == 410
        assert post_form(client, link).status_code == 410
    assert _signed_in_as(client) is None


@pytest.mark.parametrize("app_config", [{"PORTAL_SIGNIN_LINK_MINUTES": 120}])
def test_the_link_lifetime_is_configurable(client, notices):
    get_or_create_customer("ana@customer.test", "Ana")
    _ask_for_link(client, "ana@customer.test")
    assert "120 minutes" in notices.sent[0]["text"]
    with clock_at(utcnow() + timedelta(minutes=90)):
        assert post_form(client, notices.last_link_path()).status_code == 302


def test_a_wrong_or_damaged_token_signs_nobody_in(client, notices):
    get_or_create_customer("ana@customer.test", "Ana")
    _ask_for_link(client, "ana@customer.test")
    link = notices.last_link_path()
    for wrong in (link[:-1], link + "x", "/en/portal/signin/link/" + "A" * 43, link[:-20]):
        assert post_form(client, wrong).status_code in (404, 410)
    assert _signed_in_as(client) is None
    assert post_form(client, link).status_code == 302  # the real one still works


def test_asking_for_a_link_never_tells_whether_the_address_exists(client, notices, agent):
    get_or_create_customer("ana@customer.test", "Ana")
    answers = [
        _ask_for_link(client, email)
        for email in ("ana@customer.test", "nobody@customer.test", agent.email)
    ]
    assert {a.status_code for a in answers} == {200}
    texts = {
        a.get_data(as_text=True)
        .replace("ana@customer.test", "X")
        .replace("nobody@customer.test", "X")
        .replace(agent.email, "X")
        for a in answers
    }
    assert len(texts) == 1
    assert [n["to"] for n in notices.sent] == ["ana@customer.test"]  # staff use passwords


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_SIGNIN_LINK_PER_EMAIL": [2, 3600]}],
)
def test_sign_in_links_are_rate_limited(client, notices):
    get_or_create_customer("ana@customer.test", "Ana")
    assert _ask_for_link(client, "ana@customer.test").status_code == 200
    assert _ask_for_link(client, "Ana@customer.test").status_code == 200
    response = _ask_for_link(client, "ana@customer.test")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert len(notices.sent) == 2
    signup = post_form(
        client,
        "/en/portal/signup",
        {"name": "Ana", "email": "ana@customer.test", "password": NEW_PASSWORD, "language": "en"},
    )
    assert signup.status_code == 429
    assert len(notices.sent) == 2


# --- Profile --------------------------------------------------------------------------------


def test_changing_the_language_moves_to_the_new_languages_pages(portal_client, customer):
    page = portal_client.get("/en/portal/profile")
    assert page.status_code == 200
    response = post_form(
        portal_client,
        "/en/portal/profile",
        {"form": "profile", "name": "Ana Maria", "language": "it", "timezone": "Europe/Rome"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/it/portal/profile"
    user = _user(customer.email)
    assert (user.name, user.language, user.timezone) == ("Ana Maria", "it", "Europe/Rome")
    # /portal now goes to Italian whatever the browser says.
    assert (
        portal_client.get("/portal", headers={"Accept-Language": "ru"}).headers["Location"]
        == "/it/portal/"
    )


def test_profile_errors_keep_what_was_typed(portal_client):
    response = post_form(
        portal_client,
        "/ru/portal/profile",
        {"form": "profile", "name": "Новое имя", "language": "de", "timezone": "Mars/Base"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<html lang="ru"' in page
    assert 'value="Новое имя"' in page
    assert page.count('class="error"') >= 2


def test_changing_the_password_needs_the_current_one(portal_client, client, customer):
    wrong = post_form(
        portal_client,
        "/en/portal/profile",
        {"form": "password", "current_password": "nope", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "This is not your current password." in wrong.get_data(as_text=True)
    right = post_form(
        portal_client,
        "/en/portal/profile",
        {"form": "password", "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert right.status_code == 302
    assert portal_client.get("/en/portal/profile").status_code == 200  # still signed in here
    signin = post_form(
        client, "/en/portal/signin", {"email": customer.email, "password": NEW_PASSWORD}
    )
    assert signin.status_code == 302


def test_a_customer_known_from_email_sets_a_password_after_a_link(client, notices):
    get_or_create_customer("ana@customer.test", "Ana")
    _ask_for_link(client, "ana@customer.test")
    post_form(client, notices.last_link_path())
    page = client.get("/en/portal/profile").get_data(as_text=True)
    assert "Set a password" in page and "current_password" not in page
    response = post_form(
        client, "/en/portal/profile", {"form": "password", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    post_form(client, "/en/portal/signout")
    signin = post_form(
        client, "/en/portal/signin", {"email": "ana@customer.test", "password": NEW_PASSWORD}
    )
    assert signin.status_code == 302
