"""The live agent desk: a real Socket.IO client talks to the app served over HTTP on loopback.

Agents sign in through the sign-in page, then connect python-socketio's client to ``/desk`` with
the session cookie, as a browser does with the page's cookie.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio
from werkzeug.serving import make_server

import frontdesk.builtins.live as live_plugin
from frontdesk import create_app
from frontdesk.db import session
from frontdesk.models import Ticket, User
from frontdesk.pluginmanager import get_registry, register_extra_plugin
from frontdesk.realtime import get_socketio
from frontdesk.services import add_note, change_status, reply, update_ticket
from frontdesk.testing.plugin import DEFAULT_PASSWORD, _base_config
from frontdesk.web.live import PRESENCE_KEY, PRESENCE_TTL, DeskNamespace

NS = "/desk"
WAIT = 10  # seconds: an upper bound, never a timing claim
# Browsers start with long-polling and upgrade to WebSocket; the tests that are about the channel
# itself do the same. The others poll only: the WebSocket client library waits 3 s for the
# server's answer to its close frame, which adds up over a suite.
BROWSER = ("polling", "websocket")
POLLING = ("polling",)


def enable_live(app: Any) -> None:
    """Register the live builtin and the /desk namespace unless the app already has them."""
    if not any(p.module is live_plugin for p in get_registry(app).plugins.values()):
        register_extra_plugin(app, live_plugin, "live_under_test")
    server = get_socketio(app)
    if NS not in server.server.namespace_handlers:
        server.on_namespace(DeskNamespace())


class LiveServer:
    """The app served by a threaded werkzeug server on 127.0.0.1 and a random port."""

    def __init__(self, app: Any) -> None:
        enable_live(app)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sign_in(self, user: Any) -> str:
        """Sign in through the page (CSRF token from the form); returns the Cookie header."""
        browser = requests.Session()
        page = browser.get(f"{self.url}/signin", timeout=WAIT)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "the sign-in form carries a CSRF token"
        answer = browser.post(
            f"{self.url}/signin",
            data={"csrf_token": token.group(1), "email": user.email, "password": DEFAULT_PASSWORD},
            allow_redirects=False,
            timeout=WAIT,
        )
        assert answer.status_code == 302, answer.text
        return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(WAIT)


class DeskClient:
    """A Socket.IO client on /desk that records every event it receives."""

    def __init__(self) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.sio.on("*", self._record, namespace=NS)

    def _record(self, event: str, data: Any = None) -> None:
        with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    def connect(
        self, url: str, cookie: str | None, transports: tuple[str, ...], **headers: str
    ) -> DeskClient:
        if cookie:
            headers["Cookie"] = cookie
        self.sio.connect(
            url, headers=headers, namespaces=[NS], transports=list(transports), wait_timeout=WAIT
        )
        return self

    def call(self, event: str, data: Any = None) -> Any:
        return self.sio.call(event, data if data is not None else {}, namespace=NS, timeout=WAIT)

    def wait_for(self, event: str, match: Callable[[Any], bool] = lambda d: True) -> Any:
        """The first recorded ``event`` whose data ``match``es, waiting up to WAIT seconds."""
        with self._changed:
            found = self._changed.wait_for(lambda: self._find(event, match), timeout=WAIT)
            assert found, f"no {event!r} event matching; received {self.events!r}"
            return self._find(event, match)

    def _find(self, event: str, match: Callable[[Any], bool]) -> Any:
        for name, data in self.events:
            if name == event and match(data):
                return data
        return None

    def received(self, event: str, match: Callable[[Any], bool] = lambda d: True) -> bool:
        with self._changed:
            return self._find(event, match) is not None

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def live(app: Any) -> Iterator[Callable[..., Any]]:
    """``live.serve(app)`` -> LiveServer; ``live.connect(server, user)`` -> DeskClient."""
    servers: list[LiveServer] = []
    clients: list[DeskClient] = []

    class Live:
        @staticmethod
        def serve(application: Any = None) -> LiveServer:
            servers.append(LiveServer(application or app))
            return servers[-1]

        @staticmethod
        def connect(
            server: LiveServer,
            user: Any = None,
            transports: tuple[str, ...] = POLLING,
            **headers: str,
        ) -> DeskClient:
            cookie = server.sign_in(user) if user is not None else None
            clients.append(DeskClient())
            return clients[-1].connect(server.url, cookie, transports, **headers)

    yield Live  # type: ignore[misc]
    for client in clients:
        client.close()
    for server in servers:
        server.stop()


def names(people: list[dict[str, Any]]) -> list[str]:
    return [p["name"] for p in people]


# --- who may connect and join --------------------------------------------------------------


def test_only_signed_in_staff_can_connect(live: Any, agent: Any, customer: Any) -> None:
    server = live.serve()
    with pytest.raises(socketio.exceptions.ConnectionError):
        live.connect(server)
    with pytest.raises(socketio.exceptions.ConnectionError):
        live.connect(server, customer)
    client = live.connect(server, agent)
    assert client.call("hello")["user"] == {"id": agent.id, "name": agent.name}


def test_a_page_of_another_site_cannot_use_the_agents_cookie(
    live: Any, app: Any, agent: Any
) -> None:
    server = live.serve()
    with pytest.raises(socketio.exceptions.ConnectionError):
        live.connect(server, agent, Origin="https://attacker.example")
    assert live.connect(server, agent, Origin=server.url).sio.connected
    app.config["SOCKETIO_ALLOWED_ORIGINS"] = ["https://intranet.example"]
    assert live.connect(server, agent, Origin="https://intranet.example").sio.connected


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser's cross-origin request
        ("http://frontdesk.test", True),
        ("https://frontdesk.test:8443", True),  # a proxy that drops the port from Host
        ("https://intranet.example", True),  # SOCKETIO_ALLOWED_ORIGINS
        ("https://attacker.example", False),
        ("https://frontdesk.test.attacker.example", False),
        ("http://frontdesk.test, https://attacker.example", False),
        ("null", False),  # a sandboxed frame
    ],
)
def test_which_origins_may_connect(app: Any, origin: str | None, allowed: bool) -> None:
    from frontdesk.web.live import _origin_allowed

    app.config["SOCKETIO_ALLOWED_ORIGINS"] = ["https://intranet.example"]
    headers = {"Origin": origin} if origin else {}
    with app.test_request_context("/socket.io/", base_url="http://frontdesk.test", headers=headers):
        assert _origin_allowed() is allowed


def test_an_agent_of_another_team_cannot_join_the_ticket(
    live: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    billing, outsider = make_agent(name="Bea Billing"), make_agent(name="Otto Outsider")
    ticket = make_ticket(queue=make_queue(members=[billing]))
    own_ticket = make_ticket(queue=make_queue(members=[outsider]))
    server = live.serve()
    insider, other = live.connect(server, billing), live.connect(server, outsider)

    assert insider.call("view_ticket", {"ticket_id": ticket.id})["ok"]
    assert other.call("view_ticket", {"ticket_id": ticket.id}) == {
        "ok": False, "error": "not_found"
    }
    assert other.call("view_ticket", {"ticket_id": 999_999})["error"] == "not_found"
    assert other.call("watch_queue")["ok"]
    assert other.call("view_ticket", {"ticket_id": own_ticket.id})["ok"]

    add_note(ticket, "Secret plan", billing)
    add_note(own_ticket, "Visible to the outsider", outsider)
    insider.wait_for("message_added", lambda d: d["ticket_id"] == ticket.id)
    # Pushes reach a client in the order they were sent: once the later one is in, the earlier
    # one would have been too.
    other.wait_for("message_added", lambda d: d["ticket_id"] == own_ticket.id)
    assert not other.received("message_added", lambda d: d["ticket_id"] == ticket.id)
    assert not other.received("presence", lambda d: d["ticket_id"] == ticket.id)


# --- presence and collision detection ------------------------------------------------------


def test_two_agents_see_each_other_view_and_reply(
    live: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    ann, bob = make_agent(name="Ann"), make_agent(name="Bob")
    ticket = make_ticket(queue=make_queue(members=[ann, bob]))
    server = live.serve()
    first = live.connect(server, ann, BROWSER)
    second = live.connect(server, bob, BROWSER)
    assert first.sio.transport() == "websocket", "install websocket-client (a dev dependency)"

    joined = first.call("view_ticket", {"ticket_id": ticket.id})
    assert names(joined["viewers"]) == ["Ann"] and joined["replying"] == []
    assert names(second.call("view_ticket", {"ticket_id": ticket.id})["viewers"]) == ["Ann", "Bob"]
    first.wait_for("presence", lambda d: names(d["viewers"]) == ["Ann", "Bob"])

    assert second.call("typing", {"ticket_id": ticket.id, "replying": True})["ok"]
    seen = first.wait_for("presence", lambda d: d["replying"])
    assert seen == {
        "ticket_id": ticket.id,
        "viewers": [{"id": ann.id, "name": "Ann"}, {"id": bob.id, "name": "Bob"}],
        "replying": [{"id": bob.id, "name": "Bob"}],
    }

    second.close()  # closing the tab: Bob neither views nor replies any more
    first.wait_for("presence", lambda d: names(d["viewers"]) == ["Ann"] and not d["replying"])


def test_an_agent_with_two_tabs_counts_once_until_both_leave(
    live: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    ann, bob = make_agent(name="Ann"), make_agent(name="Bob")
    ticket = make_ticket(queue=make_queue(members=[ann, bob]))
    server = live.serve()
    watcher = live.connect(server, ann)
    tab1, tab2 = live.connect(server, bob), live.connect(server, bob)
    watcher.call("view_ticket", {"ticket_id": ticket.id})
    tab1.call("view_ticket", {"ticket_id": ticket.id})
    assert names(tab2.call("view_ticket", {"ticket_id": ticket.id})["viewers"]) == ["Ann", "Bob"]

    assert tab1.call("leave_ticket", {"ticket_id": ticket.id})["ok"]
    still = watcher.wait_for("presence", lambda d: len(d["viewers"]) == 2)
    assert names(still["viewers"]) == ["Ann", "Bob"]
    tab2.call("leave_ticket", {"ticket_id": ticket.id})
    watcher.wait_for("presence", lambda d: names(d["viewers"]) == ["Ann"])


def test_typing_on_a_ticket_not_viewed_is_refused(
    live: Any, agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()
    client = live.connect(live.serve(), agent)
    assert client.call("typing", {"ticket_id": ticket.id, "replying": True})["ok"] is False
    assert client.call("view_ticket", {"ticket_id": "1; DROP"})["ok"] is False


# --- pushes --------------------------------------------------------------------------------


def test_a_reply_reaches_the_viewers_without_its_body(
    live: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    ann, bob = make_agent(name="Ann"), make_agent(name="Bob")
    ticket = make_ticket(queue=make_queue(members=[ann, bob]))
    viewer = live.connect(live.serve(), ann)
    viewer.call("view_ticket", {"ticket_id": ticket.id})

    message = reply(ticket, "We shipped the fix", bob)
    pushed = viewer.wait_for("message_added", lambda d: d["message_id"] == message.id)
    assert pushed == {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "version": ticket.version,
        "message_id": message.id,
        "kind": "agent",
        "author": {"id": bob.id, "name": "Bob"},
    }

    note = add_note(ticket, "Customer is grumpy", bob)
    pushed = viewer.wait_for("message_added", lambda d: d["message_id"] == note.id)
    assert pushed["kind"] == "internal_note"
    assert "Customer is grumpy" not in repr(viewer.events)


def test_a_reply_through_the_api_reaches_the_viewers(
    live: Any, app: Any, make_agent: Any, make_queue: Any, make_ticket: Any, make_api_token: Any
) -> None:
    ann, bob = make_agent(name="Ann"), make_agent(name="Bob")
    ticket = make_ticket(queue=make_queue(members=[ann, bob]))
    server = live.serve()
    viewer = live.connect(server, ann)
    viewer.call("view_ticket", {"ticket_id": ticket.id})

    answer = requests.post(
        f"{server.url}/api/v1/tickets/{ticket.number}/messages",
        json={"kind": "reply", "body_text": "Sent through the API"},
        headers={"Authorization": f"Bearer {make_api_token(bob)}"},
        timeout=WAIT,
    )
    assert answer.status_code == 201, answer.text
    pushed = viewer.wait_for("message_added", lambda d: d["ticket_id"] == ticket.id)
    assert pushed["author"] == {"id": bob.id, "name": "Bob"} and pushed["kind"] == "agent"


def test_ticket_changes_reach_the_ticket_and_its_queue_views(
    live: Any, make_agent: Any, make_admin: Any, make_queue: Any, make_ticket: Any
) -> None:
    ann, bob, boss = make_agent(name="Ann"), make_agent(name="Bob"), make_admin(name="Boss")
    support, sales = make_queue(members=[ann]), make_queue(members=[bob])
    ticket = make_ticket(queue=support)
    server = live.serve()
    support_view, sales_view, all_view = (live.connect(server, u) for u in (ann, bob, boss))
    for view in (support_view, sales_view, all_view):
        assert view.call("watch_queue")["ok"]

    change_status(ticket, "pending", ann)
    changed = support_view.wait_for("ticket_changed", lambda d: d["fields"] == ["status"])
    assert changed == {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "version": ticket.version,
        "fields": ["status"],
        "by": {"id": ann.id, "name": "Ann"},
    }
    all_view.wait_for("ticket_changed", lambda d: d["fields"] == ["status"])

    # Moving it to sales: the support list loses a row, the sales list gains one.
    update_ticket(ticket, {"queue": sales, "priority": "high"}, ann)
    moved = lambda d: d["fields"] == ["priority", "queue"]  # noqa: E731
    support_view.wait_for("ticket_changed", moved)
    sales_view.wait_for("ticket_changed", moved)
    assert not sales_view.received("ticket_changed", lambda d: d["fields"] == ["status"])

    created = make_ticket(queue=sales, subject="Fresh one")
    sales_view.wait_for("ticket_changed", lambda d: d["ticket_id"] == created.id)
    all_view.wait_for("ticket_changed", lambda d: d["fields"] == ["created"])


def test_an_agent_hears_of_tickets_assigned_to_it_outside_its_teams(
    live: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    helper = make_agent(name="Helper")
    ticket = make_ticket(queue=make_queue())
    client = live.connect(live.serve(), helper)
    client.call("watch_queue")
    update_ticket(ticket, {"assignee": helper}, None)
    client.wait_for("ticket_changed", lambda d: "assignee" in d["fields"])
    assert client.call("view_ticket", {"ticket_id": ticket.id})["ok"]


def test_the_queue_notice_counts_in_the_agents_language(live: Any, agent: Any) -> None:
    client = live.connect(live.serve(), agent)
    assert client.call("changed_label", {"count": 1})["text"] == (
        "1 ticket changed since this list was loaded."
    )
    assert client.call("changed_label", {"count": 3})["text"] == (
        "3 tickets changed since this list was loaded."
    )
    assert client.call("changed_label", {"count": "many"}) == {"ok": False}
    texts = client.call("hello")["text"]
    assert "%(names)s" in texts["viewing"] and texts["reload"]


# --- the browser side ----------------------------------------------------------------------


def test_desk_pages_load_the_vendored_client_and_live_js(app: Any, client: Any) -> None:
    from frontdesk.web.context import asset_urls

    enable_live(app)
    with app.test_request_context():
        urls = asset_urls("desk")
        assert asset_urls("portal") == [u for u in asset_urls("portal") if "live" not in u]
    assert urls.index("/static/vendor/socket.io.min.js") < urls.index("/static/js/live.js")
    vendored = client.get("/static/vendor/socket.io.min.js")
    assert vendored.status_code == 200 and b"Socket.IO v4." in vendored.data[:100]
    assert "javascript" in vendored.content_type
    script = client.get("/static/js/live.js")
    assert script.status_code == 200 and b'io("/desk"' in script.data


# --- several server processes on one Redis -------------------------------------------------

REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_apps(frontdesk_database_url: str, tmp_path: Any) -> Iterator[tuple[Any, Any]]:
    """Two apps on the test database and one Redis, as two worker processes would be."""
    from redis import Redis
    from redis.exceptions import RedisError

    redis = Redis.from_url(REDIS_URL)
    try:
        redis.ping()
    except (RedisError, OSError) as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); start it (make services)")
    apps = []
    for n in (1, 2):
        config = {**_base_config(frontdesk_database_url, tmp_path), "REDIS_URL": REDIS_URL}
        apps.append(create_app(config, instance_path=tmp_path / f"instance{n}"))
        enable_live(apps[-1])
    yield apps[0], apps[1]
    for application in apps:
        application.extensions["frontdesk.db"].dispose()
    redis.close()


@pytest.mark.redis
def test_presence_and_pushes_cross_servers_through_redis(
    live: Any, redis_apps: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    from redis import Redis

    one, two = redis_apps
    ann, bob = make_agent(name="Ann"), make_agent(name="Bob")
    ticket_id = make_ticket(queue=make_queue(members=[ann, bob])).id
    on_one = live.connect(live.serve(one), ann, BROWSER)
    on_two = live.connect(live.serve(two), bob, BROWSER)

    on_one.call("view_ticket", {"ticket_id": ticket_id})
    # Bob's server sees Ann, who is connected to the other one, and tells her about Bob.
    assert names(on_two.call("view_ticket", {"ticket_id": ticket_id})["viewers"]) == ["Ann", "Bob"]
    on_one.wait_for("presence", lambda d: names(d["viewers"]) == ["Ann", "Bob"])
    assert 0 < Redis.from_url(REDIS_URL).ttl(PRESENCE_KEY.format(ticket_id)) <= PRESENCE_TTL

    with one.app_context():  # the reply is made in server one's process
        author = session.get(User, ann.id)
        message = reply(session.get(Ticket, ticket_id), "Answered on server one", author)
    pushed = on_two.wait_for("message_added", lambda d: d["message_id"] == message.id)
    assert pushed["author"] == {"id": ann.id, "name": "Ann"}

    on_one.close()
    on_two.wait_for("presence", lambda d: names(d["viewers"]) == ["Bob"])


class _Tripwire:
    """Unpickling this creates a folder: proof that a queue message was unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (self.path,))


@pytest.mark.redis
def test_the_message_queue_never_unpickles(
    live: Any, redis_apps: Any, make_agent: Any, make_ticket: Any, tmp_path: Any
) -> None:
    from redis import Redis

    one, two = redis_apps
    agent = make_agent(name="Ann")
    ticket_id = make_ticket().id
    client = live.connect(live.serve(two), agent)
    client.call("view_ticket", {"ticket_id": ticket_id})
    tripwire = tmp_path / "unpickled"
    channel = get_socketio(two).server.manager.channel
    # What an attacker who reaches Redis could publish to the servers' channel.
    Redis.from_url(REDIS_URL).publish(channel, pickle.dumps(_Tripwire(str(tripwire))))

    with one.app_context():
        author = session.get(User, agent.id)
        note = add_note(session.get(Ticket, ticket_id), "after the bad message", author)
    client.wait_for("message_added", lambda d: d["message_id"] == note.id)
    assert not tripwire.exists()


@pytest.mark.redis
def test_viewers_of_a_server_that_died_fade_out(
    live: Any, redis_apps: Any, make_agent: Any, make_ticket: Any
) -> None:
    import json
    import time

    from redis import Redis

    one, _two = redis_apps
    ann = make_agent(name="Ann")
    ticket_id = make_ticket().id
    redis, key = Redis.from_url(REDIS_URL), PRESENCE_KEY.format(ticket_id)
    # What another server process left behind for its client before it was killed.
    ghost = {"id": ann.id + 1000, "name": "Ghost", "replying": True, "at": time.time()}
    redis.hset(key, "ghost-sid", json.dumps(ghost))
    client = live.connect(live.serve(one), ann)
    joined = client.call("view_ticket", {"ticket_id": ticket_id})
    assert names(joined["viewers"]) == ["Ann", "Ghost"]

    ghost["at"] = time.time() - PRESENCE_TTL - 1  # nobody renewed it since
    redis.hset(key, "ghost-sid", json.dumps(ghost))
    renewed = client.call("view_ticket", {"ticket_id": ticket_id})  # live.js renews every 30 s
    assert names(renewed["viewers"]) == ["Ann"] and renewed["replying"] == []
    client.wait_for("presence", lambda d: names(d["viewers"]) == ["Ann"])
    assert redis.hkeys(key) == [client.sio.get_sid(NS).encode()]


def test_an_event_from_a_client_that_already_left_gets_an_answer_not_an_error(
    app: Any, admin: Any, make_ticket: Any
) -> None:
    # A page that navigates away right after asking to view a ticket: by the time the event's
    # thread runs, the session is gone from the namespace. It is answered, nothing raises.
    from flask import request
    from flask import session as http_session

    enable_live(app)
    desk = get_socketio(app).server.namespace_handlers[NS]
    ticket = make_ticket()
    with app.test_request_context("/socket.io/"):
        http_session["user_id"] = admin.id
        http_session["auth_epoch"] = (admin.password_hash or "")[-16:]
        request.sid = "gone"  # type: ignore[attr-defined]
        request.namespace = NS  # type: ignore[attr-defined]
        assert desk.on_view_ticket({"ticket_id": ticket.id}) == {
            "ok": False,
            "error": "disconnected",
        }
        assert desk.on_watch_queue({}) == {"ok": False, "error": "disconnected"}
