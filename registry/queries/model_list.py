"""The models list: its rows (a model with its latest version, card and tags) and the
choices of its team and tag filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Value

from portal.models import Team
from portal.people import Person
from registry.models import ModelCard, ModelVersion, RegisteredModel, Tag
from registry.queries.values import latest_version_value

# What a row of the models list shows of its model.
LIST_MODEL_FIELDS = ("name", "title", "summary", "task_type", "updated_at", "team", "team__name")


@dataclass(frozen=True)
class ModelRow:
    model: RegisteredModel
    latest: ModelVersion | None
    card: ModelCard | None
    tags: list[Tag]


def model_list_queryset() -> QuerySet[RegisteredModel]:
    """Models with team and tags, each annotated with the primary key of its latest version.

    Only the columns a row shows are read, and the tags are a plain list (``tag_list``): a
    related manager per row costs more than the row's other cells.
    """
    return (
        RegisteredModel.objects.select_related("team")
        .only(*LIST_MODEL_FIELDS)
        .prefetch_related(Prefetch("tags", to_attr="tag_list"))
        .annotate(latest_version_pk=latest_version_value("pk"))
    )


def model_rows(models: Iterable[RegisteredModel]) -> list[ModelRow]:
    """A row per model of ``model_list_queryset()``: its latest version and card, one query.

    Only the columns a row shows are read: the version's name and status, and the card
    sections its completeness counts (not the contract, notes or rendered card).
    """
    models = list(models)
    latest_pks = [getattr(model, "latest_version_pk", None) for model in models]
    wanted = [pk for pk in latest_pks if pk is not None]
    sections = [f"card__{field}" for field in settings.HANDOFF_CARD_REQUIRED_SECTIONS]
    columns = ("model_id", "version", "status", "card__version_id", *sections)
    latest = (
        ModelVersion.objects.select_related("card").only(*columns).in_bulk(wanted) if wanted else {}
    )
    rows = []
    for model, pk in zip(models, latest_pks, strict=True):
        version = latest.get(pk) if pk is not None else None
        if version is not None:
            version.model = model
        # select_related("card") caches a missing card as None, so this runs no query.
        rows.append(
            ModelRow(
                model=model,
                latest=version,
                card=getattr(version, "card", None),
                tags=getattr(model, "tag_list", []),
            )
        )
    return rows


@dataclass(frozen=True)
class TeamOption:
    """A team the list can show, and whether the person reading it belongs to it."""

    pk: int
    slug: str
    name: str
    mine: bool


@dataclass(frozen=True)
class FilterChoices:
    """The choices of the list's team and tag filters."""

    teams: list[TeamOption]  # every team by name, the reader's marked
    tags: list[str]  # every tag's name, in order


def filter_choices(person: Person) -> FilterChoices:
    """The list's team and tag choices in one query: the teams and the tags, united."""
    membership = Team.members.through.objects.filter(team_id=OuterRef("pk"), user_id=person.pk)
    columns = ("kind", "pk", "slug", "name", "mine")
    teams = Team.objects.annotate(kind=Value("team"), mine=Exists(membership))
    tags = Tag.objects.annotate(kind=Value("tag"), slug=F("name"), mine=Value(False))
    # No ordering inside a UNION's parts (SQLite refuses it): the whole is ordered instead.
    rows = (
        teams.order_by()
        .values_list(*columns)
        .union(tags.order_by().values_list(*columns), all=True)
        .order_by("kind", "name")
    )
    choices = FilterChoices(teams=[], tags=[])
    for kind, pk, slug, name, mine in rows:
        if kind == "team":
            choices.teams.append(TeamOption(pk=pk, slug=slug, name=name, mine=mine))
        else:
            choices.tags.append(name)
    return choices
