"""Uploading a version's ONNX artifact and validating it on a worker."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from portal.concurrency import next_revision
from portal.services.audit import record_event
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    holds_lease,
    mark_finished,
    report_progress,
    request_cancel,
    reset_job,
    running_job,
)
from portal.stored_files import local_path
from portal.uploads import limit_message
from registry.choices import ArtifactStatus
from registry.models import Artifact, ModelVersion
from registry.onnx_inspect import (
    ArtifactRejected,
    ModelInfo,
    derive_contract,
    inspect_model,
    looks_like_onnx,
)
from registry.permissions import require_edit
from registry.services.release_hooks import dismiss_release_approvals
from registry.services.storage import delete_files_on_commit

SNIFF_BYTES = 16
MAX_ERROR_CHARS = 2000
_OUTCOME_FIELDS = ["error", "opset", "ir_version", "producer", "inputs", "outputs"]


def store_artifact(*, actor: Any, version: ModelVersion, upload: UploadedFile) -> Artifact:
    """Store ``upload`` as the artifact of ``version`` (replacing any) and queue its validation."""
    require_edit(actor, version.model)
    _check_uploadable(version)
    check_onnx_head(upload)
    digest, size = _hash(upload)
    name = _write(version, digest, upload)
    try:
        artifact, replaced_name = _save_row(
            actor=actor, version=version, upload=upload, name=name, digest=digest, size=size
        )
    except BaseException:
        # No row points at the file we just wrote, so it goes too: nothing half-created.
        Artifact._meta.get_field("file").storage.delete(name)
        raise
    # Registered outside the try: work done after commit must never remove the new file.
    if replaced_name and replaced_name != name:
        delete_files_on_commit([replaced_name])
    enqueue_job(artifact)
    return artifact


def _check_uploadable(version: ModelVersion) -> None:
    if not version.accepts_artifact:
        raise ValidationError(
            {"file": f"{version} is {version.status}; only a draft or candidate takes a new file."}
        )


def check_onnx_head(upload: UploadedFile) -> None:
    """Refuse a file whose first bytes are not an ONNX protobuf, whatever its name says."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if not looks_like_onnx(head):
        raise ValidationError(
            {"file": "Not an ONNX model: the file does not start like an ONNX ModelProto."}
        )


def _hash(upload: UploadedFile) -> tuple[str, int]:
    """sha256 and size, read chunk by chunk so a large upload never sits in memory."""
    sha, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        sha.update(chunk)
        size += len(chunk)
        if size > settings.HANDOFF_MAX_UPLOAD_BYTES:
            raise ValidationError({"file": limit_message()})
    return sha.hexdigest(), size


def _write(version: ModelVersion, digest: str, upload: UploadedFile) -> str:
    """Save under the server-generated name from ``artifact_path``; returns the stored name."""
    stub = Artifact(version=version, sha256=digest)
    # The name given here is ignored by artifact_path; the client's name never reaches disk.
    stub.file.save("artifact.onnx", upload, save=False)
    return stub.file.name


@transaction.atomic
def _save_row(
    *, actor: Any, version: ModelVersion, upload: UploadedFile, name: str, digest: str, size: int
) -> tuple[Artifact, str]:
    """Create or overwrite the version's artifact row; returns it and the replaced file name."""
    _check_uploadable(ModelVersion.objects.select_for_update().get(pk=version.pk))
    artifact = Artifact.objects.filter(version=version).first()
    replaced, replaced_name = None, ""
    if artifact is None:
        artifact = Artifact(version=version)
    else:
        replaced = {"sha256": artifact.sha256, "size": artifact.size}
        replaced_name = artifact.file.name or ""
        artifact.created_at = timezone.now()  # the row is reused; the upload is new
    artifact.file.name = name
    artifact.original_name = (upload.name or "")[:255]
    artifact.sha256, artifact.size = digest, size
    artifact.uploaded_by = actor
    reset_job(artifact, actor=actor)  # a new file is a new validation: fresh attempts
    artifact.opset = artifact.ir_version = None
    artifact.producer, artifact.inputs, artifact.outputs = "", [], []
    artifact.save()
    record_event(
        actor=actor,
        verb="artifact.uploaded",
        target=artifact,
        before=replaced,
        after={"sha256": digest, "size": size, "original_name": artifact.original_name},
    )
    dismiss_release_approvals(actor, version, "artifact")
    return artifact, replaced_name


def validate_artifact(*, artifact_id: int) -> Artifact:
    """Run the artifact's validation job; returns the row as it now stands.

    Safe to run twice, after a crash, or next to another run: only the run holding the job's
    lease records an outcome, and a final job is left as it is.
    """
    artifact = claim_job(Artifact, artifact_id)
    if artifact is not None:
        with running_job(artifact):
            _validate(artifact)
    return Artifact.objects.get(pk=artifact_id)


def _validate(artifact: Artifact) -> None:
    # Each report renews the lease and is where a cancel stops the run, between steps.
    report_progress(artifact, 10, "Loading the model with onnxruntime")
    # Inspection can take a while, so it runs outside any transaction or lock.
    try:
        with local_path(artifact.file) as path:
            info: ModelInfo | None = inspect_model(path)
        error = ""
    except ArtifactRejected as exc:
        info, error = None, str(exc)
    report_progress(artifact, 90, "Recording the result")
    _finish(artifact, info=info, error=error)


def cancel_validation(*, actor: Any, artifact: Artifact) -> Artifact:
    """Stop a queued or running validation; the model's editors may."""
    require_edit(actor, artifact.version.model)
    return request_cancel(job=artifact, actor=actor)


@transaction.atomic
def _finish(artifact: Artifact, *, info: ModelInfo | None, error: str) -> Artifact:
    # Version first, then artifact: the order _save_row takes them in, so neither deadlocks.
    version = ModelVersion.objects.select_for_update().get(pk=artifact.version_id)
    locked = Artifact.objects.select_for_update().get(pk=artifact.pk)
    if not holds_lease(locked, artifact):
        # Another run took the job over, or a new file reset it meanwhile.
        return locked
    fields = mark_finished(
        locked, status=ArtifactStatus.INVALID if info is None else ArtifactStatus.VALID
    )
    if info is None:
        locked.error = error[:MAX_ERROR_CHARS]
    else:
        locked.error = ""
        locked.opset, locked.ir_version = info.opset, info.ir_version
        locked.producer = info.producer[:200]
        locked.inputs, locked.outputs = info.inputs, info.outputs
    locked.save(update_fields=[*fields, *_OUTCOME_FIELDS])
    if info is None:
        record_event(
            actor=None, verb="artifact.rejected", target=locked, after={"error": locked.error}
        )
        return locked
    record_event(
        actor=None,
        verb="artifact.validated",
        target=locked,
        after={"opset": info.opset, "ir_version": info.ir_version, "producer": locked.producer},
    )
    _derive_missing_contract(version, info)
    return locked


def _derive_missing_contract(version: ModelVersion, info: ModelInfo) -> None:
    """A version registered without a contract gets one drafted from the model's signature."""
    if version.input_schema or version.output_schema:
        return
    version.input_schema, version.output_schema = derive_contract(info.inputs, info.outputs)
    # The version row is locked by _finish; editors holding the old revision must reload.
    version.save(
        update_fields=["input_schema", "output_schema", "updated_at", *next_revision(version)]
    )
    record_event(
        actor=None,
        verb="version.contract_derived",
        target=version,
        after={"input_schema": version.input_schema, "output_schema": version.output_schema},
    )


ORPHAN_GRACE = timedelta(hours=1)


def sweep_orphan_files(*, older_than: timedelta = ORPHAN_GRACE) -> int:
    """Delete stored artifact files that no row points at; returns how many went.

    A file is written before its row commits, and a caller's transaction can still roll
    back after that (Django has no on-rollback hook). Files younger than ``older_than`` may
    belong to an upload in flight, so they stay.
    """
    storage = Artifact._meta.get_field("file").storage
    if not storage.exists("artifacts"):
        return 0
    referenced = set(Artifact.objects.values_list("file", flat=True))
    cutoff = timezone.now() - older_than
    removed = 0
    for folder in storage.listdir("artifacts")[0]:
        for filename in storage.listdir(f"artifacts/{folder}")[1]:
            name = f"artifacts/{folder}/{filename}"
            if name not in referenced and storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                removed += 1
    return removed
