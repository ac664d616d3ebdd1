"""The agent's profile page: details, password, API tokens."""

from __future__ import annotations

import re
from typing import Any

from frontdesk.db import session
from frontdesk.models import ApiToken, User
from frontdesk.plugins import hookimpl
from frontdesk.services import authenticate, create_api_token, user_for_token
from frontdesk.testing.helpers import login, post_form
from frontdesk.testing.plugin import DEFAULT_PASSWORD

TOKEN = re.compile(r'<code class="token-value"[^>]*>([^<]+)</code>')


def fresh(user: User) -> User:
    session.expire_all()
    return session.get(User, user.id)


def test_details_are_saved(agent_client: Any, agent: Any) -> None:
    page = agent_client.get("/desk/profile")
    assert page.status_code == 200 and agent.email in page.get_data(as_text=True)
    response = post_form(
        agent_client,
        "/desk/profile",
        {"name": "Grace <Hopper>", "language": "it", "timezone": "Europe/Rome"},
    )
    assert response.status_code == 303
    user = fresh(agent)
    assert (user.name, user.language, user.timezone) == ("Grace <Hopper>", "it", "Europe/Rome")
    html = agent_client.get("/desk/profile").get_data(as_text=True)
    assert "Grace &lt;Hopper&gt;" in html and "<Hopper>" not in html
    assert '<option value="it" lang="it" selected>' in html

    post_form(agent_client, "/desk/profile", {"name": "Grace", "language": "", "timezone": "UTC"})
    assert fresh(agent).language is None


def test_bad_details_are_shown_with_what_was_typed(agent_client: Any, agent: Any) -> None:
    response = post_form(
        agent_client,
        "/desk/profile",
        {"name": "Typed name", "language": "xx", "timezone": "Mars/Olympus_Mons"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a language from the list." in html
    assert "Choose a time zone from the list" in html
    assert 'value="Typed name"' in html and 'value="Mars/Olympus_Mons"' in html
    for zone in ("../../etc/passwd", "", "x" * 100):
        bad = post_form(agent_client, "/desk/profile", {"name": "n", "timezone": zone})
        assert bad.status_code == 422
    user = fresh(agent)
    assert (user.language, user.timezone) == (None, "UTC") and user.name != "Typed name"


def test_password_change_keeps_this_session_and_ends_the_others(
    app: Any, agent_client: Any, agent: Any
) -> None:
    elsewhere = login(app.test_client(), agent)
    assert elsewhere.get("/desk/profile").status_code == 200
    response = post_form(
        agent_client,
        "/desk/profile/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a much better secret",
            "confirm_password": "a much better secret",
        },
    )
    assert response.status_code == 303
    assert agent_client.get("/desk/profile").status_code == 200
    assert elsewhere.get("/desk/profile").status_code == 302  # signed out there
    assert authenticate(agent.email, "a much better secret") is not None
    assert authenticate(agent.email, DEFAULT_PASSWORD) is None


def test_password_change_refuses_bad_input(agent_client: Any, agent: Any) -> None:
    cases = [
        ({"current_password": "wrong", "new_password": "long enough pw",
          "confirm_password": "long enough pw"}, "This is not your current password."),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "short",
          "confirm_password": "short"}, "Use at least 8 characters."),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "long enough pw",
          "confirm_password": "different pw!"}, "The two new passwords differ."),
    ]
    for fields, message in cases:
        response = post_form(agent_client, "/desk/profile/password", fields)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert fields["new_password"] not in html  # passwords are never echoed
    assert authenticate(agent.email, DEFAULT_PASSWORD) is not None


def test_token_is_shown_once_and_works_until_revoked(agent_client: Any, agent: Any) -> None:
    response = post_form(agent_client, "/desk/profile/tokens", {"token_name": "CI <bot>"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    plain = TOKEN.search(html).group(1)
    assert "CI &lt;bot&gt;" in html and "it will not be shown again" in html
    assert user_for_token(plain).id == agent.id

    later = agent_client.get("/desk/profile").get_data(as_text=True)
    assert plain not in later and "CI &lt;bot&gt;" in later
    assert plain[:10] in later  # the prefix identifies it

    token = session.query(ApiToken).filter_by(user_id=agent.id).one()
    assert post_form(agent_client, f"/desk/profile/tokens/{token.id}/revoke").status_code == 303
    assert user_for_token(plain) is None
    assert "Revoked" in agent_client.get("/desk/profile").get_data(as_text=True)


def test_token_needs_a_name(agent_client: Any, agent: Any) -> None:
    response = post_form(agent_client, "/desk/profile/tokens", {"token_name": "  "})
    assert response.status_code == 422
    assert "Give the token a name" in response.get_data(as_text=True)
    assert session.query(ApiToken).count() == 0


def test_other_peoples_tokens_cannot_be_revoked(agent_client: Any, make_agent: Any) -> None:
    other = make_agent()
    token, plain = create_api_token(other, "theirs")
    assert post_form(agent_client, f"/desk/profile/tokens/{token.id}/revoke").status_code == 404
    assert user_for_token(plain) is not None
    assert "theirs" not in agent_client.get("/desk/profile").get_data(as_text=True)


def test_profile_forms_need_the_csrf_token(agent_client: Any, agent: Any) -> None:
    response = agent_client.post("/desk/profile", data={"name": "x", "timezone": "UTC"})
    assert response.status_code == 400
    assert fresh(agent).name != "x"


def test_tokens_need_their_permission(agent_client: Any, agent: Any, plugins: Any) -> None:
    class NoTokens:
        @hookimpl
        def permission_check(self, actor: Any, permission: str, obj: Any) -> bool | None:
            return False if permission == "tokens.manage" else None

    plugins.register(NoTokens())
    assert "API tokens" not in agent_client.get("/desk/profile").get_data(as_text=True)
    response = post_form(agent_client, "/desk/profile/tokens", {"token_name": "x"})
    assert response.status_code == 403
    assert session.query(ApiToken).count() == 0


def test_the_desk_profile_is_not_for_customers(portal_client: Any) -> None:
    assert portal_client.get("/desk/profile").status_code == 403
    assert post_form(portal_client, "/desk/profile/tokens", {"token_name": "x"}).status_code == 403
