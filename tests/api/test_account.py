"""Signing in with a password, the session cookie, /me, API tokens and the sign-in rate limit."""

from __future__ import annotations

import os
import secrets

import pytest
from frontdesk.ratelimit import MemoryBackend, RateLimiter, RedisBackend
from frontdesk.testing.plugin import DEFAULT_PASSWORD, ApiClient

CSRF = {"X-Requested-With": "frontdesk"}
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def sign_in(client, email: str, password: str = DEFAULT_PASSWORD, **kwargs):
    return client.post(
        "/api/v1/session", json={"email": email, "password": password}, headers=CSRF, **kwargs
    )


def test_sign_in_sets_a_fresh_session_and_sign_out_ends_it(client, agent, problem):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    response = sign_in(client, agent.email.upper())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == agent.id
    assert "tickets.edit" in response.get_json()["permissions"]
    with client.session_transaction() as sess:
        assert sess["user_id"] == agent.id and "planted" not in sess
        assert sess["auth_epoch"] == agent.password_hash[-16:]
    assert client.get("/api/v1/me").get_json()["email"] == agent.email
    assert client.delete("/api/v1/session", headers=CSRF).status_code == 204
    problem(client.get("/api/v1/me"), 401)


def test_wrong_passwords_and_unknown_people_get_the_same_answer(client, agent, problem):
    wrong = problem(sign_in(client, agent.email, "not the password"), 401)
    unknown = problem(sign_in(client, "nobody@example.test"), 401)
    assert wrong["detail"] == unknown["detail"]
    problem(client.get("/api/v1/me"), 401)


def test_sign_in_needs_the_csrf_header(client, agent, problem):
    response = client.post(
        "/api/v1/session", json={"email": agent.email, "password": DEFAULT_PASSWORD}
    )
    problem(response, 403)


def test_a_password_change_ends_other_sessions(client, agent):
    from frontdesk.services import set_password

    assert sign_in(client, agent.email).status_code == 200
    set_password(agent, "a brand new password")
    assert client.get("/api/v1/me").status_code == 401


@pytest.fixture(params=["memory", "redis"])
def limiter(request):
    """A limiter on each backend, with a prefix of its own so runs sharing Redis never collide."""
    prefix = f"frontdesk-test:{secrets.token_hex(6)}"
    if request.param == "memory":
        yield RateLimiter(MemoryBackend(), prefix=prefix)
        return
    store = RedisBackend(REDIS_URL)
    try:
        store._redis.ping()
    except Exception as exc:  # never skipped: say what is missing
        pytest.fail(f"the Redis server at {REDIS_URL} is needed for this test: {exc}")
    yield RateLimiter(store, prefix=prefix)
    for key in store._redis.scan_iter(f"{prefix}:*"):
        store._redis.delete(key)


def test_sign_in_is_rate_limited_per_email_and_per_ip(app, agent, make_agent, problem, limiter):
    app.config["RATELIMIT_ENABLED"] = True  # the test configuration turns limits off
    app.extensions["frontdesk.ratelimit"] = limiter
    app.config["RATELIMIT_SIGNIN_PER_EMAIL"] = [3, 300]
    app.config["RATELIMIT_SIGNIN_PER_IP"] = [4, 300]
    client = app.test_client()
    for _ in range(3):
        problem(sign_in(client, agent.email, "wrong password"), 401)
    limited = sign_in(client, agent.email)  # the right password, but too late
    problem(limited, 429)
    assert 0 < int(limited.headers["Retry-After"]) <= 300
    other = make_agent()
    # The per-IP budget (4) is now spent too, so even another account waits...
    problem(sign_in(client, other.email), 429)
    # ...while a different address may still sign in that account.
    elsewhere = sign_in(app.test_client(), other.email, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 200


def test_people_change_their_own_profile_and_password(app, agent, problem, snapshot):
    client = app.test_client()
    other_session = app.test_client()
    assert sign_in(client, agent.email).status_code == 200
    assert sign_in(other_session, agent.email).status_code == 200
    before = snapshot()
    wrong = client.patch(
        "/api/v1/me",
        json={"password": "new password 123", "current_password": "nope"},
        headers=CSRF,
    )
    problem(wrong, 422, "current_password")
    problem(
        client.patch("/api/v1/me", json={"timezone": "Nowhere/Else"}, headers=CSRF), 422, "timezone"
    )
    problem(client.patch("/api/v1/me", json={"role": "admin"}, headers=CSRF), 422, "role")
    assert snapshot() == before
    changed = client.patch(
        "/api/v1/me",
        json={
            "name": "Renamed",
            "language": "fa",
            "password": "new password 123",
            "current_password": DEFAULT_PASSWORD,
        },
        headers=CSRF,
    )
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["name"], changed.get_json()["language"]) == ("Renamed", "fa")
    assert client.get("/api/v1/me").status_code == 200
    assert other_session.get("/api/v1/me").status_code == 401
    assert sign_in(app.test_client(), agent.email, "new password 123").status_code == 200


def test_the_limiter_counts_per_key_within_a_window(limiter):
    results = [limiter.hit("signin", "a@example.test", 2, 60) for _ in range(3)]
    assert results[:2] == [None, None] and 0 < results[2] <= 60
    assert limiter.hit("signin", "b@example.test", 2, 60) is None
    assert limiter.hit("other-scope", "a@example.test", 2, 60) is None


def test_redis_is_used_when_configured(app):
    from frontdesk.ratelimit import build_limiter

    app.config["REDIS_URL"] = REDIS_URL
    assert isinstance(build_limiter(app).backend, RedisBackend)
    app.config["REDIS_URL"] = None
    assert isinstance(build_limiter(app).backend, MemoryBackend)


def test_tokens_are_shown_once_work_and_can_be_revoked(app, agent_client, csrf, problem):
    created = agent_client.post("/api/v1/tokens", json={"name": "CI"}, headers=csrf)
    assert created.status_code == 201, created.get_json()
    plain = created.get_json()["token"]
    assert plain.startswith("fdt_") and plain.startswith(created.get_json()["prefix"])
    listed = agent_client.get("/api/v1/tokens").get_json()
    assert [t["name"] for t in listed] == ["CI"] and all("token" not in t for t in listed)
    token_client = ApiClient(app.test_client(), plain)
    assert token_client.get("/api/v1/me").status_code == 200
    token_id = created.get_json()["id"]
    assert agent_client.delete(f"/api/v1/tokens/{token_id}", headers=csrf).status_code == 204
    problem(token_client.get("/api/v1/me"), 401)
    assert agent_client.get("/api/v1/tokens").get_json()[0]["revoked_at"]


def test_nobody_revokes_someone_elses_token(app, api_client, make_agent, make_api_token, problem):
    from frontdesk.db import session
    from frontdesk.models import ApiToken

    other = make_agent()
    make_api_token(other)
    token_id = session.query(ApiToken.id).filter(ApiToken.user_id == other.id).scalar()
    problem(api_client.delete(f"/api/v1/tokens/{token_id}"), 404)
