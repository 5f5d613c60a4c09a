"""Registry jobs. Each loads its row through a service; the row, not Celery, holds the result."""

from contextlib import suppress

from celery import shared_task
from django.db import OperationalError

from registry.models import Artifact
from registry.services.artifacts import sweep_orphan_files, validate_artifact


@shared_task(
    name="registry.tasks.validate_artifact_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def validate_artifact_task(artifact_id: int) -> None:
    """Check an uploaded ONNX file; retried only when the database is briefly unavailable.

    Beat's portal.tasks.requeue_stale_jobs_task sends it again when a worker dies mid-way.
    """
    # A version deleted after upload leaves nothing to check.
    with suppress(Artifact.DoesNotExist):
        validate_artifact(artifact_id=artifact_id)


@shared_task(name="registry.tasks.sweep_orphan_artifact_files_task")
def sweep_orphan_artifact_files_task() -> int:
    """Scheduled by beat: files left by uploads whose transaction rolled back."""
    return sweep_orphan_files()
