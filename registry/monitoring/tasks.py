"""Drift report jobs: beat starts the scheduled ones, a worker runs each. The row, not
Celery, holds the result; beat's portal.tasks.requeue_stale_jobs_task sends a report again
when its worker dies mid-way.

The services are imported inside the tasks: a web process imports this module to send a
task, and should not load scipy and pyarrow for it.
"""

from contextlib import suppress

from celery import shared_task
from django.db import OperationalError

from registry.monitoring.models import DriftReport


@shared_task(
    name="registry.monitoring.tasks.run_drift_report_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def run_drift_report_task(report_id: int) -> None:
    """Make one report; retried only when the database is briefly unavailable."""
    from registry.monitoring.services.reports import run_report

    # A version deleted after the report was queued leaves nothing to compare.
    with suppress(DriftReport.DoesNotExist):
        run_report(report_id=report_id)


@shared_task(name="registry.monitoring.tasks.schedule_drift_reports_task")
def schedule_drift_reports_task() -> int:
    """Start the hourly and daily reports that are due."""
    from registry.monitoring.services.reports import schedule_due_reports

    return schedule_due_reports()
