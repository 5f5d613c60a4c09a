"""Link items to what they are about; find the open items about an object."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet

from portal.backlog.choices import OPEN
from portal.backlog.links import LINKABLE, link_name, linkable_model
from portal.backlog.models import BacklogItem, ItemLink
from portal.backlog.permissions import require_edit_item
from portal.people import Person
from portal.services.audit import record_event

LinkTarget: TypeAlias = models.Model


def resolve_target(kind: str, key: str | int) -> LinkTarget:
    """The object of type ``kind`` with primary key ``key``; a ValidationError naming why not."""
    model = linkable_model(kind)
    if model is None:
        known = ", ".join(sorted(LINKABLE))
        raise ValidationError({"type": f"Unknown link type {kind!r}; one of: {known}."})
    try:
        return model._default_manager.get(pk=key)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise ValidationError({"id": f"No {kind} with id {key!r}."}) from None


def link_items(
    *, actor: Person | None, item: BacklogItem, targets: Iterable[LinkTarget]
) -> list[ItemLink]:
    """Link ``item`` to each target (already linked ones are kept once)."""
    made = []
    for target in targets:
        if link_name(type(target)) is None:
            raise ValidationError({"links": f"An item cannot link to a {type(target).__name__}."})
        kind = ContentType.objects.get_for_model(target)
        link, created = ItemLink.objects.get_or_create(
            item=item,
            target_type=kind,
            target_id=str(target.pk),
            defaults={"target_repr": str(target)[:200]},
        )
        if created:
            record_event(
                actor=actor,
                verb="item.linked",
                target=item,
                after={"link": link.target_repr, "type": link_name(type(target))},
            )
            made.append(link)
    return made


@transaction.atomic
def add_link(*, actor: Person, item: BacklogItem, target: LinkTarget) -> ItemLink:
    require_edit_item(actor, item)
    made = link_items(actor=actor, item=item, targets=[target])
    if not made:
        raise ValidationError({"links": f"#{item.pk} is already linked to {target}."})
    return made[0]


@transaction.atomic
def remove_link(*, actor: Person, link: ItemLink) -> None:
    require_edit_item(actor, link.item)
    record_event(
        actor=actor, verb="item.unlinked", target=link.item, before={"link": link.target_repr}
    )
    link.delete()


def open_items_about(target: models.Model) -> QuerySet[BacklogItem]:
    """The open items linked to ``target``, for its page's "open items" panel."""
    kind = ContentType.objects.get_for_model(target)
    return (
        BacklogItem.objects.filter(
            links__target_type=kind, links__target_id=str(target.pk), status__in=OPEN
        )
        .select_related("team")
        .order_by("priority", "pk")
        .distinct()
    )
