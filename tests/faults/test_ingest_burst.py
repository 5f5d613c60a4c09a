"""A burst of 50,000 prediction records from 8 concurrent clients while a drift report reads
the same window: nothing lost, nothing stored twice, no server error.

The portal runs in gunicorn (2 processes of 4 threads) on the test database, and a Celery
worker runs the report, pausing after each progress report so that it is still at work
when the burst starts.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db.models import Count

from feedback.models import PredictionLog
from feedback.services.keys import create_key
from portal.jobs import JobStatus
from registry.monitoring.models import DriftReport
from tests.evaluation.data import table
from tests.faults.conftest import Outcome, StartWorker
from tests.faults.monitored import FEATURES, WINDOW_ROWS, Monitored, monitor, wait_for_report
from tests.faults.servers import Gunicorn
from tests.integration.workers import database_url
from tests.monitoring.conftest import NOW

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

CLIENTS, RECORDS, BATCH = 8, 50_000, 250


@pytest.fixture
def monitored(queue: str, alice: Any, risk_team: Any, tmp_path: Path) -> Monitored:
    return monitor(alice, risk_team, tmp_path)


@pytest.fixture
def web(queue: str, settings: Any, tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(
        env={
            "DATABASE_URL": database_url(),
            "HANDOFF_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "HANDOFF_TEST_QUEUE": queue,
        },
        log=tmp_path / "gunicorn.log",
    )
    server.start()
    yield server
    server.stop()


def client_batches(client: int) -> Iterator[list[dict[str, Any]]]:
    """The client's share of the burst, in the report's window, batch by batch."""
    share = RECORDS // CLIENTS
    rows = table(share, seed=100 + client).to_pylist()
    stamp = (NOW - timedelta(minutes=30)).isoformat()
    records = [
        {
            "model": "churn",
            "version": "1.0.0",
            "prediction_id": f"burst-{client}-{n}",
            "timestamp": stamp,
            "features": {name: row[name] for name in FEATURES},
            "output": {"label": str(row["stored_prediction"])},
        }
        for n, row in enumerate(rows)
    ]
    for start in range(0, share, BATCH):
        yield records[start : start + BATCH]


def test_a_burst_during_a_drift_report_stores_every_record_once(
    start_worker: StartWorker,
    monitored: Monitored,
    web: Gunicorn,
    risk_team: Any,
    outcome: Outcome,
) -> None:
    # given: a drift report under way on a worker that pauses after each step
    worker = start_worker(HANDOFF_JOB_STEP_DELAY_MS="1000")
    report, _ = monitored.start()
    wait_for_report(report.pk, lambda r: r.status == JobStatus.RUNNING, worker, "a claim")
    model = monitored.config.version.model
    secret = create_key(
        actor=monitored.actor,
        team=risk_team,
        name="burst",
        model=model,
        scopes=["predictions:write"],
    )[1]
    headers = {"Authorization": f"ApiKey {secret}"}
    payloads = [list(client_batches(client)) for client in range(CLIENTS)]
    statuses: Counter[int] = Counter()
    accepted: Counter[str] = Counter()
    lock = threading.Lock()

    def send(batches: list[list[dict[str, Any]]]) -> None:
        with requests.Session() as session:
            for batch in batches:
                response = session.post(
                    f"{web.base}/api/v1/predictions", json=batch, headers=headers, timeout=60
                )
                body = response.json() if response.status_code == 200 else {}
                with lock:
                    statuses[response.status_code] += 1
                    for name in ("accepted", "duplicates", "rejected"):
                        accepted[name] += body.get(name, 0)

    # when: 8 clients send 50,000 records at once
    started = time.monotonic()
    burst_began = DriftReport.objects.get(pk=report.pk)
    clients = [threading.Thread(target=send, args=(batches,)) for batches in payloads]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=300)
    seconds = time.monotonic() - started
    burst_ended = DriftReport.objects.get(pk=report.pk)

    # then: every request answered 200, every record stored once
    requests_sent = RECORDS // BATCH
    assert statuses == Counter({200: requests_sent}), (statuses, web.output()[-3000:])
    assert accepted == Counter({"accepted": RECORDS}), accepted
    burst = PredictionLog.objects.filter(prediction_id__startswith="burst-")
    assert burst.count() == RECORDS
    assert PredictionLog.objects.count() == WINDOW_ROWS + RECORDS
    repeated = PredictionLog.objects.values("prediction_id").annotate(n=Count("pk")).filter(n__gt=1)
    assert not repeated.exists()

    # and: the report was at work during the burst, and ended with one result
    assert burst_began.status == JobStatus.RUNNING
    done = wait_for_report(report.pk, lambda r: r.is_final, worker, "the report's end")
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert DriftReport.objects.filter(config=monitored.config).count() == 1
    assert WINDOW_ROWS <= done.current_rows <= WINDOW_ROWS + RECORDS
    outcome(
        f"{RECORDS:,} records from {CLIENTS} clients in {requests_sent} requests took "
        f"{seconds:.1f} s ({RECORDS / seconds:,.0f} rows/s) while a drift report ran "
        f"({burst_began.progress}% at the start, {burst_ended.progress}% at the end): "
        f"{statuses[200]} answers 200, {burst.count():,} rows stored, 0 duplicates; "
        f"the report succeeded once over {done.current_rows:,} rows"
    )
