"""A prediction's page: what was logged, what people said, and a form to say something."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from django.urls import resolve

from feedback.models import Feedback, FeedbackSource, PredictionLog
from tests.feedback.conftest import prediction

URL = "/feedback/models/scorer/predictions/p-1/"


def _form(**changes: Any) -> dict[str, Any]:
    return {"verdict": "", "label": "", "comment": "", "nonce": "form-nonce-0001", **changes}


def test_the_page_shows_the_logged_prediction(
    client_for: Any, alice: Any, victor: Any, scorer: Any, log: Any
) -> None:
    log(
        scorer,
        prediction(
            1,
            features={"age": -4, "plan": "gold"},
            output={"label": "churn", "probabilities": {"churn": 0.8, "stay": 0.2}},
            latency_ms=17.25,
        ),
        by=alice,
    )

    response = client_for(victor).get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "1.0.0" in html and "17.25 ms" in html
    assert "<code>age</code></th><td>-4</td>" in html and "gold" in html
    assert response.context["page"].probabilities == [("churn", "80.0"), ("stay", "20.0")]
    assert "break the contract of 1.0.0" in html and "age: -4 is less than the minimum of 0" in html


def test_nested_features_are_opened_up_by_name(
    client_for: Any, alice: Any, scorer: Any, log: Any
) -> None:
    features = {"age": 3, "lab": {"ash": 1.8, "deep": {"er": {"still": [1]}}}, "tags": ["a"]}
    log(scorer, prediction(1, features=features), by=alice)

    page = client_for(alice).get(URL).context["page"]

    assert page.features == [
        ("age", "3"),
        ("lab.ash", "1.8"),
        ("lab.deep.er", '{"still": [1]}'),
        ("tags", '["a"]'),
    ]


def test_the_page_shows_its_feedback_and_outcomes(
    client_for: Any, alice: Any, victor: Any, scorer: Any, log: Any, give: Any
) -> None:
    from django.utils import timezone

    from feedback.services.access import Caller
    from feedback.services.outcomes import report_outcomes

    log(scorer, prediction(1), by=alice)
    give(scorer, "p-1", by=victor, comment="The <b>plan</b> is wrong")
    report_outcomes(
        caller=Caller(person=alice),
        records=[{"model": "scorer", "prediction_id": "p-1", "name": "converted", "value": 1}],
        now=timezone.now(),
    )

    html = client_for(victor).get(URL).content.decode()

    assert "Thumbs down" in html and "The &lt;b&gt;plan&lt;/b&gt; is wrong" in html
    assert "converted" in html


def test_giving_feedback_stores_it_from_the_portal(
    client_for: Any, alice: Any, victor: Any, scorer: Any, log: Any
) -> None:
    """Anyone signed in, even a viewer: a thumbs down with the comment, and the correction."""
    log(scorer, prediction(1), by=alice)

    response = client_for(victor).post(
        URL, _form(verdict="down", label="churn", comment="Left last week")
    )

    assert response.status_code == 303 and response["Location"] == f"{URL}#feedback"
    stored = {f.kind: f for f in Feedback.objects.all()}
    assert set(stored) == {"thumbs", "label"}
    assert (stored["thumbs"].score, stored["thumbs"].comment) == (0.0, "Left last week")
    assert stored["label"].label == "churn"
    assert all(f.source == FeedbackSource.PORTAL and f.given_by == victor for f in stored.values())
    assert all(f.prediction_key is not None for f in stored.values())


def test_a_comment_alone_is_feedback_too(
    client_for: Any, alice: Any, scorer: Any, log: Any
) -> None:
    log(scorer, prediction(1), by=alice)

    client_for(alice).post(URL, _form(comment="Odd for a new customer"))

    feedback = Feedback.objects.get()
    assert (feedback.kind, feedback.comment) == ("comment", "Odd for a new customer")


def test_a_regression_is_corrected_with_a_value(
    client_for: Any, alice: Any, scorer: Any, log: Any
) -> None:
    log(scorer, prediction(1, output={"value": 3.5}), by=alice)
    client = client_for(alice)

    assert "id_label" not in client.get(URL).content.decode()
    client.post(URL, _form(value="4.25"))

    assert Feedback.objects.get().score == 4.25


def test_a_resent_form_is_stored_once(client_for: Any, alice: Any, scorer: Any, log: Any) -> None:
    log(scorer, prediction(1), by=alice)
    client = client_for(alice)

    client.post(URL, _form(verdict="up"))
    client.post(URL, _form(verdict="up"))

    assert Feedback.objects.count() == 1


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({}, None, "Say something"),
        ({"verdict": "sideways"}, "verdict", "Select a valid choice"),
        ({"comment": "x" * 5_001}, "comment", "at most 5000 characters"),
        ({"label": "bad\x00label"}, "label", "Null characters are not allowed"),
    ],
)
def test_a_refused_form_says_why_and_stores_nothing(
    client_for: Any,
    alice: Any,
    scorer: Any,
    log: Any,
    form: dict[str, Any],
    field: str | None,
    reason: str,
) -> None:
    log(scorer, prediction(1), by=alice)

    response = client_for(alice).post(URL, _form(**form))

    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__")
    assert errors and reason in " ".join(errors)
    assert not Feedback.objects.exists()


def test_feedback_that_came_first_has_a_page_before_its_prediction(
    client_for: Any, victor: Any, scorer: Any, give: Any
) -> None:
    give(scorer, "p-7", by=victor)

    response = client_for(victor).get("/feedback/models/scorer/predictions/p-7/")

    assert response.status_code == 200
    assert "not logged yet" in response.content.decode()


def test_a_prediction_nobody_knows_is_a_404(client_for: Any, victor: Any, scorer: Any) -> None:
    client = client_for(victor)

    assert client.get("/feedback/models/scorer/predictions/p-404/").status_code == 404
    assert client.get("/feedback/models/nothing/predictions/p-1/").status_code == 404
    assert client.post("/feedback/models/scorer/predictions/p-404/", _form()).status_code == 404


@pytest.mark.parametrize(
    "prediction_id", ["orders/2026/17", "..", ".", "a~2Fb", "x\ny", "50% (of it)"]
)
def test_any_prediction_id_has_a_page_of_its_own(
    client_for: Any, alice: Any, scorer: Any, log: Any, prediction_id: str
) -> None:
    """Slashes, dots that browsers would resolve away, escapes and newlines round-trip."""
    log(scorer, {**prediction(1), "prediction_id": prediction_id}, by=alice)
    url = PredictionLog.objects.get().get_absolute_url()

    response = client_for(alice).get(url)

    assert "/../" not in url and not url.endswith("/./")
    assert resolve(unquote(url)).kwargs["prediction_id"] == prediction_id
    assert response.status_code == 200 and response.context["page"].prediction_id == prediction_id


def test_anonymous_people_are_sent_to_sign_in(
    client: Any, alice: Any, scorer: Any, log: Any
) -> None:
    log(scorer, prediction(1), by=alice)

    response = client.post(URL, _form(verdict="up"))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Feedback.objects.exists()


def test_the_page_runs_the_same_queries_for_1_or_20_pieces_of_feedback(
    client_for: Any, alice: Any, bob: Any, victor: Any, scorer: Any, log: Any, give: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    log(scorer, prediction(1), by=alice)
    client = client_for(victor)
    give(scorer, "p-1", by=alice)
    client.get(URL)  # warm the content-type cache

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    few = count()
    for i in range(19):
        give(scorer, "p-1", by=(alice, bob, victor)[i % 3], comment=f"note {i}")

    assert count() == few
