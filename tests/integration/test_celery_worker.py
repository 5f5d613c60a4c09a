"""A real Celery worker process, fed through Redis, writing to the test database.

The worker runs ``tests.settings`` against the database pytest-django created, and listens
on a queue of its own, so it never takes tasks meant for another worker on the same broker.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from portal.models import WorkerHeartbeat
from tests.integration.workers import (
    CELERY,
    ROOT,
    TASK_TIMEOUT,
    Worker,
    database_url,
    forget_queue,
    stop,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def sending_for_real(settings: Any) -> None:
    """Make apply_async go through the broker: tests/settings.py runs tasks eagerly.

    Through Django's settings: Celery looks CELERY_* keys up there before its own changes,
    so setting ``app.conf.task_always_eager`` alone would still run the task in this process.
    """
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Worker]:
    """A ``celery worker`` subprocess on a queue of its own; stopped, or killed, afterwards."""
    name = f"handoff-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(CELERY),
        "-A",
        "portal",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        name,
        "-n",
        f"{name}@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
    ]
    with tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        worker = Worker(process=process, queue=name, log=log)
        try:
            yield worker
        finally:
            stop(worker)
            forget_queue(name)


def _wait_for_heartbeat(worker: Worker, hostname: str) -> Any:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        beat = WorkerHeartbeat.objects.filter(hostname=hostname).first()
        if beat is not None:
            return beat
        if worker.process.poll() is not None:
            pytest.fail(
                f"the worker exited with {worker.process.returncode} before running the task:\n"
                f"{worker.output()}"
            )
        time.sleep(0.25)
    pytest.fail(
        f"no heartbeat for {hostname!r} after {TASK_TIMEOUT:.0f}s; worker output:\n"
        f"{worker.output()}"
    )


def test_it_runs_a_task_sent_through_the_broker(worker: Worker, sending_for_real: None) -> None:
    """A task sent with apply_async is run by the worker, which writes to the test database."""
    from portal.tasks import record_worker_heartbeat_task

    hostname = f"test-host-{uuid.uuid4().hex[:12]}"
    record_worker_heartbeat_task.apply_async(kwargs={"hostname": hostname}, queue=worker.queue)

    beat = _wait_for_heartbeat(worker, hostname)
    assert beat.hostname == hostname, worker.output()
    # The worker, not this process, ran it: its log records the task.
    assert "record_worker_heartbeat_task" in worker.output()


def test_it_reports_the_broker_ready_while_a_worker_runs(worker: Worker) -> None:
    """/readyz answers 200 with the broker check "ok" when the broker is up."""
    worker.wait_until_ready()
    response = Client().get("/readyz")

    assert response.status_code == 200, (response.json(), worker.output())
    assert response.json()["checks"]["broker"] == "ok"
