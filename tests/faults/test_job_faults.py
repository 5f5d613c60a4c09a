"""Jobs against real faults: Celery workers on Redis and PostgreSQL, killed with SIGKILL in
the middle of a validation (the worker fixtures are in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from portal.models import AuditEvent
from portal.tasks import requeue_stale_jobs_task
from registry.choices import ArtifactStatus
from registry.models import Artifact
from registry.services.artifacts import cancel_validation, store_artifact
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.faults.conftest import (
    LEASE_SECONDS,
    PAUSE_LONG_MS,
    StartWorker,
    kill,
    waiting_messages,
)
from tests.integration.workers import TASK_TIMEOUT, Worker
from tests.registry.onnx_files import linear_onnx

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def upload(alice: Any, risk_team: Any) -> Callable[[], Artifact]:
    """``upload()``: store a small, valid ONNX file for a new version; its task is sent."""
    model = create_model(
        actor=alice, name="churn-risk", title="Churn risk", team=risk_team, task_type="other"
    )
    versions = iter(range(1, 100))

    def make() -> Artifact:
        version = create_version(actor=alice, model=model, version=f"1.{next(versions)}.0")
        data = SimpleUploadedFile("m.onnx", linear_onnx())
        return store_artifact(actor=alice, version=version, upload=data)

    return make


def wait_for(pk: int, done: Callable[[Artifact], bool], worker: Worker, what: str) -> Artifact:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        artifact = Artifact.objects.get(pk=pk)
        if done(artifact):
            return artifact
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited before {what}:\n{worker.output()}")
        time.sleep(0.1)
    pytest.fail(f"no {what} after {TASK_TIMEOUT:.0f}s; worker output:\n{worker.output()}")


def mid_validation(artifact: Artifact) -> bool:
    return artifact.status == ArtifactStatus.VALIDATING and artifact.progress > 0


def wait_for_lease_to_expire(pk: int) -> None:
    lease = Artifact.objects.get(pk=pk).lease_expires_at
    assert lease is not None
    time.sleep(max(0.0, (lease - timezone.now()).total_seconds()) + 0.2)


def events(verb: str, artifact: Artifact) -> int:
    return AuditEvent.objects.filter(verb=verb, target_id=str(artifact.pk)).count()


def test_a_worker_killed_mid_validation_only_delays_it(
    start_worker: StartWorker, upload: Callable[[], Artifact]
) -> None:
    """After its lease ends, beat sends the job again and a second worker finishes it once."""
    # given: a worker in the middle of a validation, with a short lease
    first = start_worker(
        HANDOFF_JOB_STEP_DELAY_MS=PAUSE_LONG_MS, HANDOFF_JOB_LEASE_SECONDS=str(LEASE_SECONDS)
    )
    artifact = upload()
    wait_for(artifact.pk, mid_validation, first, "validation in progress")

    # when: it is killed there; a healthy worker starts and beat runs once the lease ends
    kill(first)
    second = start_worker()
    wait_for_lease_to_expire(artifact.pk)
    assert requeue_stale_jobs_task() == 1

    # then: one outcome, recorded once, by the second attempt
    done = wait_for(artifact.pk, lambda a: a.is_final, second, "final status")
    assert done.status == ArtifactStatus.VALID, (done.error, second.output())
    assert done.attempts == 2 and done.opset is not None
    assert "validate_artifact_task" in second.output()  # a worker ran it, not this process
    assert events("artifact.validated", done) == 1
    assert events("artifact.rejected", done) == 0
    assert requeue_stale_jobs_task() == 0


def test_a_job_that_always_kills_its_worker_ends_failed_after_its_max_attempts(
    start_worker: StartWorker, upload: Callable[[], Artifact], queue: str
) -> None:
    """Each attempt dies with its worker; after the last one beat fails it and sends nothing."""
    # given: a job allowed two attempts
    artifact = upload()
    Artifact.objects.filter(pk=artifact.pk).update(max_attempts=2)

    # when: both attempts are killed mid-way
    slow = {"HANDOFF_JOB_STEP_DELAY_MS": PAUSE_LONG_MS, "HANDOFF_JOB_LEASE_SECONDS": "2"}
    for attempt in (1, 2):
        worker = start_worker(**slow)
        wait_for(
            artifact.pk,
            lambda a, n=attempt: mid_validation(a) and a.attempts == n,
            worker,
            f"attempt {attempt}",
        )
        kill(worker)
        wait_for_lease_to_expire(artifact.pk)
        assert requeue_stale_jobs_task() == (1 if attempt == 1 else 0)

    # then
    failed = Artifact.objects.get(pk=artifact.pk)
    assert failed.status == ArtifactStatus.FAILED
    assert failed.error.startswith("The worker died 2 times while validating.")
    assert events("artifact.validation_failed", failed) == 1
    assert events("artifact.validated", failed) == 0
    assert waiting_messages(queue) == 0


def test_an_upload_in_a_rolled_back_transaction_sends_nothing(
    transactional_db: None, queue: str, upload: Callable[[], Artifact]
) -> None:
    """The task is sent on commit only: the broker never hears of a rolled-back upload."""
    with pytest.raises(RuntimeError), transaction.atomic():
        upload()
        raise RuntimeError("the caller failed after the upload")

    assert waiting_messages(queue) == 0
    assert not Artifact.objects.exists()
    upload()
    assert waiting_messages(queue) == 1


def test_a_cancel_stops_the_validation_between_steps(
    start_worker: StartWorker, upload: Callable[[], Artifact], alice: Any
) -> None:
    """The worker finishes its step, notices the cancel and records no outcome."""
    # given: a worker pausing after it reported its first step
    worker = start_worker(HANDOFF_JOB_STEP_DELAY_MS="3000")
    artifact = upload()
    running = wait_for(artifact.pk, mid_validation, worker, "validation in progress")

    # when
    cancel_validation(actor=alice, artifact=running)

    # then
    done = wait_for(artifact.pk, lambda a: a.is_final, worker, "final status")
    assert done.status == ArtifactStatus.CANCELLED, (done.error, worker.output())
    assert "validate_artifact_task" in worker.output()
    assert done.progress == running.progress  # the next step never reported
    assert done.opset is None and done.inputs == []
    assert events("artifact.validation_cancel_requested", done) == 1
    assert events("artifact.validation_cancelled", done) == 1
    assert events("artifact.validated", done) == 0
