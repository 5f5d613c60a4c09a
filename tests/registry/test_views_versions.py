"""Registering versions through the page (with an artifact), status changes and contracts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.messages import get_messages

from portal.uploads import limit_message
from registry.choices import VersionStatus
from registry.models import Artifact, ModelVersion
from tests.registry import onnx_files
from tests.registry.conftest import INPUT_V1, OUTPUT_V1
from tests.registry.onnx_files import onnx_upload

INPUT_V2 = {
    **INPUT_V1,
    "properties": {**INPUT_V1["properties"], "merchant": {"type": "string"}},
    "required": ["amount", "merchant"],
}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# Registering a version --------------------------------------------------------------------


def test_a_member_registers_a_version_with_notes_contract_and_artifact(
    client_for: Any, bob: Any, fraud_model: Any, onnx_bytes: bytes
) -> None:
    """One multipart form creates the version and stores its artifact, then shows the page."""
    response = client_for(bob).post(
        "/models/fraud-score/versions/new/",
        {
            "version": "1.0.0",
            "notes": "First **cut**.",
            "input_schema": json.dumps(INPUT_V1),
            "output_schema": json.dumps(OUTPUT_V1),
            "example_request": '{"amount": 3}',
            "example_response": "",
            "artifact": onnx_upload(onnx_bytes, "linear.onnx"),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/models/fraud-score/versions/1.0.0/"
    version = ModelVersion.objects.get(model=fraud_model, version="1.0.0")
    assert version.input_schema == INPUT_V1 and version.example_request == {"amount": 3}
    assert version.created_by == bob and version.notes == "First **cut**."
    artifact = Artifact.objects.get(version=version)
    assert artifact.original_name == "linear.onnx" and artifact.size == len(onnx_bytes)


def test_empty_contract_fields_inherit_the_previous_version(
    client_for: Any, alice: Any, fraud_model: Any, v1: Any
) -> None:
    """Leaving the schemas empty keeps the previous contract; no file is fine too."""
    client = client_for(alice)
    assert client.get("/models/fraud-score/versions/new/").status_code == 200

    response = client.post("/models/fraud-score/versions/new/", {"version": "1.1.0"})

    assert response.status_code == 302
    new = ModelVersion.objects.get(model=fraud_model, version="1.1.0")
    assert new.input_schema == INPUT_V1 and new.output_schema == OUTPUT_V1
    assert not Artifact.objects.filter(version=new).exists()


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("input_schema", "Input schema"),
        ("output_schema", "Output schema"),
        ("example_request", "Example request"),
        ("example_response", "Example response"),
    ],
)
def test_invalid_json_names_the_field_and_creates_nothing(
    client_for: Any, alice: Any, fraud_model: Any, field: str, label: str
) -> None:
    """Bad JSON is a form error on that field; no version is registered."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/new/", {"version": "1.0.0", field: '{"type": "object",'}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(f"{label} is not valid JSON")
    assert f"{label} is not valid JSON" in response.content.decode()
    assert not ModelVersion.objects.exists()


def test_service_errors_land_on_their_fields(
    client_for: Any, alice: Any, fraud_model: Any, v1: Any
) -> None:
    """A taken version, a bad semver or a schema the service refuses show on the field."""
    client = client_for(alice)
    taken = client.post("/models/fraud-score/versions/new/", {"version": "1.0.0"})
    bad = client.post("/models/fraud-score/versions/new/", {"version": "one"})
    schema = client.post(
        "/models/fraud-score/versions/new/",
        {"version": "2.0.0", "input_schema": '{"type": 5}', "output_schema": "{}"},
    )

    assert "already has version" in taken.context["form"].errors["version"][0]
    assert "not a semantic version" in bad.context["form"].errors["version"][0]
    assert "Not a valid JSON Schema" in schema.context["form"].errors["input_schema"][0]
    assert list(ModelVersion.objects.values_list("version", flat=True)) == ["1.0.0"]


def test_a_refused_artifact_creates_no_version(
    client_for: Any, alice: Any, fraud_model: Any
) -> None:
    """Version and artifact share one transaction: a non-ONNX file leaves nothing behind."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/new/",
        {"version": "1.0.0", "artifact": onnx_upload(onnx_files.html_bytes(), "evil.onnx")},
    )

    assert response.status_code == 200
    assert "Not an ONNX model" in response.context["form"].errors["artifact"][0]
    assert not ModelVersion.objects.exists() and not Artifact.objects.exists()
    fraud_model.refresh_from_db()
    assert not fraud_model.versions.exists()


def test_an_upload_over_the_cap_gets_413_and_creates_nothing(
    client_for: Any, alice: Any, fraud_model: Any, settings: Any
) -> None:
    """Past HANDOFF_MAX_UPLOAD_BYTES the form comes back with 413 and the limit named."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000

    response = client_for(alice).post(
        "/models/fraud-score/versions/new/",
        {"version": "1.0.0", "artifact": onnx_upload(b"\x08\x07" + b"x" * 200_000)},
    )

    assert response.status_code == 413
    assert limit_message() in response.content.decode()
    assert "1,000 bytes" in response.content.decode()
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("persona", ["charlie", "victor", "dana"])
def test_outsiders_cannot_register_versions(
    request: Any, client_for: Any, fraud_model: Any, persona: str
) -> None:
    """Another team, a viewer and an approver get 403 on GET and POST."""
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/models/fraud-score/versions/new/").status_code == 403
    assert client.post("/models/fraud-score/versions/new/", {"version": "1.0.0"}).status_code == 403
    assert not ModelVersion.objects.exists()


def test_registering_a_version_of_an_unknown_model_is_404(client_for: Any, alice: Any) -> None:
    """No such model."""
    assert client_for(alice).get("/models/nope/versions/new/").status_code == 404


# Status -----------------------------------------------------------------------------------


def test_a_member_moves_a_draft_to_candidate_and_back(client_for: Any, alice: Any, v1: Any) -> None:
    """Direct transitions go through set_version_status and say so."""
    client = client_for(alice)
    url = "/models/fraud-score/versions/1.0.0/status/"

    response = client.post(url, {"status": "candidate"})

    assert response.status_code == 302 and response["Location"] == v1.get_absolute_url()
    v1.refresh_from_db()
    assert v1.status == VersionStatus.CANDIDATE
    assert "now Candidate" in _messages(response)[0]
    client.post(url, {"status": "draft"})
    v1.refresh_from_db()
    assert v1.status == VersionStatus.DRAFT


def test_a_transition_that_needs_a_release_is_shown_as_a_message(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """draft → production is refused by the service; the page explains and nothing moves."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/1.0.0/status/", {"status": "production"}, follow=True
    )

    assert response.status_code == 200
    assert "use a release" in response.content.decode()
    v1.refresh_from_db()
    assert v1.status == VersionStatus.DRAFT


def test_an_unknown_status_is_refused(client_for: Any, alice: Any, v1: Any) -> None:
    """Only VersionStatus values are accepted."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/1.0.0/status/", {"status": "hacked"}
    )
    assert response.status_code == 302
    assert "Choose one of the listed statuses." in _messages(response)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.DRAFT


def test_status_changes_need_a_post_membership_and_a_real_version(
    client_for: Any, alice: Any, charlie: Any, victor: Any, v1: Any
) -> None:
    """GET is 405, outsiders 403, an unknown version 404."""
    url = "/models/fraud-score/versions/1.0.0/status/"
    assert client_for(alice).get(url).status_code == 405
    assert client_for(charlie).post(url, {"status": "candidate"}).status_code == 403
    assert client_for(victor).post(url, {"status": "archived"}).status_code == 403
    assert (
        client_for(alice)
        .post("/models/fraud-score/versions/9.0.0/status/", {"status": "candidate"})
        .status_code
        == 404
    )
    v1.refresh_from_db()
    assert v1.status == VersionStatus.DRAFT


# Contract ---------------------------------------------------------------------------------


def test_a_member_edits_the_contract(client_for: Any, alice: Any, v1: Any) -> None:
    """The form starts from the stored contract and saves through update_contract."""
    client = client_for(alice)
    url = "/models/fraud-score/versions/1.0.0/contract/edit/"
    page = client.get(url)
    assert page.status_code == 200 and "Transaction amount in EUR" in page.content.decode()

    response = client.post(
        url,
        {
            "input_schema": json.dumps(INPUT_V2),
            "output_schema": json.dumps(OUTPUT_V1),
            "example_request": '{"amount": 1, "merchant": "shop"}',
            "example_response": "",
        },
    )

    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.input_schema == INPUT_V2 and v1.example_response is None


def test_an_example_that_breaks_the_contract_is_a_field_error(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """The service's message lands on example_request; the contract is unchanged."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/1.0.0/contract/edit/",
        {
            "input_schema": json.dumps(INPUT_V2),
            "output_schema": json.dumps(OUTPUT_V1),
            "example_request": '{"amount": 1}',
        },
    )

    assert response.status_code == 200
    assert "merchant" in response.context["form"].errors["example_request"][0]
    v1.refresh_from_db()
    assert v1.input_schema == INPUT_V1


@pytest.mark.parametrize("persona", ["charlie", "victor"])
def test_outsiders_cannot_edit_a_contract(
    request: Any, client_for: Any, v1: Any, persona: str
) -> None:
    """403 on GET and POST; the contract stays."""
    client = client_for(request.getfixturevalue(persona))
    url = "/models/fraud-score/versions/1.0.0/contract/edit/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"input_schema": "{}", "output_schema": "{}"}).status_code == 403
    v1.refresh_from_db()
    assert v1.input_schema == INPUT_V1
    assert client.get("/models/fraud-score/versions/2.0.0/contract/edit/").status_code == 404


def test_the_model_page_shows_the_contract_as_a_table_and_breaking_changes(
    client_for: Any, alice: Any, victor: Any, fraud_model: Any, v1: Any
) -> None:
    """Fields with dotted paths, required flags and enums; a new required field is breaking."""
    nested = {
        **INPUT_V2,
        "properties": {
            **INPUT_V2["properties"],
            "customer": {
                "type": "object",
                "properties": {"age": {"type": "integer", "description": "Years"}},
                "required": ["age"],
            },
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"sku": {"type": "string"}}},
            },
        },
    }
    client_for(alice).post(
        "/models/fraud-score/versions/new/",
        {
            "version": "2.0.0",
            "input_schema": json.dumps(nested),
            "output_schema": json.dumps(OUTPUT_V1),
        },
    )

    response = client_for(victor).get("/models/fraud-score/versions/2.0.0/")
    html = response.content.decode()

    paths = [row.path for row in response.context["input_rows"]]
    # Required fields first in "required" order, then the others by name: the same on
    # SQLite and on PostgreSQL, whose jsonb does not keep key order.
    assert paths == [
        "amount",
        "merchant",
        "channel",
        "country",
        "customer",
        "customer.age",
        "items",
        "items[].sku",
    ]
    assert "&quot;DE&quot;" in html  # enum values
    assert "array of object" in html
    changes = response.context["contract_changes"]
    assert changes[0].is_breaking and changes[0].path == "/merchant"
    assert '<tr class="breaking">' in html and '<span class="badge bad">breaking</span>' in html
    assert "Raw JSON Schema" in html


def test_saving_a_contract_with_an_empty_example_box_says_it_removed_the_example(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """An example dropped by an empty box is named in the message, not lost silently."""
    page = "/models/fraud-score/versions/1.0.0/contract/edit/"
    revision = client_for(alice).get(page).context["form"]["revision"].value()

    response = client_for(alice).post(
        page,
        {
            "input_schema": '{"type": "object"}',
            "output_schema": '{"type": "object"}',
            "example_request": '{"amount": 1}',
            "example_response": "",
            "revision": revision,
        },
        follow=True,
    )

    assert "Its example response was removed: the box was empty." in response.content.decode()
    assert "No example response" in response.content.decode()
