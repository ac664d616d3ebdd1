"""A small fixed-window rate limiter: Redis when ``REDIS_URL`` is set, process memory otherwise.

Used to slow down password guessing (sign-in per IP and per account) and public forms. With
several worker processes only the Redis backend shares counts between them; the memory backend
counts per process, which is what the embedded single-process setup needs.

Configuration: ``RATELIMIT_ENABLED`` (default true) turns every limit off when false.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, Protocol

from flask import Flask, current_app
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)
EXTENSION_KEY = "frontdesk.ratelimit"


class Backend(Protocol):
    def incr(self, key: str, period: int) -> int:
        """Count one hit on ``key`` and return the count in the current window."""


class MemoryBackend:
    """Counters in this process, dropped when their window ends."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def incr(self, key: str, period: int) -> int:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + period
            self._counts[key] = (count + 1, expires)
            return count + 1


class RedisBackend:
    """Counters in Redis, shared by every worker process and host."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def incr(self, key: str, period: int) -> int:
        # SET NX EX creates the counter with its expiry once (works on every Redis version).
        pipe = self._redis.pipeline()
        pipe.set(key, 0, ex=period + 1, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
        return int(count)


class RateLimiter:
    """Fixed windows of ``period`` seconds, at most ``limit`` hits per key in a window."""

    def __init__(self, backend: Backend, prefix: str = "frontdesk:ratelimit") -> None:
        self.backend = backend
        self.prefix = prefix

    def hit(self, scope: str, key: str, limit: int, period: int) -> int | None:
        """Count a hit; ``None`` when allowed, else the seconds until the window ends."""
        now = int(time.time())
        window = now // period
        # Keys are hashed so email addresses and IPs are not stored in Redis in the clear.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        name = f"{self.prefix}:{scope}:{period}:{window}:{digest}"
        try:
            count = self.backend.incr(name, period)
        except Exception:
            # A broken limiter store must not lock everyone out; the failure is logged loudly.
            log.exception("rate limiter store failed; allowing the request")
            return None
        if count > limit:
            return max(1, (window + 1) * period - now)
        return None


def build_limiter(app: Flask) -> RateLimiter:
    url = app.config.get("REDIS_URL")
    return RateLimiter(RedisBackend(url) if url else MemoryBackend())


def get_limiter(app: Flask | None = None) -> RateLimiter:
    """The app's limiter, built on first use from its configuration."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    limiter = app.extensions.get(EXTENSION_KEY)
    if limiter is None:
        limiter = app.extensions.setdefault(EXTENSION_KEY, build_limiter(app))
    return limiter


def check_rate_limit(scope: str, key: str, limit: int, period: int) -> None:
    """Raise ``429 Too Many Requests`` (with ``Retry-After``) when ``key`` exceeded its limit."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    retry_after = get_limiter().hit(scope, key, limit, period)
    if retry_after is not None:
        raise RateLimited(retry_after)


class RateLimited(TooManyRequests):
    """Too many attempts; ``retry_after`` says when to try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            description=f"too many attempts; try again in {retry_after} seconds",
            retry_after=retry_after,
        )


def limit_from_config(name: str, default: tuple[int, int]) -> tuple[int, int]:
    """A ``(limit, period_seconds)`` pair from config key ``name`` (a two-item list)."""
    value: Any = current_app.config.get(name, default)
    try:
        limit, period = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be [limit, period_seconds], got {value!r}") from None
    return limit, period
