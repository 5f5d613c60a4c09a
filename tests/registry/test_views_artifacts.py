"""A version's artifact on the page: upload or replace, poll or cancel validation, download."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.uploads import limit_message
from registry.choices import ArtifactStatus
from registry.models import Artifact
from registry.services.artifacts import store_artifact, validate_artifact
from tests.registry import onnx_files
from tests.registry.onnx_files import onnx_upload


@pytest.fixture
def stored(alice: Any, v1: Any, onnx_bytes: bytes) -> Artifact:
    return store_artifact(actor=alice, version=v1, upload=onnx_upload(onnx_bytes, "fraud.onnx"))


URL = "/models/fraud-score/versions/1.0.0/artifact/"


def test_a_member_uploads_an_artifact(
    client_for: Any, bob: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """The file goes through store_artifact; the page then polls its validation."""
    client = client_for(bob)
    response = client.post(URL, {"file": onnx_upload(onnx_bytes)})

    assert response.status_code == 302 and response["Location"] == v1.get_absolute_url()
    artifact = Artifact.objects.get(version=v1)
    assert artifact.status == ArtifactStatus.PENDING
    assert artifact.sha256 == hashlib.sha256(onnx_bytes).hexdigest()
    page = client.get(v1.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert 'hx-get="/models/fraud-score/versions/1.0.0/artifact/status/"' in page


def test_a_non_onnx_file_is_refused_with_a_message(client_for: Any, alice: Any, v1: Any) -> None:
    """The service's reason is shown; nothing is stored."""
    response = client_for(alice).post(
        URL, {"file": onnx_upload(onnx_files.pickle_bytes())}, follow=True
    )

    assert "Not an ONNX model" in response.content.decode()
    assert not Artifact.objects.exists()


def test_an_artifact_over_the_cap_gets_413(
    client_for: Any, alice: Any, v1: Any, settings: Any
) -> None:
    """The limit is named and nothing is stored."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000
    response = client_for(alice).post(URL, {"file": onnx_upload(b"\x08\x07" + b"0" * 100_000)})

    assert response.status_code == 413
    assert limit_message() in response.content.decode()
    assert not Artifact.objects.exists()


def test_uploading_needs_a_post_and_membership(
    client_for: Any, alice: Any, charlie: Any, victor: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """GET is 405; another team and a viewer get 403; an unknown version 404."""
    assert client_for(alice).get(URL).status_code == 405
    assert client_for(charlie).post(URL, {"file": onnx_upload(onnx_bytes)}).status_code == 403
    assert client_for(victor).post(URL, {"file": onnx_upload(onnx_bytes)}).status_code == 403
    unknown = "/models/fraud-score/versions/3.0.0/artifact/"
    assert client_for(alice).post(unknown, {"file": onnx_upload(onnx_bytes)}).status_code == 404
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
    response = client.get(url, headers={"HX-Request": "true"})
    done = response.content.decode()

    assert "every 2s" not in done
    assert 'class="badge ok" data-job-status="succeeded">Valid<' in done
    assert "Opset" in done and stored.sha256 in done and "fraud.onnx" in done
    # The poll swapped only the job status; the final answer replaces the whole panel.
    assert response["HX-Retarget"] == "#artifact-panel"
    assert response["HX-Reswap"] == "outerHTML"


def test_an_invalid_artifact_shows_its_error(
    client_for: Any, alice: Any, victor: Any, v1: Any
) -> None:
    """A file the worker rejects shows the bad badge and the loader's reason."""
    artifact = store_artifact(
        actor=alice, version=v1, upload=onnx_upload(onnx_files.corrupt_onnx())
    )
    validate_artifact(artifact_id=artifact.pk)

    html = client_for(victor).get(v1.get_absolute_url()).content.decode()

    assert 'class="badge bad" data-job-status="succeeded">Artifact invalid<' in html
    assert "badge artifact-invalid bad" in html  # the versions table
    assert 'class="errors job-error"' in html
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


CANCEL = "/models/fraud-score/versions/1.0.0/artifact/cancel/"
STATUS = "/models/fraud-score/versions/1.0.0/artifact/status/"


def _running(artifact: Artifact) -> None:
    """The row as a worker leaves it mid-validation."""
    Artifact.objects.filter(pk=artifact.pk).update(
        status=ArtifactStatus.VALIDATING,
        attempts=1,
        progress=10,
        progress_text="Loading the model with onnxruntime",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )


def test_editors_see_a_cancel_button_and_readers_do_not(
    client_for: Any, bob: Any, victor: Any, stored: Artifact
) -> None:
    """The button posts to the cancel view through htmx; a viewer gets the status alone."""
    _running(stored)

    mine = client_for(bob).get(STATUS, headers={"HX-Request": "true"}).content.decode()
    theirs = client_for(victor).get(STATUS, headers={"HX-Request": "true"}).content.decode()

    assert f'hx-post="{CANCEL}"' in mine and 'method="post"' in mine
    assert "Loading the model with onnxruntime" in mine and 'value="10"' in mine
    assert CANCEL not in theirs
    assert 'hx-trigger="every 2s"' in theirs


def test_cancelling_a_running_validation_shows_it_stopping(
    client_for: Any, bob: Any, stored: Artifact
) -> None:
    """The worker stops at its next step; until then the status says so and keeps polling."""
    _running(stored)

    response = client_for(bob).post(CANCEL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cancelling: the worker stops at its next step." in html
    assert 'hx-trigger="every 2s"' in html and CANCEL not in html
    stored.refresh_from_db()
    assert stored.cancel_requested and stored.status == ArtifactStatus.VALIDATING


def test_cancelling_a_queued_validation_ends_it_and_shows_the_panel(
    client_for: Any, bob: Any, stored: Artifact
) -> None:
    """No worker had it: it is cancelled at once, and the final panel replaces the poll."""
    response = client_for(bob).post(CANCEL, headers={"HX-Request": "true"})

    assert response["HX-Retarget"] == "#artifact-panel"
    assert "Validation cancelled" in response.content.decode()
    stored.refresh_from_db()
    assert stored.status == ArtifactStatus.CANCELLED


def test_cancelling_without_htmx_redirects_with_a_message(
    client_for: Any, bob: Any, v1: Any, stored: Artifact
) -> None:
    """A plain form post works too; a second cancel names why it cannot."""
    client = client_for(bob)

    first = client.post(CANCEL, follow=True)
    again = client.post(CANCEL, follow=True)

    assert first.redirect_chain == [(v1.get_absolute_url(), 302)]
    assert "Validation cancelled." in first.content.decode()
    assert "Nothing to cancel" in again.content.decode()


def test_cancelling_needs_a_post_an_editor_and_an_artifact(
    client_for: Any, alice: Any, charlie: Any, victor: Any, v1: Any, stored: Artifact
) -> None:
    """GET is 405; another team and a viewer get 403; an unknown version or no artifact 404."""
    assert client_for(alice).get(CANCEL).status_code == 405
    assert client_for(charlie).post(CANCEL).status_code == 403
    assert client_for(victor).post(CANCEL).status_code == 403
    unknown = "/models/fraud-score/versions/3.0.0/artifact/cancel/"
    assert client_for(alice).post(unknown).status_code == 404
    stored.refresh_from_db()
    assert stored.status == ArtifactStatus.PENDING and not stored.cancel_requested
    stored.delete()
    assert client_for(alice).post(CANCEL).status_code == 404


def test_a_failed_validation_shows_its_attempts_and_reason(
    client_for: Any, victor: Any, v1: Any, stored: Artifact
) -> None:
    """After its attempts the page says why and stops polling."""
    Artifact.objects.filter(pk=stored.pk).update(
        status=ArtifactStatus.FAILED,
        attempts=3,
        finished_at=timezone.now(),
        error="The worker died 3 times while validating.",
    )

    html = client_for(victor).get(v1.get_absolute_url()).content.decode()

    assert 'class="badge bad" data-job-status="failed">Validation failed<' in html
    assert "Attempt 3 of 3" in html
    assert "The worker died 3 times while validating." in html
    assert "every 2s" not in html


def test_the_upload_message_says_what_happened_to_the_file(
    client_for: Any, alice: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """Validated in-process: the outcome; still waiting: a worker will do it, not "queued"."""
    from registry.views.artifacts import _uploaded_message

    waiting = client_for(alice).post(URL, {"file": onnx_upload(onnx_bytes)}, follow=True)
    artifact = Artifact.objects.get(version=v1)
    validate_artifact(artifact_id=artifact.pk)

    assert "a worker will validate it shortly" in waiting.content.decode()
    assert _uploaded_message(v1, artifact) == "Artifact uploaded for 1.0.0: Valid."


def test_a_refusal_after_a_redirect_is_an_error_summary_too(
    client_for: Any, alice: Any, fraud_model: Any, v1: Any
) -> None:
    """An upload without a file redirects to the model page, which opens with the refusal."""
    client = client_for(alice)
    url = reverse("registry:artifact-upload", args=[fraud_model.name, v1.version])

    response = client.post(url, {}, follow=True)

    summary = re.search(
        r'<div class="error-summary".*?</div>', response.content.decode(), re.S
    ).group(0)
    assert "Choose an ONNX file to upload." in summary
    assert 'class="messages"' not in response.content.decode()
