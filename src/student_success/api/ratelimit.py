"""API rate limits per caller: in the process, or in Redis when several workers must share the count.

With ``REDIS_URL`` set, every worker process counts a caller's requests in the same one-minute window
(``INCR`` + ``EXPIRE`` in one transaction), so four workers do not allow four times the limit. Without
it, each process keeps a token bucket per caller. Callers are named in Redis by a hash of their label,
never by the e-mail or key prefix itself.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Protocol

from redis import asyncio as redis_asyncio
from redis.exceptions import RedisError

from student_success.config import Settings

log = logging.getLogger(__name__)
WINDOW_S = 60
KEY_PREFIX = "student-success:rate"


class Limiter(Protocol):
    """Spends one request of a caller."""

    async def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until the caller may ask again."""
        ...


class TokenBuckets:
    """Requests per caller per minute: a bucket of ``per_minute`` tokens refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, key: str) -> float:
        """Spend one token of ``key`` (see :meth:`take_at`)."""
        return self.take_at(key, time.monotonic())

    def take_at(self, key: str, now: float) -> float:
        """Spend one token of ``key`` at ``now``; 0 when allowed, else the seconds until a token is back."""
        if self.capacity <= 0:
            return 0.0
        tokens, at = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


class RedisWindows:
    """Requests per caller in each one-minute window, counted in Redis and shared by every worker.

    When Redis cannot be reached the request goes ahead (and a warning is logged): the limit protects
    the service, and an outage of the counter must not take the service down with it.
    """

    def __init__(self, url: str, per_minute: int) -> None:
        self.url = url
        self.per_minute = per_minute
        self._client: redis_asyncio.Redis | None = None

    async def take(self, key: str) -> float:
        """Count one request of ``key``; 0 when within the limit, else the seconds left in the window."""
        if self.per_minute <= 0:
            return 0.0
        now = time.time()
        window = int(now // WINDOW_S)
        name = f"{KEY_PREFIX}:{window}:{hashlib.sha256(key.encode()).hexdigest()[:24]}"
        if self._client is None:
            self._client = redis_asyncio.from_url(self.url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, 2 * WINDOW_S)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("rate limit not counted: Redis unavailable (%s)", type(exc).__name__)
            return 0.0
        if int(count) <= self.per_minute:
            return 0.0
        return (window + 1) * WINDOW_S - now


def make_limiter(settings: Settings) -> Limiter:
    """Redis windows when ``REDIS_URL`` is set, else token buckets in this process."""
    if settings.redis_url:
        return RedisWindows(settings.redis_url, settings.api_rate_limit_per_minute)
    return TokenBuckets(settings.api_rate_limit_per_minute)
