"""Ingestion shows on /metrics: records accepted, duplicate and rejected, by kind."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.feedback.conftest import prediction

pytestmark = pytest.mark.django_db


def ingested(kind: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "handoff_ingested_records_total", {"kind": kind, "outcome": outcome}
        )
        or 0.0
    )


def test_a_batch_counts_its_accepted_duplicate_and_rejected_records(
    scorer: Any, key_for: Any
) -> None:
    before = {o: ingested("predictions", o) for o in ("accepted", "duplicate", "rejected")}
    client = key_for(scorer)
    batch = [
        {"model": "scorer", **prediction(1)},
        {"model": "scorer", **prediction(2)},
        {"model": "scorer", **prediction(1)},  # the same id again
        {"model": "scorer", "version": "1.0.0"},  # no prediction id
    ]
    answer = client.post("/api/v1/predictions", batch, format="json")
    assert answer.status_code in (200, 201, 207), answer.content
    assert ingested("predictions", "accepted") == before["accepted"] + 2
    assert ingested("predictions", "duplicate") == before["duplicate"] + 1
    assert ingested("predictions", "rejected") == before["rejected"] + 1


def test_a_batch_sent_while_the_database_is_down_is_told_to_come_back(
    scorer: Any, key_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """503 with Retry-After, nothing stored; sent again, the same ids store once."""
    from django.db import OperationalError

    from feedback.api import views
    from feedback.models import PredictionLog

    client = key_for(scorer)
    batch = [{"model": "scorer", **prediction(n)} for n in range(3)]
    real = views.log_predictions

    def down(**kwargs: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(views, "log_predictions", down)
    refused = client.post("/api/v1/predictions", batch, format="json")
    assert refused.status_code == 503
    assert refused["Retry-After"] == "5"
    assert "nothing was stored" in refused.json()["errors"]["detail"][0]
    monkeypatch.setattr(views, "log_predictions", real)
    assert client.post("/api/v1/predictions", batch, format="json").json()["accepted"] == 3
    assert client.post("/api/v1/predictions", batch, format="json").json()["duplicates"] == 3
    assert PredictionLog.objects.count() == 3
