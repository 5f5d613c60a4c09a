"""Fault tests' workers: a broker queue per test, real Celery worker processes on it, and the
measured outcome of each fault, printed at the end of the run.

Each test routes its tasks to a queue of its own, so no other worker takes them. Workers read
the files this test stores (tests/settings.py would give each process its own media folder),
and ``HANDOFF_JOB_STEP_DELAY_MS`` makes a worker pause after each progress report, so a test
can kill it, cancel its job or break a service in the middle of the work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.workers import (
    ROOT,
    STOP_TIMEOUT,
    Worker,
    database_url,
    forget_queue,
    stop,
)

LEASE_SECONDS = 2
PAUSE_LONG_MS = "60000"  # the worker is still pausing when the test kills it
CELERY = str(Path(sys.executable).parent / "celery")

StartWorker = Callable[..., Worker]
Outcome = Callable[[str], None]
OUTCOMES = pytest.StashKey[list[str]]()


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

    command = [CELERY, "-A", "portal", "worker", "--pool=solo"]
    command += ["-Q", queue, "-n", f"{queue}-{number}@%h", "-l", "info"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.process_settings",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        "HANDOFF_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **env,
    }
    return subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)


def kill(worker: Worker) -> None:
    """SIGKILL: no cleanup, no ack, no chance to write anything."""
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=STOP_TIMEOUT)


def waiting_messages(queue: str, broker_url: str | None = None) -> int:
    """Messages in the test's queue that no worker has taken (kombu keeps them in a list)."""
    url = broker_url or os.environ["CELERY_BROKER_URL"]
    return int(redis.Redis.from_url(url).llen(queue))


@pytest.fixture
def outcome(request: pytest.FixtureRequest) -> Outcome:
    """``outcome("SIGKILL during drift: …")``: a measured result, listed after the run."""
    stash = request.config.stash.setdefault(OUTCOMES, [])
    return lambda text: stash.append(f"{request.node.name}: {text}")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(OUTCOMES, [])
    if lines:
        terminalreporter.section("fault outcomes")
        for line in lines:
            terminalreporter.write_line(line)
