"""PostgreSQL stopped for a few seconds under a running portal, then started again.

The portal runs in gunicorn against a PostgreSQL cluster of this test's own (servers.py), so
stopping it touches nobody else's data. While it is down, /readyz answers 503 naming the
database and ingestion answers 503 with Retry-After; the client resends the same batch once
it is back, and the idempotent prediction ids keep the count exact. Nothing is restarted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import Outcome
from tests.faults.servers import Gunicorn, PrivatePostgres, wait_until
from tests.integration.workers import ROOT

pytestmark = [pytest.mark.postgres]

DATABASE = "handoff_outage"
PREDICTIONS = "/api/v1/predictions"
# A team, a person, the scorer model and an ingestion key, made by the portal's services.
SETUP = """
from feedback.services.keys import create_key
from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.services.models import create_model
from registry.services.versions import create_version

team = create_team(name="Risk Modelling")
alice = create_user(username="alice", password="pw-alice-123", roles=[Role.DATA_SCIENTIST])
team.members.add(alice)
model = create_model(actor=alice, name="scorer", title="Scorer", team=team)
create_version(actor=alice, model=model, version="1.0.0")
print(create_key(actor=alice, team=team, name="svc", model=model, scopes=["predictions:write"])[1])

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from portal.sessions import SessionStore

session = SessionStore()
session[SESSION_KEY] = str(alice.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = alice.get_session_auth_hash()
session.create()
print(session.session_key)
"""
COUNT = "from feedback.models import PredictionLog; print(PredictionLog.objects.count())"


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.create()
        cluster.start()
        cluster.create_database(DATABASE)
        yield cluster
    finally:
        cluster.remove()


def manage(cluster: PrivatePostgres, *args: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": cluster.url(DATABASE),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def portal(cluster: PrivatePostgres, tmp_path: Path) -> Iterator[tuple[Gunicorn, str, str]]:
    """gunicorn on the cluster's migrated database, an ingestion key for scorer and the
    session cookie of alice, signed in."""
    manage(cluster, "migrate", "-v0")
    secret, session = manage(cluster, "shell", "-c", SETUP).splitlines()[-2:]
    server = Gunicorn(
        env={
            "DATABASE_URL": cluster.url(DATABASE),
            # Production's persistent connections: broken ones must be noticed and replaced.
            "DATABASE_CONN_MAX_AGE": "60",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
        },
        log=tmp_path / "gunicorn.log",
    )
    server.start()
    try:
        yield server, secret, session
    finally:
        server.stop()


def batch(first: int, size: int) -> list[dict[str, object]]:
    return [
        {
            "prediction_id": f"outage-{n}",
            "version": "1.0.0",
            "timestamp": "2026-11-30T10:00:00Z",
            "features": {"age": n % 90},
            "output": {"label": "churn" if n % 3 else "stay"},
        }
        for n in range(first, first + size)
    ]


def test_the_portal_answers_503_while_postgres_is_down_and_recovers_without_a_restart(
    cluster: PrivatePostgres, portal: tuple[Gunicorn, str, str], outcome: Outcome
) -> None:
    server, secret, session = portal
    key = {"Authorization": f"ApiKey {secret}"}
    signed_in = {"Cookie": f"sessionid={session}"}
    # given: a batch stored and a page read while the database is up
    assert server.request("GET", "/models/", headers=signed_in)[0] == 200
    status, _, body = server.request("POST", PREDICTIONS, batch(0, 100), key)
    assert (status, body["accepted"]) == (200, 100), body

    # when: PostgreSQL stops
    cluster.stop()
    stopped_at = time.monotonic()

    # then: readiness names the database, and ingestion asks the client to come back
    status, _, ready = server.request("GET", "/readyz")
    assert status == 503 and ready["failing"] == ["database"], ready
    assert ready["checks"]["database"].startswith("database unreachable"), ready
    second = batch(100, 100)
    status, headers, body = server.request("POST", PREDICTIONS, second, key)
    assert status == 503, (status, body, server.output()[-3000:])
    assert int(headers["Retry-After"]) > 0
    assert "database" in body["errors"]["detail"][0].lower(), body
    assert server.request("GET", "/healthz")[0] == 200  # the process itself is alive
    status, headers_of_page, page = server.request("GET", "/models/", headers=signed_in)
    assert status == 503 and "cannot reach its database" in page, (status, page)
    assert int(headers_of_page["Retry-After"]) > 0

    # when: PostgreSQL is back a few seconds later, with the same gunicorn processes
    time.sleep(max(0.0, 3 - (time.monotonic() - stopped_at)))
    pid = server.process.pid if server.process else None
    cluster.start()
    down_for = time.monotonic() - stopped_at

    # then: the client's resend is stored once, the earlier batch stays stored once
    wait_until(lambda: server.request("GET", "/readyz")[0] == 200, "/readyz still failing")
    recovered_after = time.monotonic() - stopped_at - down_for
    status, _, body = server.request("POST", PREDICTIONS, second, key)
    assert (status, body["accepted"], body["duplicates"]) == (200, 100, 0), body
    status, _, body = server.request("POST", PREDICTIONS, batch(0, 200), key)
    assert (status, body["accepted"], body["duplicates"]) == (200, 0, 200), body
    assert server.process is not None and server.process.pid == pid
    assert server.process.poll() is None
    assert server.request("GET", "/models/", headers=signed_in)[0] == 200
    rows = int(manage(cluster, "shell", "-c", COUNT).splitlines()[-1])
    assert rows == 200
    outcome(
        f"PostgreSQL stopped {down_for:.1f} s: /readyz 503 naming the database, ingestion and "
        f"pages 503 with Retry-After {headers['Retry-After']} s; ready again "
        f"{recovered_after:.1f} s after the start, no restart, resend stored once: "
        f"{rows} rows for 200 sent"
    )
