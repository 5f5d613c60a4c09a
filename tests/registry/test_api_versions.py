"""The versions API: registration, contracts, cards, artifacts, status and compare."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.api import serializers as s
from registry.models import ModelVersion
from tests.registry.conftest import INPUT_V1, OUTPUT_V1

BASE = "/api/v1/models/fraud-score/versions"


def test_a_version_is_registered_with_its_contract_changes(api_for, alice, v1) -> None:
    """201; number 2; a newly required input is reported as breaking."""
    payload = {
        "version": "2.0.0",
        "input_schema": {**INPUT_V1, "required": ["amount", "country"]},
        "output_schema": OUTPUT_V1,
        "example_request": {"amount": 3, "country": "FR"},
    }
    response = api_for(alice).post(f"{BASE}/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["number"], body["status"]) == ("2.0.0", 2, "draft")
    assert body["previous_version"] == "1.0.0"
    assert body["contract_changes"] == [
        {"kind": "breaking", "schema": "input", "path": "/country", "change": "became required"}
    ]


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        ({"version": "1.2"}, "version", "not a semantic version"),
        ({"version": "1.0.0"}, "version", "already has version"),
        ({"version": "3.0.0", "input_schema": {"type": "objekt"}}, "input_schema", "Not a valid"),
        (
            {
                "version": "3.0.0",
                "input_schema": INPUT_V1,
                "output_schema": OUTPUT_V1,
                "example_request": {"amount": "x"},
            },
            "example_request",
            "Does not match the contract",
        ),
    ],
)
def test_bad_versions_name_the_field_and_create_nothing(api_for, alice, v1, payload, field, text):
    """Each error is a 400 naming the field; the version count is unchanged."""
    response = api_for(alice).post(f"{BASE}/", payload, format="json")
    assert response.status_code == 400
    assert text in response.json()["errors"][field][0]
    assert ModelVersion.objects.count() == 1


def test_versions_list_newest_semver_first_and_404_for_unknown_models(api_for, alice, v1) -> None:
    """The list is ordered by semver; an unknown model is 404, not an empty page."""
    for text in ("1.10.0", "1.9.0"):
        api_for(alice).post(f"{BASE}/", {"version": text}, format="json")
    listed = api_for(alice).get(f"{BASE}/").json()["results"]
    assert [v["version"] for v in listed] == ["1.10.0", "1.9.0", "1.0.0"]
    assert api_for(alice).get("/api/v1/models/nope/versions/").status_code == 404
    assert api_for(alice).get(f"{BASE}/9.9.9/").status_code == 404


def test_outsiders_can_read_but_not_write(api_for, charlie, victor, v1) -> None:
    """Every write by someone outside the team is a 403."""
    for user in (charlie, victor):
        api = api_for(user)
        assert api.get(f"{BASE}/1.0.0/").status_code == 200
        assert api.post(f"{BASE}/", {"version": "2.0.0"}, format="json").status_code == 403
        assert api.patch(f"{BASE}/1.0.0/", {"notes": "x"}, format="json").status_code == 403
        assert api.post(f"{BASE}/1.0.0/status/", {"status": "candidate"}).status_code == 403
        contract = {"input_schema": {}, "output_schema": {}}
        assert api.put(f"{BASE}/1.0.0/contract/", contract, format="json").status_code == 403
        assert api.put(f"{BASE}/1.0.0/card/", {"metrics": "x"}, format="json").status_code == 403
        assert api.patch(f"{BASE}/1.0.0/card/", {"metrics": "x"}, format="json").status_code == 403
        assert api.delete(f"{BASE}/1.0.0/").status_code == 403


def test_status_moves_through_the_api_and_refuses_jumps(api_for, alice, v1) -> None:
    """draft → candidate works; candidate → production without a release is a 400."""
    api = api_for(alice)
    assert api.get(f"{BASE}/1.0.0/status/").status_code == 405
    assert (
        api.post(f"{BASE}/1.0.0/status/", {"status": "candidate"}).json()["status"] == "candidate"
    )
    response = api.post(f"{BASE}/1.0.0/status/", {"status": "production"})
    assert response.status_code == 400
    assert "use a release" in response.json()["errors"]["status"][0]


def test_the_contract_is_read_and_replaced(api_for, alice, v1) -> None:
    """PUT validates schemas and examples; GET returns what was stored."""
    api = api_for(alice)
    assert api.get(f"{BASE}/1.0.0/contract/").json()["input_schema"] == INPUT_V1
    bad = {
        "input_schema": INPUT_V1,
        "output_schema": OUTPUT_V1,
        "example_request": None,
        "example_response": {"score": "x"},
    }
    response = api.put(f"{BASE}/1.0.0/contract/", bad, format="json")
    assert response.status_code == 400 and "example_response" in response.json()["errors"]
    good = {"input_schema": {"type": "object"}, "output_schema": {"type": "object"}}
    good |= {"example_request": {}, "example_response": None}
    assert api.put(f"{BASE}/1.0.0/contract/", good, format="json").status_code == 200
    assert api.get(f"{BASE}/1.0.0/contract/").json()["input_schema"] == {"type": "object"}


def test_the_card_is_read_replaced_exported_and_imported(api_for, alice, bob, v1) -> None:
    """PUT replaces the card; export → import on another version round-trips it."""
    api = api_for(alice)
    card = api.get(f"{BASE}/1.0.0/card/").json()
    card = {k: v for k, v in card.items() if k not in s.ModelCardSerializer.Meta.read_only_fields}
    for name in ("completeness", "missing_sections", "updated_by"):
        card.pop(name)
    card |= {
        "model_details": "Gradient boosted trees.",
        "intended_use": "Scoring card payments in the EU.",
        "license": "apache-2.0",
        "languages": ["en"],
        "links": ["https://wiki.example/fraud"],
    }
    response = api.put(f"{BASE}/1.0.0/card/", card, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["intended_use"] == "Scoring card payments in the EU."
    bad = api.patch(f"{BASE}/1.0.0/card/", {"links": ["javascript:alert(1)"]}, format="json")
    assert bad.status_code == 400 and "links" in bad.json()["errors"]

    exported = api.get(f"{BASE}/1.0.0/card/export/")
    assert exported["Content-Type"] == "text/markdown; charset=utf-8"
    assert "attachment" in exported["Content-Disposition"]
    api.post(f"{BASE}/", {"version": "1.1.0"}, format="json")
    api.patch(f"{BASE}/1.1.0/card/", {"model_details": "changed"}, format="json")
    upload = SimpleUploadedFile("README.md", exported.content, content_type="text/markdown")
    imported = api_for(bob).post(f"{BASE}/1.1.0/card/import/", {"file": upload}, format="multipart")
    assert imported.status_code == 200, imported.json()
    original = api.get(f"{BASE}/1.0.0/card/").json()
    copy = imported.json()
    for field in ("model_details", "intended_use", "license", "languages", "links"):
        assert copy[field] == original[field]


def test_a_readme_with_bad_yaml_names_the_line(api_for, alice, v1) -> None:
    """The import error points at the broken line."""
    text = "---\nlicense: mit\nlanguage: [en\n---\n## Intended use\nx\n"
    response = api_for(alice).post(f"{BASE}/1.0.0/card/import/", {"readme": text}, format="json")
    assert response.status_code == 400
    assert "line" in response.json()["errors"]["readme"][0]


def test_compare_reports_contract_card_and_metadata_changes(api_for, alice, v1) -> None:
    """Any two versions; unknown ones are 404."""
    api = api_for(alice)
    payload = {"version": "2.0.0", "input_schema": {"type": "object"}, "output_schema": OUTPUT_V1}
    api.post(f"{BASE}/", payload, format="json")
    api.patch(f"{BASE}/2.0.0/card/", {"metrics": "AUC 0.91"}, format="json")
    body = api.get("/api/v1/models/fraud-score/compare/?a=1.0.0&b=2.0.0").json()
    assert body["breaking_changes"] >= 1
    assert {
        "kind": "breaking",
        "schema": "input",
        "path": "/amount",
        "change": "field removed",
    } in (body["contract_changes"])
    metrics = next(d for d in body["card_diff"] if d["field"] == "metrics")
    assert metrics["status"] == "added" and ["+", "AUC 0.91"] in metrics["lines"]
    fields = {entry["field"] for entry in body["metadata_diff"]}
    assert "number" not in fields  # always differs, says nothing about the model
    assert {"example_request", "example_response"} <= fields  # 2.0.0 was sent none
    assert api.get("/api/v1/models/fraud-score/compare/?a=1.0.0&b=7.0.0").status_code == 404


def test_an_onnx_artifact_is_uploaded_validated_and_downloaded(
    api_for, alice, v1, onnx_bytes, django_capture_on_commit_callbacks
):
    """202 on upload; the eager worker validates it after commit; download has the checksum."""
    api = api_for(alice)
    upload = SimpleUploadedFile("model.onnx", onnx_bytes, content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(f"{BASE}/1.0.0/artifact/", {"file": upload}, format="multipart")
    assert len(callbacks) == 1
    assert response.status_code == 202, response.json()
    digest = hashlib.sha256(onnx_bytes).hexdigest()
    assert response.json()["sha256"] == digest
    meta = api.get(f"{BASE}/1.0.0/artifact/").json()
    assert meta["status"] == "valid" and meta["opset"]
    download = api.get(f"{BASE}/1.0.0/artifact/download/")
    assert download["X-Checksum-SHA256"] == digest
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == onnx_bytes


def test_a_non_onnx_upload_is_refused_naming_the_file(api_for, alice, v1) -> None:
    """A pickle renamed .onnx is a 400 on `file`; nothing is stored."""
    upload = SimpleUploadedFile("model.onnx", b"\x80\x04\x95" + b"x" * 100)
    response = api_for(alice).post(f"{BASE}/1.0.0/artifact/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert api_for(alice).get(f"{BASE}/1.0.0/artifact/").status_code == 404


def test_an_oversized_upload_is_a_413_naming_the_limit(api_for, alice, v1, settings) -> None:
    """The cap is enforced while streaming."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1024
    upload = SimpleUploadedFile("model.onnx", b"\x08\x07" + b"\x00" * 200_000)
    response = api_for(alice).post(f"{BASE}/1.0.0/artifact/", {"file": upload}, format="multipart")
    assert response.status_code == 413
    assert "1,024 bytes" in response.json()["errors"]["detail"][0]
    assert api_for(alice).get(f"{BASE}/1.0.0/artifact/").status_code == 404


def test_downloads_without_an_artifact_are_404(api_for, alice, v1) -> None:
    """No file, no download."""
    assert api_for(alice).get(f"{BASE}/1.0.0/artifact/download/").status_code == 404
