"""The Redis cache as /readyz sees it: a real Redis, and one where nothing listens.

Keys live under a prefix of this run's own and are deleted one by one; Redis is never
flushed (``cache.clear()`` on a RedisCache is FLUSHDB, so it is never called here).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

DEAD_REDIS = "redis://127.0.0.1:1/0"
READYZ_KEY = "handoff:readyz"


def _redis_settings(url: str, prefix: str) -> override_settings:
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": prefix,
            }
        },
        REDIS_URL=url,
    )


@pytest.fixture
def prefix() -> str:
    return f"handoff-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def real_redis(prefix: str) -> Iterator[None]:
    with _redis_settings(os.environ["REDIS_URL"], prefix):
        try:
            yield
        finally:
            cache.delete(READYZ_KEY)


def test_it_reports_the_cache_ok_when_redis_answers(real_redis: None) -> None:
    """With the cache on a live Redis, /readyz reports the cache check "ok"."""
    response = Client().get("/readyz")

    assert response.json()["checks"]["cache"] == "ok", response.json()
    assert "cache" not in response.json()["failing"]
    assert cache.get(READYZ_KEY) == "ok"


def test_it_reports_503_when_redis_does_not_answer(prefix: str) -> None:
    """With the cache on a Redis nobody listens to, /readyz answers 503 naming the cache."""
    with _redis_settings(DEAD_REDIS, prefix):
        response = Client().get("/readyz")

    assert response.status_code == 503, response.json()
    assert "cache" in response.json()["failing"]
    assert response.json()["checks"]["cache"].startswith("redis unreachable")
