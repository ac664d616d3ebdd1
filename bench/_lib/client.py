"""One-off HTTP requests a benchmark makes outside the load tool (checks, cursor walks)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from _lib.procs import HOST, BenchError


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """Send one request to the loopback server at ``base_url``; return (status, decoded body)."""
    parts = urlsplit(base_url)
    if parts.hostname != HOST:
        raise BenchError(f"benchmarks only talk to {HOST}, not {parts.hostname}")
    conn = http.client.HTTPConnection(HOST, parts.port, timeout=timeout)
    try:
        all_headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, raw.decode(errors="replace")[:500]


def expect(base_url: str, method: str, path: str, status: int, what: str, **kwargs: Any) -> Any:
    """Like :func:`request`, but fail with the answer when the status is not ``status``."""
    got, data = request(base_url, method, path, **kwargs)
    if got != status:
        raise BenchError(f"{what}: {method} {path} answered {got}, expected {status}: {data!r}")
    return data
