"""The embeddable form: framed only by allowed sites, posted only from them, own token only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frontdesk_webform.models import Submission

EMBED = "/en/portal/webform/embed"
SHOP = "https://shop.example"
OURS = "http://frontdesk.test"
ALLOW_SHOP = {"PLUGINS_CONFIG": {"webform": {"allowed_origins": [SHOP + "/"]}}}


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(Submission))


def post_embedded(client, form_token, data, **headers):
    """Send the embedded form as a browser in a third-party frame does: no session cookie."""
    token = form_token(client, EMBED)
    client.delete_cookie("session", domain="frontdesk.test")
    assert client.get_cookie("session", domain="frontdesk.test") is None
    return client.post(EMBED, data={"form_token": token, **data}, headers=headers)


@pytest.mark.parametrize("app_config", [ALLOW_SHOP])
def test_allowed_sites_may_frame_the_form(client):
    response = client.get(EMBED)
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {SHOP};" in policy + ";"
    assert "script-src 'self'" in policy, "the rest of the page policy stays"
    page = response.get_data(as_text=True)
    assert 'name="csrf_token"' not in page, "the frame has no session: its own token protects it"
    assert 'class="portal webform-embed"' in page
    assert 'class="topbar' not in page, "no portal navigation inside another site"


def test_without_allowed_origins_only_this_site_may_frame_it(client):
    policy = client.get(EMBED).headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "shop.example" not in policy


def test_other_pages_keep_the_default_frame_policy(client):
    assert (
        "frame-ancestors 'self'"
        in client.get("/en/portal/webform/new").headers["Content-Security-Policy"]
    )


@pytest.mark.parametrize("app_config", [ALLOW_SHOP])
def test_the_frame_sends_a_request_without_a_session(client, notices, form_token, request_data, db):
    response = post_embedded(client, form_token, request_data(), Origin=OURS)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "Check your email" in response.get_data(as_text=True)
    assert f"frame-ancestors 'self' {SHOP}" in response.headers["Content-Security-Policy"]
    assert count(db) == 1
    assert notices.sent[0]["url"].startswith(OURS + "/en/portal/webform/verify/")


@pytest.mark.parametrize("app_config", [ALLOW_SHOP])
@pytest.mark.parametrize(
    "headers",
    [{"Origin": SHOP}, {"Referer": SHOP + "/contact"}, {"Referer": OURS + EMBED}, {}],
)
def test_posts_from_this_site_or_allowed_ones_are_taken(
    client, notices, form_token, request_data, db, headers
):
    assert post_embedded(client, form_token, request_data(), **headers).status_code == 200
    assert count(db) == 1


@pytest.mark.parametrize("app_config", [ALLOW_SHOP])
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://shop.example.evil.example"},
        {"Referer": "https://evil.example/page"},
    ],
)
def test_posts_from_unknown_sites_are_refused(
    client, notices, form_token, request_data, db, headers
):
    response = post_embedded(client, form_token, request_data(), **headers)
    assert response.status_code == 403
    assert "Request not accepted" in response.get_data(as_text=True)
    assert notices.sent == [] and count(db) == 0


def test_the_token_is_still_required(client, notices, request_data, db):
    response = client.post(EMBED, data=request_data(), headers={"Origin": OURS})
    assert response.status_code == 400
    assert count(db) == 0


def test_a_token_of_the_portal_form_does_not_open_the_frame(
    client, notices, form_token, request_data, db
):
    token = form_token(client, "/en/portal/webform/new")
    response = client.post(
        EMBED, data={"form_token": token, **request_data()}, headers={"Origin": OURS}
    )
    assert response.status_code == 400
    assert count(db) == 0


def test_a_signed_in_customer_is_anonymous_in_the_frame(portal_client, customer):
    page = portal_client.get(EMBED).get_data(as_text=True)
    assert 'name="email"' in page
    assert customer.email not in page


def test_the_script_puts_the_frame_on_another_site(client):
    response = client.get("/webform/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    script = response.get_data(as_text=True)
    assert "/portal/webform/embed" in script and 'createElement("iframe")' in script


def test_the_script_without_a_language_lets_the_visitor_s_browser_choose(client):
    response = client.get("/portal/webform/embed?queue=sales", headers={"Accept-Language": "ru"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/ru/portal/webform/embed?queue=sales"


def test_the_queue_can_be_chosen_in_advance(client, make_queue):
    make_queue(key="billing", name="Billing")
    make_queue(key="sales", name="Sales")
    page = client.get(EMBED + "?queue=sales").get_data(as_text=True)
    assert '<option value="sales" selected>' in page


def test_a_bad_origin_in_the_configuration_names_the_key(frontdesk_database_url, tmp_path):
    from frontdesk import create_app

    config = {
        "SECRET_KEY": "x",
        "DATABASE_URL": frontdesk_database_url,
        "CHECK_MIGRATIONS": False,
        "PLUGINS_CONFIG": {"webform": {"allowed_origins": ["https://shop.example/contact"]}},
    }
    with pytest.raises(RuntimeError, match=r"PLUGINS_CONFIG\['webform'\]\.allowed_origins"):
        create_app(config, instance_path=tmp_path / "instance")
