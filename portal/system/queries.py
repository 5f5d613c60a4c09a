"""What the System page shows: workers, the broker's queues, beat, and jobs that failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from portal.jobs import Job, JobStatus, job_models
from portal.models import WorkerHeartbeat
from portal.services.workers import STALE_AFTER

FAILED_WINDOW = timedelta(hours=24)
FAILED_SHOWN = 100


@dataclass(frozen=True)
class Worker:
    hostname: str
    seen_at: datetime
    live: bool


@dataclass(frozen=True)
class Queue:
    name: str
    waiting: int | None  # None: the broker could not be asked
    problem: str = ""


@dataclass(frozen=True)
class FailedJob:
    kind: str  # "<app label>.<model name>": which job model
    label: str  # what people call it: "Artifact", "Drift report"…
    job: Job

    @property
    def key(self) -> str:
        return self.kind


def workers() -> list[Worker]:
    now = timezone.now()
    return [
        Worker(beat.hostname, beat.seen_at, beat.seen_at >= now - STALE_AFTER)
        for beat in WorkerHeartbeat.objects.order_by("-seen_at")[:50]
    ]


def last_beat_tick() -> datetime | None:
    """Beat sends the heartbeat task every minute: its latest run is beat's latest tick that
    a worker carried out."""
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    return latest.seen_at if latest else None


def queue_names() -> list[str]:
    """Celery's default queue, and the heavy tasks' queue when they have one of their own."""
    default = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    heavy = settings.HANDOFF_HEAVY_QUEUE
    return [default, heavy] if heavy and heavy != default else [default]


def queues() -> list[Queue]:
    """Messages waiting in each queue, asked of the broker (none when tasks run in-process)."""
    if not settings.CELERY_BROKER_URL:
        return []
    from portal.celery import app

    found = []
    for name in queue_names():
        try:
            with app.connection_for_read(settings.CELERY_BROKER_URL) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                declared = connection.default_channel.queue_declare(queue=name, passive=True)
            found.append(Queue(name, int(declared.message_count)))
        except Exception as exc:  # a page about the broker must survive it
            found.append(Queue(name, None, f"{exc.__class__.__name__}: {str(exc)[:200]}"))
    return found


def failed_jobs(since: timedelta = FAILED_WINDOW) -> list[FailedJob]:
    """Jobs of every kind that failed in the window, newest first: one query per kind."""
    after = timezone.now() - since
    found: list[FailedJob] = []
    for model in job_models():
        rows = model._default_manager.filter(
            status__in=model.statuses(JobStatus.FAILED), finished_at__gte=after
        ).order_by("-finished_at")[:FAILED_SHOWN]
        label = str(model._meta.verbose_name).capitalize()
        found += [FailedJob(model._meta.label_lower, label, job) for job in rows]
    found.sort(key=lambda failed: failed.job.finished_at or after, reverse=True)
    return found[:FAILED_SHOWN]


def job_model(kind: str) -> type[Job] | None:
    return next((m for m in job_models() if m._meta.label_lower == kind), None)
