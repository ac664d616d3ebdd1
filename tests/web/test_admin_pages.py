"""Admin pages: overview, statuses, plugins and themes; who may open them; hostile names."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint
from frontdesk.auth import access
from frontdesk.plugins import Status, hookimpl
from frontdesk.testing import login

ADMIN_PAGES = [
    "/admin/",
    "/admin/queues",
    "/admin/queues/new",
    "/admin/agents",
    "/admin/agents/new",
    "/admin/statuses",
    "/admin/fields",
    "/admin/plugins",
    "/admin/themes",
]


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_an_agent_who_is_not_an_admin_is_refused(agent_client: Any, client: Any, url: str) -> None:
    assert agent_client.get(url).status_code == 403
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/signin" in anonymous.headers["Location"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_every_admin_page_renders_with_the_admin_style_sheet(admin_client: Any, url: str) -> None:
    page = html(admin_client.get(url))
    assert "admin.css" in page
    assert "<script>" not in page and " style=" not in page  # the CSP forbids both


def test_the_overview_links_every_section(admin_client: Any) -> None:
    page = html(admin_client.get("/admin/"))
    for url in (
        "/admin/queues",
        "/admin/agents",
        "/admin/statuses",
        "/admin/fields",
        "/admin/plugins",
        "/admin/themes",
    ):
        assert f'href="{url}"' in page
    assert "Custom fields" in page and "Themes" in page


def test_statuses_show_category_and_the_plugin_that_registered_them(
    admin_client: Any, plugins: Any
) -> None:
    class Escalation:
        @hookimpl
        def register_statuses(self) -> list[Status]:
            return [Status("escalated", "Escalated <b>now</b>", "open", order=25)]

    plugins.register(Escalation(), name="escalation")

    page = html(admin_client.get("/admin/statuses"))

    rows = re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)
    escalated = next(r for r in rows if "<code>escalated</code>" in r)
    assert "Escalated &lt;b&gt;now&lt;/b&gt;" in escalated
    assert 'class="badge cat-open"' in escalated and "escalation" in escalated
    new = next(r for r in rows if "<code>new</code>" in r)
    assert "builtin_statuses" in new and "cat-new" in new
    keys = [re.search(r"<code>(.*?)</code>", r).group(1) for r in rows if "<code>" in r]
    assert keys.index("open") < keys.index("escalated") < keys.index("pending")


def test_plugins_show_the_same_facts_as_the_api(admin_client: Any, api_client: Any) -> None:
    listed = api_client.get("/api/v1/plugins").get_json()

    page = html(admin_client.get("/admin/plugins"))

    for plugin in listed:
        assert f"<code>{plugin['name']}</code>" in page
        for hook in plugin["hooks"]:
            assert f"<code>{hook}</code>" in page
    email = next(p for p in listed if p["name"] == "email")
    assert email["version"] in page and "channel" in page


def test_themes_mark_the_active_one_and_say_how_to_switch(admin_client: Any, app: Any) -> None:
    page = html(admin_client.get("/admin/themes"))

    active = re.search(r'<tr class="current">(.*?)</tr>', page, re.DOTALL).group(1)
    assert f"<code>{app.config['THEME']}</code>" in active
    assert "THEME = " in page and "FRONTDESK_THEME" in page


def test_a_plugin_admin_section_appears_on_the_overview_as_text(
    app: Any, admin_client: Any, plugins: Any
) -> None:
    from frontdesk.plugins import NavItem

    bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
    bp.add_url_rule("/", "index", access("admin")(lambda: "reports"))
    app.register_blueprint(bp)

    class Reports:
        @hookimpl
        def nav_items(self, area: str, actor: Any) -> list[NavItem]:
            return [NavItem("reports", "Reports <i>", "reports.index")] if area == "admin" else []

    plugins.register(Reports(), name="reports")

    page = html(admin_client.get("/admin/"))

    assert page.count('href="/admin/reports/"') == 2  # the tab and the card
    assert "Reports &lt;i&gt;" in page and "Reports <i>" not in page


def test_a_persian_admin_gets_right_to_left_admin_pages(app: Any, make_admin: Any) -> None:
    client = login(app.test_client(), make_admin(language="fa"))

    for url in ("/admin/", "/admin/agents", "/admin/statuses"):
        page = html(client.get(url))
        assert 'dir="rtl"' in page and 'lang="fa"' in page


@pytest.mark.parametrize("app_config", [{"THEME": "dark"}])
def test_under_another_theme_that_theme_is_marked_active(admin_client: Any) -> None:
    page = html(admin_client.get("/admin/themes"))

    active = re.search(r'<tr class="current">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "<code>dark</code>" in active and "<code>default</code>" in active  # its parent
    assert "admin.css" in page and 'THEME = "default"' in page
