"""Worker liveness, as seen from the database."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from portal.models import WorkerHeartbeat

STALE_AFTER = timedelta(minutes=3)


def record_heartbeat(*, hostname: str) -> WorkerHeartbeat:
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:200], defaults={"seen_at": timezone.now()}
    )
    return beat


def live_workers() -> list[WorkerHeartbeat]:
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - STALE_AFTER))
