"""API rates that cost the same at any rate: a count per time window, not DRF's list of
every request's time (read, unpickled, pickled and written whole on every request, so a
key allowed 6,000 a minute carries thousands of timestamps per call).

The limit holds over a sliding window: the count of the current fixed window plus the
previous window's count weighed by how much of it the sliding window still covers. Counts
live in the "default" cache, like DRF's, so every worker spends the same budget; on Redis
one request is one round trip. Refused requests count too: a client that keeps going over
stays refused until it slows down.
"""

from __future__ import annotations

import logging
from functools import cache as once
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
# What a cache that is down raises: Redis's errors, or the socket's.
CACHE_DOWN = (redis.RedisError, OSError)
logger = logging.getLogger("handoff.throttling")


class WindowRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's scopes, rates and cache keys, counted per window."""

    retry_after: float | None = None
    duration: int  # set by SimpleRateThrottle from the rate
    num_requests: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window, into = divmod(self.timer(), self.duration)
        try:
            current, previous = count_hit(
                f"{self.key}:{int(window)}", f"{self.key}:{int(window) - 1}", 2 * self.duration
            )
        except CACHE_DOWN as exc:
            # A cache that is down must not take the API with it: let the request through.
            logger.warning("rate limit not counted, the cache is unavailable: %s", exc)
            return True
        if previous * (1 - into / self.duration) + current <= self.num_requests:
            return True
        self.retry_after = self.duration - into
        return False

    def wait(self) -> float | None:
        return self.retry_after


class PersonRateThrottle(WindowRateThrottle):
    """Each signed-in person's budget (and each address's, for anonymous requests)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def count_hit(key: str, other: str, ttl: int) -> tuple[int, int]:
    """Add one to the count at ``key``; that count and the one at ``other``."""
    configured = settings.CACHES["default"]
    if configured["BACKEND"] == REDIS_CACHE:
        stored = cache.make_key(key)  # the cache's prefix and version, as its own keys have
        pipe = _redis(str(configured["LOCATION"])).pipeline(transaction=False)
        pipe.incr(stored)
        pipe.expire(stored, ttl, nx=True)
        pipe.get(cache.make_key(other))
        counted, _, before = pipe.execute()
        return int(counted), int(before or 0)
    # Other caches: not atomic between workers, near enough for a rate limit.
    cache.add(key, 0, ttl)
    counted = cache.incr(key)
    return int(counted), int(cache.get(other) or 0)


@once
def _redis(location: str) -> redis.Redis:
    # One client and connection pool per process (Django's cache makes a client per call).
    return redis.Redis.from_url(location)
