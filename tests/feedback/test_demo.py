"""The demo's month of production traffic: predictions scored by the real artifacts, feedback
that follows the truth, outcomes, keys; and seeding twice adds nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from feedback.demo import DAYS, TRAFFIC, VIOLATIONS, WIDGET_ORIGIN
from feedback.models import ApiKey, Feedback, FeedbackKind, Outcome, PredictionLog, Scope
from portal.demo import seed
from portal.models import AuditEvent
from registry.models import RegisteredModel


@pytest.fixture
def demo(seeded_demo: Any, db: Any) -> Any:
    return seeded_demo


def test_each_risk_model_logged_a_month_of_predictions_with_a_few_contract_breaks(
    demo: Any,
) -> None:
    # The drift demo's two weeks of screening requests (registry.monitoring.demo) aside.
    own = PredictionLog.objects.exclude(prediction_id__startswith="scr-")
    logged = own.values("model__name").annotate(
        n=Count("pk"), broken=Count("pk", filter=Q(contract_violation=True))
    )

    assert {row["model__name"]: (row["n"], row["broken"]) for row in logged} == {
        traffic.model: (traffic.total, VIOLATIONS) for traffic in TRAFFIC
    }
    now = timezone.now()
    times = list(PredictionLog.objects.values_list("predicted_at", flat=True))
    assert min(times) >= now - timedelta(days=DAYS + 1)
    assert max(times) < now
    assert len({moment.date() for moment in times}) == DAYS
    versions = PredictionLog.objects.values_list("version__version", flat=True).distinct()
    assert set(versions) == {"1.0.0", "1.1.0"}


def test_predictions_use_the_contract_feature_names_and_some_are_wrong(demo: Any) -> None:
    wine = PredictionLog.objects.filter(model__name="wine-cultivar", contract_violation=False)
    first = wine.order_by("predicted_at").first()

    assert first is not None
    assert set(first.features) == {"lot_id", "chemistry"}
    assert {"alcohol", "proline", "od280_od315_of_diluted_wines"} <= set(
        first.features["chemistry"]
    )
    assert first.output["label"] in first.output["probabilities"]
    assert first.end_user and first.metadata["client"]


def test_feedback_has_every_kind_and_corrections_disagree_with_wrong_predictions(
    demo: Any,
) -> None:
    kinds = set(Feedback.objects.values_list("kind", flat=True))
    assert kinds == {FeedbackKind.THUMBS, FeedbackKind.RATING, FeedbackKind.LABEL, "comment"}
    assert Feedback.objects.filter(prediction_key__isnull=True).count() == 0
    assert Feedback.objects.filter(kind="comment").count() == sum(len(t.comments) for t in TRAFFIC)

    for traffic in TRAFFIC:
        predicted = dict(
            PredictionLog.objects.filter(model__name=traffic.model).values_list(
                "prediction_id", "label"
            )
        )
        corrections = Feedback.objects.filter(model__name=traffic.model, kind="label")
        disagree = [c for c in corrections if c.label != predicted[c.prediction_id]]
        assert len(disagree) >= 5, traffic.model  # a confusion matrix has off-diagonal cells
        assert len(disagree) < corrections.count()  # and some corrections confirm
        assert {c.label for c in corrections} <= set(traffic.labels)


def test_outcomes_follow_a_share_of_predictions(demo: Any) -> None:
    for traffic in TRAFFIC:
        outcomes = Outcome.objects.filter(model__name=traffic.model)

        assert set(outcomes.values_list("name", flat=True)) == {traffic.outcome}
        assert set(outcomes.values_list("value", flat=True)) == {0.0, 1.0}
        assert 0.3 * traffic.total < outcomes.count() < 0.5 * traffic.total


def test_a_widget_key_for_every_demo_model_and_one_server_key(demo: Any) -> None:
    widgets = ApiKey.objects.exclude(model=None)
    server = ApiKey.objects.get(model=None)

    assert sorted(k.model.name for k in widgets) == sorted(
        RegisteredModel.objects.values_list("name", flat=True)
    )
    for key in widgets:
        assert (key.scopes, key.allowed_origins) == ([Scope.FEEDBACK], [WIDGET_ORIGIN])
    assert set(server.scopes) == {Scope.PREDICTIONS, Scope.FEEDBACK}
    assert server.allowed_origins == []


def test_seeding_again_adds_nothing(demo: Any) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            model.objects.count()
            for model in (PredictionLog, Feedback, Outcome, ApiKey, AuditEvent)
        )

    before = counts()

    seed()

    assert counts() == before
