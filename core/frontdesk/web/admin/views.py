"""Admin overview and the read-only pages: statuses, plugins, themes."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for
from flask.typing import ResponseReturnValue

from frontdesk.auth import access
from frontdesk.i18n import _l
from frontdesk.pluginmanager import get_pm, get_registry
from frontdesk.web.admin import bp
from frontdesk.web.context import nav

# The core's admin sections, in the order the overview shows them. Plugins add theirs through
# ``nav_items(area="admin")``; both lists are merged by URL, so a section listed twice shows once.
SECTIONS = (
    ("admin.queues", _l("Queues and teams"), _l("Who works which queue, and how it is routed.")),
    ("admin.agents", _l("Agents"), _l("Staff accounts: roles, languages and teams.")),
    ("admin.statuses", _l("Statuses"), _l("The ticket statuses the plugins registered.")),
    (
        "admin.custom_fields",
        _l("Custom fields"),
        _l("Extra fields of each queue's tickets."),
    ),
    ("admin.plugins", _l("Plugins"), _l("Loaded plugins, their versions and hooks.")),
    ("admin.themes", _l("Themes"), _l("Installed themes and which one is active.")),
)


def admin_sections() -> list[dict[str, Any]]:
    """Every admin section for the tabs and the overview: the core's, then the plugins'."""
    sections = [
        {"url": url_for(endpoint), "label": label, "description": description, "key": endpoint}
        for endpoint, label, description in SECTIONS
    ]
    known = {s["url"] for s in sections}
    for item in nav("admin"):
        if item["url"] not in known:
            sections.append({**item, "description": ""})
            known.add(item["url"])
    return sections


@bp.app_context_processor
def _admin_context() -> dict[str, Any]:
    # Only the admin templates call it; a function keeps other pages from paying for it.
    return {"admin_sections": admin_sections}


@bp.get("/")
@access("admin")
def index() -> ResponseReturnValue:
    """The overview: one card per section."""
    return render_template("admin/index.html")


def status_owners() -> dict[str, str]:
    """Which plugin registered each status (the registry keeps the statuses, not their owner)."""
    owners: dict[str, str] = {}
    for impl in get_pm().hook.register_statuses.get_hookimpls():
        for status in impl.function() or ():
            owners.setdefault(status.key, impl.plugin_name)
    return owners


@bp.get("/statuses")
@access("admin")
def statuses() -> ResponseReturnValue:
    """The registered statuses with their category and plugin, in workflow order."""
    owners = status_owners()
    rows = [
        {"status": s, "plugin": owners.get(s.key, "")}
        for s in sorted(get_registry().statuses.values(), key=lambda s: (s.order, s.key))
    ]
    return render_template("admin/statuses.html", rows=rows)


@bp.get("/plugins")
@access("admin")
def plugins() -> ResponseReturnValue:
    """Loaded plugins: the same facts as ``GET /api/v1/plugins``."""
    from frontdesk.cli.plugins import describe_plugins

    rows = sorted(
        describe_plugins(current_app._get_current_object()),  # type: ignore[attr-defined]
        key=lambda p: (p["builtin"], p["name"]),
    )
    return render_template("admin/plugins.html", plugins=rows)


@bp.get("/themes")
@access("admin")
def themes() -> ResponseReturnValue:
    """Installed themes, the active one marked, and how to switch."""
    from frontdesk.web.theming import describe_themes

    return render_template(
        "admin/themes.html",
        themes=describe_themes(current_app._get_current_object()),  # type: ignore[attr-defined]
    )
