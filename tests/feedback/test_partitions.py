"""The prediction log on PostgreSQL: monthly partitions, idempotency across them, and
concurrent duplicates stored once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from feedback import partitions
from feedback.models import PredictionKey, PredictionLog
from feedback.services.access import Caller
from feedback.services.predictions import log_predictions
from tests.feedback.conftest import prediction
from tests.registry.test_races import race

pytestmark = pytest.mark.postgres


def _partition_of(prediction_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM feedback_predictionlog WHERE prediction_id = %s",
            [prediction_id],
        )
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_the_log_is_partitioned_by_month_with_months_made_ahead() -> None:
    now = timezone.now()
    made = partitions.months()

    assert partitions.month_start(now) in made
    assert len([m for m in made if m > partitions.month_start(now)]) >= partitions.MONTHS_AHEAD


@pytest.mark.django_db
def test_a_resent_prediction_is_a_duplicate_even_when_its_time_moved_to_another_month(
    alice: Any, scorer: Any
) -> None:
    caller = Caller(person=alice)
    now = datetime(2026, 12, 15, tzinfo=UTC)
    partitions.ensure_months(datetime(2026, 11, 1, tzinfo=UTC))
    november = prediction(1, model="scorer", timestamp="2026-11-30T23:59:59Z")
    december = prediction(1, model="scorer", timestamp="2026-12-01T00:00:01Z")

    first = log_predictions(caller=caller, records=[november], now=now)
    again = log_predictions(caller=caller, records=[december], now=now)

    assert (first.accepted, again.accepted, again.duplicates) == (1, 0, 1)
    assert PredictionLog.objects.count() == 1
    assert _partition_of("p-1") == "feedback_predictionlog_y2026m11"


@pytest.mark.django_db
def test_a_new_month_takes_its_rows_out_of_the_default_partition(alice: Any, scorer: Any) -> None:
    caller = Caller(person=alice)
    old = prediction(5, model="scorer", timestamp="2021-03-04T05:06:07Z")
    log_predictions(caller=caller, records=[old], now=timezone.now())
    assert _partition_of("p-5") == partitions.DEFAULT

    partitions.ensure_months(datetime(2021, 3, 1, tzinfo=UTC), ahead=0)

    assert _partition_of("p-5") == "feedback_predictionlog_y2021m03"
    assert PredictionLog.objects.count() == 1


@pytest.mark.django_db
def test_dropping_old_months_drops_whole_partitions(alice: Any, scorer: Any) -> None:
    partitions.ensure_months(datetime(2021, 3, 1, tzinfo=UTC), ahead=1)
    caller = Caller(person=alice)
    log_predictions(
        caller=caller,
        records=[
            prediction(1, model="scorer", timestamp="2021-03-10T00:00:00Z"),
            prediction(2, model="scorer", timestamp="2021-04-10T00:00:00Z"),
        ],
        now=timezone.now(),
    )

    with connection.cursor() as cursor:  # the test's own inserts are still pending checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    dropped = partitions.drop_months_before(datetime(2021, 4, 1, tzinfo=UTC))

    assert dropped == ["feedback_predictionlog_y2021m03"]
    assert list(PredictionLog.objects.values_list("prediction_id", flat=True)) == ["p-2"]


@pytest.mark.django_db(transaction=True)
def test_the_same_prediction_sent_by_two_threads_at_once_is_stored_once(
    alice: Any, scorer: Any
) -> None:
    caller = Caller(person=alice)
    batch = [prediction(n, model="scorer") for n in range(200)]

    outcomes = race(lambda _: log_predictions(caller=caller, records=batch, now=timezone.now()), 4)

    assert sum(outcome.accepted for outcome in outcomes) == 200
    assert sum(outcome.duplicates for outcome in outcomes) == 600
    assert PredictionLog.objects.count() == PredictionKey.objects.count() == 200
