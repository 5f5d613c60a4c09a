"""Read path of a backlog item's page: the item, its links, comments and audit events once
each, and the events told as a timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet
from django.utils.safestring import SafeString

from portal.activity import display_name
from portal.backlog.choices import Discipline, Kind, Priority, Status
from portal.backlog.models import BacklogItem, Comment, ItemLink
from portal.backlog.queries import PERSON_FIELDS, link_urls, moves
from portal.markdown import stored_html
from portal.models import AuditEvent


@dataclass(frozen=True)
class TimelineEntry:
    actor: str
    text: str
    created_at: Any
    anchor: str = ""  # "#comment-<id>" for a comment


@dataclass(frozen=True)
class CommentEntry:
    comment: Comment

    @property
    def html(self) -> SafeString:
        return stored_html(self.comment.body_html)


@dataclass(frozen=True)
class ItemPage:
    item: BacklogItem
    assignees: list[Any]
    labels: list[Any]
    links: list[tuple[ItemLink, str]]
    comments: list[CommentEntry]
    timeline: list[TimelineEntry]

    @property
    def description(self) -> SafeString:
        return stored_html(self.item.description_html)

    @property
    def moves(self) -> list[tuple[str, str]]:
        return moves(self.item)


def item_page(pk: int) -> ItemPage:
    """An item with everything its page shows; BacklogItem.DoesNotExist when there is none."""
    people = get_user_model().objects.only(*PERSON_FIELDS)
    item = (
        BacklogItem.objects.select_related("team", "iteration", "reporter", "closed_by")
        .prefetch_related(Prefetch("assignees", queryset=people.order_by("username")), "labels")
        .get(pk=pk)
    )
    links = list(item.links.order_by("pk"))
    urls = link_urls(links) if links else {}
    comments = list(
        item.comments.select_related("author").only(
            "id", "item_id", "body_html", "created_at", *(f"author__{f}" for f in PERSON_FIELDS)
        )
    )
    return ItemPage(
        item=item,
        assignees=list(item.assignees.all()),
        labels=list(item.labels.all()),
        links=[(link, urls.get((link.target_type_id, link.target_id), "")) for link in links],
        comments=[CommentEntry(comment) for comment in comments],
        timeline=timeline(item),
    )


def item_events(item: BacklogItem) -> QuerySet[AuditEvent]:
    kind = ContentType.objects.get_for_model(BacklogItem)
    return (
        AuditEvent.objects.filter(target_type=kind, target_id=str(item.pk))
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def timeline(item: BacklogItem) -> list[TimelineEntry]:
    """The item's audit events as sentences, oldest first."""
    return [
        TimelineEntry(
            actor=display_name(event.actor) if event.actor else "Handoff",
            text=sentence(event),
            created_at=event.created_at,
            anchor=_comment_anchor(event),
        )
        for event in item_events(item)
    ]


FIELD_NAMES = {
    "title": "the title",
    "kind": "the kind",
    "priority": "the priority",
    "discipline": "the discipline",
    "iteration": "the iteration",
    "due_date": "the due date",
    "assignees": "the assignees",
    "labels": "the labels",
    "description": "the description",
}
SHOWN_VALUES: dict[str, dict[str, str]] = {
    "kind": dict(Kind.choices),
    "priority": dict(Priority.choices),
    "discipline": dict(Discipline.choices),
    "status": dict(Status.choices),
}


def sentence(event: AuditEvent) -> str:
    """What the event did to the item, in words: "moved it from To do to In progress"."""
    before, after = event.before or {}, event.after or {}
    if event.verb == "item.created":
        return "created the item"
    if event.verb == "item.moved":
        return f"moved it from {_shown('status', before.get('status'))} to " + _shown(
            "status", after.get("status")
        )
    if event.verb == "item.linked":
        return f"linked it to {after.get('link', 'something')}"
    if event.verb == "item.unlinked":
        return f"removed the link to {before.get('link', 'something')}"
    if event.verb == "item.commented":
        return "commented"
    if event.verb == "item.updated":
        return _edited(before, after)
    return event.verb.rpartition(".")[2].replace("_", " ")


def _edited(before: dict[str, Any], after: dict[str, Any]) -> str:
    changes = []
    for name in FIELD_NAMES:
        if name not in after or before.get(name) == after.get(name):
            continue
        if name in ("title", "kind", "priority", "discipline"):
            changes.append(
                f"{FIELD_NAMES[name]} from {_shown(name, before.get(name))} to "
                f"{_shown(name, after.get(name))}"
            )
        else:
            changes.append(FIELD_NAMES[name])
    if not changes:
        return "edited the item"
    return "changed " + _and(changes)


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "nothing"
    text = SHOWN_VALUES.get(name, {}).get(str(value), str(value))
    return f"“{text}”" if name == "title" else text


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _comment_anchor(event: AuditEvent) -> str:
    comment = (event.after or {}).get("comment") if event.verb == "item.commented" else None
    return f"#comment-{comment}" if comment else ""
