"""A version's artifact on the page: upload or replace, polling status, download headers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.uploads import limit_message
from registry.choices import ArtifactStatus
from registry.models import Artifact
from registry.services.artifacts import store_artifact, validate_artifact
from tests.registry import onnx_files


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _onnx(data: bytes, name: str = "model.onnx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def stored(alice: Any, v1: Any, onnx_bytes: bytes) -> Artifact:
    return store_artifact(actor=alice, version=v1, upload=_onnx(onnx_bytes, "fraud.onnx"))


URL = "/models/fraud-score/versions/1.0.0/artifact/"


def test_a_member_uploads_an_artifact(
    client_for: Any, bob: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """The file goes through store_artifact; the page then polls its validation."""
    client = client_for(bob)
    response = client.post(URL, {"file": _onnx(onnx_bytes)})

    assert response.status_code == 302 and response["Location"] == v1.get_absolute_url()
    artifact = Artifact.objects.get(version=v1)
    assert artifact.status == ArtifactStatus.PENDING
    assert artifact.sha256 == hashlib.sha256(onnx_bytes).hexdigest()
    page = client.get(v1.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert 'hx-get="/models/fraud-score/versions/1.0.0/artifact/status/"' in page


def test_a_non_onnx_file_is_refused_with_a_message(client_for: Any, alice: Any, v1: Any) -> None:
    """The service's reason is shown; nothing is stored."""
    response = client_for(alice).post(URL, {"file": _onnx(onnx_files.pickle_bytes())}, follow=True)

    assert "Not an ONNX model" in response.content.decode()
    assert not Artifact.objects.exists()


def test_an_artifact_over_the_cap_gets_413(
    client_for: Any, alice: Any, v1: Any, settings: Any
) -> None:
    """The limit is named and nothing is stored."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000
    response = client_for(alice).post(URL, {"file": _onnx(b"\x08\x07" + b"0" * 100_000)})

    assert response.status_code == 413
    assert limit_message() in response.content.decode()
    assert not Artifact.objects.exists()


def test_uploading_needs_a_post_and_membership(
    client_for: Any, alice: Any, charlie: Any, victor: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """GET is 405; another team and a viewer get 403; an unknown version 404."""
    assert client_for(alice).get(URL).status_code == 405
    assert client_for(charlie).post(URL, {"file": _onnx(onnx_bytes)}).status_code == 403
    assert client_for(victor).post(URL, {"file": _onnx(onnx_bytes)}).status_code == 403
    unknown = "/models/fraud-score/versions/3.0.0/artifact/"
    assert client_for(alice).post(unknown, {"file": _onnx(onnx_bytes)}).status_code == 404
    assert not Artifact.objects.exists()


def test_the_status_partial_polls_until_validation_is_final(
    client_for: Any, victor: Any, stored: Artifact
) -> None:
    """Pending: the panel re-polls itself; valid: opset and inputs show and polling stops."""
    client = client_for(victor)
    url = "/models/fraud-score/versions/1.0.0/artifact/status/"

    pending = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in pending and "Waiting for a worker" in pending
    assert "<html" not in pending

    validate_artifact(artifact_id=stored.pk)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert "every 2s" not in done
    assert "badge artifact-valid ok" in done
    assert "Opset" in done and stored.sha256 in done and "fraud.onnx" in done


def test_an_invalid_artifact_shows_its_error(
    client_for: Any, alice: Any, victor: Any, v1: Any
) -> None:
    """A file the worker rejects shows the bad badge and the loader's reason."""
    artifact = store_artifact(actor=alice, version=v1, upload=_onnx(onnx_files.corrupt_onnx()))
    validate_artifact(artifact_id=artifact.pk)

    html = client_for(victor).get(v1.get_absolute_url()).content.decode()

    assert "badge artifact-invalid bad" in html
    assert 'class="errors artifact-error"' in html
    assert "every 2s" not in html


def test_the_download_is_an_attachment_with_checksum_and_nosniff(
    client_for: Any, victor: Any, stored: Artifact, onnx_bytes: bytes
) -> None:
    """Anyone signed in may download; the name is server-made and the sha256 attached."""
    response = client_for(victor).get("/models/fraud-score/versions/1.0.0/artifact/download/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == onnx_bytes
    assert response["Content-Disposition"] == 'attachment; filename="fraud-score-1.0.0.onnx"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Checksum-SHA256"] == stored.sha256
    assert response["Content-Type"] == "application/octet-stream"


def test_downloading_without_an_artifact_is_404(client_for: Any, victor: Any, v1: Any) -> None:
    """No artifact, unknown version: 404."""
    client = client_for(victor)
    assert client.get("/models/fraud-score/versions/1.0.0/artifact/download/").status_code == 404
    assert client.get("/models/fraud-score/versions/4.0.0/artifact/download/").status_code == 404
    assert client.get("/models/fraud-score/versions/4.0.0/artifact/status/").status_code == 404
