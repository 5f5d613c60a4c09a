"""The job machinery: claim, progress, finish, crash, cancel and the beat that re-enqueues.

Artifact validation is the concrete job under test: its row is a portal.jobs.Job.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portal.jobs import Job, JobCancelled, JobLost, JobStatus, job_models
from portal.models import AuditEvent
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    fail_job,
    finish_job,
    report_progress,
    request_cancel,
    requeue_stale_jobs,
    running_job,
)
from portal.tasks import requeue_stale_jobs_task
from registry.choices import ArtifactStatus
from registry.models import Artifact
from registry.services.artifacts import store_artifact, validate_artifact
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.registry.onnx_files import linear_onnx

VALIDATE = "registry.tasks.validate_artifact_task.delay"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def job(alice: Any, risk_team: Any) -> Artifact:
    """A queued artifact validation, uploaded by alice."""
    model = create_model(
        actor=alice, name="churn-risk", title="Churn risk", team=risk_team, task_type="other"
    )
    version = create_version(actor=alice, model=model, version="1.0.0")
    upload = SimpleUploadedFile("m.onnx", linear_onnx())
    return store_artifact(actor=alice, version=version, upload=upload)


def expire_lease(job: Job) -> None:
    """What time does to the lease of a run whose worker died."""
    type(job)._default_manager.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def requeue(capture: Any) -> tuple[int, mock.MagicMock]:
    """Run the beat service and the sends it queues on commit; returns (sent, the task mock)."""
    with mock.patch(VALIDATE) as delay, capture(execute=True):
        sent = requeue_stale_jobs()
    return sent, delay


# Concrete job models ------------------------------------------------------------------


def test_every_concrete_job_model_is_found_and_names_a_registered_task() -> None:
    """Beat discovers job models through the app registry; each names the task that runs it."""
    import feedback.tasks  # noqa: F401 - registers the feedback tasks
    import portal.webhooks.tasks  # noqa: F401 - registers the webhook deliveries
    import registry.evaluation.tasks
    import registry.monitoring.tasks
    import registry.tasks  # noqa: F401 - registers the registry's tasks

    models = job_models()

    assert Artifact in models
    for model in models:
        assert model.task_name in current_app.tasks, model


@pytest.mark.parametrize("model", job_models(), ids=lambda m: m.__name__)
def test_every_status_of_a_job_model_has_a_phase(model: type[Job]) -> None:
    """Each stored status maps to a phase, and the phases the services set have one value."""
    choices = {value for value, _ in model._meta.get_field("status").choices or []}

    assert set(model.PHASES) == choices
    for phase in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED):
        assert len(model.statuses(phase)) == 1, phase


# Claiming -----------------------------------------------------------------------------


def test_a_claim_counts_the_attempt_and_takes_a_lease(job: Artifact, settings: Any) -> None:
    """The claimed row is running, with a fencing token and a lease of the configured length."""
    settings.HANDOFF_JOB_LEASE_SECONDS = 120

    claimed = claim_job(Artifact, job.pk)

    assert claimed is not None
    claimed.refresh_from_db()
    assert (claimed.phase, claimed.attempts, claimed.progress) == (JobStatus.RUNNING, 1, 0)
    assert claimed.lease_token is not None and claimed.started_at is not None
    assert claimed.lease_expires_at is not None
    left = (claimed.lease_expires_at - timezone.now()).total_seconds()
    assert 100 < left <= 120


def test_a_claim_skips_a_job_held_by_a_live_run_or_final(job: Artifact) -> None:
    """A duplicate message is harmless: the second claim gets nothing."""
    first = claim_job(Artifact, job.pk)
    assert first is not None

    assert claim_job(Artifact, job.pk) is None
    assert finish_job(first) is not None
    assert claim_job(Artifact, job.pk) is None
    job.refresh_from_db()
    assert (job.attempts, job.phase) == (1, JobStatus.SUCCEEDED)


def test_a_claim_of_a_missing_row_gets_nothing(db: None) -> None:
    """A row deleted after its message was sent leaves nothing to run."""
    assert claim_job(Artifact, 999_999) is None


# Progress and fencing -----------------------------------------------------------------


def test_progress_renews_the_lease(job: Artifact, settings: Any) -> None:
    """Each report pushes the lease out again and records the text people see."""
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None
    expire_lease(claimed)

    report_progress(claimed, 140, "3 / 7 batches")

    claimed.refresh_from_db()
    assert (claimed.progress, claimed.progress_text) == (100, "3 / 7 batches")
    assert claimed.lease_expires_at is not None and claimed.lease_expires_at > timezone.now()


def test_a_run_that_lost_its_lease_writes_nothing_more(job: Artifact) -> None:
    """Once another run has claimed the job, the old one can neither report nor finish."""
    old = claim_job(Artifact, job.pk)
    assert old is not None
    expire_lease(old)
    new = claim_job(Artifact, job.pk)
    assert new is not None

    with pytest.raises(JobLost):
        report_progress(old, 50)
    assert finish_job(old) is None

    job.refresh_from_db()
    assert (job.attempts, job.phase, job.lease_token) == (2, JobStatus.RUNNING, new.lease_token)


def test_a_run_that_lost_its_lease_stops_quietly(job: Artifact) -> None:
    """running_job swallows JobLost: the newer run owns the row."""
    old = claim_job(Artifact, job.pk)
    assert old is not None
    expire_lease(old)
    claim_job(Artifact, job.pk)

    with running_job(old):
        report_progress(old, 50)
        pytest.fail("the run should have stopped")  # pragma: no cover

    job.refresh_from_db()
    assert job.phase == JobStatus.RUNNING and job.error == ""


def test_a_task_fails_its_job_with_a_reason_people_can_act_on(job: Artifact) -> None:
    """The reason is stored as given and recorded once; a run that lost the job cannot."""
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None
    stale = Artifact.objects.get(pk=job.pk)
    stale.lease_token = None

    failed = fail_job(claimed, reason="Column 'amount' is missing from the dataset.")

    assert failed is not None and failed.status == ArtifactStatus.FAILED
    assert failed.error == "Column 'amount' is missing from the dataset."
    assert fail_job(stale, reason="too late") is None
    event = AuditEvent.objects.get(verb="artifact.validation_failed")
    assert event.after == {"attempts": 1, "error": failed.error}


# Crashes and attempts -----------------------------------------------------------------


def test_a_crash_gives_the_job_back_for_another_attempt(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    """The error names the attempt but not the exception's text; beat sends it again."""
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None

    with pytest.raises(RuntimeError), running_job(claimed):
        raise RuntimeError("/var/secret/path exploded")

    job.refresh_from_db()
    assert job.phase == JobStatus.QUEUED
    assert job.error == "Attempt 1 of 3 stopped with RuntimeError; it will be retried."
    sent, delay = requeue(django_capture_on_commit_callbacks)
    assert sent == 1
    delay.assert_called_once_with(job.pk)


def test_a_time_limit_is_named_as_such(job: Artifact) -> None:
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None

    with pytest.raises(SoftTimeLimitExceeded), running_job(claimed):
        raise SoftTimeLimitExceeded()

    job.refresh_from_db()
    assert "ran over the time limit" in job.error


def test_a_job_that_always_crashes_ends_failed_after_its_max_attempts(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    """Three attempts, then failed with the reason and one audit event; never sent again."""
    # given: a file whose inspection always raises
    with mock.patch(
        "registry.services.artifacts.inspect_model", side_effect=MemoryError("too big")
    ) as inspect:
        for _ in range(3):
            with pytest.raises(MemoryError):
                validate_artifact(artifact_id=job.pk)
            requeue(django_capture_on_commit_callbacks)

    # then
    assert inspect.call_count == 3
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ArtifactStatus.FAILED, 3)
    assert job.error.startswith("Gave up after 3 attempts while validating")
    assert "stopped with MemoryError" in job.error
    assert "upload it again" in job.error
    assert AuditEvent.objects.filter(verb="artifact.validation_failed").count() == 1
    assert requeue(django_capture_on_commit_callbacks)[0] == 0


def test_a_job_whose_worker_keeps_dying_ends_failed_with_the_reason(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    """A killed worker leaves its lease to expire; after the last attempt, beat fails the job."""
    for attempt in (1, 2, 3):
        claimed = claim_job(Artifact, job.pk)
        assert claimed is not None and claimed.attempts == attempt
        expire_lease(claimed)  # the worker died here
        sent, _ = requeue(django_capture_on_commit_callbacks)
        assert sent == (1 if attempt < 3 else 0)

    job.refresh_from_db()
    assert job.status == ArtifactStatus.FAILED
    assert job.error.startswith("The worker died 3 times while validating.")
    assert job.finished_at is not None and job.lease_expires_at is None
    assert claim_job(Artifact, job.pk) is None


def test_a_requeued_job_says_its_worker_stopped(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None
    expire_lease(claimed)

    requeue(django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert job.phase == JobStatus.QUEUED and job.lease_token is None
    assert job.error == "Attempt 1 of 3 stopped with its worker; it will be retried."
    assert job.lease_expires_at is not None and job.lease_expires_at > timezone.now()


def test_beat_leaves_live_and_final_jobs_alone(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    """A fresh upload holds a delivery lease; a running job holds its run's lease."""
    assert requeue(django_capture_on_commit_callbacks)[0] == 0
    claim_job(Artifact, job.pk)
    assert requeue(django_capture_on_commit_callbacks)[0] == 0


def test_the_requeue_task_calls_the_service() -> None:
    with mock.patch("portal.tasks.requeue_stale_jobs", return_value=3) as service:
        assert requeue_stale_jobs_task() == 3

    service.assert_called_once_with()


# Enqueueing ---------------------------------------------------------------------------


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch(VALIDATE) as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_job(job)
            raise RuntimeError("the caller failed")
        enqueue_job(job)

    assert len(callbacks) == 1
    delay.assert_called_once_with(job.pk)


def test_an_enqueued_job_runs_through_its_task_eagerly(
    job: Artifact, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_job(job)

    job.refresh_from_db()
    assert job.status == ArtifactStatus.VALID and job.attempts == 1


# Cancelling ---------------------------------------------------------------------------


def test_a_running_job_stops_at_its_next_step(job: Artifact, bob: Any) -> None:
    """The request is recorded with who asked; the run notices at its next report."""
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None

    asked = request_cancel(job=job, actor=bob)
    again = request_cancel(job=job, actor=bob)

    assert asked.cancel_requested and asked.phase == JobStatus.RUNNING
    assert again.cancel_requested
    with pytest.raises(JobCancelled):
        report_progress(claimed, 50)
    with running_job(claimed):
        report_progress(claimed, 50)
    job.refresh_from_db()
    assert job.phase == JobStatus.CANCELLED and job.finished_at is not None
    requested = AuditEvent.objects.get(verb="artifact.validation_cancel_requested")
    assert requested.actor == bob
    assert AuditEvent.objects.filter(verb="artifact.validation_cancelled").count() == 1


def test_a_final_job_cannot_be_cancelled(job: Artifact, bob: Any) -> None:
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None
    finish_job(claimed)

    with pytest.raises(ValidationError, match="already ended"):
        request_cancel(job=job, actor=bob)


def test_a_dead_run_that_was_asked_to_stop_ends_cancelled(
    job: Artifact, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Beat does not send a job again that someone wanted stopped."""
    claimed = claim_job(Artifact, job.pk)
    assert claimed is not None
    request_cancel(job=job, actor=bob)
    expire_lease(claimed)

    sent, delay = requeue(django_capture_on_commit_callbacks)

    assert sent == 0
    delay.assert_not_called()
    job.refresh_from_db()
    assert job.phase == JobStatus.CANCELLED


# The migration of artifact validation onto Job ----------------------------------------


BEFORE = [("registry", "0003_stored_markdown_and_revisions")]
AFTER = [("registry", "0004_artifact_jobs")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def _back_to_latest() -> Iterator[None]:
    """Migrating registry back also unapplies the apps that depend on it: restore them all."""
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_back_to_latest")
def test_the_migration_keeps_every_artifacts_outcome(job: Artifact) -> None:
    """A validated row keeps its status and time; a row left validating is taken over later."""
    # given: rows as the old code left them
    done_at = timezone.now() - timedelta(days=2)
    old = _migrate(BEFORE).get_model("registry", "Artifact")
    old.objects.filter(pk=job.pk).update(status="invalid", validated_at=done_at, error="bad")

    # when
    _migrate(AFTER)

    # then
    migrated = Artifact.objects.get(pk=job.pk)
    assert (migrated.status, migrated.error, migrated.phase) == ("invalid", "bad", "succeeded")
    assert migrated.validated_at == done_at == migrated.finished_at
    assert (migrated.attempts, migrated.progress) == (1, 100)
    assert migrated.queued_at == migrated.created_at
    assert migrated.started_by_id == migrated.uploaded_by_id
