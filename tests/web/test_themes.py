"""Themes: the loader chain, the built-in themes, and every page under each with its slots.

The slots a theme must keep are listed in docs/themes.md; this file checks that the list and the
templates agree and that every agent, admin and portal page shows the slots documented for it,
under every built-in theme.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from frontdesk import create_app
from frontdesk.auth import access_rule
from frontdesk.channels.base import IncomingAttachment
from frontdesk.plugins import hookimpl
from frontdesk.testing.helpers import login
from frontdesk.web.theming import ThemeError, builtin_theme_dirs
from markupsafe import Markup

ROOT = Path(__file__).resolve().parents[2]
THEMES_DOC = ROOT / "docs" / "themes.md"
SLOT_CALL = re.compile(r"""\bslot\(\s*["']([\w.\-]+)["']""")
DOC_ROW = re.compile(r"^\|\s*`([\w.\-]+)`\s*\|([^|]*)\|", re.MULTILINE)
PAGE_AREAS = ("desk", "admin", "portal")
BUILTIN_THEMES = sorted(
    p.name for p in builtin_theme_dirs()[0].iterdir() if (p / "theme.toml").is_file()
)


# --- The documented slots -----------------------------------------------------------------------


def slots_in_templates() -> dict[str, list[str]]:
    """``{slot: [template files calling it]}`` for the core's templates and the built-in themes."""
    found: dict[str, list[str]] = {}
    files = [
        *(ROOT / "core" / "frontdesk" / "templates").rglob("*.html"),
        *(ROOT / "themes").glob("*/templates/**/*.html"),
    ]
    for path in sorted(files):
        for name in SLOT_CALL.findall(path.read_text("utf-8")):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def documented_slots() -> dict[str, list[str]]:
    """``{slot: [endpoint patterns of the pages showing it]}`` from docs/themes.md."""
    section = THEMES_DOC.read_text("utf-8").split("## Slots", 1)[1].split("\n## ", 1)[0]
    return {name: re.findall(r"`([^`]+)`", pages) for name, pages in DOC_ROW.findall(section)}


def test_the_documented_slots_are_the_slots_the_templates_use():
    used, documented = slots_in_templates(), documented_slots()
    undocumented = {name: files for name, files in used.items() if name not in documented}
    assert not undocumented, f"add these slots to the table in docs/themes.md: {undocumented}"
    unused = sorted(set(documented) - set(used))
    assert not unused, f"docs/themes.md lists slots no template has: {unused}"
    assert all(documented.values()), "every documented slot names the pages that show it"


# --- Every page under every built-in theme -------------------------------------------------------


class SlotMarkers:
    """Marks every slot it is asked for, so a page shows which slots it rendered."""

    @hookimpl
    def template_slot(self, name: str, context: dict[str, Any]) -> Markup:
        return Markup(f"<!--slot:{name}-->")


@pytest.fixture
def seeded(app, admin, make_customer, make_organization, make_queue, make_ticket):
    """One of everything a page URL can name."""
    from frontdesk.services.signin_links import issue_signin_link
    from frontdesk.services.views import create_saved_view

    organization = make_organization(name="Acme")
    customer = make_customer(organization=organization, language="en")
    queue = make_queue(
        key="billing",
        members=[admin],
        custom_fields=[{"key": "plan", "type": "text", "label": "Plan"}],
    )
    ticket = make_ticket(
        customer=customer,
        queue=queue,
        attachments=[IncomingAttachment("notes.txt", b"hello", "text/plain")],
    )
    attachment = ticket.messages[0].attachments[0]
    return {
        "admin": admin,
        "customer": customer,
        "organization": organization,
        "queue": queue,
        "ticket": ticket,
        "attachment": attachment,
        "view": create_saved_view(admin, name="Mine", filters={}, sort="-updated_at"),
        "link_token": issue_signin_link(customer),
    }


def url_value(argument: str, endpoint: str, seeded: dict[str, Any]) -> Any:
    """The value of URL argument ``argument`` of ``endpoint`` for the seeded objects."""
    values = {
        "locale": seeded["locale"],
        "number": seeded["ticket"].number,
        "user_id": seeded["admin" if "agent" in endpoint else "customer"].id,
        "org_id": seeded["organization"].id,
        "organization_id": seeded["organization"].id,
        "key": seeded["queue"].key,
        "field_key": "plan",
        "view_id": seeded["view"].id,
        "attachment_id": seeded["attachment"].id,
        "filename": seeded["attachment"].filename,
        "token": seeded["link_token"],
        "rest": "requests",
    }
    if argument not in values:
        raise AssertionError(f"{endpoint}: give the URL argument {argument!r} a seeded value here")
    return values[argument]


def page_urls(app, seeded) -> list[tuple[str, str]]:
    """``(endpoint, url)`` for every GET route of the agent, admin and portal areas."""
    from flask import url_for

    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        if rule.endpoint.split(".")[0] not in PAGE_AREAS or "GET" not in (rule.methods or ()):
            continue
        arguments = {
            a: url_value(a, rule.endpoint, seeded)
            for a in rule.arguments - set(rule.defaults or {})
        }
        with app.test_request_context():
            pages.append((rule.endpoint, url_for(rule.endpoint, **arguments)))
    return pages


def fetch(client, url: str, app) -> tuple[Any, str]:
    """GET ``url`` following redirects on this site; the response and the final endpoint."""
    for _hop in range(5):
        response = client.get(url)
        if response.status_code not in (301, 302, 303, 307, 308):
            break
        url = urlsplit(response.headers["Location"]).path
    adapter = app.url_map.bind("frontdesk.test")
    return response, adapter.match(urlsplit(url).path, method="GET")[0]


def expected_slots(endpoint: str) -> set[str]:
    return {
        name
        for name, patterns in documented_slots().items()
        if any(fnmatch.fnmatchcase(endpoint, pattern) for pattern in patterns)
    }


@pytest.mark.parametrize("app_config", [{"THEME": t} for t in BUILTIN_THEMES], ids=BUILTIN_THEMES)
def test_every_agent_and_portal_page_renders_with_its_slots(app, app_config, plugins, seeded):
    plugins.register(SlotMarkers())
    # The portal in Persian under one theme: right to left must not lose a slot either.
    seeded["locale"] = "fa" if app_config["THEME"] == "dark" else "en"
    staff = login(app.test_client(), seeded["admin"])
    customer = login(app.test_client(), seeded["customer"])
    pages = page_urls(app, seeded) + [("auth.signin", "/signin"), ("home.index", "/")]
    assert len(pages) > 3
    failures = []
    for endpoint, url in pages:
        view = app.view_functions[endpoint]
        if access_rule(view) == "public":
            client = app.test_client()  # sign-in and sign-up pages send signed-in people away
        else:
            client = customer if endpoint.startswith("portal.") else staff
        response, final = fetch(client, url, app)
        if response.status_code != 200:
            failures.append(f"{url} ({endpoint}): {response.status_code}")
            continue
        if response.mimetype != "text/html":
            continue  # a download
        html = response.get_data(as_text=True)
        missing = sorted(s for s in expected_slots(final) if f"<!--slot:{s}-->" not in html)
        if missing:
            failures.append(f"{url} ({final}): slots {missing} missing")
        if url.startswith("/fa/"):
            assert '<html lang="fa" dir="rtl">' in html, url
        if final.startswith(("desk.", "admin.")) and app_config["THEME"] == "dark":
            assert 'class="topbar night-bar"' in html, url  # the theme's own agent bar
    assert not failures, "\n".join(failures)


# --- The loader chain ---------------------------------------------------------------------------

PLUGIN_CODE = """
from pathlib import Path

from frontdesk.plugins import hookimpl

FOLDER = Path(__file__).parent / "themes"


@hookimpl
def register_themes():
    return [str(path) for path in sorted(FOLDER.iterdir())]
"""
TEST_THEMES: dict[str, dict[str, str]] = {
    # A child of dark: its own error page and style sheet, everything else from its parents.
    "harbour": {
        "theme.toml": 'name = "harbour"\nparent = "dark"\n',
        "templates/errors/error.html": '{% extends "core:errors/error.html" %}'
        '{% block content %}<div id="harbour-error">{{ super() }}</div>{% endblock %}',
        "static/theme.css": '@import url("@dark/theme.css");\n.harbour { color: teal; }\n',
    },
    "orphan": {"theme.toml": 'name = "orphan"\nparent = "vanished"\n'},
    "loop_a": {"theme.toml": 'name = "loop_a"\nparent = "loop_b"\n'},
    "loop_b": {"theme.toml": 'name = "loop_b"\nparent = "loop_a"\n'},
}


@pytest.fixture(scope="module")
def theme_plugin(tmp_path_factory):
    """An installed plugin ``test_themes`` whose ``register_themes`` adds TEST_THEMES."""
    site = tmp_path_factory.mktemp("site")
    package = site / "frontdesk_test_themes"
    for theme, files in TEST_THEMES.items():
        for name, text in files.items():
            path = package / "themes" / theme / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    (package / "__init__.py").write_text(PLUGIN_CODE, encoding="utf-8")
    dist = site / "frontdesk_test_themes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: frontdesk-test-themes\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[frontdesk.plugins]\ntest_themes = frontdesk_test_themes\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        yield "test_themes"
        sys.modules.pop("frontdesk_test_themes", None)


@pytest.fixture
def make_app(frontdesk_database_url, tmp_path):
    """``make_app(THEME=..., ...)``: an app with only the test themes plugin, disposed after."""
    made = []

    def make(instance: Path | None = None, **config: Any):
        settings = {
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": frontdesk_database_url,
            "TESTING": True,
            "CHECK_MIGRATIONS": False,
            "SERVER_NAME": "frontdesk.test",
            "PLUGINS": ["test_themes"],
            **config,
        }
        app = create_app(settings, instance_path=instance or tmp_path / "instance")
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["frontdesk.db"].dispose()


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def get(app, url: str) -> str:
    response = app.test_client().get(url)
    assert response.status_code in (200, 404), (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_instance_folder_wins_and_reaches_the_theme_it_replaces(
    theme_plugin, make_app, tmp_path
):
    write(
        tmp_path / "instance" / "templates",
        {
            "auth/signin.html": '{% extends "dark:auth/signin.html" %}'
            '{% block content %}<p id="site-notice">Maintenance on Sunday</p>{{ super() }}{% endblock %}',
        },
    )
    html = get(make_app(THEME="dark"), "/signin")
    assert 'id="site-notice"' in html  # the instance's override
    assert 'class="night-welcome"' in html  # dark's version, reached with the dark: prefix
    assert 'class="card narrow"' in html  # the core's skeleton under both


def test_the_override_folder_setting_replaces_the_instance_folder(theme_plugin, make_app, tmp_path):
    folder = write(
        tmp_path / "overrides",
        {
            "auth/signin.html": '{% extends "core:auth/signin.html" %}'
            "{% block title %}Staff door{% endblock %}",
        },
    )
    html = get(make_app(THEME="dark", TEMPLATE_OVERRIDES_DIR=str(folder)), "/signin")
    assert "<title>Staff door · Frontdesk</title>" in html
    assert "night-welcome" not in html  # core: skips the theme entirely


def test_a_theme_extends_the_core_skeleton_it_replaces(theme_plugin, make_app):
    html = get(make_app(THEME="harbour"), "/no-such-page")
    assert 'id="harbour-error"' in html  # harbour's errors/error.html ...
    assert "<h1>404</h1>" in html  # ... wraps the core's


def test_a_child_theme_falls_back_to_its_parents_for_templates_and_static_files(
    theme_plugin, make_app
):
    app = make_app(THEME="harbour")
    assert 'class="night-welcome"' in get(app, "/signin")  # from dark, harbour's parent
    client = app.test_client()
    own = client.get("/static/themes/theme.css").get_data(as_text=True)
    assert ".harbour" in own and '@import url("@dark/theme.css")' in own
    parent = client.get("/static/themes/@dark/theme.css").get_data(as_text=True)
    assert '@import url("@default/theme.css")' in parent and "color-scheme: dark" in parent
    grandparent = client.get("/static/themes/@default/theme.css").get_data(as_text=True)
    assert "--font-fa" in grandparent
    assert client.get("/static/themes/desk.css").status_code == 200  # only default has it
    font = client.get("/static/themes/fonts/Vazirmatn-Regular.woff2")
    assert font.status_code == 200 and font.mimetype == "font/woff2"


def test_theme_static_lookups_stay_inside_the_theme_folders(theme_plugin, make_app):
    client = make_app(THEME="harbour").test_client()
    assert client.get("/static/themes/../theme.toml").status_code == 404
    assert client.get("/static/themes/%2E%2E/harbour/theme.toml").status_code == 404
    assert client.get("/static/themes/@vanished/theme.css").status_code == 404
    assert client.get("/static/themes/theme.toml").status_code == 404  # not under static/


def test_a_missing_theme_stops_startup_naming_the_installed_ones(theme_plugin, make_app):
    with pytest.raises(ThemeError) as error:
        make_app(THEME="sunset")
    message = str(error.value)
    assert "THEME names theme 'sunset', which is not installed" in message
    assert "installed: dark, default, harbour, loop_a, loop_b, orphan" in message


def test_a_missing_parent_stops_startup(theme_plugin, make_app):
    with pytest.raises(ThemeError, match="the parent of theme 'orphan' names theme 'vanished'"):
        make_app(THEME="orphan")


def test_a_parent_loop_stops_startup(theme_plugin, make_app):
    with pytest.raises(ThemeError, match="parent loop"):
        make_app(THEME="loop_a")


def test_the_built_in_themes_are_default_and_dark():
    assert BUILTIN_THEMES == ["dark", "default"]
    toml = (ROOT / "themes" / "dark" / "theme.toml").read_text("utf-8")
    assert 'parent = "default"' in toml
