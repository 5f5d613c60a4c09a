"""Drift reports against real faults: Celery workers on Redis and PostgreSQL.

Proven here, as test_evaluation_faults.py does for evaluations:

- a worker killed with SIGKILL mid-report only delays it: beat sends it again once the
  lease ends, a fresh worker starts over, and the window has one report, with the results
  a run without a fault gives and a single drift alert;
- starting a window that is already under way, through the service or by sending its task
  again, finds the running report: one row, one run, one alert;
- a cancel is honoured at the worker's next progress report: the report ends cancelled,
  with no results and no alert.

Each test has a broker queue of its own, workers read the files this test stores, and
``HANDOFF_JOB_STEP_DELAY_MS`` makes a worker pause after each progress report, so the test
can act while a report is under way.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from portal.backlog.choices import Kind
from portal.backlog.models import BacklogItem
from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.tasks import requeue_stale_jobs_task
from registry.monitoring.models import DriftReport
from registry.monitoring.services.reports import RESULT_FIELDS, cancel_report
from registry.monitoring.tasks import run_drift_report_task
from tests.faults.conftest import LEASE_SECONDS, Outcome, StartWorker, kill, waiting_messages
from tests.faults.monitored import (
    REFERENCE_ROWS,
    WINDOW_ROWS,
    Monitored,
    monitor,
    wait_for_report,
)
from tests.integration.workers import TASK_TIMEOUT, Worker
from tests.monitoring.conftest import NOW, verdicts

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

# Long enough for the test to see a step and act on it before the worker moves on. Not
# PAUSE_LONG_MS: a report pauses twice at 0 % (counting, reading the reference) before its
# first step above 0 %, and 60 s pauses would outlast TASK_TIMEOUT.
PAUSE_MS = "3000"
TASK = "run_drift_report_task"
# Each report's result differs in these only: when it ran, and how long it took.
RUN_FIELDS = {"duration_seconds"}


@pytest.fixture
def monitored(queue: str, alice: Any, risk_team: Any, tmp_path: Path) -> Monitored:
    return monitor(alice, risk_team, tmp_path)


def reading_the_window(report: DriftReport) -> bool:
    """Past the reference, with the window read ("1,500 of 1,500 rows") and the comparison
    still to come: the step before the last progress report, so a cancel here is noticed."""
    return (
        report.status == JobStatus.RUNNING
        and report.progress > 0
        and report.progress_text.endswith(" rows")
    )


def results(report: DriftReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in RESULT_FIELDS if name not in RUN_FIELDS}


def events(verb: str, report: DriftReport) -> int:
    return AuditEvent.objects.filter(verb=verb, target_id=str(report.pk)).count()


def alerts() -> list[BacklogItem]:
    return list(BacklogItem.objects.filter(kind=Kind.DRIFT_ALERT))


def task_runs(worker: Worker) -> int:
    """The drift tasks this worker has finished (Celery logs "Task … succeeded in …")."""
    lines = worker.output().splitlines()
    return sum(1 for line in lines if TASK in line and " succeeded in " in line)


def wait_for_task_runs(workers: list[Worker], runs: int) -> None:
    deadline = time.monotonic() + TASK_TIMEOUT
    while sum(map(task_runs, workers)) < runs:
        if time.monotonic() > deadline:
            pytest.fail(f"not {runs} drift tasks run:\n" + "\n".join(map(Worker.output, workers)))
        time.sleep(0.1)


def test_a_worker_killed_mid_report_leads_to_one_report(
    start_worker: StartWorker, monitored: Monitored, outcome: Outcome
) -> None:
    """After the lease ends, beat sends the job again; a second worker starts over and the
    window ends with one report, as a run without a fault makes it, and one alert."""
    # given: a worker in the middle of a report, with a short lease
    first = start_worker(
        HANDOFF_JOB_STEP_DELAY_MS=PAUSE_MS, HANDOFF_JOB_LEASE_SECONDS=str(LEASE_SECONDS)
    )
    report, created = monitored.start()
    assert created
    wait_for_report(
        report.pk, lambda r: r.status == JobStatus.RUNNING and r.progress > 0, first, "step"
    )

    # when: it is killed there; a healthy worker starts and beat runs once the lease ends
    kill(first)
    killed_at = time.monotonic()
    second = start_worker()
    killed = DriftReport.objects.get(pk=report.pk)
    assert killed.status == JobStatus.RUNNING
    assert results(killed) == results(DriftReport())  # the run wrote no result half-way
    lease = killed.lease_expires_at
    assert lease is not None
    time.sleep(max(0.0, (lease - timezone.now()).total_seconds()) + 0.2)
    assert requeue_stale_jobs_task() == 1

    # then: one report, recorded once, by the second attempt
    done = wait_for_report(report.pk, lambda r: r.is_final, second, "final status")
    assert done.status == JobStatus.SUCCEEDED, (done.error, second.output())
    assert done.attempts == 2 and done.error == ""
    reports = DriftReport.objects.filter(config=monitored.config).count()
    outcome(
        f"SIGKILL during a drift report: redelivered when its {LEASE_SECONDS} s lease ended, "
        f"done {time.monotonic() - killed_at:.1f} s after the kill, attempts {done.attempts}, "
        f"{reports} report row, {len(alerts())} alert"
    )
    assert reports == 1
    assert done.current_rows == WINDOW_ROWS and done.reference_rows == REFERENCE_ROWS
    assert done.drifted is True and done.drifted_columns == ["age", "income"]
    wait_for_task_runs([second], 1)  # a worker ran it, not this process
    assert events("drift_report.succeeded", done) == 1
    assert events("drift_report.failed", done) == 0
    # One alert, filed by the one run that finished: a second finish would have commented.
    [alert] = alerts()
    assert done.alert_id == alert.pk and alert.comments.count() == 0
    assert requeue_stale_jobs_task() == 0

    # and: the same window read by a run without a fault gives the same results. A window
    # ending 5 minutes later is another report over the same logged rows.
    clean, created = monitored.start(now=NOW + timedelta(minutes=5))
    assert created and clean.window_key != done.window_key
    clean = wait_for_report(clean.pk, lambda r: r.is_final, second, "final status of the clean run")
    assert clean.status == JobStatus.SUCCEEDED and clean.attempts == 1, clean.error
    assert (
        verdicts(done)
        == verdicts(clean)
        == {
            "age": True,
            "income": True,
            "tenure": False,
            "tickets": False,
            "region": False,
        }
    )
    assert results(done) == results(clean)


def test_a_window_started_twice_while_it_runs_is_one_report(
    start_worker: StartWorker, monitored: Monitored, queue: str
) -> None:
    """A second start finds the running report, and its task delivered again (taken by the
    other worker while the first still runs it) leaves it alone."""
    # given: two workers, one of them in the middle of the window's report
    workers = [start_worker(HANDOFF_JOB_STEP_DELAY_MS=PAUSE_MS) for _ in range(2)]
    report, created = monitored.start()
    assert created
    running = wait_for_report(
        report.pk, lambda r: r.status == JobStatus.RUNNING, workers[0], "a claim"
    )

    # when: the same window is started again (same minute), and its task is sent again
    again, created_again = monitored.start(now=NOW + timedelta(seconds=20))
    assert not created_again and again.pk == report.pk
    run_drift_report_task.delay(report.pk)
    wait_for_task_runs(workers, 1)

    # then: the redelivery did nothing while the first run went on
    during = DriftReport.objects.get(pk=report.pk)
    assert during.status == JobStatus.RUNNING, (during.status, *map(Worker.output, workers))
    assert during.attempts == 1 and during.lease_token == running.lease_token

    done = wait_for_report(report.pk, lambda r: r.is_final, workers[0], "final status")
    assert done.status == JobStatus.SUCCEEDED, (done.error, *map(Worker.output, workers))
    assert done.attempts == 1 and done.drifted is True
    assert DriftReport.objects.filter(config=monitored.config).count() == 1
    wait_for_task_runs(workers, 2)  # Celery logs the run a moment after it committed
    assert sorted(map(task_runs, workers)) == [1, 1]  # one run each: the report, the redelivery
    assert events("drift_report.queued", done) == 1
    assert events("drift_report.succeeded", done) == 1
    [alert] = alerts()
    assert done.alert_id == alert.pk and alert.comments.count() == 0

    # and: sent once more after it ended, the task finds the report final and changes nothing
    run_drift_report_task.delay(report.pk)
    wait_for_task_runs(workers, 3)
    after = DriftReport.objects.get(pk=report.pk)
    assert after.finished_at == done.finished_at and after.attempts == 1
    assert events("drift_report.succeeded", done) == 1 and len(alerts()) == 1
    assert waiting_messages(queue) == 0


def test_a_running_worker_honours_a_cancel(
    start_worker: StartWorker, monitored: Monitored, alice: Any
) -> None:
    """The worker finishes its step, notices the cancel at its next progress report and
    stores no results; the drift the window holds raises no alert."""
    # given: a worker pausing after it reported the window read
    worker = start_worker(HANDOFF_JOB_STEP_DELAY_MS=PAUSE_MS)
    report, _ = monitored.start()
    running = wait_for_report(report.pk, reading_the_window, worker, "the window read")

    # when
    cancel_report(actor=alice, report=running)

    # then
    done = wait_for_report(report.pk, lambda r: r.is_final, worker, "final status")
    assert done.status == JobStatus.CANCELLED, (done.error, worker.output())
    wait_for_task_runs([worker], 1)
    assert done.progress_text == running.progress_text  # the comparison never reported
    assert done.columns == [] and done.drifted is None and done.current_rows is None
    assert done.alert_id is None and alerts() == []
    assert events("drift_report.cancel_requested", done) == 1
    assert events("drift_report.cancelled", done) == 1
    assert events("drift_report.succeeded", done) == 0
