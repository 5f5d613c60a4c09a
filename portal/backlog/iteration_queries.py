"""Read paths of the iteration pages: a fixed number of queries, however many items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.safestring import SafeString

from portal.backlog.burndown import Burndown, burndown, burndown_figure, changes_from_events
from portal.backlog.choices import CLOSED, OPEN, Status
from portal.backlog.models import BacklogItem, Iteration
from portal.backlog.permissions import can_edit_iteration
from portal.markdown import stored_html
from portal.models import AuditEvent
from portal.people import Person
from portal.textdiff import DiffLines, line_diff

HISTORY_LIMIT = 20
NOTE_FIELDS = (("review_notes", "Review notes"), ("retro_notes", "Retrospective notes"))
ITEM_VERBS = ("item.created", "item.moved", "item.updated")


@dataclass(frozen=True)
class StatusGroup:
    status: str
    label: str
    items: list[BacklogItem]


@dataclass(frozen=True)
class NotesEdit:
    """One saved edit of the notes: who, when, and how each changed field differs."""

    actor: str
    created_at: Any
    changes: list[tuple[str, DiffLines]]


@dataclass(frozen=True)
class IterationPage:
    iteration: Iteration
    state: str  # "planned", "running" or "finished"
    groups: list[StatusGroup]  # the items in it now, by status (empty statuses left out)
    chart: Burndown
    figure: dict[str, Any]
    done: list[BacklogItem]
    dropped: list[BacklogItem]
    carried_over: list[BacklogItem]
    history: list[NotesEdit]
    can_edit: bool
    review_html: SafeString
    retro_html: SafeString

    @property
    def burndown_rows(self) -> list[tuple[date, int, float]]:
        """The chart as table rows, for people who do not see the chart."""
        return list(zip(self.chart.days, self.chart.open_counts, self.chart.ideal, strict=False))


def iteration_state(iteration: Iteration, today: date) -> str:
    if today < iteration.start_date:
        return "planned"
    return "running" if today <= iteration.end_date else "finished"


def iteration_page(pk: int, person: Person) -> IterationPage:
    """Everything the iteration page shows: eight queries at any size."""
    iteration = Iteration.objects.select_related("team").filter(pk=pk).first()
    if iteration is None:
        raise Http404("No such iteration.")
    today = timezone.localdate()
    item_type = ContentType.objects.get_for_model(BacklogItem)
    items = _items(iteration, _items_that_left(iteration, item_type))
    chart = burndown(
        changes_from_events(_item_events(items, item_type), iteration=iteration.pk),
        start=iteration.start_date,
        end=iteration.end_date,
        today=today,
    )
    by_pk = {item.pk: item for item in items}
    current = [item for item in items if item.iteration_id == iteration.pk]
    return IterationPage(
        iteration=iteration,
        state=iteration_state(iteration, today),
        groups=_groups(current),
        chart=chart,
        figure=burndown_figure(chart),
        done=[by_pk[pk] for pk in chart.done if pk in by_pk],
        dropped=[by_pk[pk] for pk in chart.dropped if pk in by_pk],
        carried_over=[by_pk[pk] for pk in chart.carried_over if pk in by_pk],
        history=notes_history(iteration),
        can_edit=can_edit_iteration(person, iteration),
        review_html=stored_html(iteration.review_notes_html),
        retro_html=stored_html(iteration.retro_notes_html),
    )


def _items_that_left(iteration: Iteration, item_type: ContentType) -> set[int]:
    """Items once in the iteration and since moved out: still part of its story."""
    mentioned = AuditEvent.objects.filter(
        Q(before__iteration=iteration.pk) | Q(after__iteration=iteration.pk),
        target_type=item_type,
        verb="item.updated",
    ).values_list("target_id", flat=True)
    return {int(pk) for pk in mentioned}


def _items(iteration: Iteration, others: set[int]) -> list[BacklogItem]:
    people = get_user_model().objects.only("username", "first_name", "last_name")
    return list(
        BacklogItem.objects.filter(Q(iteration=iteration) | Q(pk__in=others))
        .only("title", "status", "kind", "priority", "iteration_id", "position")
        .prefetch_related(Prefetch("assignees", queryset=people.order_by("username")))
        .order_by("priority", "position", "pk")
    )


def _item_events(items: list[BacklogItem], item_type: ContentType) -> list[dict[str, Any]]:
    rows = (
        AuditEvent.objects.filter(
            target_type=item_type,
            target_id__in=[str(item.pk) for item in items],
            verb__in=ITEM_VERBS,
        )
        .order_by("created_at", "id")
        .values("target_id", "verb", "after", "created_at")
    )
    return [{**row, "day": timezone.localdate(row["created_at"])} for row in rows]


def _groups(items: list[BacklogItem]) -> list[StatusGroup]:
    groups = []
    for status in [*OPEN, *sorted(CLOSED)]:
        found = [item for item in items if item.status == status]
        if found:
            groups.append(StatusGroup(status=status, label=Status(status).label, items=found))
    return groups


def notes_history(iteration: Iteration, limit: int = HISTORY_LIMIT) -> list[NotesEdit]:
    """The newest edits of the notes, each as line diffs of the fields it changed."""
    events = (
        AuditEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(Iteration),
            target_id=str(iteration.pk),
            verb="iteration.notes_updated",
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    history = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        changes = [
            (label, line_diff(before.get(name, ""), after.get(name, "")))
            for name, label in NOTE_FIELDS
            if before.get(name, "") != after.get(name, "")
        ]
        actor = event.actor.get_full_name() or event.actor.username if event.actor else "Handoff"
        history.append(NotesEdit(actor=actor, created_at=event.created_at, changes=changes))
    return history


def iteration_rows() -> QuerySet[Iteration]:
    """The iterations index: each with its team and its open and closed item counts."""
    return Iteration.objects.select_related("team").annotate(
        open_items=Count("items", filter=Q(items__status__in=OPEN)),
        closed_items=Count("items", filter=Q(items__status__in=CLOSED)),
    )


def current_iteration(person: Person) -> Iteration | None:
    """The running iteration of one of ``person``'s teams, else their latest started one."""
    today = timezone.localdate()
    mine = Iteration.objects.filter(team__members=person, start_date__lte=today)
    running = mine.filter(end_date__gte=today).order_by("-start_date", "pk").first()
    return running or mine.order_by("-start_date", "pk").first()
