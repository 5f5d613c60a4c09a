"""What Handoff counts for Prometheus: requests, tasks, ingestion, drift alerts, releases.

Labels are bounded: a request is labelled by its URL pattern's name, never its path; a task by
its registered name. Counts that follow a write are added when its transaction commits, so a
rolled-back release transition or alert is never counted.

Under gunicorn and Celery each process counts for itself; with ``PROMETHEUS_MULTIPROC_DIR`` set
(the same directory for every process of a host) ``/metrics`` adds them all up
(``portal.metrics.views``).
"""

from __future__ import annotations

from typing import Protocol

from django.db import transaction
from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "handoff_http_requests_total",
    "HTTP requests answered, by view, method and status class.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "handoff_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASKS = Counter(
    "handoff_celery_tasks_total",
    "Celery tasks run, by task and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "handoff_celery_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)
INGESTED = Counter(
    "handoff_ingested_records_total",
    "Records sent by production services, by kind (predictions, outcomes, feedback) and "
    "outcome (accepted, duplicate, rejected).",
    ["kind", "outcome"],
)
DRIFT_ALERTS = Counter("handoff_drift_alerts_total", "Drift reports that raised an alert.")
RELEASE_TRANSITIONS = Counter(
    "handoff_release_transitions_total",
    "Release requests moved to a state, by state.",
    ["state"],
)


class Batch(Protocol):
    accepted: int
    duplicates: int
    rejected: list[tuple[int, str]]


def count_ingested(kind: str, batch: Batch) -> None:
    """Add a stored batch's accepted, duplicate and rejected records."""
    for outcome, count in (
        ("accepted", batch.accepted),
        ("duplicate", batch.duplicates),
        ("rejected", len(batch.rejected)),
    ):
        if count:
            INGESTED.labels(kind, outcome).inc(count)


def count_on_commit(counter: Counter, *labels: str) -> None:
    """Add one to ``counter`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: (counter.labels(*labels) if labels else counter).inc())
