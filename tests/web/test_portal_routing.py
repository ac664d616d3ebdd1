"""Portal URLs: every page under a configured language, ``/portal`` sent to the right one."""

from __future__ import annotations

import pytest
from flask import Blueprint

from frontdesk.auth import access
from frontdesk.services import update_user
from frontdesk.testing.helpers import login


def test_portal_pages_live_under_a_configured_language(client):
    for lang in ("en", "it", "ro", "ru", "fa"):
        page = client.get(f"/{lang}/portal/")
        assert page.status_code == 200
        assert f'<html lang="{lang}"' in page.get_data(as_text=True)


def test_a_language_not_configured_is_not_found(client, portal_client):
    assert client.get("/de/portal/").status_code == 404
    assert client.get("/xx/portal/signin").status_code == 404
    assert portal_client.get("/de/portal/requests").status_code == 404


def test_persian_pages_read_right_to_left(client):
    page = client.get("/fa/portal/").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert 'dir="ltr"' in client.get("/it/portal/").get_data(as_text=True)


def test_portal_without_language_follows_the_browser(client):
    response = client.get("/portal", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/ru/portal/"
    response = client.get("/portal/", headers={"Accept-Language": "fa"})
    assert response.headers["Location"] == "/fa/portal/"
    # No language we offer: the default.
    response = client.get("/portal", headers={"Accept-Language": "ja"})
    assert response.headers["Location"] == "/en/portal/"


def test_portal_paths_keep_their_page_and_query(client):
    response = client.get("/portal/requests?state=open", headers={"Accept-Language": "it"})
    assert response.headers["Location"] == "/it/portal/requests?state=open"


def test_the_customers_preference_wins_over_the_browser(app, customer, portal_client):
    update_user(customer, language="ro")
    response = portal_client.get("/portal/requests", headers={"Accept-Language": "ru"})
    assert response.headers["Location"] == "/ro/portal/requests"


def test_the_url_language_wins_over_the_preference(app, customer, portal_client):
    update_user(customer, language="ro")
    page = portal_client.get("/it/portal/requests").get_data(as_text=True)
    assert '<html lang="it"' in page
    assert 'href="/it/portal/profile"' in page  # links stay in the page's language


def test_links_without_a_language_take_the_pages(client):
    page = client.get("/ru/portal/").get_data(as_text=True)
    assert 'href="/ru/portal/signin"' in page
    assert 'href="/ru/portal/signup"' in page
    # The language switch points at the same page in each language.
    assert 'href="/fa/portal/"' in page and 'href="/it/portal/"' in page


def test_anonymous_visitors_of_customer_pages_sign_in_first(client):
    response = client.get("/it/portal/requests?state=open")
    assert response.status_code == 302
    assert response.headers["Location"] == "/it/portal/signin?next=/it/portal/requests?state%3Dopen"


def test_the_home_page_offers_ways_in_or_the_customers_requests(
    client, portal_client, make_ticket, customer
):
    anonymous = client.get("/en/portal/").get_data(as_text=True)
    assert "Create an account" in anonymous and "Sign in" in anonymous
    make_ticket(customer=customer, subject="Printer jams every morning")
    signed_in = portal_client.get("/en/portal/").get_data(as_text=True)
    assert "Printer jams every morning" in signed_in
    assert "Create an account" not in signed_in
    assert "Sign out" in signed_in


@pytest.mark.parametrize("app_config", [{"SAFE_MODE": True}])
def test_no_new_request_link_without_the_web_form(client):
    page = client.get("/en/portal/").get_data(as_text=True)
    assert page.count("New request") == 0


@pytest.mark.parametrize("app_config", [{"SAFE_MODE": True}])
def test_new_request_link_goes_to_the_web_form_in_the_pages_language(app, client):
    webform = Blueprint("webform", __name__)

    @webform.get("/<locale>/portal/new")
    @access("public")
    def new(locale):
        return "form"

    app.register_blueprint(webform)
    page = client.get("/fa/portal/").get_data(as_text=True)
    assert 'href="/fa/portal/new"' in page


def test_staff_see_only_what_they_asked_for_in_the_portal(app, make_agent, make_ticket):
    agent = make_agent()
    make_ticket(subject="Ticket of a customer, in no queue")
    own = make_ticket(customer=agent, subject="Question the agent asked")
    client = login(app.test_client(), agent)
    page = client.get("/en/portal/requests").get_data(as_text=True)
    assert own.subject in page
    assert "Ticket of a customer" not in page
