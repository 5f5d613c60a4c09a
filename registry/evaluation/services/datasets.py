"""Datasets: upload (streamed, capped, checksummed, type read from the bytes), the profiling
job, checking a dataset against a version's input contract, and deletion."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from portal.jobs import JobStatus
from portal.models import Team
from portal.people import Person
from portal.services.audit import record_event
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    fail_job,
    holds_lease,
    mark_finished,
    report_progress,
    request_cancel,
    reset_job,
    running_job,
)
from portal.stored_files import local_path, move
from portal.uploads import limit_message
from registry.evaluation import datafiles
from registry.evaluation.models import Dataset, Evaluation, dataset_path, result_json
from registry.evaluation.permissions import can_upload_dataset
from registry.evaluation.profiling import Profile, Progress, estimate_rows, profile
from registry.evaluation.validation import ContractReport, check_against_contract
from registry.models import ModelVersion
from registry.services.storage import delete_files_on_commit

SNIFF_BYTES = 4096
VERSION_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
VERSION_RULE = "Letters, digits, dots, dashes and underscores, e.g. 2026-11 or 3."
PROGRESS_SECONDS = 1.0  # at most one progress write a second: each is a locked row update
USED_BY_SHOWN = 10


def require_upload(actor: Any, team: Team) -> None:
    if not can_upload_dataset(actor, team):
        raise PermissionDenied(
            f"Only members of {team} who are Data scientists or Engineers may add or "
            "remove its datasets."
        )


# Upload -------------------------------------------------------------------------------


def create_dataset(
    *,
    actor: Person,
    team: Team,
    name: str,
    version: str,
    kind: str,
    description: str,
    upload: UploadedFile,
) -> Dataset:
    """Store ``upload`` as dataset ``name`` ``version`` of ``team`` and queue its profiling.

    The fields are checked before the file is read; the file is refused unless its bytes
    are CSV or Parquet that pyarrow reads. A refused or failed upload leaves no file behind.
    """
    require_upload(actor, team)
    dataset = Dataset(
        name=name,
        version=version,
        kind=kind,
        description=description,
        team=team,
        created_by=actor,
        original_name=(upload.name or "")[:255],
    )
    _check_fields(dataset)
    dataset.file_format = _sniff(upload)
    storage = Dataset._meta.get_field("file").storage
    stored, dataset.sha256, dataset.size = _store(storage, upload, dataset)
    try:
        dataset.file.name = stored
        with local_path(dataset.file) as path:
            _check_readable(path, dataset.file_format)
        _save_row(actor, dataset)
    except BaseException:
        # No row points at the file we just wrote, so it goes too: nothing half-created.
        storage.delete(stored)
        raise
    return dataset


def _check_fields(dataset: Dataset) -> None:
    """Every problem with the typed fields at once, before any byte of the file is read."""
    errors: dict[str, list[str]] = {}
    try:
        dataset.full_clean(
            exclude=["file", "file_format", "size", "sha256", "team", "created_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "version" not in errors and not VERSION_TEXT.match(dataset.version):
        errors["version"] = [VERSION_RULE]
    if not errors and _taken(dataset.name, dataset.version):
        errors["version"] = [_taken_message(dataset)]
    if errors:
        raise ValidationError(errors)


def _taken(name: str, version: str) -> bool:
    return Dataset.objects.filter(name=name, version=version).exists()


def _taken_message(dataset: Dataset) -> str:
    return f"Dataset {dataset.name} already has a version {dataset.version}; choose another."


def _sniff(upload: UploadedFile) -> str:
    """ "csv" or "parquet" from the file's first bytes, whatever its name says."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    found = datafiles.sniff_format(head)
    if found is None:
        reason = "the file is empty" if not head else "its first bytes are neither"
        raise ValidationError({"file": f"Not a CSV or Parquet file: {reason}."})
    return found


class _HashedCopy(File):  # type: ignore[type-arg]
    """The upload as storage reads it, hashed and measured on the way, refused past the cap."""

    def __init__(self, upload: UploadedFile) -> None:
        super().__init__(upload, name=upload.name)
        self.upload = upload
        self.sha = hashlib.sha256()
        self.copied = 0

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        limit = int(settings.HANDOFF_MAX_UPLOAD_BYTES)
        for chunk in self.upload.chunks(chunk_size):
            self.copied += len(chunk)
            if self.copied > limit:
                raise ValidationError({"file": limit_message()})
            self.sha.update(chunk)
            yield chunk


def _store(storage: Storage, upload: UploadedFile, dataset: Dataset) -> tuple[str, str, int]:
    """Copy the upload once, hashing it as it goes, then move it to its server-made name
    (``dataset_path``: team and sha256); returns the stored name, sha256 and size."""
    copy = _HashedCopy(upload)
    incoming = f"datasets/{dataset.team_id}/incoming-{uuid.uuid4().hex}.part"
    try:
        incoming = storage.save(incoming, copy)
    except BaseException:
        storage.delete(incoming)  # a partial copy, when the cap stopped it
        raise
    dataset.sha256 = copy.sha.hexdigest()
    try:
        final = move(storage, incoming, dataset_path(dataset, ""))
    except BaseException:
        storage.delete(incoming)
        raise
    return final, dataset.sha256, copy.copied


def _check_readable(path: str, file_format: str) -> None:
    """pyarrow must read the file's columns; extension types and repeated names are refused."""
    try:
        schema = datafiles.schema_of(path, file_format)
    except datafiles.UnreadableDataset as exc:
        raise ValidationError({"file": _without_path(str(exc), path)}) from exc
    if not schema.names:
        raise ValidationError({"file": "The file has no columns."})
    repeated = sorted({name for name in schema.names if schema.names.count(name) > 1})
    if repeated:
        raise ValidationError(
            {"file": f"Column names must be unique; repeated: {', '.join(repeated)[:300]}."}
        )
    extended = [field.name for field in schema if _has_extension_type(field.type)]
    if extended:
        raise ValidationError(
            {"file": f"Parquet extension types are not accepted (columns {', '.join(extended)})."}
        )


def _has_extension_type(kind: pa.DataType) -> bool:
    if isinstance(kind, pa.ExtensionType):
        return True
    return any(_has_extension_type(kind.field(i).type) for i in range(kind.num_fields))


def _without_path(reason: str, path: str) -> str:
    """pyarrow names the file it could not read; people need the reason, not our disk layout."""
    return reason.replace(str(path), "the file")


@transaction.atomic
def _save_row(actor: Person, dataset: Dataset) -> None:
    reset_job(dataset, actor=actor)  # queued, with a delivery lease for beat
    try:
        with transaction.atomic():  # a savepoint: the refusal leaves a usable transaction
            dataset.save()
    except IntegrityError:
        if _taken(dataset.name, dataset.version):
            raise ValidationError({"version": _taken_message(dataset)}) from None
        raise
    record_event(
        actor=actor,
        verb="dataset.created",
        target=dataset,
        after={
            "team": dataset.team.slug,
            "kind": dataset.kind,
            "file_format": dataset.file_format,
            "size": dataset.size,
            "sha256": dataset.sha256,
            "original_name": dataset.original_name,
        },
    )
    enqueue_job(dataset)


# Profiling ----------------------------------------------------------------------------


def profile_dataset(*, dataset_id: int) -> Dataset:
    """Run the dataset's profiling job; returns the row as it now stands.

    Safe to run twice, after a crash, or next to another run: only the run holding the
    job's lease records a profile, and a final job is left as it is.
    """
    dataset = claim_job(Dataset, dataset_id)
    if dataset is not None:
        with running_job(dataset):
            _profile(dataset)
    return Dataset.objects.get(pk=dataset_id)


def _profile(dataset: Dataset) -> None:
    # Each report renews the lease and is where a cancel stops the run, between batches.
    report_progress(dataset, 1, "Opening the file")
    if not dataset.file or not dataset.file.storage.exists(dataset.file.name):
        fail_job(dataset, reason="The stored file is missing. Upload the dataset again.")
        return
    with local_path(dataset.file) as path:
        try:
            expected = estimate_rows(path, dataset.file_format, dataset.size)
            result = profile(path, dataset.file_format, on_progress=_reporter(dataset, expected))
        except datafiles.UnreadableDataset as exc:
            reason = _without_path(str(exc), path).rstrip(".")
            # No retry: the same bytes fail the same way; the reason says what to do instead.
            fail_job(dataset, reason=f"{reason}. {dataset.retry_hint}")
            return
    report_progress(dataset, 99, "Recording the profile")
    _finish(dataset, result)


def _reporter(dataset: Dataset, expected: int | None) -> Progress:
    """``on_progress`` for ``profile``: "rows done / total" at most once a second."""
    last = [0.0]

    def report(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        if total is not None:
            report_progress(dataset, 2 + 96 * done // max(total, 1), f"{done:,} / {total:,} rows")
            return
        guess = max(expected or 0, done)
        percent = 2 + 95 * done // guess if guess else 2
        about = f" (about {guess:,} in all)" if guess else ""
        report_progress(dataset, min(percent, 97), f"{done:,} rows read{about}")

    return report


@transaction.atomic
def _finish(dataset: Dataset, result: Profile) -> Dataset:
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if not holds_lease(locked, dataset):
        return locked  # another run took the job over meanwhile
    fields = mark_finished(locked, status=locked.status_of(JobStatus.SUCCEEDED))
    locked.error = ""
    locked.row_count = result.row_count
    locked.columns = result_json(result.columns)
    locked.save(update_fields=[*fields, "error", "row_count", "columns"])
    record_event(
        actor=None,
        verb=Dataset.audit_verb("succeeded"),
        target=locked,
        after={"rows": result.row_count, "columns": len(result.columns)},
    )
    return locked


def cancel_profiling(*, actor: Person, dataset: Dataset) -> Dataset:
    """Stop a queued or running profile; the team's Data scientists and Engineers may."""
    require_upload(actor, dataset.team)
    return request_cancel(job=dataset, actor=actor)


# Checking against a contract ----------------------------------------------------------


def validate_dataset(*, dataset: Dataset, version: ModelVersion) -> ContractReport:
    """Check every row of ``dataset`` against ``version``'s input contract (read a batch
    at a time, so any size fits in bounded memory)."""
    schema = version.input_schema
    if not isinstance(schema, dict) or not schema:
        raise ValidationError({"version": f"{version} has no input contract to check against."})
    if not dataset.file or not dataset.file.storage.exists(dataset.file.name):
        raise ValidationError({"dataset": "The stored file is missing; upload it again."})
    with local_path(dataset.file) as path:
        try:
            return check_against_contract(path, dataset.file_format, schema)
        except datafiles.UnreadableDataset as exc:
            raise ValidationError({"dataset": _without_path(str(exc), path)}) from exc


# Deleting -----------------------------------------------------------------------------


@transaction.atomic
def delete_dataset(*, actor: Person, dataset: Dataset) -> None:
    """Remove the dataset and its file, unless an evaluation was measured on it."""
    require_upload(actor, dataset.team)
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    _refuse_if_used(locked)
    record_event(
        actor=actor,
        verb="dataset.deleted",
        target=locked,
        before={"sha256": locked.sha256, "size": locked.size, "rows": locked.row_count},
    )
    name = locked.file.name
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError:  # an evaluation started between the check and the delete
        _refuse_if_used(locked)
        raise
    delete_files_on_commit([name])


def _refuse_if_used(dataset: Dataset) -> None:
    used = list(
        Evaluation.objects.filter(dataset=dataset)
        .select_related("version__model")
        .order_by("pk")[: USED_BY_SHOWN + 1]
    )
    if not used:
        return
    shown = ", ".join(
        f"{e.version.model.name} {e.version.version} (evaluation {e.pk})"
        for e in used[:USED_BY_SHOWN]
    )
    more = " and more" if len(used) > USED_BY_SHOWN else ""
    raise ValidationError(
        {
            "detail": f"{dataset} cannot be deleted: evaluations were measured on it: "
            f"{shown}{more}. Their results need the data they were measured on."
        }
    )
