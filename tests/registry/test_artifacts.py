"""Uploading ONNX artifacts: sniffing, storage, validation on a worker, and refusals."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from portal.jobs import requeue_stale_jobs
from portal.models import AuditEvent
from registry.choices import ArtifactStatus, VersionStatus
from registry.models import Artifact
from registry.onnx_inspect import (
    ArtifactRejected,
    derive_contract,
    inspect_model,
    looks_like_onnx,
)
from registry.services.artifacts import cancel_validation, store_artifact, validate_artifact
from registry.services.contracts import check_contract, check_schema
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status
from registry.tasks import validate_artifact_task
from tests.registry import onnx_files

EXPLICIT_INPUT = {
    "type": "object",
    "properties": {"amount": {"type": "number"}},
    "required": ["amount"],
}
EXPLICIT_OUTPUT = {"type": "object", "properties": {"score": {"type": "number"}}}


@pytest.fixture
def scorer(alice: Any, risk_team: Any) -> Any:
    return create_model(
        actor=alice,
        name="tumour-screening",
        title="Tumour screening",
        team=risk_team,
        task_type="binary_classification",
    )


@pytest.fixture
def draft(alice: Any, scorer: Any) -> Any:
    """A version registered without a contract."""
    return create_version(actor=alice, model=scorer, version="1.0.0")


def upload(data: bytes, name: str = "model.onnx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def store_and_run(actor: Any, version: Any, data: bytes, capture: Any) -> Artifact:
    """Upload, then run the on-commit validation the way a worker would."""
    with capture(execute=True):
        artifact = store_artifact(actor=actor, version=version, upload=upload(data))
    artifact.refresh_from_db()
    return artifact


# Sniffing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [onnx_files.breast_cancer_onnx(), onnx_files.linear_onnx(), onnx_files.corrupt_onnx()],
    ids=["sklearn", "linear", "corrupt-but-onnx-head"],
)
def test_it_sniffs_onnx_from_the_first_bytes(data: bytes) -> None:
    """The sniff is cheap: a corrupt body with a good head passes it, the loader catches it."""
    assert looks_like_onnx(data[:16])


@pytest.mark.parametrize(
    "data",
    [
        onnx_files.pickle_bytes(),
        onnx_files.zip_bytes(),
        onnx_files.html_bytes(),
        b"",
        b"\x08",
        b"\x08\x00",
        b"\x08\x7f",
        b'{"ir_version": 8}',
    ],
    ids=["pickle", "zip", "html", "empty", "one-byte", "ir-zero", "ir-too-high", "json"],
)
def test_it_does_not_take_other_files_for_onnx(data: bytes) -> None:
    assert not looks_like_onnx(data[:16])


# Inspecting ---------------------------------------------------------------------------


def test_it_describes_a_model_from_onnxruntime(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.breast_cancer_onnx())

    info = inspect_model(str(path))

    assert info.ir_version == 8
    assert info.opset == 17
    assert info.producer.startswith("skl2onnx")
    assert info.inputs == [{"name": "features", "type": "tensor(float)", "shape": ["?", 30]}]
    assert [o["name"] for o in info.outputs] == ["label", "probabilities"]
    assert info.outputs[1] == {"name": "probabilities", "type": "tensor(float)", "shape": ["?", 2]}


def test_it_keeps_symbolic_dimension_names(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.linear_onnx())

    info = inspect_model(str(path))

    assert info.inputs == [{"name": "x", "type": "tensor(float)", "shape": ["batch", 4]}]
    assert info.producer == "handoff-tests"


def test_it_refuses_external_data_before_onnxruntime_follows_it(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.external_data_onnx())

    with (
        mock.patch("onnxruntime.InferenceSession") as session,
        pytest.raises(ArtifactRejected, match="external data references are not allowed"),
    ):
        inspect_model(str(path))

    session.assert_not_called()


def test_it_reports_the_loader_message_without_the_storage_path(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.unknown_op_onnx())

    with pytest.raises(ArtifactRejected) as caught:
        inspect_model(str(path))

    assert "NoSuchOperator" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)


def test_it_loads_without_graph_optimisation(tmp_path: Path) -> None:
    """Constant folding could expand a small file into gigabytes while merely loading it."""
    import onnxruntime

    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.linear_onnx())

    with mock.patch("onnxruntime.InferenceSession", wraps=onnxruntime.InferenceSession) as session:
        inspect_model(str(path))

    options = session.call_args.kwargs["sess_options"]
    assert options.graph_optimization_level == onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    assert session.call_args.kwargs["providers"] == ["CPUExecutionProvider"]


# Deriving a contract ------------------------------------------------------------------


def test_it_derives_json_schemas_from_tensor_signatures() -> None:
    inputs = [
        {"name": "features", "type": "tensor(float)", "shape": ["?", 30]},
        {"name": "ids", "type": "tensor(int64)", "shape": ["batch"]},
        {"name": "query", "type": "tensor(string)", "shape": []},
        {"name": "flags", "type": "tensor(bool)", "shape": [2]},
    ]
    outputs = [
        {"name": "output_label", "type": "tensor(int64)", "shape": ["?"]},
        {"name": "output_probability", "type": "seq(map(int64,tensor(float)))", "shape": []},
    ]

    request, response = derive_contract(inputs, outputs)

    check_schema(request, field="input_schema")
    check_schema(response, field="output_schema")
    assert request["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert request["required"] == ["features", "ids", "query", "flags"]
    features = request["properties"]["features"]
    assert features["items"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 30,
        "maxItems": 30,
    }
    assert features["description"] == "tensor(float), shape [?, 30]"
    assert request["properties"]["ids"]["items"] == {"type": "integer"}
    assert request["properties"]["query"]["type"] == "string"
    assert request["properties"]["flags"]["items"] == {"type": "boolean"}
    probabilities = response["properties"]["output_probability"]
    assert probabilities["type"] == "array"
    assert probabilities["items"]["type"] == "object"
    check_contract(
        input_schema=request,
        output_schema=response,
        example_request={
            "features": [[0.5] * 30],
            "ids": [1, 2],
            "query": "lump",
            "flags": [True, False],
        },
        example_response={"output_label": [1], "output_probability": [{"0": 0.1, "1": 0.9}]},
    )


def test_a_derived_request_refuses_the_wrong_width() -> None:
    request, _ = derive_contract(
        [{"name": "features", "type": "tensor(float)", "shape": ["?", 3]}], []
    )

    with pytest.raises(ValidationError):
        check_contract(
            input_schema=request,
            output_schema={},
            example_request={"features": [[1.0, 2.0]]},
            example_response=None,
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


# The task -----------------------------------------------------------------------------


def test_the_task_calls_the_service() -> None:
    with mock.patch("registry.tasks.validate_artifact") as service:
        validate_artifact_task(42)

    service.assert_called_once_with(artifact_id=42)


def test_the_task_runs_eagerly_through_delay(alice: Any, draft: Any) -> None:
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    validate_artifact_task.delay(artifact.pk)

    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.VALID


def test_the_task_retries_database_outages_only() -> None:
    assert validate_artifact_task.autoretry_for == (OperationalError,)
    assert validate_artifact_task.max_retries == 5
    assert validate_artifact_task.name == "registry.tasks.validate_artifact_task"


# Lost messages ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_after_commit_keeps_the_upload(
    alice: Any, draft: Any, media_root: Path
) -> None:
    """Outside a test transaction on_commit runs at once; a failing enqueue must not undo."""
    with mock.patch(
        "registry.tasks.validate_artifact_task.delay", side_effect=OperationalError("broker down")
    ):
        artifact = store_artifact(
            actor=alice, version=draft, upload=upload(onnx_files.linear_onnx())
        )

    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.PENDING
    assert Path(artifact.file.path).is_file()
    assert artifact.lease_expires_at is not None  # beat sends it once this delivery lease ends


def test_an_upload_whose_message_was_lost_is_sent_again(
    alice: Any, scorer: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Only a queued upload whose delivery lease ran out is sent; fresh and final ones are not."""
    # given: one upload never picked up, one just made, one validated
    stuck = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    fresh_version = create_version(actor=alice, model=scorer, version="1.1.0")
    store_artifact(actor=alice, version=fresh_version, upload=upload(onnx_files.linear_onnx()))
    done_version = create_version(actor=alice, model=scorer, version="1.2.0")
    done = store_artifact(
        actor=alice, version=done_version, upload=upload(onnx_files.linear_onnx())
    )
    validate_artifact(artifact_id=done.pk)
    expired = timezone.now() - timedelta(seconds=1)
    Artifact.objects.filter(pk__in=[stuck.pk, done.pk]).update(lease_expires_at=expired)

    # when
    with (
        mock.patch("registry.tasks.validate_artifact_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = requeue_stale_jobs()

    # then
    assert sent == 1
    delay.assert_called_once_with(stuck.pk)


def test_a_replacement_is_a_new_validation(alice: Any, draft: Any) -> None:
    """A new file resets the job: fresh attempts and times, no cancel left over."""
    first = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    three_days_ago = timezone.now() - timedelta(days=3)
    Artifact.objects.filter(pk=first.pk).update(
        created_at=three_days_ago,
        queued_at=three_days_ago,
        status=ArtifactStatus.FAILED,
        attempts=3,
        cancel_requested=True,
        error="The worker died 3 times while validating.",
    )

    second = store_artifact(
        actor=alice, version=draft, upload=upload(onnx_files.breast_cancer_onnx())
    )

    second.refresh_from_db()
    assert timezone.now() - second.created_at < timedelta(minutes=1)
    assert timezone.now() - second.queued_at < timedelta(minutes=1)
    assert second.status == ArtifactStatus.PENDING
    assert (second.attempts, second.error, second.cancel_requested) == (0, "", False)
    assert second.started_by == alice


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


def test_the_task_ignores_an_artifact_deleted_meanwhile(alice: Any, draft: Any) -> None:
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    artifact_id = artifact.pk
    artifact.delete()

    validate_artifact_task.delay(artifact_id)  # no exception

    assert not Artifact.objects.filter(pk=artifact_id).exists()


def test_the_sweep_removes_only_old_unreferenced_files(alice, v1, onnx_bytes, settings, tmp_path):
    """A file left by a rolled-back upload goes after the grace period; live files stay."""
    import os
    import time
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from registry.services.artifacts import store_artifact, sweep_orphan_files

    settings.MEDIA_ROOT = str(tmp_path)
    kept = store_artifact(
        actor=alice, version=v1, upload=SimpleUploadedFile("m.onnx", onnx_bytes)
    ).file.name
    # given: an upload whose surrounding transaction rolled back
    with pytest.raises(RuntimeError), transaction.atomic():
        from registry.services.versions import create_version

        v2 = create_version(actor=alice, model=v1.model, version="1.1.0")
        store_artifact(
            actor=alice, version=v2, upload=SimpleUploadedFile("m.onnx", onnx_bytes + b"\x00")
        )
        raise RuntimeError("the caller failed after the upload")
    stored = {str(p.relative_to(tmp_path)) for p in Path(tmp_path, "artifacts").rglob("*.onnx")}
    orphans = stored - {kept}
    assert len(orphans) == 1
    # when: the sweep runs before and after the grace period
    assert sweep_orphan_files() == 0
    old = time.time() - 2 * 3600
    for name in stored:
        os.utime(tmp_path / name, (old, old))
    assert sweep_orphan_files() == 1
    # then: only the referenced file remains
    remaining = {str(p.relative_to(tmp_path)) for p in Path(tmp_path, "artifacts").rglob("*.onnx")}
    assert remaining == {kept}
