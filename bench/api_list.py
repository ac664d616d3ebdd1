"""Benchmark: the agent ticket list through the REST API at 10,000 and 1,000,000 tickets.

For each size a fresh SQLite instance is migrated and bulk-loaded (see ``_lib/loader.py``), then
served under gunicorn (2 gthread workers) next to the bare Flask JSON baseline under the same
settings, and both are loaded with wrk on 127.0.0.1 in interleaved rounds (median of the rounds):

    GET /api/v1/tickets?queue=support&status_category=open&sort=-updated_at&limit=25

with an agent's bearer token. The script also follows ``next_cursor`` a few pages deep and
measures those pages, to show keyset pagination costs the same deep down as on page 1.

Budgets: the list's p50 latency at most 10x bare Flask's, at every size; and the p50 at the
largest size over the p50 at the smallest about 1 (flat; "about" here means at most 1.5x).
``--postgres`` measures the same on PostgreSQL as extra figures.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from _lib import report, wrk
from _lib.client import expect
from _lib.instances import Instance, agent_with_token, migrate, postgres_database, sqlite_instance
from _lib.loader import QUEUES, load_tickets
from _lib.procs import (
    BENCH_DIR,
    REPO,
    BenchError,
    Server,
    clean_env,
    gunicorn,
    stop_children_on_sigterm,
)

TARGET_VS_FLASK = 10.0
TARGET_FLAT = 1.5
LIST_QUERY = {
    "queue": QUEUES[0][0],
    "status_category": "open",
    "sort": "-updated_at",
    "limit": "25",
}
LIST_PATH = "/api/v1/tickets?" + urlencode(LIST_QUERY)
DEPTHS = (1, 5, 50)
BASELINE = "bare Flask JSON"


@dataclass
class SizeResult:
    """What one database size measured: the baseline and the list at each page depth."""

    database: str
    tickets: int
    load_seconds: float = 0.0
    baseline: wrk.WrkResult | None = None
    pages: dict[int, wrk.WrkResult] = field(default_factory=dict)
    last_page: int = 0

    def vs_flask(self, depth: int = 1) -> float | None:
        return _p50_ratio(self.pages.get(depth), self.baseline)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="ticket counts, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per app")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per request")
    parser.add_argument("--connections", type=int, default=2, help="open connections (wrk -c)")
    parser.add_argument("--cursor-param", default="cursor", help="query parameter for next_cursor")
    parser.add_argument("--postgres", action="store_true", help="also measure on PostgreSQL")
    return parser.parse_args()


def walk_cursor(
    server: Server, headers: dict[str, str], cursor_param: str
) -> tuple[dict[int, str], int]:
    """Follow ``next_cursor`` up to the deepest of ``DEPTHS``.

    Returns the path of each depth reached and how many pages the walk saw.
    """
    paths = {1: LIST_PATH}
    path = LIST_PATH
    page = 1
    for page in range(1, max(DEPTHS)):
        data = expect(server.base_url, "GET", path, 200, f"list page {page}", headers=headers)
        if not isinstance(data, dict) or "items" not in data or "next_cursor" not in data:
            raise BenchError(f"list page {page}: expected items and next_cursor, got {data!r:.300}")
        if page == 1 and len(data["items"]) != 25:
            raise BenchError(f"list page 1 has {len(data['items'])} items, expected 25")
        if not data["next_cursor"]:
            break
        path = f"{LIST_PATH}&{cursor_param}={quote(str(data['next_cursor']), safe='')}"
        if page + 1 in DEPTHS:
            paths[page + 1] = path
    else:
        page = max(DEPTHS)
    return paths, page


def get(
    server: Server, path: str, headers: dict[str, str], args: argparse.Namespace, duration: float
) -> wrk.WrkResult:
    """One wrk run of GETs; refuses a run with failed requests."""
    result = wrk.run(
        server.base_url + path, duration=duration, connections=args.connections, headers=headers
    )
    if result.failed:
        raise BenchError(
            f"{server.name} {path}: {result.non_2xx} non-2xx answers, {result.socket_errors} "
            f"socket errors in {result.requests} requests; see the log:\n{server.log_tail()}"
        )
    return result


def measure_size(
    instance: Instance, tmp: Path, args: argparse.Namespace, result: SizeResult
) -> None:
    """Load ``result.tickets`` tickets into ``instance``, then measure baseline and list."""
    label = f"{result.database} {result.tickets:,}"
    migrate(instance)
    report.note(f"{label}: loading tickets")
    stats = load_tickets(instance, result.tickets, progress=report.note)
    result.load_seconds = stats.seconds
    report.note(
        f"{label}: loaded in {stats.seconds:.0f} s ({stats.rows_per_second:,.0f} tickets/s)"
    )
    token = agent_with_token(instance, [LIST_QUERY["queue"]])
    headers = {"Authorization": f"Bearer {token}"}
    with contextlib.ExitStack() as stack:
        flask = stack.enter_context(
            gunicorn(
                "bare-flask-json",
                "_lib.baseline_apps:json_app",
                chdir=BENCH_DIR,
                env=clean_env(),
                log_dir=tmp,
            )
        )
        frontdesk = stack.enter_context(
            gunicorn(
                f"frontdesk-{result.database}",
                "wsgi:app",
                chdir=REPO,
                env=instance.env,
                log_dir=tmp,
            )
        )
        paths, result.last_page = walk_cursor(frontdesk, headers, args.cursor_param)
        targets = {0: (flask, "/json", {})} | {d: (frontdesk, p, headers) for d, p in paths.items()}
        runs: dict[int, list[wrk.WrkResult]] = {depth: [] for depth in targets}
        for server, path, hdrs in targets.values():
            if args.warmup > 0:
                get(server, path, hdrs, args, args.warmup)
        for round_no in range(1, args.rounds + 1):
            report.note(f"{label}: round {round_no}/{args.rounds}")
            for depth, (server, path, hdrs) in targets.items():
                runs[depth].append(get(server, path, hdrs, args, args.duration))
        result.baseline = wrk.combine(runs.pop(0))
        result.pages = {depth: wrk.combine(r) for depth, r in runs.items()}


def main() -> int:
    args = parse_args()
    stop_children_on_sigterm()
    report.header("api_list: agent ticket list through the API (latency, lower is better)")
    wrk.wrk_path()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    results: list[SizeResult] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for tickets in sizes:
            results.append(SizeResult("SQLite", tickets))
            instance = sqlite_instance(tmp, f"instance-{tickets}")
            try:
                measure_size(instance, tmp, args, results[-1])
            except Exception as exc:  # report what was measured, then the failure
                errors.append(f"SQLite {tickets:,}: {type(exc).__name__}: {exc}")
            finally:
                shutil.rmtree(instance.path, ignore_errors=True)  # a 1M database is large
            if not args.postgres:
                continue
            results.append(SizeResult("PostgreSQL", tickets))
            try:
                with postgres_database("bench_list") as url:
                    instance = Instance(tmp / f"instance-pg-{tickets}", url, "x" * 64)
                    instance.path.mkdir()
                    measure_size(instance, tmp, args, results[-1])
            except Exception as exc:  # report what was measured, then the failure
                errors.append(f"PostgreSQL {tickets:,}: {type(exc).__name__}: {exc}")
    print_results(results, args)
    report.load_average()
    for error in errors:
        print(f"error {error}", file=sys.stderr)
    return 1 if errors else 0


def print_results(results: list[SizeResult], args: argparse.Namespace) -> None:
    print(
        f"   gunicorn 2 workers x 4 threads (gthread); wrk {args.connections} connections; "
        f"median of {args.rounds} interleaved runs of {args.duration:.0f} s "
        f"after a {args.warmup:.0f} s warm-up"
    )
    print(f"   list: GET {LIST_PATH}")
    rows: list[tuple] = []
    for r in results:
        run = f"{r.database} {r.tickets:,}"
        if r.baseline:
            rows.append((run, BASELINE, *_latency(r.baseline), ""))
        for depth, page in sorted(r.pages.items()):
            ratio = r.vs_flask(depth)
            rows.append((run, f"list page {depth}", *_latency(page), _x(ratio)))
        if r.last_page and r.last_page < max(DEPTHS):
            rows.append((run, f"(open tickets fill {r.last_page} pages)", "", "", "", "", ""))
    report.table(["run", "request", "p50 ms", "p90 ms", "p99 ms", "req/s", "p50 vs Flask"], rows)
    for database in ("SQLite", "PostgreSQL"):
        by_size = [r for r in results if r.database == database]
        if by_size:
            _budgets(database, by_size)


def _budgets(database: str, by_size: list[SizeResult]) -> None:
    """The budget lines for one database (SQLite's are the budgets; the rest are figures)."""
    ratios = [r.vs_flask() for r in by_size]
    worst = None if None in ratios or not ratios else max(ratios)  # type: ignore[type-var]
    small, large = by_size[0], by_size[-1]
    flat = _p50_ratio(large.pages.get(1), small.pages.get(1)) if len(by_size) > 1 else None
    lines = (
        (
            f"api list p50 / bare Flask p50, worst size ({database})",
            worst,
            f"<= {TARGET_VS_FLASK:.0f}x",
            worst is not None and worst <= TARGET_VS_FLASK,
        ),
        (
            f"api list p50 {large.tickets:,} / {small.tickets:,} tickets ({database})",
            flat,
            f"<= {TARGET_FLAT:.1f}x, ~1x",
            flat is not None and flat <= TARGET_FLAT,
        ),
    )
    for name, value, target, ok in lines:
        if database == "SQLite":
            report.budget(name, value, target, ok, "x")
        else:
            report.extra(name, f"{_x(value) or 'not measured'} (target {target}, reported only)")
    for r in by_size:
        deepest = max(r.pages, default=1)
        if deepest > 1:
            ratio = _p50_ratio(r.pages[deepest], r.pages.get(1))
            report.extra(
                f"api list p50 page {deepest} / page 1 ({database} {r.tickets:,})", _x(ratio)
            )


def _latency(r: wrk.WrkResult) -> tuple[float, float, float, float]:
    return (r.latency_ms.get(50, 0.0), r.latency_ms.get(90, 0.0), r.latency_ms.get(99, 0.0), r.rps)


def _p50_ratio(a: wrk.WrkResult | None, b: wrk.WrkResult | None) -> float | None:
    if a is None or b is None or not b.latency_ms.get(50):
        return None
    return a.p50 / b.p50


def _x(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


if __name__ == "__main__":
    sys.exit(main())
