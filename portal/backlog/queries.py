"""Read paths of the backlog pages: a constant number of queries whatever the backlog's size.

- the board reads its column counts in one grouped query, the open columns' cards in one
  query and each closed column's most recently closed cards in one (sliced) query each; the
  cards' assignees, labels and links are prefetched, and the links' pages come from the apps
  that own their targets (``portal.activity.links_for``: one query per app);
- the list reads a page of rows with the same prefetches; the CSV export streams every
  filtered row in chunks, each chunk with its prefetches (the item page: ``item_page``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, QuerySet, prefetch_related_objects
from django.urls import reverse

from portal.activity import Target, links_for
from portal.backlog.choices import CLOSED, OPEN, Discipline, Kind, Priority, Status
from portal.backlog.links import linkable_model
from portal.backlog.models import BacklogItem, ItemLink
from portal.backlog.permissions import WORKER_ROLES
from portal.people import Person
from portal.roles import has_role
from portal.spreadsheets import csv_safe

# A closed column shows its most recently closed cards; the list has them all.
CLOSED_CARDS_SHOWN = 10
CSV_CHUNK = 500
PERSON_FIELDS = ("id", "username", "first_name", "last_name")


def _prefetches() -> tuple[Prefetch, ...]:
    """What a card or a row shows of an item's many-to-many: assignees, labels, links."""
    people = get_user_model().objects.only(*PERSON_FIELDS).order_by("username")
    return (
        Prefetch("assignees", queryset=people),
        Prefetch("labels"),
        Prefetch("links", queryset=ItemLink.objects.order_by("pk")),
    )


def item_queryset() -> QuerySet[BacklogItem]:
    """Items with what a card or a row shows: team, iteration, assignees, labels, links."""
    return (
        BacklogItem.objects.select_related("team", "iteration")
        .defer("description", "description_html")
        .prefetch_related(*_prefetches())
    )


def link_urls(links: Iterable[ItemLink]) -> dict[Target, str]:
    """The page of each link's target, asked of the app that owns it (one query per app)."""
    # An ItemLink names its target as an audit event does: (target_type_id, target_id).
    return links_for(cast(Any, list(links)))


@dataclass(frozen=True)
class Card:
    item: BacklogItem
    links: list[tuple[ItemLink, str]]  # each link with its target's page ("" if gone)

    @property
    def moves(self) -> list[tuple[str, str]]:
        return moves(self.item)


def moves(item: BacklogItem) -> list[tuple[str, str]]:
    """The statuses ``item`` may move to, with their labels: a card's buttons."""
    return [(status, Status(status).label) for status in item.next_statuses()]


def _cards(items: list[BacklogItem]) -> list[Card]:
    links = [link for item in items for link in item.links.all()]
    urls = link_urls(links) if links else {}
    return [
        Card(
            item=item,
            links=[
                (link, urls.get((link.target_type_id, link.target_id), ""))
                for link in item.links.all()
            ],
        )
        for item in items
    ]


# The board ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    status: str
    label: str
    count: int  # every matching item in the column (its WIP count)
    cards: list[Card]
    closed: bool

    @property
    def hidden(self) -> int:
        """Matching cards the column leaves out (older closed ones)."""
        return self.count - len(self.cards)


@dataclass(frozen=True)
class Board:
    columns: list[Column] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(column.count for column in self.columns)


def board(items: QuerySet[BacklogItem]) -> Board:
    """The board of the (filtered) ``items``: every open card, the latest closed ones."""
    counts = dict(
        items.order_by()
        .values_list("status")
        .annotate(n=Count("pk", distinct=True))
        .values_list("status", "n")
    )
    shown = list(items.filter(status__in=OPEN).order_by("position", "pk"))
    for status in CLOSED:
        latest = items.filter(status=status).order_by("-closed_at", "-updated_at", "-pk")
        shown.extend(latest[:CLOSED_CARDS_SHOWN])
    prefetch_related_objects(shown, *_prefetches())
    by_status: dict[str, list[Card]] = {status: [] for status in Status.values}
    for card in _cards(shown):
        by_status[card.item.status].append(card)
    return Board(
        columns=[
            Column(
                status=status.value,
                label=status.label,
                count=counts.get(status.value, 0),
                cards=by_status[status.value],
                closed=status in CLOSED,
            )
            for status in Status
        ]
    )


def editable_ids(person: Person, cards: Iterable[Card]) -> set[int]:
    """The cards ``person`` may move, without a query per card.

    The same rule as ``permissions.can_edit_item`` (a worker role, and the item's team or its
    assignees), read from the person's team ids (one query) and the prefetched assignees.
    """
    if not has_role(person, *WORKER_ROLES):
        return set()
    cards = list(cards)
    if person.is_superuser:
        return {card.item.pk for card in cards}
    teams = set(person.teams.values_list("pk", flat=True))
    return {
        card.item.pk
        for card in cards
        if card.item.team_id in teams
        or any(assignee.pk == person.pk for assignee in card.item.assignees.all())
    }


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def model_options() -> list[Option]:
    """The models the board and list filter by (``?model=<id>``), by name: one query."""
    registered = linkable_model("model")
    if registered is None:
        return []
    rows = registered._default_manager.order_by().values_list("pk", "name").order_by("name")
    return [Option(value=str(pk), label=name) for pk, name in rows]


# The list and its CSV export ----------------------------------------------------------------


def list_rows(items: Iterable[BacklogItem]) -> list[Card]:
    """Rows of a page of ``item_queryset()`` (filtered): each with its links' pages."""
    return _cards(list(items))


CSV_COLUMNS = (
    *("id", "title", "kind", "status", "priority", "discipline", "team", "assignees"),
    *("labels", "iteration", "due date", "links", "created", "updated"),
)


def csv_rows(items: QuerySet[BacklogItem]) -> Iterator[list[str]]:
    """The header, then a row per item of ``items`` (with item_queryset's prefetches)."""
    yield list(CSV_COLUMNS)
    kinds, statuses = dict(Kind.choices), dict(Status.choices)
    priorities, disciplines = dict(Priority.choices), dict(Discipline.choices)
    for item in items.iterator(chunk_size=CSV_CHUNK):
        cells = [
            item.pk,
            item.title,
            kinds.get(item.kind, item.kind),
            statuses.get(item.status, item.status),
            priorities.get(item.priority, item.priority),
            disciplines.get(item.discipline, item.discipline),
            item.team.name,
            ", ".join(person.username for person in item.assignees.all()),
            ", ".join(label.name for label in item.labels.all()),
            item.iteration.name if item.iteration else "",
            item.due_date.isoformat() if item.due_date else "",
            "; ".join(link.target_repr for link in item.links.all()),
            item.created_at.isoformat(timespec="seconds"),
            item.updated_at.isoformat(timespec="seconds"),
        ]
        yield [csv_safe(cell) for cell in cells]


# Activity links (portal.activity asks each app for the pages of its targets) ----------------


def activity_links(targets: Iterable[Target]) -> dict[Target, str]:
    """The page of each backlog item that audit events name and that still exists: one query."""
    kind = ContentType.objects.get_for_model(BacklogItem).pk
    ids = {
        int(target_id) for type_id, target_id in targets if type_id == kind and target_id.isdigit()
    }
    if not ids:
        return {}
    found = BacklogItem.objects.filter(pk__in=ids).values_list("pk", flat=True)
    return {(kind, str(pk)): reverse("backlog:item", args=[pk]) for pk in found}
