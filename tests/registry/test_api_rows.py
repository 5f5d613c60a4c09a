"""The models and versions API rows equal what DRF's field-by-field walk would give."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from registry.api import serializers as s
from registry.models import ModelVersion
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.registry.artifact_helpers import store_and_run


def _drf(serializer: serializers.Serializer, rows: list[Any]) -> list[dict[str, Any]]:
    """What plain DRF gives, with nested row serializers walked the same way."""
    return [_walk(serializer, row) for row in rows]


def _walk(serializer: serializers.Serializer, instance: Any) -> dict[str, Any]:
    row = {}
    for field in serializer._readable_fields:
        attribute = field.get_attribute(instance)
        if attribute is None:
            row[field.field_name] = None
        elif isinstance(field, serializers.Serializer):
            row[field.field_name] = _walk(field, attribute)
        else:
            row[field.field_name] = field.to_representation(attribute)
    return row


def _context() -> dict[str, Any]:
    return {"request": APIRequestFactory().get("/api/v1/models/")}


def test_list_rows_are_shaped_as_each_model_alone(
    api_for: Any, alice: Any, fraud_model: Any, v1: Any, scorer: Any, charlie: Any, search_team: Any
) -> None:
    """The list builds rows from plain values; a model alone goes through the serializer."""
    create_model(actor=charlie, name="query-intent", title="Query intent", team=search_team)
    api = api_for(alice)

    rows = api.get("/api/v1/models/").json()["results"]

    assert [row["name"] for row in rows] == ["fraud-score", "query-intent", "tumour-screening"]
    for row in rows:
        assert row == api.get(row["url"]).json()
    assert rows[0]["tags"] == ["payments", "tabular"]
    assert rows[0]["latest_version"] == "1.0.0"
    assert (rows[1]["team"], rows[1]["created_by"]) == ("search-relevance", "charlie")


def test_version_rows_with_artifact_and_card_match_drf(
    alice: Any,
    v1: Any,
    fraud_model: Any,
    onnx_bytes: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    store_and_run(alice, v1, onnx_bytes, django_capture_on_commit_callbacks)
    create_version(actor=alice, model=fraud_model, version="1.1.0")  # no artifact
    rows = list(
        ModelVersion.objects.select_related("model", "created_by", "artifact", "card").order_by(
            "-sort_key"
        )
    )
    serializer = s.ModelVersionSerializer(rows, many=True, context=_context())

    assert serializer.data == _drf(serializer.child, rows)
    artifact = serializer.data[1]["artifact"]
    assert artifact["job_status"] == "succeeded"
    assert artifact["created_at"].endswith("Z")
    assert serializer.data[0]["artifact"] is None


def test_version_list_rows_are_shaped_as_each_version_alone(
    api_for: Any,
    alice: Any,
    v1: Any,
    fraud_model: Any,
    onnx_bytes: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The list reads names and the card's written sections as annotations, not instances."""
    store_and_run(alice, v1, onnx_bytes, django_capture_on_commit_callbacks)
    update_card(
        actor=alice,
        card=v1.card,
        sections={"intended_use": "Flag card fraud.", "metrics": "\n\n  \n"},
        metadata={},
    )
    create_version(actor=alice, model=fraud_model, version="1.1.0")
    api = api_for(alice)

    rows = api.get("/api/v1/models/fraud-score/versions/").json()["results"]

    assert [row["version"] for row in rows] == ["1.1.0", "1.0.0"]
    for row in rows:
        alone = api.get(f"/api/v1/models/fraud-score/versions/{row['version']}/").json()
        assert row == {key: alone[key] for key in row}
    assert rows[1]["card_completeness"] == v1.card.completeness > 0
    assert rows[1]["artifact"]["job_status"] == "succeeded"
