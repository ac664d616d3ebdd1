"""Which plugins load: entry points, PLUGINS, PLUGINS_DISABLED, SAFE_MODE, config validation."""

from __future__ import annotations

import pytest

from frontdesk.pluginmanager import PluginError

GREETER = """
from marshmallow import Schema, fields
from frontdesk.plugins import PluginInfo, hookimpl

class GreeterConfig(Schema):
    greeting = fields.String(required=True)
    retries = fields.Integer(load_default=3)

plugin_info = PluginInfo(label="Greeter", category="automation", config_schema=GreeterConfig)

@hookimpl
def ticket_created(ticket):
    pass
"""


def test_installed_plugin_is_loaded_with_metadata_and_hooks(install_plugin, build_app):
    install_plugin("greeter", GREETER, version="2.0.1")
    app = build_app(PLUGINS_CONFIG={"greeter": {"greeting": "hi"}})
    plugin = app.extensions["frontdesk.registry"].plugins["greeter"]
    assert plugin.version == "2.0.1" and plugin.category == "automation"
    assert plugin.config == {"greeting": "hi", "retries": 3}
    assert plugin.urls["Homepage"] == "https://example.test/plugin"


def test_invalid_plugin_config_names_the_key(install_plugin, build_app):
    install_plugin("greeter", GREETER)
    with pytest.raises(PluginError) as info:
        build_app(PLUGINS_CONFIG={"greeter": {"retries": "many"}})
    message = str(info.value)
    assert "PLUGINS_CONFIG['greeter'].retries" in message
    assert "PLUGINS_CONFIG['greeter'].greeting" in message


def test_unknown_config_keys_are_rejected(install_plugin, build_app):
    install_plugin("greeter", GREETER)
    with pytest.raises(PluginError, match=r"PLUGINS_CONFIG\['greeter'\]\.colour"):
        build_app(PLUGINS_CONFIG={"greeter": {"greeting": "hi", "colour": "red"}})


def test_allow_list_disabled_and_safe_mode(install_plugin, build_app):
    install_plugin("greeter", GREETER)
    install_plugin("other", "from frontdesk.plugins import hookimpl\n")
    config = {"PLUGINS_CONFIG": {"greeter": {"greeting": "hi"}}}
    loaded = lambda app: set(app.extensions["frontdesk.registry"].plugins)  # noqa: E731
    assert {"greeter", "other"} <= loaded(build_app(**config))
    only = loaded(build_app(PLUGINS=["other"], **config))
    assert "other" in only and "greeter" not in only
    assert "greeter" not in loaded(build_app(PLUGINS_DISABLED=["greeter"], **config))
    safe = loaded(build_app(SAFE_MODE=True, **config))
    assert safe == {n for n in safe if n.startswith("builtin_")}
    assert "builtin_statuses" in safe


def test_a_plugin_named_in_config_but_not_installed_stops_startup(build_app):
    with pytest.raises(PluginError, match="'ghost' is named in the configuration but not installed"):
        build_app(PLUGINS=["ghost"])
    with pytest.raises(PluginError, match="'ghost'"):
        build_app(PLUGINS_DISABLED=["ghost"])


def test_a_misspelled_hook_fails_loudly(install_plugin, build_app):
    install_plugin(
        "typo",
        """
        from frontdesk.plugins import hookimpl

        @hookimpl
        def ticket_craeted(ticket):
            pass
        """,
    )
    with pytest.raises(PluginError, match="typo"):
        build_app()


def test_a_plugin_that_fails_to_import_is_named(install_plugin, build_app):
    install_plugin("broken", "raise ImportError('missing dependency foo')\n")
    with pytest.raises(PluginError, match="'broken' failed to import.*missing dependency foo"):
        build_app()


def test_requires_must_be_enabled(install_plugin, build_app):
    install_plugin(
        "needy",
        """
        from frontdesk.plugins import PluginInfo
        plugin_info = PluginInfo(label="Needy", requires=("ledger",))
        """,
    )
    with pytest.raises(PluginError, match="'needy' requires plugin 'ledger'"):
        build_app()


def test_plugins_list_api_shape_matches_cli(install_plugin, build_app):
    install_plugin("greeter", GREETER, version="2.0.1")
    app = build_app(PLUGINS_CONFIG={"greeter": {"greeting": "hi"}})
    from click.testing import CliRunner

    from frontdesk.cli.plugins import describe_plugins

    rows = {row["name"]: row for row in describe_plugins(app)}
    assert rows["greeter"]["version"] == "2.0.1"
    assert rows["greeter"]["hooks"] == ["ticket_created"]
    assert rows["builtin_statuses"]["hooks"] == ["register_statuses"]
    assert CliRunner  # the CLI prints the same rows; see test_cli.py
