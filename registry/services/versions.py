"""Registering versions and moving them through their lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import semver
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal.concurrency import check_revision, next_revision
from portal.markdown import render_fields
from portal.people import Person
from portal.services.audit import record_event
from registry.choices import VersionStatus
from registry.models import (
    CARD_METADATA_FIELDS,
    CARD_SECTIONS,
    ModelCard,
    ModelVersion,
    RegisteredModel,
)
from registry.permissions import require_edit
from registry.semver import parse_semver, semver_sort_key
from registry.services.artifacts import check_onnx_head, store_artifact
from registry.services.contracts import ContractChange, check_contract, diff_contracts
from registry.services.release_hooks import dismiss_release_approvals
from registry.services.storage import delete_files_on_commit, delete_unless_kept

MAX_VERSION_LENGTH = 64  # the width of ModelVersion.version
# A release that moves a version here makes it "released" for good.
LIVE_STATUSES = {VersionStatus.STAGING, VersionStatus.PRODUCTION}
_T = TypeVar("_T")


def previous_version(version: ModelVersion) -> ModelVersion | None:
    """The version just below this one in semver order."""
    return (
        ModelVersion.objects.filter(model_id=version.model_id, sort_key__lt=version.sort_key)
        .order_by("-sort_key")
        .first()
    )


def latest_version(model: RegisteredModel) -> ModelVersion | None:
    """The model's highest version in semver order, or None before its first."""
    return model.versions.order_by("-sort_key").first()


def contract_changes(old: ModelVersion | None, new: ModelVersion) -> list[ContractChange]:
    if old is None:
        return []
    return diff_contracts(
        old_input=old.input_schema,
        old_output=old.output_schema,
        new_input=new.input_schema,
        new_output=new.output_schema,
    )


@transaction.atomic
def create_version(
    *,
    actor: Person,
    model: RegisteredModel,
    version: str,
    notes: str = "",
    input_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
    example_request: Any = None,
    example_response: Any = None,
) -> ModelVersion:
    """Register a version; its card and any contract not given are copied forward."""
    require_edit(actor, model)
    parsed, sort_key = _parsed_version(version)
    notes_html = render_fields({"notes": notes})["notes"]
    # Lock the model row so concurrent registrations get distinct numbers.
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    _refuse_duplicate(model, parsed, sort_key)
    new = ModelVersion(
        model=model,
        version=str(parsed),
        sort_key=sort_key,
        number=locked.versions_registered + 1,
        notes=notes,
        notes_html=notes_html,
        created_by=actor,
    )
    before = previous_version(new)
    given = {
        "input_schema": input_schema,
        "output_schema": output_schema,
        "example_request": example_request,
        "example_response": example_response,
    }
    contract = _given_or_copied(before, given)
    check_contract(**contract)
    for field, value in contract.items():
        setattr(new, field, value)
    try:
        with transaction.atomic():  # a savepoint: the refusal below leaves a usable transaction
            new.save()
    except IntegrityError:
        _refuse_duplicate(model, parsed, sort_key)
        raise
    locked.versions_registered = new.number
    locked.save(update_fields=["versions_registered"])
    model.versions_registered = new.number
    _copy_card_forward(before, new, actor)
    changes = contract_changes(before, new)
    record_event(
        actor=actor,
        verb="version.created",
        target=new,
        after={
            "version": new.version,
            "number": new.number,
            "previous": before.version if before else None,
            "breaking_changes": sum(c.is_breaking for c in changes),
        },
    )
    return new


def _refuse_duplicate(model: RegisteredModel, parsed: semver.Version, sort_key: str) -> None:
    """Refuse a version of the same precedence: semver ignores build metadata."""
    existing = (
        model.versions.filter(Q(sort_key=sort_key) | Q(version=str(parsed)))
        .order_by("number")
        .first()
    )
    if existing is None:
        return
    message = f"{model.name} already has version {existing.version}"
    if existing.version != str(parsed):
        message += f"; {parsed} differs from it only in build metadata, which semver ignores"
    raise ValidationError({"version": f"{message}."})


def _inherit(before: ModelVersion | None, field: str, default: Any = dict) -> Any:
    if before is not None:
        return getattr(before, field)
    return default() if callable(default) else default


def _copy_card_forward(before: ModelVersion | None, new: ModelVersion, actor: Person) -> ModelCard:
    source = getattr(before, "card", None) if before else None
    fields = [field for field, _ in CARD_SECTIONS] + CARD_METADATA_FIELDS + ["html"]
    values = {field: getattr(source, field) for field in fields} if source else {}
    return ModelCard.objects.create(version=new, updated_by=actor, **values)


def check_new_version(
    *,
    model: RegisteredModel,
    version: str | None,
    notes: str = "",
    input_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
    example_request: Any = None,
    example_response: Any = None,
    upload: UploadedFile | None = None,
) -> None:
    """Raise every refusal ``register_version`` would give these values, at once; writes nothing.

    Registering stops at its first refusal; a form calls this first so one submit reports the
    version, the contract and the file (its first bytes) together, and the notes when anything
    else is refused (rendering them is the costly check, and registering does it anyway).
    ``version`` None skips the version's checks (the form refused the box itself). Nothing is
    locked: registering checks it all again.
    """
    errors: dict[str, list[str]] = {}
    new = None if version is None else _collect(errors, _unregistered, model, version)
    given = {
        "input_schema": input_schema,
        "output_schema": output_schema,
        "example_request": example_request,
        "example_response": example_response,
    }
    before = previous_version(new) if new is not None else None
    _collect(errors, check_contract, **_given_or_copied(before, given))
    if upload is not None:
        _collect(errors, check_onnx_head, upload)
    if errors and notes:
        _collect(errors, render_fields, {"notes": notes})
    if errors:
        raise ValidationError(errors)


def _given_or_copied(before: ModelVersion | None, given: dict[str, Any]) -> dict[str, Any]:
    """The contract ``create_version`` would store: each side as given, or copied from ``before``.

    A side whose schema is not given is copied whole, its example included.
    """
    contract = dict(given)
    for schema, example in (
        ("input_schema", "example_request"),
        ("output_schema", "example_response"),
    ):
        if given[schema] is None:
            contract[schema] = _inherit(before, schema)
            contract[example] = _inherit(before, example, None)
    return contract


def _unregistered(model: RegisteredModel, version: str) -> ModelVersion:
    """``version`` as an unsaved row of ``model``, refused as ``create_version`` refuses it."""
    parsed, sort_key = _parsed_version(version)
    _refuse_duplicate(model, parsed, sort_key)
    return ModelVersion(model=model, version=str(parsed), sort_key=sort_key)


def _parsed_version(version: str) -> tuple[semver.Version, str]:
    """``version`` parsed, with its sort key; a ValidationError on the version when refused."""
    if len(version.strip()) > MAX_VERSION_LENGTH:
        raise ValidationError(
            {"version": f"A version may have at most {MAX_VERSION_LENGTH} characters."}
        )
    parsed = parse_semver(version)
    return parsed, semver_sort_key(parsed)


def _collect(
    errors: dict[str, list[str]], check: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T | None:
    """``check(*args, **kwargs)``; a ValidationError it raises goes into ``errors`` instead."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
        return None


def _lock(version: ModelVersion, expected_revision: int | None) -> ModelVersion:
    """Lock the version's row and check the editor's revision against it."""
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    check_revision(locked, expected_revision)
    version.revision = locked.revision
    return locked


@transaction.atomic
def update_contract(
    *,
    actor: Person,
    version: ModelVersion,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    example_request: Any = None,
    example_response: Any = None,
    expected_revision: int | None = None,
) -> ModelVersion:
    """Replace the contract; a version saved since ``expected_revision`` raises StaleEdit."""
    require_edit(actor, version.model)
    check_contract(
        input_schema=input_schema,
        output_schema=output_schema,
        example_request=example_request,
        example_response=example_response,
    )
    locked = _lock(version, expected_revision)
    before = {"input_schema": locked.input_schema, "output_schema": locked.output_schema}
    version.input_schema, version.output_schema = input_schema, output_schema
    version.example_request, version.example_response = example_request, example_response
    version.save(
        update_fields=[
            "input_schema",
            "output_schema",
            "example_request",
            "example_response",
            "updated_at",
            *next_revision(version),
        ]
    )
    record_event(
        actor=actor,
        verb="version.contract_updated",
        target=version,
        before=before,
        after={"input_schema": input_schema, "output_schema": output_schema},
    )
    dismiss_release_approvals(actor, version, "contract")
    return version


@transaction.atomic
def set_version_status(
    *, actor: Person | None, version: ModelVersion, status: str, via_release: bool = False
) -> ModelVersion:
    """Move a version. Past "candidate", only a release (``via_release``) may move it."""
    if not via_release:
        require_edit(actor, version.model)
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    allowed = (
        locked.can_move_by_release_to(status)
        if via_release
        else locked.can_move_directly_to(status)
    )
    if not allowed:
        how = "a release" if via_release else "a direct change; use a release"
        raise ValidationError(
            {"status": f"Cannot move {locked} from {locked.status} to {status} by {how}."}
        )
    before = locked.status
    locked.status = status
    fields = ["status", "updated_at", *next_revision(locked, version)]
    if via_release and status in LIVE_STATUSES and locked.released_at is None:
        locked.released_at = timezone.now()
        fields.append("released_at")
    locked.save(update_fields=fields)
    version.status, version.released_at = status, locked.released_at
    record_event(
        actor=actor,
        verb="version.status_changed",
        target=locked,
        before={"status": before},
        after={"status": status},
    )
    return locked


@transaction.atomic
def update_notes(
    *, actor: Person, version: ModelVersion, notes: str, expected_revision: int | None = None
) -> ModelVersion:
    """Replace the notes; the audit event keeps the old and new text. No change, no event."""
    require_edit(actor, version.model)
    html = render_fields({"notes": notes})["notes"]
    before = _lock(version, expected_revision).notes
    if notes == before:
        return version
    version.notes, version.notes_html = notes, html
    version.save(update_fields=["notes", "notes_html", "updated_at", *next_revision(version)])
    record_event(
        actor=actor,
        verb="version.notes_updated",
        target=version,
        before={"notes": before},
        after={"notes": notes},
    )
    return version


@transaction.atomic
def delete_version(*, actor: Person, version: ModelVersion) -> None:
    """Remove a draft that was never released. Its number is never reused."""
    require_edit(actor, version.model)
    # Lock the row: a release committing now would otherwise be deleted with it.
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if locked.released_at is not None:
        raise ValidationError(
            {
                "status": f"{version} was released on {locked.released_at:%Y-%m-%d}, so it "
                "cannot be deleted; archive it instead."
            }
        )
    if locked.status != VersionStatus.DRAFT:
        raise ValidationError(
            {"status": f"Only draft versions can be deleted; {version} is {locked.status}."}
        )
    files = [version.artifact.file.name] if hasattr(version, "artifact") else []
    record_event(actor=actor, verb="version.deleted", target=version)
    delete_unless_kept(version, f"{version} cannot be deleted; archive it instead.")
    delete_files_on_commit(files)


@transaction.atomic
def register_version(
    *, actor: Person, model: RegisteredModel, upload: UploadedFile | None = None, **fields: Any
) -> ModelVersion:
    """Register a version and, if given, its artifact together: a refused file leaves none."""
    version = create_version(actor=actor, model=model, **fields)
    if upload is not None:
        store_artifact(actor=actor, version=version, upload=upload)
    return version
