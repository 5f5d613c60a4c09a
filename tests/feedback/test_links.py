"""Feedback and predictions as things backlog items link to, and the pages their links open."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from feedback.models import ApiKey, Feedback, PredictionKey, Scope
from feedback.queries import activity_links
from feedback.services.keys import create_key
from portal.activity import links_for
from portal.backlog.links import link_name, linkable_model
from portal.backlog.services.links import resolve_target
from portal.models import AuditEvent
from tests.feedback.conftest import prediction


def test_feedback_and_predictions_are_linkable(
    alice: Any, victor: Any, scorer: Any, log: Any, give: Any
) -> None:
    log(scorer, prediction(1), by=alice)
    feedback = give(scorer, "p-1", by=victor)

    assert (linkable_model("feedback"), linkable_model("prediction")) == (Feedback, PredictionKey)
    assert (link_name(Feedback), link_name(PredictionKey)) == ("feedback", "prediction")
    assert resolve_target("feedback", feedback.pk) == feedback
    assert resolve_target("prediction", feedback.prediction_key_id) == feedback.prediction_key


def test_activity_links_open_the_prediction_and_keys_pages_in_one_query(
    alice: Any, victor: Any, scorer: Any, log: Any, give: Any, django_assert_num_queries: Any
) -> None:
    log(scorer, {**prediction(1), "prediction_id": "orders/1"}, by=alice)
    feedback = give(scorer, "orders/1", by=victor)
    own, _ = create_key(actor=alice, team=scorer.team, name="a", scopes=[Scope.READ], model=scorer)
    team, _ = create_key(actor=alice, team=scorer.team, name="b", scopes=[Scope.READ])
    types = ContentType.objects.get_for_models(Feedback, PredictionKey, ApiKey)
    targets = {
        "feedback": (types[Feedback].pk, str(feedback.pk)),
        "prediction": (types[PredictionKey].pk, str(feedback.prediction_key_id)),
        "own key": (types[ApiKey].pk, str(own.pk)),
        "team key": (types[ApiKey].pk, str(team.pk)),
        "gone": (types[Feedback].pk, "999"),
    }

    with django_assert_num_queries(1):
        found = activity_links(targets.values())

    page = "/feedback/models/scorer/predictions/orders~2F1/"
    assert found == {
        targets["feedback"]: f"{page}#feedback-{feedback.pk}",
        targets["prediction"]: page,
        targets["own key"]: "/feedback/models/scorer/keys/",
    }


def test_a_key_created_in_the_audit_log_links_to_its_page(alice: Any, scorer: Any) -> None:
    create_key(actor=alice, team=scorer.team, name="a", scopes=[Scope.READ], model=scorer)
    event = AuditEvent.objects.get(verb="apikey.created")

    assert links_for([event]) == {
        (event.target_type_id, event.target_id): "/feedback/models/scorer/keys/"
    }
