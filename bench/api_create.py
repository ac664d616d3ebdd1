"""Benchmark: ticket creation through the REST API against bare-Flask baselines.

Starts each app under gunicorn with the same settings (2 gthread workers), loads it with wrk on
127.0.0.1 with POST bodies that name a new customer every request, and prints requests/s:

- bare Flask answering JSON (the per-request floor of Flask itself),
- bare Flask inserting one row with SQLAlchemy Core (the floor of any database write),
- bare Flask running the SQL statements of a Frontdesk create by hand, with SQLAlchemy Core and
  (SQLite only) as SQL text on the sqlite3 module's connection: the floor of any create,
- Frontdesk ``POST /api/v1/tickets`` with an agent's bearer token (customer lookup and creation,
  number, ticket, first message, history, routing, events).

wrk's keep-alive connections are split evenly between the two workers (each worker takes at
most its share): left alone, one worker sometimes accepts them all and the other idles through
the run, which made runs of the same code differ by half. The apps run side by side and are
measured in interleaved rounds (median of the rounds), so other load on the machine hits every
app alike. The budget: Frontdesk's requests/s at least 40% of the one-row-insert baseline's on
SQLite. The apps but the JSON one run again on PostgreSQL (fresh databases on 127.0.0.1:5432,
dropped afterwards) as extra figures.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import tempfile
from pathlib import Path

from _lib import report, wrk
from _lib.baseline_apps import make_engine
from _lib.client import expect
from _lib.instances import Instance, agent_with_token, migrate, postgres_database, sqlite_instance
from _lib.procs import (
    BENCH_DIR,
    REPO,
    BenchError,
    Server,
    clean_env,
    gunicorn,
    stop_children_on_sigterm,
)

TARGET_RATIO = 0.40
QUEUE = "support"
CREATE = "Frontdesk POST /api/v1/tickets"
INSERT = "bare Flask 1-row insert"
STATEMENTS = "bare Flask, a create's statements"
RAW_STATEMENTS = "bare Flask, the statements as sqlite3 SQL"
JSON = "bare Flask JSON"
BODY = {
    "subject": "Cannot sign in to the billing portal ({who})",
    "body_text": (
        "Hello,\n\nsince this morning the billing portal rejects my password, although I can "
        "sign in everywhere else. I tried resetting it twice and cleared the browser cache. "
        "Could you have a look? Our invoices are due on Friday.\n\nThanks, {who}"
    ),
    "customer": {"email": "{who}@customers.example.com", "name": "Customer"},
    "queue": QUEUE,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per app")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per app")
    parser.add_argument(
        "--connections", type=int, default=32, help="open connections (wrk -c), split evenly"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    return parser.parse_args()


def sample_body(who: str) -> dict:
    """The body the load script sends, filled in for one request (used by the sanity check)."""

    def fill(value: object) -> object:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value.replace("{who}", who) if isinstance(value, str) else value

    return fill(BODY)  # type: ignore[return-value]


def start_apps(
    label: str,
    instance: Instance,
    baseline_url: str,
    tmp: Path,
    stack: contextlib.ExitStack,
    clients: int,
) -> dict[str, tuple[Server, str, dict[str, str]]]:
    """Start the apps measured on one database (``stack`` stops them); name -> what to load."""
    apps: dict[str, tuple[Server, str, dict[str, str]]] = {}

    def baseline(name: str, app: str, database_url: str | None) -> Server:
        env = clean_env({"BENCH_DATABASE_URL": database_url} if database_url else None)
        return stack.enter_context(
            gunicorn(name, app, chdir=BENCH_DIR, env=env, log_dir=tmp, clients=clients)
        )

    if instance.dialect == "sqlite":
        apps[JSON] = (baseline("bare-flask-json", "_lib.baseline_apps:json_app", None), "/json", {})
    make_engine(baseline_url).dispose()  # create the baseline table before the workers start
    server = baseline(f"bare-flask-insert-{label}", "_lib.baseline_apps:insert_app", baseline_url)
    apps[INSERT] = (server, "/insert", {})
    report.note(f"migrating and preparing Frontdesk on {label}")
    migrate(instance)
    token = agent_with_token(instance, [QUEUE])
    headers = {"Authorization": f"Bearer {token}"}
    # The same database as Frontdesk's (the apps are loaded one at a time): its token and queue.
    server = baseline(
        f"bare-flask-statements-{label}",
        "_lib.baseline_apps:statements_app",
        instance.database_url,
    )
    apps[STATEMENTS] = (server, "/statements", headers)
    if instance.dialect == "sqlite":
        server = baseline(
            "bare-flask-raw-statements",
            "_lib.baseline_apps:raw_statements_app",
            instance.database_url,
        )
        apps[RAW_STATEMENTS] = (server, "/raw-statements", headers)
    server = stack.enter_context(
        gunicorn(
            f"frontdesk-{label}",
            "wsgi:app",
            chdir=REPO,
            env=instance.env,
            log_dir=tmp,
            clients=clients,
        )
    )
    apps[CREATE] = (server, "/api/v1/tickets", headers)
    return apps


def measure_database(
    label: str,
    instance: Instance,
    baseline_url: str,
    tmp: Path,
    args: argparse.Namespace,
    results: dict[str, wrk.WrkResult],
) -> None:
    """Measure every app on one database in interleaved rounds; fills ``results``."""
    with contextlib.ExitStack() as stack:
        apps = start_apps(label, instance, baseline_url, tmp, stack, args.connections)
        runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in apps}
        for name, (server, path, headers) in apps.items():
            who = f"check-{secrets.token_hex(4)}"
            expect(server.base_url, "POST", path, 201, name, body=sample_body(who), headers=headers)
            if args.warmup > 0:
                post(server, path, headers, tmp, args, args.warmup)
        for round_no in range(1, args.rounds + 1):
            report.note(f"{label}: round {round_no}/{args.rounds}")
            for name, (server, path, headers) in apps.items():
                runs[name].append(post(server, path, headers, tmp, args, args.duration))
        for name, name_runs in runs.items():
            results[name] = wrk.combine(name_runs)


def post(
    server: Server,
    path: str,
    headers: dict[str, str],
    tmp: Path,
    args: argparse.Namespace,
    duration: float,
) -> wrk.WrkResult:
    """One wrk run of unique-customer POSTs; refuses a run with failed requests."""
    script = wrk.post_script(tmp, path, BODY, headers)
    result = wrk.run(
        server.base_url + path, duration=duration, connections=args.connections, script=script
    )
    if result.failed:
        raise BenchError(
            f"{server.name}: {result.non_2xx} non-2xx answers and {result.socket_errors} socket "
            f"errors in {result.requests} requests; see the log:\n{server.log_tail()}"
        )
    return result


def main() -> int:
    args = parse_args()
    stop_children_on_sigterm()
    report.header("api_create: ticket creation through the API (requests/s, higher is better)")
    wrk.wrk_path()
    measured: dict[str, dict[str, wrk.WrkResult]] = {"SQLite": {}, "PostgreSQL": {}}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            instance = sqlite_instance(tmp)
            baseline_url = f"sqlite:///{tmp / 'baseline.db'}"
            measure_database("sqlite", instance, baseline_url, tmp, args, measured["SQLite"])
        except Exception as exc:  # report what was measured, then the failure
            errors.append(f"SQLite: {type(exc).__name__}: {exc}")
        if not args.no_postgres:
            try:
                with (
                    postgres_database("bench_fd") as fd_url,
                    postgres_database("bench_base") as baseline_url,
                ):
                    pg = Instance(tmp / "instance-pg", fd_url, secrets.token_hex(32))
                    pg.path.mkdir()
                    measure_database(
                        "postgresql", pg, baseline_url, tmp, args, measured["PostgreSQL"]
                    )
            except Exception as exc:  # report what was measured, then the failure
                errors.append(f"PostgreSQL: {type(exc).__name__}: {exc}")
    print_results(measured, args)
    report.load_average()
    for error in errors:
        print(f"error {error}", file=sys.stderr)
    return 1 if errors else 0


def print_results(measured: dict[str, dict[str, wrk.WrkResult]], args: argparse.Namespace) -> None:
    print(
        f"   gunicorn 2 workers x 4 threads (gthread); wrk {args.connections} connections; "
        f"median of {args.rounds} interleaved {args.duration:.0f} s runs after a "
        f"{args.warmup:.0f} s warm-up"
    )
    rows = [
        (db, app, r.rps, r.latency_ms.get(50, 0.0), r.latency_ms.get(99, 0.0), r.requests)
        for db, results in measured.items()
        for app, r in results.items()
    ]
    report.table(["database", "app", "requests/s", "p50 ms", "p99 ms", "requests"], rows)
    sqlite_ratio = _ratio(measured["SQLite"])
    report.budget(
        "api create / 1-row insert (SQLite)",
        sqlite_ratio,
        f">= {TARGET_RATIO:.2f}",
        sqlite_ratio is not None and sqlite_ratio >= TARGET_RATIO,
    )
    for database, results in measured.items():
        if database != "SQLite" and (ratio := _ratio(results)) is not None:
            report.extra(f"api create / 1-row insert ({database})", f"{ratio:.2f}")
        raw = _ratio(results, RAW_STATEMENTS, INSERT)
        if raw is not None:
            report.extra(f"the statements as sqlite3 SQL / 1-row insert ({database})", f"{raw:.2f}")
        floor = _ratio(results, STATEMENTS, INSERT)
        if floor is not None:
            report.extra(f"a create's statements alone / 1-row insert ({database})", f"{floor:.2f}")
        kept = _ratio(results, CREATE, STATEMENTS)
        if kept is not None:
            report.extra(f"api create / a create's statements alone ({database})", f"{kept:.2f}")


def _ratio(
    results: dict[str, wrk.WrkResult], app: str = CREATE, baseline: str = INSERT
) -> float | None:
    measured, base = results.get(app), results.get(baseline)
    return measured.rps / base.rps if measured and base and base.rps else None


if __name__ == "__main__":
    sys.exit(main())
