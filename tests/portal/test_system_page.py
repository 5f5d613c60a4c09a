"""The System page: administrators only; workers, queues and the jobs that failed, retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.models import AuditEvent
from portal.services.jobs import claim_job, fail_job
from portal.services.workers import record_heartbeat
from registry.choices import ArtifactStatus
from registry.models import Artifact
from registry.services.artifacts import store_artifact
from registry.services.models import create_model
from registry.services.versions import create_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_artifact(
    alice: Any, risk_team: Any, django_capture_on_commit_callbacks: Any
) -> Artifact:
    """An artifact whose validation run failed (as when its worker keeps dying)."""
    model = create_model(actor=alice, name="churn", title="Churn", team=risk_team)
    version = create_version(actor=alice, model=model, version="1.0.0")
    upload = SimpleUploadedFile("model.onnx", b"\x08\x07" + b"graph" * 50)
    with django_capture_on_commit_callbacks(execute=False):  # no worker picks it up
        artifact = store_artifact(actor=alice, version=version, upload=upload)
    run = claim_job(Artifact, artifact.pk)
    assert run is not None
    fail_job(run, reason="The worker died 3 times while validating the file.")
    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.FAILED
    return artifact


def test_only_administrators_see_the_system_page(
    client_for: Any, alice: Any, superuser: Any
) -> None:
    assert client_for(alice).get("/system/").status_code == 403
    assert client_for(superuser).get("/system/").status_code == 200


def test_it_shows_workers_and_the_jobs_that_failed_with_their_errors(
    client_for: Any, superuser: Any, failed_artifact: Artifact, settings: Any
) -> None:
    settings.CELERY_BROKER_URL = ""  # tasks in-process: no broker to ask about its queues
    record_heartbeat(hostname="worker-1@host")
    page = client_for(superuser).get("/system/").content.decode()
    assert "worker-1@host" in page and "live" in page
    assert str(failed_artifact) in page
    assert failed_artifact.error[:40] in page
    assert "No broker is configured" in page


def test_a_failed_job_older_than_a_day_is_not_listed(
    client_for: Any, superuser: Any, failed_artifact: Artifact
) -> None:
    Artifact.objects.filter(pk=failed_artifact.pk).update(
        finished_at=timezone.now() - timedelta(days=2)
    )
    assert str(failed_artifact) not in client_for(superuser).get("/system/").content.decode()


def test_retry_queues_a_failed_job_again_and_records_who(
    client_for: Any,
    superuser: Any,
    alice: Any,
    failed_artifact: Artifact,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = f"/system/jobs/registry.artifact/{failed_artifact.pk}/retry/"
    assert client_for(alice).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=False) as sent:
        answer = client_for(superuser).post(url)
    assert answer.status_code == 302
    failed_artifact.refresh_from_db()
    assert failed_artifact.status == ArtifactStatus.PENDING
    assert (failed_artifact.attempts, failed_artifact.error) == (0, "")
    assert failed_artifact.started_by == superuser
    assert len(sent) == 1  # the task is sent once the retry commits
    event = AuditEvent.objects.filter(verb__endswith="retried").get()
    assert event.actor == superuser and event.before["error"]
    # A job that has not failed is not retried.
    again = client_for(superuser).post(url, follow=True)
    assert "Only a failed job is retried" in again.content.decode()
    assert client_for(superuser).post("/system/jobs/registry.nothing/1/retry/").status_code == 404
