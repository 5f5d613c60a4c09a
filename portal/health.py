"""Readiness checks: each returns None when the part works, or the reason it does not."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def check_cache() -> str | None:
    if not settings.REDIS_URL:
        return None
    try:
        cache.set("handoff:readyz", "ok", timeout=5)
        if cache.get("handoff:readyz") != "ok":
            return "redis cache did not return the value it stored"
    except Exception as exc:
        return f"redis unreachable: {exc.__class__.__name__}"
    return None


def check_broker() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None
    from portal.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker unreachable: {exc.__class__.__name__}"
    return None


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> dict[str, str]:
    """Name → 'ok', 'not configured' or the failure reason."""
    results = {}
    for name, check in CHECKS.items():
        configured = name == "database" or bool(
            settings.REDIS_URL if name == "cache" else settings.CELERY_BROKER_URL
        )
        failure = check()
        results[name] = failure or ("ok" if configured else "not configured")
    return results
