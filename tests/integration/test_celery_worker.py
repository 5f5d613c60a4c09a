"""A real Celery worker process, fed through Redis, writing to the test database.

The worker runs ``tests.settings`` against the database pytest-django created, and listens
on a queue of its own, so it never takes tasks meant for another worker on the same broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from portal.models import WorkerHeartbeat

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
TASK_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def _database_url() -> str:
    """A URL for the test database; at this point NAME is the test database's name."""
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    log: IO[bytes]

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def wait_until_ready(self) -> None:
        """Wait for Celery's "ready." line: the worker consumes from its queue."""
        deadline = time.monotonic() + TASK_TIMEOUT
        while " ready." not in self.output():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker was not ready after {TASK_TIMEOUT:.0f}s:\n{self.output()}")
            time.sleep(0.25)


@pytest.fixture
def sending_for_real() -> Iterator[None]:
    """Make apply_async go through the broker: tests/settings.py runs tasks eagerly."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _forget_queue(name: str) -> None:
    """Remove the test queue and its binding from the broker (never a FLUSH)."""
    from kombu import Exchange, Queue

    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            # The queue Celery made for ``queue=name``: a direct exchange of the same name.
            queue = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
            queue.declare()
            queue.delete()
    except Exception:  # cleanup only: a leftover empty queue is harmless
        pass


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Worker]:
    """A ``celery worker`` subprocess on a queue of its own; stopped, or killed, afterwards."""
    name = f"handoff-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
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
        try:
            yield Worker(process=process, queue=name, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
            _forget_queue(name)


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


def test_it_reports_the_broker_ready_while_a_worker_runs(worker: Worker) -> None:
    """/readyz answers 200 with the broker check "ok" when the broker is up."""
    worker.wait_until_ready()
    response = Client().get("/readyz")

    assert response.status_code == 200, (response.json(), worker.output())
    assert response.json()["checks"]["broker"] == "ok"
