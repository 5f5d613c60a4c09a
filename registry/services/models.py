"""Registering and editing models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from portal.concurrency import check_revision, next_revision
from portal.models import Team
from portal.people import Person
from portal.services.audit import record_event
from registry.models import RegisteredModel, Tag
from registry.permissions import require_create, require_edit
from registry.services.storage import delete_files_on_commit, delete_unless_kept

MAX_TAGS = 20
# Names that would collide with the registry's own URLs under /models/.
RESERVED_NAMES = {"new"}


def _tags(names: Iterable[str]) -> list[Tag]:
    """The tags named ``names`` (slugified), created as needed, in name order."""
    slugs = sorted({slugify(name)[:40] for name in names if slugify(name)})
    if len(slugs) > MAX_TAGS:
        raise ValidationError({"tags": f"A model may have at most {MAX_TAGS} tags."})
    if not slugs:
        return []
    # Insert-or-skip then read, so a tag another transaction has just created is reused
    # instead of failing on the unique name.
    Tag.objects.bulk_create([Tag(name=slug) for slug in slugs], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=slugs).order_by("name"))


@transaction.atomic
def create_model(
    *,
    actor: Person,
    name: str,
    title: str,
    team: Team,
    summary: str = "",
    task_type: str = "other",
    tags: Iterable[str] = (),
) -> RegisteredModel:
    require_create(actor, team)
    if name in RESERVED_NAMES:
        raise ValidationError({"name": f"“{name}” is reserved; choose another name."})
    model = RegisteredModel(
        name=name,
        title=title,
        summary=summary,
        team=team,
        task_type=task_type,
        created_by=actor,
        updated_by=actor,
    )
    # The unique index decides a taken name, so a concurrent registration is refused too.
    model.full_clean(validate_unique=False)
    try:
        with transaction.atomic():  # a savepoint: the refusal below leaves a usable transaction
            model.save()
    except IntegrityError:
        if RegisteredModel.objects.filter(name=name).exists():
            raise ValidationError({"name": f"A model named “{name}” already exists."}) from None
        raise
    model.tags.set(_tags(tags))
    record_event(actor=actor, verb="model.created", target=model, after={"team": team.slug})
    return model


@transaction.atomic
def update_model(
    *,
    actor: Person,
    model: RegisteredModel,
    tags: Iterable[str] | None = None,
    expected_revision: int | None = None,
    **fields: Any,
) -> RegisteredModel:
    """Change title, summary, task type or tags. The name and team are fixed.

    The audit event lists what changed (tags as sorted names); no change records nothing.
    With ``expected_revision``, a model saved by someone else since raises StaleEdit.
    """
    require_edit(actor, model)
    allowed = {"title", "summary", "task_type"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    check_revision(locked, expected_revision)
    model.revision = locked.revision
    changed = {name: value for name, value in fields.items() if getattr(model, name) != value}
    before = {name: getattr(model, name) for name in changed}
    for name, value in changed.items():
        setattr(model, name, value)
    model.full_clean(exclude=["team", "created_by", "updated_by"], validate_unique=False)
    after = dict(changed)
    if tags is not None:
        old_tags, new_tags = _set_tags(model, _tags(tags))
        if old_tags != new_tags:
            before["tags"], after["tags"] = old_tags, new_tags
    if not after:
        return model
    model.updated_by = actor
    revision = next_revision(model)
    model.save(update_fields=[*changed, "updated_by", "updated_at", *revision])
    record_event(actor=actor, verb="model.updated", target=model, before=before, after=after)
    return model


def _set_tags(model: RegisteredModel, tags: list[Tag]) -> tuple[list[str], list[str]]:
    """Give ``model`` exactly ``tags``; the sorted tag names before and after."""
    old = sorted(model.tags.values_list("name", flat=True))
    new = sorted(tag.name for tag in tags)
    if new != old:
        model.tags.set(tags)
    return old, new


@transaction.atomic
def delete_model(*, actor: Person, model: RegisteredModel) -> None:
    """Remove a model that was never released, with its versions, cards and artifacts."""
    require_edit(actor, model)
    # Lock every version first, so a release cannot commit between the check and the delete.
    versions = list(model.versions.select_for_update().order_by("-sort_key"))
    released = [v for v in versions if v.released_at is not None]
    if released:
        shown = ", ".join(f"{v.version} ({v.status})" for v in released)
        raise ValidationError(
            {
                "detail": f"{model.name} has released versions: {shown}. A model that was "
                "released cannot be deleted; archive its versions instead."
            }
        )
    files = list(
        model.versions.filter(artifact__isnull=False).values_list("artifact__file", flat=True)
    )
    record_event(
        actor=actor, verb="model.deleted", target=model, before={"versions": len(versions)}
    )
    delete_unless_kept(model, f"{model.name} cannot be deleted; archive its versions instead.")
    delete_files_on_commit(files)
