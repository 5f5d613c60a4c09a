"""Storing ONNX artifacts, validating them, and cancelling a validation."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from portal.models import AuditEvent
from registry.choices import ArtifactStatus, VersionStatus
from registry.models import Artifact
from registry.onnx_inspect import (
    ArtifactRejected,
    inspect_model,
)
from registry.services.artifacts import cancel_validation, store_artifact, validate_artifact
from registry.services.versions import create_version, set_version_status
from tests.registry import onnx_files
from tests.registry.artifact_helpers import (
    EXPLICIT_INPUT,
    EXPLICIT_OUTPUT,
    store_and_run,
    stored_files,
    upload,
)

# Storing ------------------------------------------------------------------------------


def test_it_stores_an_upload_under_a_server_generated_name(
    alice: Any, draft: Any, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    data = onnx_files.breast_cancer_onnx()
    hostile = upload(data, name="../../etc/passwd.onnx")

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        artifact = store_artifact(actor=alice, version=draft, upload=hostile)

    # then
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert artifact.size == len(data)
    assert artifact.status == ArtifactStatus.PENDING
    assert artifact.progress == 0
    assert artifact.uploaded_by == alice
    assert artifact.file.name == f"artifacts/{draft.model_id}/{artifact.sha256}.onnx"
    assert "passwd" not in artifact.file.name and ".." not in artifact.file.name
    assert artifact.original_name == "passwd.onnx"  # Django keeps only the base name
    assert Path(artifact.file.path).read_bytes() == data
    assert Path(artifact.file.path).resolve().is_relative_to(media_root.resolve())
    assert len(callbacks) == 1  # validation is queued, to run after commit
    event = AuditEvent.objects.get(verb="artifact.uploaded")
    assert event.after["sha256"] == artifact.sha256
    assert event.after["size"] == len(data)


def test_it_truncates_a_long_client_name(alice: Any, draft: Any) -> None:
    artifact = store_artifact(
        actor=alice, version=draft, upload=upload(onnx_files.linear_onnx(), "m" * 400 + ".onnx")
    )

    assert len(artifact.original_name) <= 255


def test_the_queued_task_runs_only_on_commit(alice: Any, draft: Any) -> None:
    with mock.patch("registry.tasks.validate_artifact_task.delay") as delay:
        artifact = store_artifact(
            actor=alice, version=draft, upload=upload(onnx_files.linear_onnx())
        )

    delay.assert_not_called()  # the test transaction never commits
    assert artifact.status == ArtifactStatus.PENDING


def test_a_valid_upload_is_validated_and_gets_a_derived_contract(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    artifact = store_and_run(
        alice, draft, onnx_files.breast_cancer_onnx(), django_capture_on_commit_callbacks
    )

    # then
    assert artifact.status == ArtifactStatus.VALID
    assert artifact.progress == 100
    assert artifact.validated_at is not None
    assert artifact.error == ""
    assert artifact.opset == 17
    assert artifact.ir_version == 8
    assert artifact.producer.startswith("skl2onnx")
    assert artifact.inputs[0]["name"] == "features"
    assert [o["name"] for o in artifact.outputs] == ["label", "probabilities"]
    draft.refresh_from_db()
    assert draft.input_schema["required"] == ["features"]
    assert set(draft.output_schema["properties"]) == {"label", "probabilities"}
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"artifact.uploaded", "artifact.validated", "version.contract_derived"} <= verbs
    derived = AuditEvent.objects.get(verb="version.contract_derived")
    assert derived.actor is None


def test_a_version_with_a_contract_keeps_it(
    alice: Any, scorer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = create_version(
        actor=alice,
        model=scorer,
        version="1.0.0",
        input_schema=EXPLICIT_INPUT,
        output_schema=EXPLICIT_OUTPUT,
    )

    artifact = store_and_run(
        alice, version, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )

    assert artifact.status == ArtifactStatus.VALID
    version.refresh_from_db()
    assert version.input_schema == EXPLICIT_INPUT
    assert version.output_schema == EXPLICIT_OUTPUT
    assert not AuditEvent.objects.filter(verb="version.contract_derived").exists()


def test_a_corrupt_file_ends_invalid_with_the_loader_message(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = store_and_run(
        alice, draft, onnx_files.corrupt_onnx(), django_capture_on_commit_callbacks
    )

    assert artifact.status == ArtifactStatus.INVALID
    assert artifact.progress == 100
    assert "Error parsing message" in artifact.error
    assert artifact.opset is None
    draft.refresh_from_db()
    assert draft.input_schema == {}
    assert AuditEvent.objects.get(verb="artifact.rejected").after["error"] == artifact.error


def test_a_model_onnxruntime_cannot_load_ends_invalid(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = store_and_run(
        alice, draft, onnx_files.unknown_op_onnx(), django_capture_on_commit_callbacks
    )

    assert artifact.status == ArtifactStatus.INVALID
    assert "NoSuchOperator" in artifact.error
    assert "/artifacts/" not in artifact.error  # no server paths in user-visible errors


def test_an_external_data_reference_is_refused(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = store_and_run(
        alice, draft, onnx_files.external_data_onnx(), django_capture_on_commit_callbacks
    )

    assert artifact.status == ArtifactStatus.INVALID
    assert artifact.error == "external data references are not allowed"


def test_a_long_loader_message_is_truncated(alice: Any, draft: Any) -> None:
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    with mock.patch(
        "registry.services.artifacts.inspect_model", side_effect=ArtifactRejected("x" * 5000)
    ):
        artifact = validate_artifact(artifact_id=artifact.pk)

    assert artifact.status == ArtifactStatus.INVALID
    assert len(artifact.error) == 2000


@pytest.mark.parametrize(
    "data", [onnx_files.pickle_bytes(), onnx_files.zip_bytes(), onnx_files.html_bytes(), b""]
)
def test_a_non_onnx_upload_is_refused_and_nothing_is_stored(
    alice: Any, draft: Any, media_root: Path, data: bytes
) -> None:
    with pytest.raises(ValidationError) as caught:
        store_artifact(actor=alice, version=draft, upload=upload(data, "model.onnx"))

    assert "file" in caught.value.message_dict
    assert "Not an ONNX model" in caught.value.message_dict["file"][0]
    assert not Artifact.objects.exists()
    assert stored_files(media_root) == []


def test_an_upload_over_the_cap_is_refused(
    alice: Any, draft: Any, media_root: Path, settings: Any
) -> None:
    settings.HANDOFF_MAX_UPLOAD_BYTES = 100

    with pytest.raises(ValidationError) as caught:
        store_artifact(actor=alice, version=draft, upload=upload(onnx_files.breast_cancer_onnx()))

    assert "100 bytes" in caught.value.message_dict["file"][0]
    assert stored_files(media_root) == []


@pytest.mark.parametrize("person", ["charlie", "victor"])
def test_only_the_models_team_may_upload(
    request: pytest.FixtureRequest, draft: Any, media_root: Path, person: str
) -> None:
    """charlie is in another team; victor is a viewer in none."""
    outsider = request.getfixturevalue(person)

    with pytest.raises(PermissionDenied):
        store_artifact(actor=outsider, version=draft, upload=upload(onnx_files.linear_onnx()))

    assert not Artifact.objects.exists()
    assert stored_files(media_root) == []


def test_a_released_or_archived_version_takes_no_new_file(alice: Any, draft: Any) -> None:
    set_version_status(actor=alice, version=draft, status=VersionStatus.ARCHIVED)

    with pytest.raises(ValidationError) as caught:
        store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    assert "draft or candidate" in caught.value.message_dict["file"][0]


def test_a_candidate_takes_a_new_file(alice: Any, draft: Any) -> None:
    set_version_status(actor=alice, version=draft, status=VersionStatus.CANDIDATE)

    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    assert artifact.pk is not None


def test_a_new_upload_replaces_the_old_file_on_commit(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    first = store_and_run(
        alice, draft, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )
    old_path = Path(first.file.path)

    # when
    second = store_and_run(
        alice, draft, onnx_files.breast_cancer_onnx(), django_capture_on_commit_callbacks
    )

    # then
    assert second.pk == first.pk
    assert Artifact.objects.count() == 1
    assert second.sha256 == hashlib.sha256(onnx_files.breast_cancer_onnx()).hexdigest()
    assert second.status == ArtifactStatus.VALID
    assert second.inputs[0]["name"] == "features"
    assert not old_path.exists()
    assert Path(second.file.path).exists()


def test_the_same_bytes_for_two_versions_are_two_files(
    alice: Any, scorer: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Deleting one version's file must never take another version's file with it."""
    other = create_version(actor=alice, model=scorer, version="1.1.0")

    first = store_and_run(
        alice, draft, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )
    second = store_and_run(
        alice, other, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )

    assert first.sha256 == second.sha256
    assert first.file.name != second.file.name


def test_a_failed_row_leaves_no_file_behind(
    alice: Any, draft: Any, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch.object(Artifact, "save", side_effect=IntegrityError("boom")),
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(IntegrityError),
    ):
        store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    assert stored_files(media_root) == []
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(verb="artifact.uploaded").exists()
    assert callbacks == []


def test_a_failed_replacement_keeps_the_old_file(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = store_and_run(
        alice, draft, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )

    with (
        mock.patch.object(Artifact, "save", side_effect=IntegrityError("boom")),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(IntegrityError),
    ):
        store_artifact(actor=alice, version=draft, upload=upload(onnx_files.breast_cancer_onnx()))

    first.refresh_from_db()
    assert Path(first.file.path).exists()
    assert [p.name for p in stored_files(Path(first.file.path).parent)] == [
        Path(first.file.name).name
    ]


# Validating ---------------------------------------------------------------------------


def test_validating_twice_changes_nothing(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = store_and_run(
        alice, draft, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )
    events = AuditEvent.objects.count()

    with mock.patch("registry.services.artifacts.inspect_model") as inspect:
        again = validate_artifact(artifact_id=artifact.pk)

    inspect.assert_not_called()
    assert again.status == ArtifactStatus.VALID
    assert again.validated_at == artifact.validated_at
    assert AuditEvent.objects.count() == events


def test_an_interrupted_validation_is_run_again(alice: Any, draft: Any) -> None:
    """A worker killed mid-validation leaves "validating"; once its lease ends, a run takes over."""
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    Artifact.objects.filter(pk=artifact.pk).update(
        status=ArtifactStatus.VALIDATING,
        progress=10,
        attempts=1,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    artifact = validate_artifact(artifact_id=artifact.pk)

    assert artifact.status == ArtifactStatus.VALID
    assert artifact.attempts == 2


def test_a_validation_held_by_a_live_run_is_left_alone(alice: Any, draft: Any) -> None:
    """A duplicate message while another worker holds the lease does nothing."""
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    Artifact.objects.filter(pk=artifact.pk).update(
        status=ArtifactStatus.VALIDATING,
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )

    with mock.patch("registry.services.artifacts.inspect_model") as inspect:
        artifact = validate_artifact(artifact_id=artifact.pk)

    inspect.assert_not_called()
    assert (artifact.status, artifact.attempts) == (ArtifactStatus.VALIDATING, 1)


def test_a_result_for_a_replaced_file_is_dropped(alice: Any, draft: Any) -> None:
    """If a new file arrives while the old one is inspected, the old result is not recorded."""
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    def replace_meanwhile(path: str) -> Any:
        store_artifact(actor=alice, version=draft, upload=upload(onnx_files.breast_cancer_onnx()))
        return inspect_model(path)

    with mock.patch("registry.services.artifacts.inspect_model", side_effect=replace_meanwhile):
        result = validate_artifact(artifact_id=artifact.pk)

    assert result.status == ArtifactStatus.PENDING
    assert result.sha256 == hashlib.sha256(onnx_files.breast_cancer_onnx()).hexdigest()
    assert result.inputs == []


# Cancelling ---------------------------------------------------------------------------


def test_an_editor_cancels_a_queued_validation_at_once(alice: Any, bob: Any, draft: Any) -> None:
    """No worker has it yet, so it ends cancelled now, recorded with who asked."""
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    cancelled = cancel_validation(actor=bob, artifact=artifact)

    assert cancelled.status == ArtifactStatus.CANCELLED
    assert cancelled.finished_at is not None and cancelled.validated_at is None
    event = AuditEvent.objects.get(verb="artifact.validation_cancelled")
    assert event.actor == bob
    with mock.patch("registry.services.artifacts.inspect_model") as inspect:
        validate_artifact(artifact_id=artifact.pk)  # its message may still arrive
    inspect.assert_not_called()


@pytest.mark.parametrize("person", ["charlie", "victor"])
def test_only_the_models_editors_may_cancel(
    request: pytest.FixtureRequest, alice: Any, draft: Any, person: str
) -> None:
    """charlie is in another team; victor is a viewer in none."""
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    with pytest.raises(PermissionDenied):
        cancel_validation(actor=request.getfixturevalue(person), artifact=artifact)

    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.PENDING and not artifact.cancel_requested


def test_a_finished_validation_cannot_be_cancelled(
    alice: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = store_and_run(
        alice, draft, onnx_files.linear_onnx(), django_capture_on_commit_callbacks
    )

    with pytest.raises(ValidationError, match="already ended"):
        cancel_validation(actor=alice, artifact=artifact)

    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.VALID


def test_a_cancel_during_inspection_stops_before_the_outcome_is_recorded(
    alice: Any, draft: Any
) -> None:
    """The worker checks between steps: the file was read, but nothing is recorded."""
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    def cancelled_meanwhile(path: str) -> Any:
        cancel_validation(actor=alice, artifact=Artifact.objects.get(pk=artifact.pk))
        return inspect_model(path)

    with mock.patch("registry.services.artifacts.inspect_model", side_effect=cancelled_meanwhile):
        result = validate_artifact(artifact_id=artifact.pk)

    assert result.status == ArtifactStatus.CANCELLED
    assert result.opset is None and result.inputs == []
    assert result.progress < 100
    verbs = list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-2:] == ["artifact.validation_cancel_requested", "artifact.validation_cancelled"]
    assert "artifact.validated" not in verbs
