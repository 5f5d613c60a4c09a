"""Redis killed and started again under a running portal and a waiting worker.

gunicorn and a Celery worker use a Redis of this test's own (servers.py) as their cache and
broker, so killing it touches nobody else's. That Redis keeps nothing on disk, as the one on
this machine: what it held is gone when it dies. While it is down, pages render (the cache
degrades, it does not fail), ingestion stores to PostgreSQL, and an upload is accepted
although its task cannot be sent. Once it is back, the same worker reconnects, and beat's
sweep sends the job whose message never reached the broker: nothing queued is lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client

from feedback.models import PredictionLog
from feedback.services.keys import create_key
from portal.models import AuditEvent
from portal.services.tokens import create_token
from registry.choices import ArtifactStatus
from registry.models import Artifact, ModelVersion
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.faults.conftest import Outcome, StartWorker
from tests.faults.servers import Gunicorn, PrivateRedis
from tests.integration.workers import ROOT, TASK_TIMEOUT, Worker, database_url
from tests.registry.onnx_files import linear_onnx

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

PAGES = ["/", "/models/", "/models/churn-risk/", "/backlog/", "/system/"]
VERSIONS = "/api/v1/models/churn-risk/versions"
DOWN_SECONDS = 3.0


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def environment(redis_server: PrivateRedis, queue: str, settings: Any) -> dict[str, str]:
    """What every process of this test shares: the test database, media folder and queue,
    and the private Redis as cache (db 0) and broker (db 1)."""
    return {
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": redis_server.url(1),
        "REDIS_URL": redis_server.url(0),
        "HANDOFF_TEST_CACHE_URL": redis_server.url(0),
        "HANDOFF_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "HANDOFF_TEST_QUEUE": queue,
        # A job whose task never reached the broker is sent again by beat after this.
        "HANDOFF_JOB_LEASE_SECONDS": "2",
    }


@pytest.fixture
def web(environment: dict[str, str], tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(env=environment, log=tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def sweep(environment: dict[str, str]) -> int:
    """Beat's sweep, run once in a process of its own on the private broker."""
    command = "from portal.tasks import requeue_stale_jobs_task as t; print(t())"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", command],
        cwd=ROOT,
        env={
            **os.environ,
            **environment,
            "DJANGO_SETTINGS_MODULE": "tests.faults.process_settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def wait_for_artifact(version: str, done: Any, worker: Worker, what: str) -> Artifact:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        artifact = Artifact.objects.filter(version__version=version).first()
        if artifact is not None and done(artifact):
            return artifact
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited before {what}:\n{worker.output()}")
        time.sleep(0.1)
    pytest.fail(f"no {what} after {TASK_TIMEOUT:.0f}s; worker output:\n{worker.output()}")


def predictions(first: int) -> list[dict[str, Any]]:
    return [
        {
            "prediction_id": f"redis-{n}",
            "version": "1.0.0",
            "timestamp": "2026-11-30T10:00:00Z",
            "features": {"age": n % 90},
            "output": {"label": "churn"},
        }
        for n in range(first, first + 100)
    ]


def validated(artifact: Artifact) -> int:
    return AuditEvent.objects.filter(verb="artifact.validated", target_id=str(artifact.pk)).count()


def test_a_redis_restart_degrades_pages_and_loses_no_work(
    start_worker: StartWorker,
    environment: dict[str, str],
    web: Gunicorn,
    redis_server: PrivateRedis,
    alice: Any,
    risk_team: Any,
    outcome: Outcome,
) -> None:
    # given: a model with three versions, a person signed in, a token and an ingestion key
    model = create_model(
        actor=alice, name="churn-risk", title="Churn risk", team=risk_team, task_type="other"
    )
    for number in ("1.0.0", "1.1.0", "1.2.0"):
        create_version(actor=alice, model=model, version=number)
    alice.is_staff = True  # the System page shows the queues, read from Redis
    alice.save(update_fields=["is_staff"])
    browser = Client()
    browser.force_login(alice)
    session = requests.Session()
    session.cookies.set("sessionid", browser.cookies["sessionid"].value)
    token = {"Authorization": f"Token {create_token(user=alice, name='ci', scope='write')[1]}"}
    secret = create_key(
        actor=alice, team=risk_team, name="svc", model=model, scopes=["predictions:write"]
    )[1]
    ingest = {"Authorization": f"ApiKey {secret}"}

    def upload(version: str) -> requests.Response:
        files = {"file": ("m.onnx", linear_onnx(), "application/octet-stream")}
        url = f"{web.base}{VERSIONS}/{version}/artifact/"
        return requests.post(url, files=files, headers=token, timeout=60)

    # and: a worker validating 1.1.0's artifact, pausing after each step
    worker = start_worker(
        **{**environment, "HANDOFF_JOB_STEP_DELAY_MS": "1500", "HANDOFF_JOB_LEASE_SECONDS": "60"}
    )
    assert upload("1.1.0").status_code == 202
    wait_for_artifact(
        "1.1.0", lambda a: a.status == ArtifactStatus.VALIDATING, worker, "a validation"
    )
    assert requests.post(f"{web.base}/api/v1/predictions", json=predictions(0), headers=ingest)

    # when: Redis dies with everything it held
    redis_server.stop()
    killed_at = time.monotonic()

    # then: pages render, readiness names what is down, ingestion stores, uploads are taken
    for page in PAGES:
        response = session.get(web.base + page, timeout=30)
        assert response.status_code == 200, (page, response.status_code, web.output()[-3000:])
    assert requests.get(f"{web.base}{VERSIONS}/", headers=token, timeout=30).status_code == 200
    ready = requests.get(f"{web.base}/readyz", timeout=30)
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["broker", "cache"], ready.json()
    stored = requests.post(
        f"{web.base}/api/v1/predictions", json=predictions(100), headers=ingest, timeout=30
    )
    assert (stored.status_code, stored.json()["accepted"]) == (200, 100), stored.text
    started = time.monotonic()
    accepted = upload("1.2.0")
    upload_seconds = time.monotonic() - started
    assert accepted.status_code == 202, (accepted.status_code, accepted.text)
    queued = Artifact.objects.get(version__version="1.2.0")
    assert queued.status == ArtifactStatus.PENDING  # stored; its task never reached Redis

    # when: Redis starts again, empty, on the same port
    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - killed_at)))
    redis_server.start()
    down_for = time.monotonic() - killed_at

    # then: the validation under way finishes once, on the same worker process
    running = wait_for_artifact("1.1.0", lambda a: a.is_final, worker, "the first validation")
    assert running.status == ArtifactStatus.VALID and running.attempts == 1, running.error
    assert requests.get(f"{web.base}/readyz", timeout=30).status_code == 200

    # and: beat's sweep sends the job Redis never had, and the same worker validates it
    time.sleep(2.2)  # its lease (HANDOFF_JOB_LEASE_SECONDS) runs out
    assert sweep(environment) == 1
    resent_at = time.monotonic()
    done = wait_for_artifact("1.2.0", lambda a: a.is_final, worker, "the resent validation")
    assert done.status == ArtifactStatus.VALID and done.attempts == 1, done.error
    assert worker.process.poll() is None  # reconnected, not restarted
    assert validated(running) == validated(done) == 1
    assert sweep(environment) == 0

    # and: ingestion went on storing, every record once
    more = requests.post(
        f"{web.base}/api/v1/predictions", json=predictions(200), headers=ingest, timeout=30
    )
    assert more.json()["accepted"] == 100
    assert PredictionLog.objects.count() == 300
    assert ModelVersion.objects.filter(model=model, artifact__status="valid").count() == 2
    outcome(
        f"Redis killed {down_for:.1f} s: {len(PAGES)} pages and the API answered 200, /readyz "
        f"503 naming broker and cache, 100 predictions stored, an upload taken in "
        f"{upload_seconds:.1f} s; the running validation finished once on the same worker, "
        f"the job Redis lost was re-sent by beat and validated "
        f"{time.monotonic() - resent_at:.1f} s later; 300 of 300 predictions stored"
    )
