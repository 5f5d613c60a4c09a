"""Retention: old predictions, their identities and old feedback's personal data go, newer
stay; each run is a job with its counts and an audit event; whole months are dropped on
PostgreSQL; beat makes the coming months' partitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from celery import current_app
from django.db import connection
from django.utils import timezone

from feedback import partitions
from feedback.models import (
    Feedback,
    Outcome,
    PredictionKey,
    PredictionLog,
    RetentionRun,
)
from feedback.services import retention
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.outcomes import report_outcomes
from feedback.services.predictions import log_predictions
from feedback.tasks import make_prediction_partitions_task, start_retention_task
from portal.jobs import JobStatus, job_models
from portal.models import AuditEvent
from portal.services.jobs import requeue_stale_jobs
from tests.feedback.conftest import prediction

DAYS = 365


@pytest.fixture(autouse=True)
def retention_days(settings: Any) -> int:
    settings.HANDOFF_PREDICTION_RETENTION_DAYS = DAYS
    return DAYS


@pytest.fixture
def caller(alice: Any) -> Caller:
    return Caller(person=alice)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def log(caller: Caller, numbers: range, at: datetime) -> None:
    records = [prediction(n, model="scorer", timestamp=_stamp(at)) for n in numbers]
    outcome = log_predictions(caller=caller, records=records, now=timezone.now())
    assert outcome.accepted == len(records), outcome.as_json()


def feedback(caller: Caller, at: datetime, *records: dict[str, Any]) -> None:
    given = [{"model": "scorer", **record} for record in records]
    assert give_feedback(caller=caller, records=given, now=at).accepted == len(given)


def run_retention(capture: Any) -> RetentionRun:
    """Beat's nightly task, and the job it queues run on commit (eager Celery)."""
    with capture(execute=True):
        pk = start_retention_task.delay().get()
    return RetentionRun.objects.get(pk=pk)


@pytest.fixture
def history(scorer: Any, caller: Caller) -> dict[str, datetime]:
    """Predictions a year and a month ago and a week ago, with feedback and outcomes."""
    now = timezone.now()
    old, recent = now - timedelta(days=DAYS + 30), now - timedelta(days=7)
    log(caller, range(0, 5), old)
    log(caller, range(5, 8), recent)
    feedback(
        caller,
        old,
        {"prediction_id": "p-0", "kind": "comment", "value": "Call me on 555-0100"},
        {"prediction_id": "p-1", "kind": "thumbs", "value": "down", "comment": "I'm Jo"},
        {"prediction_id": "p-2", "kind": "label", "value": "churn", "end_user": "u-17"},
        {"prediction_id": "p-3", "kind": "rating", "value": 4},
    )
    feedback(
        caller,
        recent,
        {"prediction_id": "p-5", "kind": "comment", "value": "Spot on", "end_user": "u-18"},
        {"prediction_id": "p-6", "kind": "thumbs", "value": "up", "comment": "thanks"},
    )
    records = [{"model": "scorer", "prediction_id": "p-0", "name": "converted", "value": 1}]
    report_outcomes(caller=caller, records=records, now=old)
    return {"old": old, "recent": recent}


def test_it_deletes_only_what_is_older_than_the_cutoff(
    history: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Old predictions and identities go; old votes stay, anonymous; newer things stay."""
    # when
    run = run_retention(django_capture_on_commit_callbacks)

    # then
    assert run.status == JobStatus.SUCCEEDED, run.error
    logged = PredictionLog.objects.order_by("prediction_id").values_list("prediction_id", flat=True)
    assert list(logged) == ["p-5", "p-6", "p-7"]
    assert set(PredictionKey.objects.values_list("prediction_id", flat=True)) == set(logged)
    kept = {f.prediction_id: f for f in Feedback.objects.all()}
    assert sorted(kept) == ["p-1", "p-2", "p-3", "p-5", "p-6"]  # the old comment is gone
    for pid in ("p-1", "p-2", "p-3"):
        assert (kept[pid].comment, kept[pid].end_user) == ("", ""), pid
        assert kept[pid].prediction_key_id is None
    assert (kept["p-1"].score, kept["p-2"].label, kept["p-3"].score) == (0.0, "churn", 4.0)
    assert (kept["p-5"].comment, kept["p-5"].end_user) == ("Spot on", "u-18")
    assert kept["p-6"].comment == "thanks"
    assert Outcome.objects.count() == 1  # business figures are not personal data


def test_the_run_records_its_counts_and_an_audit_event(
    history: Any, django_capture_on_commit_callbacks: Any
) -> None:
    run = run_retention(django_capture_on_commit_callbacks)

    counts = {
        "predictions_deleted": 5,
        "keys_deleted": 5,
        "comments_deleted": 1,
        "feedback_cleared": 2,  # p-1's comment, p-2's end user; p-3 held neither
    }
    assert {name: run.counts[name] for name in counts} == counts
    assert (run.progress, run.attempts, run.retention_days) == (100, 1, DAYS)
    assert timezone.now() - timedelta(days=DAYS, minutes=1) < run.cutoff
    event = AuditEvent.objects.get(verb="retention.applied")
    assert event.target == run
    assert event.after["retention_days"] == DAYS
    assert {name: event.after[name] for name in counts} == counts


def test_running_it_again_finds_nothing_more(
    history: Any, django_capture_on_commit_callbacks: Any
) -> None:
    run_retention(django_capture_on_commit_callbacks)

    again = run_retention(django_capture_on_commit_callbacks)

    assert again.status == JobStatus.SUCCEEDED
    assert not any(again.counts.values())


def test_it_deletes_in_batches_reporting_progress_between_them(
    history: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    reports: list[str] = []
    real = retention.report_progress

    def spy(job: Any, percent: int, text: str = "") -> None:
        reports.append(text)
        real(job, percent, text)

    with mock.patch.object(retention, "report_progress", spy):
        run = run_retention(django_capture_on_commit_callbacks)

    assert run.predictions_deleted == 5 and run.comments_deleted == 1
    assert "2 older predictions deleted" in reports
    assert "4 older predictions deleted" in reports
    assert "5 older predictions deleted" in reports
    assert PredictionLog.objects.count() == 3


def test_a_cancel_stops_the_run_after_the_current_batch(
    history: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    real = retention._predictions

    def then_cancel(model_id: int, cutoff: datetime) -> dict[str, int]:
        counts = real(model_id, cutoff)
        RetentionRun.objects.update(cancel_requested=True)  # someone presses Cancel
        return counts

    with mock.patch.object(retention, "_predictions", then_cancel):
        run = run_retention(django_capture_on_commit_callbacks)

    assert run.status == JobStatus.CANCELLED
    assert run.predictions_deleted == 2  # the batch that ran is counted, and stays done
    assert PredictionLog.objects.count() == 6
    assert AuditEvent.objects.filter(verb="retention.cancelled").count() == 1


def test_a_run_still_pending_is_not_queued_twice(
    scorer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with mock.patch("feedback.tasks.apply_retention_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            first = retention.start_retention(now=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            second = retention.start_retention(now=timezone.now())

    assert first == second
    delay.assert_called_once_with(first.pk)
    assert first.status == JobStatus.QUEUED


def test_a_run_whose_worker_died_is_sent_again_by_beat(
    scorer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """RetentionRun is a job model like any other: beat finds it by its lease."""
    with mock.patch("feedback.tasks.apply_retention_task.delay"):
        run = retention.start_retention(now=timezone.now())
    RetentionRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with (
        mock.patch("feedback.tasks.apply_retention_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = requeue_stale_jobs()

    assert sent == 1
    delay.assert_called_once_with(run.pk)


def test_retention_runs_are_jobs_with_registered_tasks() -> None:
    assert RetentionRun in job_models()
    assert RetentionRun.task_name in current_app.tasks


def test_the_beat_schedule_runs_retention_and_makes_partitions(settings: Any) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert start_retention_task.name in tasks
    assert make_prediction_partitions_task.name in tasks


# PostgreSQL: partitions --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_whole_months_before_the_cutoff_are_dropped_and_the_boundary_month_is_trimmed(
    scorer: Any, caller: Caller, django_capture_on_commit_callbacks: Any
) -> None:
    # given: March and April 2021 have partitions; the cutoff falls on 15 April
    partitions.ensure_months(datetime(2021, 3, 1, tzinfo=UTC), ahead=1)
    log(caller, range(0, 3), datetime(2021, 3, 10, tzinfo=UTC))
    log(caller, range(3, 5), datetime(2021, 4, 10, tzinfo=UTC))
    log(caller, range(5, 7), datetime(2021, 4, 20, tzinfo=UTC))
    log(caller, range(7, 8), datetime(2020, 1, 5, tzinfo=UTC))  # a backfill: the default one
    with connection.cursor() as cursor:  # the test's own inserts are still pending checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    # when
    with time_machine.travel(datetime(2021, 4, 15, tzinfo=UTC) + timedelta(days=DAYS)):
        run = run_retention(django_capture_on_commit_callbacks)

    # then
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.partitions_dropped == ["feedback_predictionlog_y2021m03"]
    assert date(2021, 3, 1) not in partitions.months()
    assert run.predictions_deleted == 3  # 2 in the boundary month, 1 in the default partition
    assert sorted(PredictionLog.objects.values_list("prediction_id", flat=True)) == ["p-5", "p-6"]
    assert run.keys_deleted == 6
    assert PredictionKey.objects.count() == 2
    event = AuditEvent.objects.get(verb="retention.applied")
    assert event.after["partitions_dropped"] == ["feedback_predictionlog_y2021m03"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_partition_task_makes_the_coming_months_ahead() -> None:
    with time_machine.travel(datetime(2031, 11, 20, tzinfo=UTC)):
        made = make_prediction_partitions_task.delay().get()
        again = make_prediction_partitions_task.delay().get()

    expected = ["y2031m11", "y2031m12", "y2032m01", "y2032m02"]
    assert made == [f"feedback_predictionlog_{month}" for month in expected]
    assert {date(2031, 11, 1), date(2032, 2, 1)} <= set(partitions.months())
    assert again == []


@pytest.mark.django_db
def test_the_partition_task_makes_nothing_when_the_months_exist() -> None:
    """The migration made this month and the next ones (SQLite has no partitions at all)."""
    assert make_prediction_partitions_task.delay().get() == []
