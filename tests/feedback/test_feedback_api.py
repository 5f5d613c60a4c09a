"""Feedback, outcomes and erasure through the API; CORS for the widget; throttling."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from feedback.models import Feedback, FeedbackSource, Outcome, PredictionLog, Scope
from portal.models import AuditEvent
from tests.feedback.conftest import prediction

URL = "/api/v1/feedback"
SHOP = "https://shop.example"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({"kind": "thumbs", "value": "up"}, {"score": 1.0}),
        ({"kind": "thumbs", "value": "down", "comment": "wrong plan"}, {"score": 0.0}),
        ({"kind": "rating", "value": 4}, {"score": 4.0}),
        ({"kind": "label", "value": "churn"}, {"label": "churn"}),
        ({"kind": "value", "value": 42.5}, {"score": 42.5}),
        ({"kind": "comment", "value": "Too slow"}, {"comment": "Too slow"}),
    ],
)
def test_each_kind_of_feedback_is_stored_as_given(
    key_for: Any, scorer: Any, given: dict[str, Any], stored: dict[str, Any]
) -> None:
    response = key_for(scorer).post(URL, {"prediction_id": "p-1", **given}, format="json")

    assert response.json()["accepted"] == 1, response.json()
    feedback = Feedback.objects.get()
    assert {name: getattr(feedback, name) for name in stored} == stored
    assert feedback.source == FeedbackSource.API


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"kind": "thumbs", "value": "sideways"}, '"up" or "down"'),
        ({"kind": "rating", "value": 6}, "from 1 to 5"),
        ({"kind": "rating", "value": True}, "from 1 to 5"),
        ({"kind": "vote", "value": 1}, "kind: one of"),
        ({"kind": "value", "value": "NaN"}, "value: a number"),
        ({"kind": "comment"}, "the comment's text"),
    ],
)
def test_bad_feedback_is_rejected_by_index(
    key_for: Any, scorer: Any, given: dict[str, Any], reason: str
) -> None:
    batch = [
        {"prediction_id": "p-1", "kind": "thumbs", "value": "up"},
        {"prediction_id": "p-2", **given},
    ]

    body = key_for(scorer).post(URL, batch, format="json").json()

    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["index"] == 1 and reason in body["errors"][0]["reason"]


def test_an_idempotency_key_makes_a_resend_a_duplicate(key_for: Any, scorer: Any) -> None:
    client = key_for(scorer)
    vote = {"prediction_id": "p-1", "kind": "thumbs", "value": "up", "idempotency_key": "v-1"}

    client.post(URL, vote, format="json")
    again = client.post(URL, [vote, vote], format="json").json()

    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert Feedback.objects.count() == 1


def test_a_signed_in_viewer_may_give_feedback_but_a_predictions_key_may_not(
    api_for: Any, victor: Any, key_for: Any, scorer: Any
) -> None:
    vote = {"model": "scorer", "prediction_id": "p-1", "kind": "thumbs", "value": "up"}

    by_person = api_for(victor).post(URL, vote, format="json")
    by_wrong_key = key_for(scorer, Scope.PREDICTIONS).post(URL, vote, format="json")

    assert by_person.json()["accepted"] == 1
    assert Feedback.objects.get().source == FeedbackSource.PORTAL
    assert by_wrong_key.status_code == 403


def test_cors_answers_only_the_origins_a_key_lists(key_for: Any, scorer: Any) -> None:
    client = key_for(scorer, Scope.FEEDBACK, origins=(SHOP,))
    vote = {"prediction_id": "p-1", "kind": "thumbs", "value": "up"}

    # A browser's preflight carries no key.
    preflight = APIClient().options(
        URL, HTTP_ORIGIN=SHOP, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    stranger = APIClient().options(URL, HTTP_ORIGIN="https://evil.example")
    allowed = client.post(URL, vote, format="json", HTTP_ORIGIN=SHOP)
    refused = client.post(URL, vote, format="json", HTTP_ORIGIN="https://evil.example")

    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == SHOP
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in stranger
    assert allowed.status_code == 200 and allowed["Access-Control-Allow-Origin"] == SHOP
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert Feedback.objects.get().source == FeedbackSource.WIDGET


def test_a_server_key_is_refused_from_a_browser(key_for: Any, scorer: Any) -> None:
    response = key_for(scorer).post(
        URL,
        {"prediction_id": "p-1", "kind": "thumbs", "value": "up"},
        format="json",
        HTTP_ORIGIN=SHOP,
    )

    assert response.status_code == 403


def test_a_key_over_its_rate_gets_429_with_retry_after(
    key_for: Any, scorer: Any, settings: Any
) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "apikey": "3/min"},
    }
    from feedback.api.throttles import ApiKeyRateThrottle

    ApiKeyRateThrottle.THROTTLE_RATES = {**rates, "apikey": "3/min"}
    cache.clear()
    client = key_for(scorer)
    vote = {"prediction_id": "p-1", "kind": "thumbs", "value": "up"}
    try:
        answers = [client.post(URL, vote, format="json") for _ in range(4)]
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = rates

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0


def test_outcomes_are_idempotent_per_prediction_and_name(key_for: Any, scorer: Any) -> None:
    client = key_for(scorer)
    client.post("/api/v1/predictions", [prediction(1)], format="json")
    outcomes = [
        {"prediction_id": "p-1", "name": "converted", "value": True},
        {"prediction_id": "p-1", "name": "order_value", "value": 42.5},
        {"prediction_id": "p-1", "name": "Bad Name", "value": 1},
    ]

    first = client.post("/api/v1/outcomes", outcomes, format="json").json()
    again = client.post("/api/v1/outcomes", outcomes[:2], format="json").json()

    assert (first["accepted"], first["rejected"]) == (2, 1)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert {o.name: o.value for o in Outcome.objects.all()} == {
        "converted": 1.0,
        "order_value": 42.5,
    }
    assert all(o.prediction_key is not None for o in Outcome.objects.all())


def test_erasing_an_end_user_removes_their_text_and_metadata_but_keeps_the_counts(
    key_for: Any, scorer: Any
) -> None:
    client = key_for(scorer)
    client.post(
        "/api/v1/predictions",
        [
            prediction(1, end_user="u-42", metadata={"ip": "10.0.0.1"}),
            prediction(2, end_user="u-7"),
        ],
        format="json",
    )
    client.post(
        URL,
        [
            {
                "prediction_id": "p-1",
                "kind": "thumbs",
                "value": "down",
                "comment": "hi",
                "end_user": "u-42",
            },
            {"prediction_id": "p-1", "kind": "comment", "value": "call me", "end_user": "u-42"},
            {"prediction_id": "p-2", "kind": "thumbs", "value": "up", "end_user": "u-7"},
        ],
        format="json",
    )

    response = client.delete("/api/v1/end-users/u-42")

    assert response.json() == {"comments_deleted": 1, "feedback_anonymised": 1, "predictions": 1}
    assert Feedback.objects.count() == 2  # the thumbs-down stays, anonymous
    assert not Feedback.objects.filter(end_user="u-42").exists()
    assert not Feedback.objects.exclude(comment="").exists()
    assert PredictionLog.objects.get(prediction_id="p-1").metadata == {}
    assert PredictionLog.objects.get(prediction_id="p-2").end_user == "u-7"
    event = AuditEvent.objects.get(verb="enduser.erased")
    assert "u-42" not in str(event.after) and "u-42" not in str(event.before)
    assert key_for(scorer, Scope.PREDICTIONS).delete("/api/v1/end-users/u-7").status_code == 403
