"""``frontdesk user``: create the first admin, change a password, issue a token."""

from __future__ import annotations

from click.testing import CliRunner

from frontdesk.cli import main
from frontdesk.services import authenticate, user_for_token


def run(app, *args, input=None):
    from frontdesk.cli.context import AppContextHolder

    holder = AppContextHolder()
    holder._app = app  # the test's app and database
    return CliRunner().invoke(main, list(args), obj=holder, input=input)


def test_create_admin_then_sign_in_and_get_a_token(app, make_queue):
    make_queue(key="support")
    result = run(
        app, "user", "create", "boss@example.test", "--role", "admin", "--queue", "support",
        "--password", "s3cret-enough",
    )
    assert result.exit_code == 0, result.output
    user = authenticate("boss@example.test", "s3cret-enough")
    assert user is not None and user.is_admin and [q.key for q in user.queues] == ["support"]
    token = run(app, "user", "token", "boss@example.test").output.strip()
    assert user_for_token(token).id == user.id
    changed = run(app, "user", "password", "boss@example.test", "--password", "another-secret")
    assert changed.exit_code == 0
    assert authenticate("boss@example.test", "another-secret") is not None


def test_bad_input_is_a_clear_message(app):
    short = run(app, "user", "create", "a@example.test", "--password", "x")
    assert short.exit_code != 0 and "password" in short.output
    bad_queue = run(app, "user", "create", "b@example.test", "--queue", "nope", "--password", "long-enough")
    assert bad_queue.exit_code != 0 and "no queue with key nope" in bad_queue.output
    missing = run(app, "user", "token", "ghost@example.test")
    assert missing.exit_code != 0 and "no user" in missing.output
