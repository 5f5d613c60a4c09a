"""Registering and editing models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from portal.models import Team
from portal.services.audit import record_event
from registry.models import RegisteredModel, Tag
from registry.permissions import require_create, require_edit
from registry.services.storage import delete_files_on_commit

MAX_TAGS = 20
# Names that would collide with the registry's own URLs under /models/.
RESERVED_NAMES = {"new"}


def _tags(names: Iterable[str]) -> list[Tag]:
    slugs = sorted({slugify(name)[:40] for name in names if slugify(name)})
    if len(slugs) > MAX_TAGS:
        raise ValidationError({"tags": f"A model may have at most {MAX_TAGS} tags."})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=slugs)}
    return [existing.get(slug) or Tag.objects.create(name=slug) for slug in slugs]


@transaction.atomic
def create_model(
    *,
    actor: Any,
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
    if RegisteredModel.objects.filter(name=name).exists():
        raise ValidationError({"name": f"A model named “{name}” already exists."})
    model = RegisteredModel(
        name=name,
        title=title,
        summary=summary,
        team=team,
        task_type=task_type,
        created_by=actor,
        updated_by=actor,
    )
    model.full_clean()
    model.save()
    model.tags.set(_tags(tags))
    record_event(actor=actor, verb="model.created", target=model, after={"team": team.slug})
    return model


@transaction.atomic
def update_model(
    *, actor: Any, model: RegisteredModel, tags: Iterable[str] | None = None, **fields: Any
) -> RegisteredModel:
    """Change title, summary, task type or tags. The name and team are fixed."""
    require_edit(actor, model)
    allowed = {"title", "summary", "task_type"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    before = {name: getattr(model, name) for name in fields}
    for name, value in fields.items():
        setattr(model, name, value)
    model.updated_by = actor
    model.full_clean(exclude=["team", "created_by", "updated_by"], validate_unique=False)
    model.save(update_fields=[*fields, "updated_by", "updated_at"])
    if tags is not None:
        model.tags.set(_tags(tags))
    record_event(actor=actor, verb="model.updated", target=model, before=before, after=fields)
    return model


@transaction.atomic
def delete_model(*, actor: Any, model: RegisteredModel) -> None:
    """Remove a model that was never released, with its versions, cards and artifacts."""
    require_edit(actor, model)
    live = model.versions.filter(status__in=["staging", "production"])
    if live.exists():
        shown = ", ".join(f"{v.version} ({v.status})" for v in live)
        raise ValidationError({"detail": f"{model.name} has released versions: {shown}."})
    files = list(
        model.versions.filter(artifact__isnull=False).values_list("artifact__file", flat=True)
    )
    record_event(
        actor=actor, verb="model.deleted", target=model, before={"versions": model.versions.count()}
    )
    model.delete()
    delete_files_on_commit(files)
