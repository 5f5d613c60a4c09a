"""Registering versions and moving them through their lifecycle."""

from __future__ import annotations

from typing import Any

import semver
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from portal.services.audit import record_event
from registry.models import (
    CARD_METADATA_FIELDS,
    CARD_SECTIONS,
    ModelCard,
    ModelVersion,
    RegisteredModel,
)
from registry.permissions import require_edit
from registry.services.artifacts import store_artifact
from registry.services.contracts import ContractChange, check_contract, diff_contracts
from registry.services.storage import delete_files_on_commit

_NUMERIC_WIDTH = 10


def parse_semver(text: str) -> semver.Version:
    """The semantic version in ``text``, or a ValidationError naming the field."""
    try:
        return semver.Version.parse(text.strip())
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(
            {"version": f"“{text}” is not a semantic version (expected MAJOR.MINOR.PATCH)."}
        ) from exc


def semver_sort_key(version: semver.Version) -> str:
    """A string whose text order is semver precedence (build metadata is ignored)."""
    core = ".".join(str(part).zfill(_NUMERIC_WIDTH) for part in version.to_tuple()[:3])
    if not version.prerelease:
        return f"{core}.1"  # a release outranks every pre-release of it
    parts = [
        f"0{part.zfill(_NUMERIC_WIDTH)}" if part.isdigit() else f"1{part}"
        for part in version.prerelease.split(".")
    ]
    return f"{core}.0" + ".".join(parts)


def previous_version(version: ModelVersion) -> ModelVersion | None:
    """The version just below this one in semver order."""
    return (
        ModelVersion.objects.filter(model_id=version.model_id, sort_key__lt=version.sort_key)
        .order_by("-sort_key")
        .first()
    )


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
    actor: Any,
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
    parsed = parse_semver(version)
    # Lock the model row so concurrent registrations get distinct numbers.
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if model.versions.filter(version=str(parsed)).exists():
        raise ValidationError({"version": f"{model.name} already has version {parsed}."})
    new = ModelVersion(
        model=model,
        version=str(parsed),
        sort_key=semver_sort_key(parsed),
        number=locked.versions_registered + 1,
        notes=notes,
        created_by=actor,
    )
    before = previous_version(new)
    new.input_schema = (
        input_schema if input_schema is not None else _inherit(before, "input_schema")
    )
    new.output_schema = (
        output_schema if output_schema is not None else _inherit(before, "output_schema")
    )
    new.example_request = (
        example_request if input_schema is not None else _inherit(before, "example_request", None)
    )
    new.example_response = (
        example_response
        if output_schema is not None
        else _inherit(before, "example_response", None)
    )
    check_contract(
        input_schema=new.input_schema,
        output_schema=new.output_schema,
        example_request=new.example_request,
        example_response=new.example_response,
    )
    new.save()
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


def _inherit(before: ModelVersion | None, field: str, default: Any = dict) -> Any:
    if before is not None:
        return getattr(before, field)
    return default() if callable(default) else default


def _copy_card_forward(before: ModelVersion | None, new: ModelVersion, actor: Any) -> ModelCard:
    source = getattr(before, "card", None) if before else None
    fields = [field for field, _ in CARD_SECTIONS] + CARD_METADATA_FIELDS
    values = {field: getattr(source, field) for field in fields} if source else {}
    return ModelCard.objects.create(version=new, updated_by=actor, **values)


@transaction.atomic
def update_contract(
    *,
    actor: Any,
    version: ModelVersion,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    example_request: Any = None,
    example_response: Any = None,
) -> ModelVersion:
    require_edit(actor, version.model)
    check_contract(
        input_schema=input_schema,
        output_schema=output_schema,
        example_request=example_request,
        example_response=example_response,
    )
    before = {"input_schema": version.input_schema, "output_schema": version.output_schema}
    version.input_schema, version.output_schema = input_schema, output_schema
    version.example_request, version.example_response = example_request, example_response
    version.save(
        update_fields=[
            "input_schema",
            "output_schema",
            "example_request",
            "example_response",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        verb="version.contract_updated",
        target=version,
        before=before,
        after={"input_schema": input_schema, "output_schema": output_schema},
    )
    return version


@transaction.atomic
def set_version_status(
    *, actor: Any, version: ModelVersion, status: str, via_release: bool = False
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
    locked.save(update_fields=["status", "updated_at"])
    version.status = status
    record_event(
        actor=actor,
        verb="version.status_changed",
        target=locked,
        before={"status": before},
        after={"status": status},
    )
    return locked


@transaction.atomic
def update_notes(*, actor: Any, version: ModelVersion, notes: str) -> ModelVersion:
    require_edit(actor, version.model)
    version.notes = notes
    version.save(update_fields=["notes", "updated_at"])
    record_event(actor=actor, verb="version.notes_updated", target=version)
    return version


@transaction.atomic
def delete_version(*, actor: Any, version: ModelVersion) -> None:
    """Remove a draft version. Its number is never reused."""
    require_edit(actor, version.model)
    if version.status != "draft":
        raise ValidationError(
            {"status": f"Only draft versions can be deleted; {version} is {version.status}."}
        )
    files = [version.artifact.file.name] if hasattr(version, "artifact") else []
    record_event(actor=actor, verb="version.deleted", target=version)
    version.delete()
    delete_files_on_commit(files)


@transaction.atomic
def register_version(
    *, actor: Any, model: RegisteredModel, upload: UploadedFile | None = None, **fields: Any
) -> ModelVersion:
    """Register a version and, if given, its artifact together: a refused file leaves none."""
    version = create_version(actor=actor, model=model, **fields)
    if upload is not None:
        store_artifact(actor=actor, version=version, upload=upload)
    return version
