"""Writes name what they cannot take: unknown, read-only and (for PUT) missing fields."""

from __future__ import annotations

import inspect

import pytest
from rest_framework import serializers

from portal.api import serializers as portal_serializers
from portal.api.serializers import StrictFieldsMixin
from registry.api import serializers as registry_serializers
from registry.models import ModelCard, RegisteredModel

BASE = "/api/v1/models/fraud-score"
VERSION = f"{BASE}/versions/1.0.0"


def test_a_misspelt_card_field_is_a_400_and_the_card_is_untouched(api_for, alice, v1) -> None:
    """PUT with "model_detials" names the unknown key instead of emptying the card."""
    api = api_for(alice)
    api.patch(f"{VERSION}/card/", {"model_details": "Keep me."}, format="json")

    response = api.put(f"{VERSION}/card/", {"model_detials": "typo"}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "Unknown field" in errors["model_detials"][0]
    assert ModelCard.objects.get(version=v1).model_details == "Keep me."


def test_a_put_that_leaves_fields_out_is_refused_naming_them(api_for, alice, v1) -> None:
    """A full replace must send every field; PATCH changes only what it sends."""
    api = api_for(alice)
    api.patch(f"{VERSION}/card/", {"metrics": "AUC 0.91", "license": "mit"}, format="json")

    put = api.put(f"{VERSION}/card/", {"model_details": "Only this"}, format="json")
    patch = api.patch(f"{VERSION}/card/", {"model_details": "Only this"}, format="json")

    assert put.status_code == 400
    assert "full replace" in put.json()["errors"]["metrics"][0]
    assert "license" in put.json()["errors"]
    assert patch.status_code == 200
    card = ModelCard.objects.get(version=v1)
    assert (card.model_details, card.metrics, card.license) == ("Only this", "AUC 0.91", "mit")


def test_a_contract_put_must_send_its_examples(api_for, alice, v1) -> None:
    """Leaving the examples out of a PUT would silently drop them: it is a 400."""
    body = {"input_schema": {"type": "object"}, "output_schema": {"type": "object"}}

    response = api_for(alice).put(f"{VERSION}/contract/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"example_request", "example_response"}
    v1.refresh_from_db()
    assert v1.example_request == {"amount": 12.5, "country": "DE"}


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        (f"{BASE}/", {"name": "renamed"}, "name", "read-only"),
        (f"{BASE}/", {"team": "search-relevance"}, "team", "read-only"),
        (f"{BASE}/", {"titel": "x"}, "titel", "Unknown field"),
        (f"{VERSION}/", {"status": "production"}, "status", "read-only"),
        (f"{VERSION}/", {"notes": "x", "number": 7}, "number", "read-only"),
    ],
)
def test_patching_a_read_only_or_unknown_field_is_a_400(
    api_for, alice, v1, path, body, field, message
) -> None:
    """A PATCH that would change nothing it was asked to is refused, naming the field."""
    response = api_for(alice).patch(path, body, format="json")

    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]
    model = RegisteredModel.objects.get(name="fraud-score")
    assert (model.name, model.team.slug) == ("fraud-score", "risk-modelling")
    v1.refresh_from_db()
    assert (v1.status, v1.notes, v1.number) == ("draft", "", 1)


def test_creating_with_an_unknown_field_is_a_400(api_for, alice, risk_team) -> None:
    """POST /api/v1/models/ with a misspelt key creates nothing."""
    body = {"name": "m", "title": "M", "team": risk_team.slug, "task_typ": "regression"}

    response = api_for(alice).post("/api/v1/models/", body, format="json")

    assert response.status_code == 400
    assert "task_typ" in response.json()["errors"]
    assert not RegisteredModel.objects.filter(name="m").exists()


def test_every_write_serializer_is_strict() -> None:
    """A new serializer with writable fields that forgets the strict base fails here."""
    loose = []
    for module in (registry_serializers, portal_serializers):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.BaseSerializer) or cls.__module__ != module.__name__:
                continue
            if issubclass(cls, StrictFieldsMixin) or name.startswith("Strict"):
                continue
            try:
                fields = cls().fields
            except Exception:  # serializers that need context are read-only here
                continue
            if any(not field.read_only for field in fields.values()) and _is_written(name):
                loose.append(name)
    assert loose == []


def _is_written(name: str) -> bool:
    """Serializers that only describe responses are not parsed from requests."""
    response_only = {
        "ArtifactSerializer",
        "ContractChangeSerializer",
        "SectionDiffSerializer",
        "CompareSerializer",
        "ModelVersionSerializer",
        "ModelVersionRowSerializer",
        "ModelVersionDetailSerializer",
    }
    return name not in response_only
