"""The pytest plugin: database per run, app per test, factories, the ``plugins`` fixture."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.testing.database import empty_all_tables, run_database
from frontdesk.testing.helpers import login
from frontdesk.testing.live import browser, live_server, new_page  # noqa: F401  (fixtures)

# The contract suites run inside other projects' tests: give their asserts pytest's introspection.
pytest.register_assert_rewrite("frontdesk.testing.contracts")

FAST_PASSWORDS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
DEFAULT_PASSWORD = "correct horse battery"


def _base_config(database_url: str, tmp: Path) -> dict[str, Any]:
    return {
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        "TESTING": True,
        "CHECK_MIGRATIONS": False,
        "JOBS_EAGER": True,
        "JOBS_BACKEND": "inprocess",
        "REDIS_URL": None,
        "ATTACHMENT_DIR": str(tmp / "attachments"),
        "PASSWORD_HASH_PARAMS": FAST_PASSWORDS,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "frontdesk.test",
        "PLUGINS": None,
    }


@pytest.fixture(scope="session")
def frontdesk_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this test run (SQLite, or PostgreSQL from the environment)."""
    from frontdesk import create_app
    from frontdesk.migrations import upgrade

    tmp = tmp_path_factory.mktemp("frontdesk-db")
    with run_database(tmp) as url:
        app = create_app(_base_config(url, tmp), instance_path=tmp / "instance")
        with app.app_context():
            upgrade(app)
        app.extensions["frontdesk.db"].dispose()
        yield url


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override to pass extra configuration to the ``app`` fixture."""
    return {}


@pytest.fixture
def app(frontdesk_database_url: str, app_config: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """A Frontdesk app on the run's database, with an app context pushed for the test."""
    from frontdesk import create_app

    config = _base_config(frontdesk_database_url, tmp_path)
    config.update(app_config)
    application = create_app(config, instance_path=tmp_path / "instance")
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        db = application.extensions["frontdesk.db"]
        db.Session.remove()
        ctx.pop()
        empty_all_tables(db.engine)
        db.dispose()


@pytest.fixture
def db(app: Any) -> Any:
    """The session of the test's app (``frontdesk.db.session``)."""
    from frontdesk.db import session

    return session


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


_counter = itertools.count(1)


def _split_nested(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    flat: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in kwargs.items():
        head, sep, rest = key.partition("__")
        if sep:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[key] = value
    return flat, nested


@pytest.fixture
def make_user(app: Any) -> Any:
    """``make_user(role="customer", **fields)``: a user with a unique email and a known password."""
    from frontdesk.services import create_user

    def make(role: str = "customer", **kwargs: Any) -> Any:
        n = next(_counter)
        kwargs.setdefault("email", f"{role}{n}@example.test")
        kwargs.setdefault("name", f"{role.title()} {n}")
        kwargs.setdefault("password", DEFAULT_PASSWORD)
        return create_user(role=role, **kwargs)

    return make


@pytest.fixture
def make_agent(make_user: Any) -> Any:
    return lambda **kwargs: make_user(role="agent", **kwargs)


@pytest.fixture
def make_admin(make_user: Any) -> Any:
    return lambda **kwargs: make_user(role="admin", **kwargs)


@pytest.fixture
def make_customer(make_user: Any) -> Any:
    return lambda **kwargs: make_user(role="customer", **kwargs)


@pytest.fixture
def make_organization(app: Any) -> Any:
    from frontdesk.services import create_organization

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("name", f"Organization {next(_counter)}")
        return create_organization(**kwargs)

    return make


@pytest.fixture
def make_queue(app: Any) -> Any:
    """``make_queue(key="tier2", members=[agent], custom_fields=[...])``."""
    from frontdesk.services import create_queue

    def make(**kwargs: Any) -> Any:
        n = next(_counter)
        kwargs.setdefault("key", f"queue{n}")
        kwargs.setdefault("name", kwargs["key"].title())
        return create_queue(**kwargs)

    return make


@pytest.fixture
def make_ticket(app: Any, make_customer: Any) -> Any:
    """``make_ticket(subject=..., customer__vip=True, ...)``: a ticket through ``create_ticket``.

    ``customer__<field>`` arguments make the customer with those fields.
    """
    from frontdesk.services import create_ticket

    def make(**kwargs: Any) -> Any:
        flat, nested = _split_nested(kwargs)
        if "customer" not in flat:
            flat["customer"] = make_customer(**nested.get("customer", {}))
        n = next(_counter)
        flat.setdefault("subject", f"Test ticket {n}")
        flat.setdefault("body_text", f"Body of test ticket {n}")
        return create_ticket(**flat)

    return make


@pytest.fixture
def make_api_token(app: Any) -> Any:
    """``make_api_token(user) -> plain token``."""
    from frontdesk.services import create_api_token

    def make(user: Any, name: str = "test") -> str:
        return create_api_token(user, name)[1]

    return make


@pytest.fixture
def agent(make_agent: Any) -> Any:
    return make_agent()


@pytest.fixture
def admin(make_admin: Any) -> Any:
    return make_admin()


@pytest.fixture
def customer(make_customer: Any) -> Any:
    return make_customer()


@pytest.fixture
def agent_client(app: Any, agent: Any) -> Any:
    """A test client signed in as ``agent``."""
    return login(app.test_client(), agent)


@pytest.fixture
def admin_client(app: Any, admin: Any) -> Any:
    return login(app.test_client(), admin)


@pytest.fixture
def portal_client(app: Any, customer: Any) -> Any:
    """A test client signed in as ``customer``."""
    return login(app.test_client(), customer)


class ApiClient:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.token = token

    def open(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.open("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.open("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def api_client(app: Any, admin: Any, make_api_token: Any) -> ApiClient:
    """An API client authenticated with a token of an admin."""
    return ApiClient(app.test_client(), make_api_token(admin))


class PluginsFixture:
    """Registers throwaway plugins into the test's app; they are removed after the test."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.names: list[str] = []

    def register(self, plugin: Any, name: str | None = None) -> Any:
        from frontdesk.pluginmanager import register_extra_plugin

        name = name or f"test_plugin_{next(_counter)}"
        register_extra_plugin(self.app, plugin, name)
        self.names.append(name)
        return plugin

    def unregister_all(self) -> None:
        from frontdesk.pluginmanager import unregister_extra_plugin

        for name in reversed(self.names):
            unregister_extra_plugin(self.app, name)
        self.names.clear()


@pytest.fixture
def plugins(app: Any) -> Iterator[PluginsFixture]:
    """``plugins.register(obj)`` adds a plugin for this test only."""
    fixture = PluginsFixture(app)
    yield fixture
    fixture.unregister_all()
