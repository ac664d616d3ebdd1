"""The one-name rule: a plugin's entry-point name is its identity everywhere (DESIGN §2)."""

from __future__ import annotations

import pytest

from frontdesk.pluginmanager import PluginError


def test_table_must_carry_the_plugin_prefix(install_plugin, build_app):
    install_plugin(
        "crm_demo",
        """
        from . import models
        """,
        files={
            "models.py": """
            from sqlalchemy.orm import Mapped, mapped_column
            from frontdesk.db import Model

            class Link(Model):
                __tablename__ = "crm_links"
                id: Mapped[int] = mapped_column(primary_key=True)
            """
        },
    )
    with pytest.raises(PluginError, match="table 'crm_links' must be named 'crm_demo__"):
        build_app()
    from frontdesk.db import Model

    # The refused model stays imported; keep its table out of the schema other tests compare.
    Model.metadata.remove(Model.metadata.tables["crm_links"])


BLUEPRINT = """
from flask import Blueprint
from frontdesk.ui import access
from frontdesk.plugins import hookimpl

bp = Blueprint({name!r}, __name__, url_prefix={prefix!r})

@bp.get("/")
@access("staff")
def index():
    return "ok"

@hookimpl
def register_blueprints(app):
    return [bp]
"""


@pytest.mark.parametrize(
    ("name", "prefix", "error"),
    [
        ("other", "/widgets", "blueprint 'other' must be named 'widgets'"),
        ("widgets", "/gadgets", "URL prefix '/gadgets'"),
    ],
)
def test_blueprint_name_and_prefix(install_plugin, build_app, name, prefix, error):
    install_plugin("widgets", BLUEPRINT.format(name=name, prefix=prefix))
    with pytest.raises(PluginError, match=error):
        build_app()


def test_a_correct_blueprint_is_mounted(install_plugin, build_app):
    install_plugin("widgets", BLUEPRINT.format(name="widgets", prefix="/desk/widgets"))
    app = build_app()
    assert "widgets.index" in app.view_functions


def test_permissions_cli_and_namespace_names(install_plugin, build_app):
    install_plugin(
        "perms",
        """
        from frontdesk.plugins import Permission, hookimpl

        @hookimpl
        def register_permissions():
            return [Permission("tickets.nuke", "Nuke")]
        """,
    )
    with pytest.raises(PluginError, match="permission 'tickets.nuke' must be named 'perms.<action>'"):
        build_app()


def test_cli_group_must_be_named_after_the_plugin(install_plugin, build_app):
    install_plugin(
        "tooling",
        """
        import click
        from frontdesk.plugins import hookimpl

        @click.group("tools")
        def tools():
            pass

        @hookimpl
        def register_cli_commands():
            return [tools]
        """,
    )
    with pytest.raises(PluginError, match="CLI command 'tools' must be named 'tooling'"):
        build_app()


def test_socketio_namespace_must_be_named_after_the_plugin(install_plugin, build_app):
    install_plugin(
        "chat",
        """
        from flask_socketio import Namespace
        from frontdesk.plugins import hookimpl

        @hookimpl
        def register_socketio_namespaces():
            return [Namespace("/livechat")]
        """,
    )
    with pytest.raises(PluginError, match="namespace '/livechat' must be '/chat'"):
        build_app()


def test_duplicate_provider_keys_are_a_startup_error(install_plugin, build_app):
    code = """
    from frontdesk.plugins import hookimpl
    from frontdesk.routing.base import RoutingStrategy

    class RoundRobin(RoutingStrategy):
        key = "round_robin"
        label = "Round robin"
        def choose(self, ticket, candidates):
            return candidates[0] if candidates else None

    @hookimpl
    def register_routing_strategies():
        return [RoundRobin]
    """
    install_plugin("rr_one", code)
    install_plugin("rr_two", code)
    with pytest.raises(PluginError, match="routing provider key 'round_robin' is already registered"):
        build_app()


def test_duplicate_status_keys_are_a_startup_error(install_plugin, build_app):
    install_plugin(
        "mystatus",
        """
        from frontdesk.plugins import Status, hookimpl

        @hookimpl
        def register_statuses():
            return [Status("open", "Open again", "open")]
        """,
    )
    with pytest.raises(PluginError, match="status 'open' is registered twice"):
        build_app()


def test_entry_point_names_must_be_identifiers(install_plugin, build_app):
    install_plugin("bad__name", "")
    with pytest.raises(PluginError, match="lower-case identifiers without '__'"):
        build_app()
