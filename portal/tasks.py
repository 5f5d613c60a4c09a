import socket

from celery import shared_task

from portal.services.jobs import requeue_stale_jobs
from portal.services.workers import record_heartbeat


@shared_task(name="portal.tasks.record_worker_heartbeat_task")
def record_worker_heartbeat_task(hostname: str = "") -> str:
    """Scheduled every minute by beat, so the portal can show whether workers are alive."""
    return record_heartbeat(hostname=hostname or socket.gethostname()).hostname


@shared_task(name="portal.tasks.requeue_stale_jobs_task")
def requeue_stale_jobs_task() -> int:
    """Scheduled every minute by beat: jobs whose worker died or whose message was lost."""
    return requeue_stale_jobs()
