"""Drive ``wrk`` (the HTTP load tool) and read its report.

Each run is bounded by ``--duration``; the figures come from wrk's own summary (requests/s and
the latency distribution printed by ``--latency``). Non-2xx answers and socket errors are kept so
a script can refuse a figure built on failures.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from _lib.procs import BenchError

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY_RE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL_RE = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M)
_NON2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class WrkResult:
    """One wrk run: throughput, latency percentiles in milliseconds, failures."""

    requests: int
    rps: float
    latency_ms: dict[int, float] = field(default_factory=dict)
    non_2xx: int = 0
    socket_errors: int = 0

    @property
    def p50(self) -> float:
        return self.latency_ms[50]

    @property
    def failed(self) -> int:
        return self.non_2xx + self.socket_errors


def wrk_path() -> str:
    """The ``wrk`` binary, or a :class:`BenchError` saying how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: run `bash scripts/install-system-deps.sh`")
    return path


def parse(output: str) -> WrkResult:
    """Read wrk's text summary (run with ``--latency``)."""
    rps = _RPS_RE.search(output)
    total = _TOTAL_RE.search(output)
    if rps is None or total is None:
        raise BenchError(f"could not read wrk's output:\n{output}")
    latency = {int(p): float(v) * _UNITS[u] for p, v, u in _LATENCY_RE.findall(output)}
    non_2xx = _NON2XX_RE.search(output)
    sockets = _SOCKET_RE.search(output)
    return WrkResult(
        requests=int(total.group(1)),
        rps=float(rps.group(1)),
        latency_ms=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run(
    url: str,
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> WrkResult:
    """Load ``url`` for ``duration`` seconds with ``connections`` open connections."""
    cmd = [
        wrk_path(),
        "--threads",
        str(threads),
        "--connections",
        str(max(connections, threads)),
        "--duration",
        f"{max(int(duration), 1)}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        cmd += ["--header", f"{name}: {value}"]
    if script is not None:
        cmd += ["--script", str(script)]
    cmd.append(url)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    return parse(result.stdout)


_POST_SCRIPT = """\
-- POST a ticket-shaped JSON body; every request carries a customer email used nowhere else.
local counter = 0
local started = 0
function setup(thread)
  started = started + 1
  thread:set("tid", started)
end
request = function()
  counter = counter + 1
  local who = string.format("%s-t%d-%d", RUN, tid or 0, counter)
  local body = string.format(BODY, who, who, who)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


def post_script(directory: Path, path: str, body_template: dict, headers: dict[str, str]) -> Path:
    """Write a wrk Lua script that POSTs ``body_template`` to ``path`` with unique values.

    Every ``{who}`` in the template's strings becomes ``<run>-t<thread>-<n>``, so each request
    names a customer (email) that no earlier request or run used.
    """
    template = json.dumps(body_template, ensure_ascii=True)
    if template.count("{who}") != 3:
        raise ValueError("the body template must use {who} exactly three times")
    fmt = template.replace("%", "%%").replace("{who}", "%s")
    all_headers = {"Content-Type": "application/json", **headers}
    lua_headers = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in all_headers.items())
    script = (
        f"RUN = {_lua(uuid.uuid4().hex[:10])}\n"
        f"PATH = {_lua(path)}\n"
        f"BODY = {_lua(fmt)}\n"
        f"HEADERS = {{{lua_headers}}}\n" + _POST_SCRIPT
    )
    target = directory / f"post-{uuid.uuid4().hex[:8]}.lua"
    target.write_text(script)
    return target


def _lua(text: str) -> str:
    """``text`` as a Lua string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def combine(results: list[WrkResult]) -> WrkResult:
    """Several runs of one target as one: medians of rate and percentiles, sums of counts.

    Runs are interleaved with the other targets' runs, so a burst of load from elsewhere on the
    machine shifts one run of each target instead of all runs of one.
    """
    if not results:
        raise ValueError("no runs to combine")
    percentiles = set.intersection(*(set(r.latency_ms) for r in results))
    return WrkResult(
        requests=sum(r.requests for r in results),
        rps=statistics.median(r.rps for r in results),
        latency_ms={p: statistics.median(r.latency_ms[p] for r in results) for p in percentiles},
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )
