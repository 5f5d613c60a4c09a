"""Evaluations against real faults: a Celery worker on Redis and PostgreSQL, killed with
SIGKILL mid-evaluation, and a cancel that a running worker honours.

The worker fixtures (a queue per test, workers that pause after each progress report) are
in conftest.py.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.tasks import requeue_stale_jobs_task
from registry.evaluation.models import Dataset, Evaluation
from registry.evaluation.services.evaluations import cancel_evaluation, start_evaluation
from registry.services.artifacts import store_artifact, validate_artifact
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.evaluation.data import INPUT_SCHEMA, classifier_onnx, table, write
from tests.faults.conftest import LEASE_SECONDS, PAUSE_LONG_MS, Outcome, StartWorker, kill
from tests.integration.workers import TASK_TIMEOUT, Worker

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def evaluate(queue: str, alice: Any, risk_team: Any, tmp_path: Path) -> Callable[[], Evaluation]:
    """``evaluate()``: start an evaluation of a churn classifier on 2,000 rows; its task is
    sent to the test's queue.

    Built here rather than with tests/evaluation's fixtures: those validate the artifact
    through an on-commit task, which in these tests goes to the broker, and they store
    files before ``queue`` points MEDIA_ROOT at the folder the workers read.
    """
    from django.conf import settings

    model = create_model(
        actor=alice, name="churn", title="Churn", team=risk_team, task_type="binary_classification"
    )
    version = create_version(actor=alice, model=model, version="1.0.0", input_schema=INPUT_SCHEMA)
    artifact = store_artifact(
        actor=alice, version=version, upload=SimpleUploadedFile("m.onnx", classifier_onnx())
    )
    # Validated here; the message store_artifact sent finds the job final and does nothing.
    validate_artifact(artifact_id=artifact.pk)
    path = write(tmp_path / "churn.parquet", table(2_000))
    dataset = Dataset(
        name="churn-eval",
        version="1",
        kind="evaluation",
        team=risk_team,
        file_format="parquet",
        size=path.stat().st_size,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        created_by=alice,
        status=JobStatus.SUCCEEDED,
    )
    with path.open("rb") as handle:
        dataset.file.save("churn.parquet", File(handle), save=False)
    dataset.save()
    assert str(settings.MEDIA_ROOT) in dataset.file.path  # where the workers look

    def start() -> Evaluation:
        return start_evaluation(
            actor=alice, version=version, dataset=dataset, label_column="churned"
        )

    return start


def wait_for(pk: int, done: Callable[[Evaluation], bool], worker: Worker, what: str) -> Evaluation:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        evaluation = Evaluation.objects.get(pk=pk)
        if done(evaluation):
            return evaluation
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited before {what}:\n{worker.output()}")
        time.sleep(0.1)
    pytest.fail(f"no {what} after {TASK_TIMEOUT:.0f}s; worker output:\n{worker.output()}")


def mid_evaluation(evaluation: Evaluation) -> bool:
    return evaluation.status == JobStatus.RUNNING and bool(evaluation.progress_text)


def events(verb: str, evaluation: Evaluation) -> int:
    return AuditEvent.objects.filter(verb=verb, target_id=str(evaluation.pk)).count()


def test_a_worker_killed_mid_evaluation_leads_to_one_result(
    start_worker: StartWorker, evaluate: Callable[[], Evaluation], outcome: Outcome
) -> None:
    """After the lease ends, beat sends the job again; a second worker starts over and the
    evaluation ends with exactly one result."""
    # given: a worker in the middle of an evaluation, with a short lease
    first = start_worker(
        HANDOFF_JOB_STEP_DELAY_MS=PAUSE_LONG_MS,
        HANDOFF_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    evaluation = evaluate()
    wait_for(evaluation.pk, mid_evaluation, first, "evaluation in progress")

    # when: it is killed there; a healthy worker starts and beat runs once the lease ends
    kill(first)
    killed_at = time.monotonic()
    second = start_worker()
    lease = Evaluation.objects.get(pk=evaluation.pk).lease_expires_at
    assert lease is not None
    time.sleep(max(0.0, (lease - timezone.now()).total_seconds()) + 0.2)
    assert requeue_stale_jobs_task() == 1

    # then: one result, recorded once, by the second attempt
    done = wait_for(evaluation.pk, lambda e: e.is_final, second, "final status")
    assert done.status == JobStatus.SUCCEEDED, (done.error, second.output())
    results = Evaluation.objects.filter(version=done.version, status=JobStatus.SUCCEEDED).count()
    outcome(
        f"SIGKILL during an evaluation: redelivered when its {LEASE_SECONDS} s lease ended, "
        f"done {time.monotonic() - killed_at:.1f} s after the kill, attempts {done.attempts}, "
        f"{results} succeeded evaluation, {done.rows} rows"
    )
    assert results == 1
    assert done.attempts == 2 and done.rows == 2_000
    assert 0.5 < done.metrics["roc_auc"] <= 1 and len(done.importance) == 4
    assert "run_evaluation_task" in second.output()  # a worker ran it, not this process
    assert events("evaluation.succeeded", done) == 1
    assert events("evaluation.failed", done) == 0
    assert requeue_stale_jobs_task() == 0


def test_a_running_worker_honours_a_cancel(
    start_worker: StartWorker, evaluate: Callable[[], Evaluation], alice: Any
) -> None:
    """The worker finishes its step, notices the cancel and stores no result."""
    worker = start_worker(HANDOFF_JOB_STEP_DELAY_MS="3000")
    evaluation = evaluate()
    running = wait_for(evaluation.pk, mid_evaluation, worker, "evaluation in progress")

    cancel_evaluation(actor=alice, evaluation=running)

    done = wait_for(evaluation.pk, lambda e: e.is_final, worker, "final status")
    assert done.status == JobStatus.CANCELLED, (done.error, worker.output())
    assert done.metrics == {} and done.rows is None
    assert events("evaluation.cancelled", done) == 1
    assert events("evaluation.succeeded", done) == 0
