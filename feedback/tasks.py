"""Feedback jobs. Each calls a service; a retention run's row, not Celery, holds its result."""

from contextlib import suppress

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from feedback.models import RetentionRun
from feedback.services.retention import apply_retention, make_partitions, start_retention


@shared_task(name="feedback.tasks.start_retention_task")
def start_retention_task() -> int:
    """Scheduled nightly by beat: queue a retention run (or keep the one still going)."""
    return start_retention(now=timezone.now()).pk


@shared_task(
    name="feedback.tasks.apply_retention_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    # A first run over a long backlog deletes for a while; each batch renews the lease.
    soft_time_limit=1800,
    time_limit=1860,
)
def apply_retention_task(run_id: int) -> None:
    """Run a retention job; beat's requeue_stale_jobs_task sends it again if a worker dies."""
    with suppress(RetentionRun.DoesNotExist):
        apply_retention(run_id=run_id)


@shared_task(name="feedback.tasks.make_prediction_partitions_task")
def make_prediction_partitions_task() -> list[str]:
    """Scheduled daily by beat: the prediction log's partitions for the coming months."""
    return make_partitions(now=timezone.now())
