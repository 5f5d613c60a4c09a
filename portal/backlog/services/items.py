"""Create, edit and move backlog items. Other apps file items through ``create_item``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from portal.backlog.choices import CLOSED, Status
from portal.backlog.models import BacklogItem, Iteration, Label, as_dict
from portal.backlog.permissions import require_create_item, require_edit_item
from portal.backlog.services.links import LinkTarget, link_items
from portal.concurrency import check_revision
from portal.markdown import render_fields
from portal.models import Team
from portal.notifications.services import notify
from portal.people import Person
from portal.services.audit import record_event

MAX_LABELS = 10
LABEL_LENGTH = 40


@transaction.atomic
def create_item(
    *,
    actor: Person | None,
    team: Team,
    title: str,
    kind: str = "task",
    description: str = "",
    priority: str = "P2",
    discipline: str = "both",
    status: str = Status.BACKLOG,
    assignees: Iterable[Person] = (),
    labels: Iterable[str] = (),
    iteration: Iteration | None = None,
    due_date: date | None = None,
    links: Iterable[LinkTarget] = (),
) -> BacklogItem:
    """File an item. ``actor`` None is the system (a drift alert, a failed gate)."""
    if actor is not None:
        require_create_item(actor, team)
    _check_iteration(team, iteration)
    if status in CLOSED:
        raise ValidationError({"status": "A new item starts open; close it once it is done."})
    item = BacklogItem(
        team=team,
        title=_title(title),
        kind=kind,
        description=description,
        description_html=render_fields({"description": description})["description"],
        priority=priority,
        discipline=discipline,
        status=status,
        reporter=actor,
        iteration=iteration,
        due_date=due_date,
        position=_bottom_of(status),
    )
    item.full_clean(exclude=["assignees", "labels", "team", "reporter", "iteration"])
    item.save()
    people = list(assignees)
    item.assignees.set(people)
    item.labels.set(_labels(labels))
    record_event(actor=actor, verb="item.created", target=item, after=as_dict(item))
    link_items(actor=actor, item=item, targets=links)
    _tell_assignees(actor, item, people)
    return item


@transaction.atomic
def update_item(
    *,
    actor: Person,
    item: BacklogItem,
    expected_revision: int | None = None,
    assignees: Iterable[Person] | None = None,
    labels: Iterable[str] | None = None,
    **fields: Any,
) -> BacklogItem:
    """Change an item's fields, its assignees (who are told) and its labels."""
    locked = _lock(actor, item, expected_revision)
    before = as_dict(locked)
    allowed = {"title", "description", "kind", "priority", "discipline", "iteration", "due_date"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if "title" in fields:
        fields["title"] = _title(fields["title"])
    if "iteration" in fields:
        _check_iteration(locked.team, fields["iteration"])
    if "description" in fields:
        fields["description_html"] = render_fields({"description": fields["description"]})[
            "description"
        ]
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean(exclude=["assignees", "labels", "team", "reporter", "iteration"])
    locked.revision += 1
    locked.save(update_fields=[*fields, "revision", "updated_at"])
    added: list[Person] = []
    if assignees is not None:
        people = list(assignees)
        current = set(locked.assignees.values_list("pk", flat=True))
        added = [person for person in people if person.pk not in current]
        locked.assignees.set(people)
    if labels is not None:
        locked.labels.set(_labels(labels))
    after = as_dict(locked)
    if assignees is not None:
        after["assignees"] = sorted(p.username for p in locked.assignees.all())
    if labels is not None:
        after["labels"] = sorted(label.name for label in locked.labels.all())
    record_event(actor=actor, verb="item.updated", target=locked, before=before, after=after)
    _tell_assignees(actor, locked, added)
    _copy(locked, item)
    return item


@transaction.atomic
def move_item(
    *,
    actor: Person,
    item: BacklogItem,
    status: str,
    before_item: BacklogItem | None = None,
    expected_revision: int | None = None,
) -> BacklogItem:
    """Move an item to ``status`` (a workflow step) and/or place it above ``before_item``.

    Moving to done or won't do records who closed it and when; leaving them clears that.
    """
    locked = _lock(actor, item, expected_revision)
    previous = locked.status
    if status != previous and not locked.can_move_to(status):
        allowed = ", ".join(Status(s).label for s in locked.next_statuses())
        target = Status(status).label if status in Status.values else repr(status)
        raise ValidationError(
            {
                "status": f"An item cannot move from {Status(previous).label} to {target}; "
                f"from {Status(previous).label} it may move to: {allowed}."
            }
        )
    locked.status = status
    locked.position = _position(status, before_item, locked)
    if status in CLOSED and previous not in CLOSED:
        locked.closed_by, locked.closed_at = actor, timezone.now()
    elif status not in CLOSED:
        locked.closed_by, locked.closed_at = None, None
    locked.revision += 1
    locked.save(
        update_fields=["status", "position", "closed_by", "closed_at", "revision", "updated_at"]
    )
    if status != previous:
        record_event(
            actor=actor,
            verb="item.moved",
            target=locked,
            before={"status": previous},
            after={"status": status},
        )
        _tell_about_move(actor, locked, previous)
    _copy(locked, item)
    return item


def _lock(actor: Person, item: BacklogItem, expected_revision: int | None) -> BacklogItem:
    require_edit_item(actor, item)
    locked = BacklogItem.objects.select_for_update().get(pk=item.pk)
    check_revision(locked, expected_revision)
    return locked


def _copy(source: BacklogItem, target: BacklogItem) -> None:
    if source is not target:
        for field in BacklogItem._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))


def _title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "An item needs a title."})
    return title


def _labels(names: Iterable[str]) -> list[Label]:
    cleaned = sorted({name.strip().lower() for name in names if name and name.strip()})
    if len(cleaned) > MAX_LABELS:
        raise ValidationError({"labels": f"At most {MAX_LABELS} labels."})
    long = [name for name in cleaned if len(name) > LABEL_LENGTH]
    if long:
        raise ValidationError({"labels": f"A label has at most {LABEL_LENGTH} characters."})
    labels = []
    for name in cleaned:
        label, _ = Label.objects.get_or_create(name=name)
        labels.append(label)
    return labels


def _check_iteration(team: Team, iteration: Iteration | None) -> None:
    if iteration is not None and iteration.team_id != team.pk:
        raise ValidationError({"iteration": f"{iteration} is an iteration of another team."})


def _bottom_of(status: str) -> float:
    last = BacklogItem.objects.filter(status=status).aggregate(last=Max("position"))["last"]
    return (last or 0) + 1


def _position(status: str, before_item: BacklogItem | None, item: BacklogItem) -> float:
    """Just above ``before_item`` in the column, else the bottom (or where it was)."""
    if before_item is None:
        return item.position if status == item.status else _bottom_of(status)
    if before_item.status != status:
        raise ValidationError({"before": "That item is in another column."})
    above = (
        BacklogItem.objects.filter(status=status, position__lt=before_item.position)
        .exclude(pk=item.pk)
        .aggregate(above=Max("position"))["above"]
    )
    low = above if above is not None else before_item.position - 1
    return (low + before_item.position) / 2


def _tell_assignees(actor: Person | None, item: BacklogItem, people: list[Person]) -> None:
    if people:
        notify(
            recipients=people,
            actor=actor,
            kind="assigned",
            message=f"{_name(actor)} assigned you #{item.pk} {item.title}",
            url=item.get_absolute_url(),
            cause=f"assigned:item:{item.pk}:rev:{item.revision}",
        )


def _tell_about_move(actor: Person, item: BacklogItem, previous: str) -> None:
    """The reporter and the assignees hear that their item moved."""
    people = [*item.assignees.all(), *([item.reporter] if item.reporter else [])]
    notify(
        recipients=people,
        actor=actor,
        kind="status",
        message=f"{_name(actor)} moved #{item.pk} {item.title} from "
        f"{Status(previous).label} to {item.get_status_display()}",
        url=item.get_absolute_url(),
        cause=f"status:item:{item.pk}:rev:{item.revision}",
    )


def _name(person: Person | None) -> str:
    if person is None:
        return "Handoff"
    return person.get_full_name() or person.username
