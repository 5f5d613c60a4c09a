"""Storing feedback: once per idempotency key, linked to its logged prediction, counted
right even when two requests race (PostgreSQL stores a batch in one statement)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from feedback.models import Feedback
from feedback.services import feedback as service
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.predictions import log_predictions
from tests.feedback.conftest import prediction
from tests.registry.test_races import race


def thumbs(number: int, key: str = "") -> dict[str, Any]:
    return {
        "model": "scorer",
        "prediction_id": f"p-{number}",
        "kind": "thumbs",
        "value": "up",
        "idempotency_key": key,
    }


def test_the_statement_fills_every_column_of_feedback() -> None:
    """A field added to Feedback must be added to the one-statement insert too."""
    named = set(
        re.search(r"INSERT INTO feedback_feedback \(([^)]*)\)", service._INSERT)[1].split(",")
    )
    columns = {field.column for field in Feedback._meta.concrete_fields if not field.primary_key}

    assert {name.strip() for name in named} == columns


def test_a_repeated_key_in_one_batch_and_across_batches_counts_once(
    alice: Any, scorer: Any
) -> None:
    caller = Caller(person=alice)
    now = timezone.now()

    first = give_feedback(caller=caller, records=[thumbs(1, "k1"), thumbs(1, "k1")], now=now)
    again = give_feedback(caller=caller, records=[thumbs(1, "k1"), thumbs(2)], now=now)

    assert (first.accepted, first.duplicates) == (1, 1)
    assert (again.accepted, again.duplicates) == (1, 1)
    assert Feedback.objects.count() == 2


def test_feedback_on_a_logged_prediction_is_linked_at_once(alice: Any, scorer: Any) -> None:
    caller = Caller(person=alice)
    log_predictions(caller=caller, records=[prediction(1, model="scorer")], now=timezone.now())

    give_feedback(caller=caller, records=[thumbs(1), thumbs(9)], now=timezone.now())

    linked = dict(Feedback.objects.values_list("prediction_id", "prediction_key__prediction_id"))
    assert linked == {"p-1": "p-1", "p-9": None}
    stored = Feedback.objects.get(prediction_id="p-1")
    assert (stored.given_by, stored.source, stored.score) == (alice, "api", 1.0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_by_four_requests_at_once_is_stored_and_counted_once(
    alice: Any, scorer: Any
) -> None:
    caller = Caller(person=alice)
    batch = [thumbs(n, f"key-{n}") for n in range(50)]

    outcomes = race(lambda _: give_feedback(caller=caller, records=batch, now=timezone.now()), 4)

    assert sum(outcome.accepted for outcome in outcomes) == 50
    assert sum(outcome.duplicates for outcome in outcomes) == 150
    assert Feedback.objects.count() == 50
