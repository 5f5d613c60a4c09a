"""A scorer model with a contract, a second model, and keys for them."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from feedback.models import Scope
from feedback.services.keys import create_key
from registry.services.models import create_model
from registry.services.versions import create_version

INPUT = {
    "type": "object",
    "properties": {"age": {"type": "integer", "minimum": 0}, "plan": {"enum": ["basic", "pro"]}},
    "required": ["age"],
}


@pytest.fixture
def scorer(alice: Any, risk_team: Any) -> Any:
    model = create_model(actor=alice, name="scorer", title="Scorer", team=risk_team)
    create_version(
        actor=alice,
        model=model,
        version="1.0.0",
        input_schema=INPUT,
        output_schema={"type": "object"},
        example_request={"age": 30},
        example_response={"label": "stay"},
    )
    return model


@pytest.fixture
def other_model(alice: Any, risk_team: Any) -> Any:
    model = create_model(actor=alice, name="other", title="Other", team=risk_team)
    create_version(actor=alice, model=model, version="0.1.0")
    return model


@pytest.fixture
def key_for(alice: Any) -> Any:
    """``key_for(model, *scopes, origins=())``: an APIClient sending a new key of ``model``."""

    def make(model: Any, *scopes: str, origins: tuple[str, ...] = ()) -> APIClient:
        key, secret = create_key(
            actor=alice,
            team=model.team,
            name="service",
            model=model,
            scopes=list(scopes or (Scope.PREDICTIONS, Scope.FEEDBACK, Scope.READ)),
            allowed_origins=origins,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"ApiKey {secret}")
        client.key = key  # type: ignore[attr-defined]
        return client

    return make


def prediction(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "prediction_id": f"p-{number}",
        "version": "1.0.0",
        "timestamp": "2026-11-30T10:00:00Z",
        "features": {"age": 20 + number % 50, "plan": "basic"},
        "output": {"label": "stay" if number % 3 else "churn", "probabilities": {"stay": 0.7}},
        "latency_ms": 12.5,
        **extra,
    }


# The portal's feedback pages: predictions logged and feedback given through the services.


@pytest.fixture
def log() -> Any:
    """``log(model, *records, by=person)``: log prediction records (see ``prediction``)."""
    from django.utils import timezone

    from feedback.services.access import Caller
    from feedback.services.predictions import log_predictions

    def make(model: Any, *records: dict[str, Any], by: Any) -> Any:
        named = [{"model": model.name, **record} for record in records]
        return log_predictions(caller=Caller(person=by), records=named, now=timezone.now())

    return make


@pytest.fixture
def give() -> Any:
    """``give(model, prediction_id, by=person, kind="thumbs", value="down", **fields)``:
    feedback through the service, from the API unless ``source`` says otherwise."""
    from django.utils import timezone

    from feedback.models import Feedback
    from feedback.services.access import Caller
    from feedback.services.feedback import give_feedback

    def make(
        model: Any,
        prediction_id: str,
        *,
        by: Any,
        kind: str = "thumbs",
        value: Any = "down",
        source: str = "api",
        at: Any = None,
        **fields: Any,
    ) -> Any:
        record = {"model": model.name, "prediction_id": prediction_id, "kind": kind, **fields}
        record["value"] = value
        done = give_feedback(
            caller=Caller(person=by), records=[record], now=at or timezone.now(), source=source
        )
        assert done.accepted == 1, done.as_json()
        return Feedback.objects.order_by("-pk").first()

    return make
