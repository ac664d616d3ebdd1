"""A job worker builds a lighter app than a web process and keeps everything a job needs.

The startup migration check reads revision files and version tables without Alembic; a worker
app starts no Socket.IO server and mounts no REST API, yet ``frontdesk.realtime.emit`` still
reaches the web processes' clients from its jobs.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

import frontdesk
from frontdesk.cli import main
from frontdesk.jobs import enqueue
from frontdesk.migrations import (
    MigrationError,
    MigrationSource,
    alembic_heads,
    check_database_current,
    current_revisions,
    heads,
    migration_sources,
    upgrade,
)
from frontdesk.realtime import EMITTER, emit, get_socketio
from frontdesk.testing.database import run_database
from frontdesk.testing.plugin import _base_config

REPO = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HEAVY = {"alembic", "mako", "pygments", "flask_socketio", "socketio", "engineio"}
# (webargs, a small parser the ticket list query shares with the desk pages, may load.)
HEAVY |= {"flask_smorest", "apispec"}
# Builds the app of a web process (through wsgi.py) or of a worker, then reports what it holds.
PROBE = """
import json, sys
if sys.argv[1] == "web":
    import wsgi
    app, same = wsgi.app, wsgi.socketio is wsgi.app.extensions.get("socketio")
else:  # a worker, or a command-line process (role web, served by nobody)
    from frontdesk import create_app
    app, same = create_app(role="worker" if sys.argv[1] == "worker" else "web"), None
print(json.dumps({
    "modules": sorted({name.split(".")[0] for name in sys.modules}),
    "rules": sorted(rule.rule for rule in app.url_map.iter_rules()),
    "extensions": sorted(app.extensions),
    "wsgi_socketio_is_the_apps": same,
}))
"""


def push(token: str) -> None:
    """A job that pushes to the agents' browsers."""
    emit("fd-footprint", {"token": token})


# --- the migration check without Alembic -----------------------------------------------------


def test_fast_heads_match_alembic_for_every_source(app: Any) -> None:
    sources = migration_sources(app)
    assert sources[0].name == "core"
    for source in sources:
        assert heads(source), source.name
        assert heads(source) == alembic_heads(source), source.name


def write_revisions(folder: Path, files: dict[str, str]) -> None:
    (folder / "versions").mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / "versions" / name).write_text(body)


def test_fast_heads_follow_branches_merges_and_odd_files(tmp_path: Path) -> None:
    source = MigrationSource("sample", tmp_path)
    write_revisions(
        tmp_path,
        {
            "a.py": 'revision = "a"\ndown_revision = None\n',
            "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
            # A dependency is not a parent: "b" stays a head.
            "c.py": "revision = 'c'\ndown_revision = ('a',)\ndepends_on = 'b'\n",
            "__init__.py": 'revision = "not-a-revision"\n',
            "notes.txt": 'revision = "nor-this"\n',
        },
    )
    assert heads(source) == alembic_heads(source) == {"b", "c"}
    write_revisions(tmp_path, {"m.py": 'revision = "m"\ndown_revision = ["b", "c"]\n'})
    assert heads(source) == alembic_heads(source) == {"m"}
    # An id only running the file reveals: the answer still comes out right (from Alembic).
    write_revisions(tmp_path, {"d.py": 'revision = "d" + "1"\ndown_revision = "m"\n'})
    assert heads(source) == alembic_heads(source) == {"d1"}


def test_version_tables_are_read_as_alembic_reads_them(app: Any) -> None:
    from alembic.runtime.migration import MigrationContext

    fast = current_revisions(app)
    with app.extensions["frontdesk.db"].engine.connect() as conn:
        for source in migration_sources(app):
            ctx = MigrationContext.configure(conn, opts={"version_table": source.version_table})
            assert fast[source.name] == set(ctx.get_current_heads()), source.name
    check_database_current(app)  # the run's database is migrated: no complaint


def test_app_refuses_a_database_behind_or_ahead_of_the_code(tmp_path: Path) -> None:
    with run_database(tmp_path) as url:
        config = _base_config(url, tmp_path)
        setup = frontdesk.create_app(config, instance_path=tmp_path)
        engine = setup.extensions["frontdesk.db"].engine
        core = migration_sources(setup)[0]
        first = "0001"
        (head,) = heads(core)
        try:
            with setup.app_context():
                upgrade(setup, first, only="core")
            for role in ("web", "worker"):
                with pytest.raises(MigrationError) as refused:
                    frontdesk.create_app(
                        {**config, "CHECK_MIGRATIONS": True}, instance_path=tmp_path, role=role
                    )
                assert f"core (at {first}, head {head})" in str(refused.value)
                assert "Run `frontdesk db upgrade` first" in str(refused.value)
            with setup.app_context():
                upgrade(setup)
            worker = frontdesk.create_app(
                {**config, "CHECK_MIGRATIONS": True}, instance_path=tmp_path, role="worker"
            )
            worker.extensions["frontdesk.db"].dispose()
            with engine.begin() as conn:  # a revision this code does not know: newer code ran
                conn.execute(text("UPDATE alembic_version_core SET version_num = 'zz99'"))
            with pytest.raises(MigrationError, match=f"core \\(at zz99, head {head}\\)"):
                check_database_current(setup)
        finally:
            setup.extensions["frontdesk.db"].dispose()


# --- what a worker app holds --------------------------------------------------------------------


def probe(kind: str, database_url: str, tmp_path: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_DATABASE_URL=database_url,
        FRONTDESK_SECRET_KEY="probe-secret",
        FRONTDESK_INSTANCE_PATH=str(tmp_path / kind),
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, kind],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_worker_app_leaves_out_migrations_socketio_and_the_api(
    frontdesk_database_url: str, tmp_path: Path
) -> None:
    worker = probe("worker", frontdesk_database_url, tmp_path)
    web = probe("web", frontdesk_database_url, tmp_path)

    assert not HEAVY & set(worker["modules"])
    assert "socketio" not in worker["extensions"]
    # The web process serves everything, and its startup check needs no Alembic either.
    assert {"flask_socketio", "flask_smorest"} <= set(web["modules"])
    assert not {"alembic", "mako"} & set(web["modules"])
    assert web["wsgi_socketio_is_the_apps"] is True
    assert {"/api/v1/openapi.json", "/api/v1/tickets"} <= set(web["rules"])
    # The worker keeps pages and plugin routes (url_for in jobs) and drops only the core API.
    assert set(worker["rules"]) <= set(web["rules"])
    assert "/healthz" in worker["rules"]
    dropped = set(web["rules"]) - set(worker["rules"])
    assert dropped and all(r.startswith("/api/v1/") for r in dropped)
    assert not [r for r in dropped if r.startswith("/api/v1/email")]  # a plugin's stay


def test_a_command_line_app_never_loads_socketio(
    frontdesk_database_url: str, tmp_path: Path
) -> None:
    # Every `frontdesk` command builds a web app (a mail piped in by an MTA starts one): the
    # Socket.IO server and its libraries come only with the first /socket.io request.
    cli = probe("cli", frontdesk_database_url, tmp_path)
    assert not {"flask_socketio", "socketio", "engineio"} & set(cli["modules"])
    assert "socketio" not in cli["extensions"]
    assert "/api/v1/tickets" in cli["rules"]


def test_a_web_app_starts_socketio_with_the_first_socketio_request(app: Any) -> None:
    assert "socketio" not in app.extensions
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert "socketio" not in app.extensions  # a page request does not start it
    opened = client.get("/socket.io/?EIO=4&transport=polling")
    assert opened.status_code == 200 and opened.data.startswith(b"0{")
    assert "socketio" in app.extensions
    again = client.get("/socket.io/?EIO=4&transport=polling")
    assert again.status_code == 200 and again.data.startswith(b"0{")  # one server, reused
    assert client.get("/healthz").status_code == 200


def test_frontdesk_worker_builds_a_worker_app(
    app: Any, frontdesk_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``app`` only empties the tables afterwards: the worker records the periodic ticks it ran.
    real = frontdesk.create_app
    built: list[Any] = []

    def create_app(config: Any = None, instance_path: Any = None, *, role: str = "web") -> Any:
        test_config = {**_base_config(frontdesk_database_url, tmp_path), "PLUGINS": []}
        built.append(real({**test_config, **(config or {})}, instance_path, role=role))
        return built[-1]

    monkeypatch.setattr(frontdesk, "create_app", create_app)
    try:
        result = CliRunner().invoke(main, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "periodic tick" in result.output  # its summary
        assert [app.extensions["frontdesk.role"] for app in built] == ["worker"]
        assert built[0].test_client().get("/healthz").status_code == 503  # it serves nothing
    finally:
        for app in built:
            app.extensions["frontdesk.db"].dispose()


def test_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="role must be one of web, worker"):
        frontdesk.create_app({"SECRET_KEY": "k"}, instance_path=tmp_path, role="mailer")


# --- realtime pushes --------------------------------------------------------------------------


def received(client: Any, token: str) -> list[Any]:
    return [
        m
        for m in client.get_received()
        if m["name"] == "fd-footprint" and m["args"][0].get("token") == token
    ]


def test_emit_reaches_clients_from_requests_and_jobs_of_a_web_app(app: Any) -> None:
    client = get_socketio(app).test_client(app)
    with app.test_request_context("/"):
        emit("fd-footprint", {"token": "from-a-request"})
    assert received(client, "from-a-request")
    enqueue(push, token="from-a-job")  # JOBS_EAGER: runs in this process, as in `frontdesk run`
    assert received(client, "from-a-job")
    client.disconnect()


def test_worker_without_a_message_queue_drops_pushes_quietly(
    frontdesk_database_url: str, tmp_path: Path
) -> None:
    config = {**_base_config(frontdesk_database_url, tmp_path), "PLUGINS": []}
    worker = frontdesk.create_app(config, instance_path=tmp_path, role="worker")
    try:
        with worker.app_context():
            emit("fd-footprint", {"token": "nobody"})
        assert "socketio" not in worker.extensions and EMITTER not in worker.extensions
    finally:
        worker.extensions["frontdesk.db"].dispose()


@pytest.fixture
def redis_client() -> Any:
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); start it (make services)")
    yield client
    client.close()


def test_worker_jobs_push_through_the_message_queue(
    app: Any, redis_client: Any, frontdesk_database_url: str, tmp_path: Path
) -> None:
    # ``app`` empties the tables afterwards (the job's row). The web servers subscribe to this
    # channel (Flask-SocketIO's default) and hand each ``emit`` message to their clients.
    listener = redis_client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe("flask-socketio")
    config = {**_base_config(frontdesk_database_url, tmp_path), "REDIS_URL": REDIS_URL}
    worker = frontdesk.create_app({**config, "PLUGINS": []}, instance_path=tmp_path, role="worker")
    token = secrets.token_hex(4)
    try:
        with worker.app_context():
            enqueue(push, token=token)  # JOBS_EAGER: the worker app runs it
        deadline, found = time.monotonic() + 10, None
        while found is None and time.monotonic() < deadline:
            message = listener.get_message(timeout=0.5)
            if message and f'"{token}"' in message["data"].decode():
                found = json.loads(message["data"])
        assert found is not None, "the job's push never reached the message queue"
        assert (found["method"], found["event"], found["namespace"]) == (
            "emit",
            "fd-footprint",
            "/",
        )
        assert found["data"] == [{"token": token}]
        assert "socketio" not in worker.extensions  # a write-only emitter, not a server
        assert EMITTER in worker.extensions
    finally:
        listener.close()
        worker.extensions["frontdesk.db"].dispose()
