"""Jobs against real faults: Celery workers on Redis and PostgreSQL, killed with SIGKILL.

Each test routes its tasks to a queue of its own, so no other worker takes them. Workers read
the files this test stores (tests/settings.py would give each process its own media folder),
and ``HANDOFF_JOB_STEP_DELAY_MS`` makes a worker pause after each progress report, so a test
can kill it, or cancel its job, in the middle of a validation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
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
from tests.integration.workers import (
    ROOT,
    STOP_TIMEOUT,
    TASK_TIMEOUT,
    Worker,
    database_url,
    forget_queue,
    stop,
)
from tests.registry.onnx_files import linear_onnx

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

LEASE_SECONDS = 2
PAUSE_LONG_MS = "60000"  # the worker is still pausing when the test kills it
# Before Django reads tests.settings, the worker takes this test's media folder.
BOOT = (
    "import os, sys; import tests.settings as s; "
    "s.MEDIA_ROOT = os.environ['HANDOFF_TEST_MEDIA_ROOT']; "
    "from celery.__main__ import main; main()"
)

StartWorker = Callable[..., Worker]


@pytest.fixture
def queue(settings: Any, tmp_path: Path) -> Iterator[str]:
    """A broker queue for this test only; every task the test process sends goes there."""
    name = f"handoff-faults-{uuid.uuid4().hex[:12]}"
    settings.MEDIA_ROOT = tmp_path / "media"
    # Through Django's settings: app.conf looks CELERY_* keys up there before its own changes.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_TASK_DEFAULT_QUEUE = name
    yield name
    forget_queue(name)


@pytest.fixture
def start_worker(transactional_db: None, queue: str, settings: Any) -> Iterator[StartWorker]:
    """``start_worker(**env)``: a ready worker on the test's queue; all stopped afterwards."""
    with ExitStack() as stack:
        workers: list[Worker] = []

        def start(**env: str) -> Worker:
            log = stack.enter_context(tempfile.NamedTemporaryFile(prefix=f"{queue}-"))
            worker = Worker(process=_spawn(queue, len(workers), log, env), queue=queue, log=log)
            stack.callback(stop, worker)
            workers.append(worker)
            worker.wait_until_ready()
            return worker

        yield start


def _spawn(queue: str, number: int, log: Any, env: dict[str, str]) -> subprocess.Popen[bytes]:
    from django.conf import settings

    command = [sys.executable, "-c", BOOT, "-A", "portal", "worker", "--pool=solo"]
    command += ["-Q", queue, "-n", f"{queue}-{number}@%h", "-l", "info"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        "HANDOFF_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **env,
    }
    return subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)


def _kill(worker: Worker) -> None:
    """SIGKILL: no cleanup, no ack, no chance to write anything."""
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=STOP_TIMEOUT)


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


def waiting_messages(queue: str) -> int:
    """Messages in the test's queue that no worker has taken (kombu keeps them in a list)."""
    return int(redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).llen(queue))


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
    _kill(first)
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
        _kill(worker)
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
