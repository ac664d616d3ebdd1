"""Migrations: the app refuses a database behind its head; `db` commands report and fix it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from frontdesk import create_app
from frontdesk.cli import main
from frontdesk.migrations import MigrationError, migration_sources, schema_differences
from frontdesk.testing.plugin import _base_config


@pytest.fixture
def empty_instance(tmp_path, monkeypatch):
    """An instance folder with a fresh, unmigrated SQLite database, configured through the env."""
    instance = tmp_path / "inst"
    instance.mkdir()
    monkeypatch.setenv("FRONTDESK_SECRET_KEY", "k")
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", f"sqlite:///{instance / 'fd.db'}")
    monkeypatch.setenv("FRONTDESK_PASSWORD_HASH_PARAMS", '{"time_cost": 1, "memory_cost": 1024}')
    return instance


def test_app_refuses_to_start_on_an_unmigrated_database(empty_instance):
    with pytest.raises(MigrationError, match="Run `frontdesk db upgrade` first"):
        create_app(instance_path=empty_instance)


def test_db_commands_migrate_report_and_roll_back(empty_instance):
    runner = CliRunner()
    args = ["--instance", str(empty_instance)]
    current = runner.invoke(main, [*args, "db", "current"])
    assert current.exit_code == 0 and "BEHIND" in current.output
    check = runner.invoke(main, [*args, "db", "check"])
    assert check.exit_code != 0 and "frontdesk db upgrade" in check.output
    up = runner.invoke(main, [*args, "db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert "core: 0003" in up.output
    check = runner.invoke(main, [*args, "db", "check"])
    assert check.exit_code == 0, check.output
    create_app(instance_path=empty_instance)  # starts now
    app = create_app(instance_path=empty_instance, config={"CHECK_MIGRATIONS": False})
    for source in reversed(migration_sources(app)):  # plugins' tables reference the core's
        down = runner.invoke(main, [*args, "db", "downgrade", source.name, "base"])
        assert down.exit_code == 0, down.output
    with pytest.raises(MigrationError):
        create_app(instance_path=empty_instance)


def test_models_match_the_migrations(app):
    # The run's database was built by the migrations; the models must not define anything more.
    assert schema_differences(app) == {}


def test_missing_secret_key_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("FRONTDESK_SECRET_KEY", raising=False)
    from frontdesk.config import ConfigError

    with pytest.raises(ConfigError, match="frontdesk init"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, instance_path=tmp_path)


def test_config_sources_in_order(tmp_path, monkeypatch, frontdesk_database_url):
    (tmp_path / "frontdesk.toml").write_text(
        'SECRET_KEY = "from-file"\nTICKET_NUMBER_PREFIX = "HD-"\nAPI_PAGE_SIZE = 10\n'
    )
    monkeypatch.setenv("FRONTDESK_API_PAGE_SIZE", "50")
    config = _base_config(frontdesk_database_url, tmp_path)
    del config["SECRET_KEY"]
    app = create_app(config, instance_path=tmp_path)
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["TICKET_NUMBER_PREFIX"] == "HD-"
    assert app.config["API_PAGE_SIZE"] == 50  # the environment beats the file
    app.extensions["frontdesk.db"].dispose()


def test_db_revision_writes_nothing_when_models_match(empty_instance):
    runner = CliRunner()
    args = ["--instance", str(empty_instance)]
    assert runner.invoke(main, [*args, "db", "upgrade"]).exit_code == 0
    result = runner.invoke(main, [*args, "db", "revision", "core", "-m", "nothing"])
    assert result.exit_code != 0 and "nothing to write" in result.output


def test_proxy_hops_make_the_client_address_the_forwarded_one(frontdesk_database_url, tmp_path):
    from flask import request

    from frontdesk.auth import access

    seen = {}
    for hops in (0, 1):
        config = _base_config(frontdesk_database_url, tmp_path)
        config["PROXY_FIX_HOPS"] = hops
        app = create_app(config, instance_path=tmp_path)

        @access("public")
        def whoami():
            seen[hops] = request.remote_addr
            return "ok"

        app.add_url_rule("/whoami", view_func=whoami)
        app.test_client().get(
            "/whoami", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.2"}
        )
        app.extensions["frontdesk.db"].dispose()
    assert seen == {0: "127.0.0.2", 1: "203.0.113.9"}
