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
