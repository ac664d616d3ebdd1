"""Fixtures for the REST API tests: JSON helpers and a snapshot of the database."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import inspect, text

# Cookie-authenticated writes must carry this header (the API's CSRF defence).
CSRF = {"X-Requested-With": "frontdesk"}
IGNORED_COLUMNS = {("api_token", "last_used_at"), ("user", "last_login_at")}


@pytest.fixture
def csrf() -> dict[str, str]:
    return dict(CSRF)


@pytest.fixture
def snapshot(app: Any, db: Any) -> Any:
    """``snapshot()`` returns every row of every core table, to compare before and after."""

    def take() -> dict[str, list[tuple]]:
        db.rollback()  # read what is committed, not what the session holds
        engine = app.extensions["frontdesk.db"].engine
        state = {}
        with engine.connect() as conn:
            for table in sorted(inspect(engine).get_table_names()):
                if table.startswith("alembic_version"):
                    continue
                columns = [
                    c["name"]
                    for c in inspect(engine).get_columns(table)
                    if (table, c["name"]) not in IGNORED_COLUMNS
                ]
                quoted = ", ".join(f'"{c}"' for c in columns)
                rows = conn.execute(text(f'SELECT {quoted} FROM "{table}"')).all()
                state[table] = sorted(tuple(map(repr, row)) for row in rows)
        return state

    return take


@pytest.fixture
def b64() -> Any:
    return lambda data: base64.b64encode(data).decode()


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is a problem+json document with ``status`` naming every one of ``fields``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    for field in fields:
        assert field in body["errors"], body
    return body


@pytest.fixture
def problem() -> Any:
    """``problem(response, 422, "field", ...)`` asserts a problem+json answer and returns it."""
    return assert_problem
