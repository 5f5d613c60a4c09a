"""Read-side queries for the registry pages and API: a constant number of queries per page.

A page must not run one query per model or per version, and no query may read more of the
registry as it grows than the page shows:
- a model's latest version is one ``LIMIT 1`` subquery on the (model, -sort_key) index;
- the model page reads its versions once with light columns (the switcher needs them all),
  then full rows only for the versions it shows;
- activity names its targets by id (one array parameter per kind, ``lookups.AnyOf``), so
  PostgreSQL reads them through the (target_type, target_id, -created_at) index instead of
  walking the whole log by time; its links come from the versions the page has read, and
  the home page's from one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.urls import reverse

from portal.activity import Entry, Target, describe, detail_columns, display_name
from portal.backlog.choices import OPEN
from portal.backlog.models import BacklogItem, ItemLink
from portal.models import AuditEvent, Team
from portal.people import Person
from registry.choices import VersionStatus
from registry.lookups import AnyOf
from registry.models import Artifact, ModelAlias, ModelCard, ModelVersion, RegisteredModel, Tag
from registry.monitoring.queries import drift_state_value, monitored_value

ACTIVITY_LIMIT = 20
VERSIONS_PER_PAGE = 20
# What the activity panel shows of an event (not its before/after snapshots).
ACTIVITY_FIELDS = (
    *("verb", "target_type", "target_id", "target_repr", "created_at"),
    *("actor__username", "actor__first_name", "actor__last_name"),
)
# Shown for the selected version only, never in the versions table.
VERSION_DETAIL_FIELDS = (
    *("notes", "notes_html", "input_schema", "output_schema"),
    *("example_request", "example_response"),
)
# What a row of the models list shows of its model.
LIST_MODEL_FIELDS = ("name", "title", "summary", "task_type", "updated_at", "team", "team__name")
# What the version switcher, the production/staging facts and the pager need of every version.
LIGHT_VERSION_FIELDS = ("id", "model_id", "version", "number", "status", "sort_key")
# What a row of the versions table shows: its creator's name and its artifact's status, not
# the artifact's ONNX inputs and outputs or the creator's whole account.
TABLE_VERSION_FIELDS = (
    *LIGHT_VERSION_FIELDS,
    *("released_at", "created_at", "created_by", "artifact__status"),
    *("created_by__username", "created_by__first_name", "created_by__last_name"),
)


def latest_version_value(field: str, model_ref: str = "pk") -> Subquery:
    """A subquery giving ``field`` of the highest-semver version of ``OuterRef(model_ref)``."""
    latest = ModelVersion.objects.filter(model=OuterRef(model_ref)).order_by("-sort_key")
    return Subquery(latest.values(field)[:1])


def production_version_value(field: str = "version") -> Subquery:
    """A subquery giving ``field`` of the highest-semver production version of the model."""
    live = ModelVersion.objects.filter(
        model=OuterRef("pk"), status=VersionStatus.PRODUCTION
    ).order_by("-sort_key")
    return Subquery(live.values(field)[:1])


# The models list --------------------------------------------------------------------------


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


# The model page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelPage:
    """What the model page shows of one model, read in five queries whatever its size."""

    versions: list[ModelVersion]  # every version, light columns, highest semver first
    selected: ModelVersion | None  # full row, with card, creator and artifact
    previous: ModelVersion | None  # the version just below ``selected``, likewise
    version_page: Page[ModelVersion]  # the versions table
    tags: list[Tag]
    aliases: list[ModelAlias]  # with their versions
    activity: list[AuditEvent]
    activity_entries: list[Entry]  # ``activity`` as sentences, each linked to its page
    open_items: list[BacklogItem]  # open backlog items about the model or its versions

    @property
    def cards(self) -> dict[int, ModelCard]:
        """The cards of ``selected`` and ``previous``, by version id."""
        shown = (self.selected, self.previous)
        return {v.pk: v.card for v in shown if v is not None and hasattr(v, "card")}

    @property
    def production(self) -> ModelVersion | None:
        return _first_with(self.versions, VersionStatus.PRODUCTION)

    @property
    def staging(self) -> ModelVersion | None:
        return _first_with(self.versions, VersionStatus.STAGING)

    @property
    def selected_on_page(self) -> bool:
        return self.selected is not None and self.selected in self.version_page.object_list

    @property
    def selected_page_number(self) -> int | None:
        """The page of the versions table that lists ``selected``."""
        return _page_of(self.versions, self.selected)

    @property
    def version_rows(self) -> list[ModelVersion]:
        """The versions table: this page, after the selected version when it is elsewhere."""
        rows = list(self.version_page.object_list)
        if self.selected is not None and not self.selected_on_page:
            return [self.selected, *rows]
        return rows


def model_page(model: RegisteredModel, *, version: str | None, page: str | None) -> ModelPage:
    """The model page with ``version`` selected and ``page`` of its versions table.

    By default the production version is selected (else the highest semver), and the table
    opens on the page that holds the selected version. Raises ModelVersion.DoesNotExist
    when ``version`` is not one of the model's.
    """
    versions = light_versions(model, drift=True)
    selected = _pick(versions, version)
    previous = _below(versions, selected)
    shown = full_versions(model, [selected, previous])
    paginator = Paginator(versions, VERSIONS_PER_PAGE)
    listed = paginator.get_page(page if page is not None else _page_of(versions, selected))
    activity = model_activity(model, versions)
    return ModelPage(
        versions=versions,
        selected=shown.get(selected.pk) if selected else None,
        previous=shown.get(previous.pk) if previous else None,
        version_page=Page(_table_rows(model, listed.object_list), listed.number, paginator),
        tags=list(model.tags.all()),
        aliases=list(model.aliases.select_related("version")),
        activity=activity,
        activity_entries=activity_entries(model, versions, activity),
        open_items=open_items(model, versions),
    )


OPEN_ITEMS_SHOWN = 10


def open_items(model: RegisteredModel, versions: list[ModelVersion]) -> list[BacklogItem]:
    """Open backlog items linked to the model or to any of its versions: one query.

    The versions' ids come from ``light_versions``, like the activity's targets.
    """
    types = ContentType.objects.get_for_models(RegisteredModel, ModelVersion)
    about = _target(types[RegisteredModel], [str(model.pk)])
    ids = _texts(version.pk for version in versions)
    if ids:
        about |= _target(types[ModelVersion], ids)
    items = BacklogItem.objects.filter(status__in=OPEN).filter(
        pk__in=ItemLink.objects.filter(about).values("item_id")
    )
    return list(
        items.only("id", "title", "status", "priority").order_by("priority", "pk")[
            :OPEN_ITEMS_SHOWN
        ]
    )


def light_versions(model: RegisteredModel, *, drift: bool = False) -> list[ModelVersion]:
    """Every version of ``model`` with the ids of its card and artifact, highest semver first;
    with ``drift``, also its monitoring config's id and its latest drift verdict (the model
    page's badge: an index probe per version, in the same query)."""
    versions = model.versions.only(*LIGHT_VERSION_FIELDS).annotate(
        card_pk=F("card__id"), artifact_pk=F("artifact__id")
    )
    if drift:
        versions = versions.annotate(
            monitoring_pk=monitored_value(), drift_state=drift_state_value()
        )
    return list(versions.order_by("-sort_key", "-pk"))


def _pick(versions: list[ModelVersion], wanted: str | None) -> ModelVersion | None:
    """The version named ``wanted``; by default production, else the highest semver."""
    if wanted is not None:
        for version in versions:
            if version.version == wanted:
                return version
        raise ModelVersion.DoesNotExist(f"No version {wanted}.")
    return _first_with(versions, VersionStatus.PRODUCTION) or (versions[0] if versions else None)


def _first_with(versions: list[ModelVersion], status: str) -> ModelVersion | None:
    return next((v for v in versions if v.status == status), None)


def _below(versions: list[ModelVersion], version: ModelVersion | None) -> ModelVersion | None:
    # Sort keys are unique per model, so the next one down is the previous version.
    if version is None:
        return None
    index = versions.index(version)
    return versions[index + 1] if index + 1 < len(versions) else None


def _page_of(versions: list[ModelVersion], version: ModelVersion | None) -> int | None:
    if version is None:
        return None
    return versions.index(version) // VERSIONS_PER_PAGE + 1


def full_versions(
    model: RegisteredModel, versions: list[ModelVersion | None]
) -> dict[int, ModelVersion]:
    """Full rows of the given versions (shown or compared), with card, creator, artifact and
    the run a version was promoted from."""
    ids = [version.pk for version in versions if version is not None]
    # The promotion (an experiments run the version came from) rides along in the same query.
    rows = model.versions.filter(pk__in=ids).select_related(
        "card", "created_by", "artifact", "promotion__run"
    )
    # No ordering: the default one (by model, then sort key) would join the model's table.
    return {version.pk: version for version in rows.order_by()} if ids else {}


def _table_rows(model: RegisteredModel, listed: Iterable[ModelVersion]) -> list[ModelVersion]:
    """The versions table's rows: creator's name and artifact's status, not the contract,
    notes or card."""
    ids = [version.pk for version in listed]
    if not ids:
        return []
    rows = (
        model.versions.filter(pk__in=ids)
        .select_related("created_by", "artifact")
        .only(*TABLE_VERSION_FIELDS)
        .order_by()
    )
    by_id = {version.pk: version for version in rows}
    return [by_id[pk] for pk in ids]


def page_versions(model: RegisteredModel) -> list[ModelVersion]:
    """Every version of ``model`` with its artifact, highest semver first (the compare page)."""
    return list(model.versions.select_related("artifact").order_by("-sort_key", "-pk"))


def cards_by_version(versions: Iterable[ModelVersion | None]) -> dict[int, ModelCard]:
    """The cards of ``versions`` keyed by version id, in one query."""
    ids = [version.pk for version in versions if version is not None]
    if not ids:
        return {}
    return {card.version_id: card for card in ModelCard.objects.filter(version_id__in=ids)}


def model_activity(
    model: RegisteredModel, versions: list[ModelVersion], limit: int = ACTIVITY_LIMIT
) -> list[AuditEvent]:
    """Audit events of the model, its versions, cards and artifacts: newest ``limit``.

    ``versions`` come from ``light_versions``. Naming every target by its id (not through
    IN-subqueries, whose size PostgreSQL cannot guess) lets the planner read each target's
    events from the (target_type, target_id, -created_at) index and sort just those, so an
    old model costs the same as a new one.
    """
    types = ContentType.objects.get_for_models(RegisteredModel, ModelVersion, ModelCard, Artifact)
    targets = _target(types[RegisteredModel], [str(model.pk)])
    for kind, ids in (
        (ModelVersion, _texts(v.pk for v in versions)),
        (ModelCard, _texts(getattr(v, "card_pk", None) for v in versions)),
        (Artifact, _texts(getattr(v, "artifact_pk", None) for v in versions)),
    ):
        if ids:
            targets |= _target(types[kind], ids)
    events = (
        AuditEvent.objects.filter(targets)
        .select_related("actor")
        .only(*ACTIVITY_FIELDS)
        .annotate(**detail_columns())
    )
    return list(events[:limit])


def activity_entries(
    model: RegisteredModel, versions: list[ModelVersion], events: Iterable[AuditEvent]
) -> list[Entry]:
    """``model_activity`` as sentences: a version, its card or artifact links to the version's
    page, the model to its own. Links come from ``versions`` (``light_versions``): no query,
    and a URL only for the versions the events name, not for every version."""
    types = _activity_types()
    semvers = {(types[RegisteredModel], str(model.pk)): ""}  # "" is the model's own page
    for version in versions:
        for kind, pk in (
            (ModelVersion, version.pk),
            (ModelCard, getattr(version, "card_pk", None)),
            (Artifact, getattr(version, "artifact_pk", None)),
        ):
            if pk is not None:
                semvers[(types[kind], str(pk))] = version.version
    urls: dict[str, str] = {}

    def url_of(event: AuditEvent) -> str:
        semver = semvers.get((event.target_type_id or 0, event.target_id))
        if semver is None:
            return ""
        if semver not in urls:
            urls[semver] = activity_url(model.name, semver)
        return urls[semver]

    return [
        describe(
            event,
            actor=display_name(event.actor) if event.actor else None,
            url=url_of(event),
        )
        for event in events
    ]


def activity_links(targets: Iterable[Target]) -> dict[Target, str]:
    """The page of each registry target of audit events (``portal.activity.links_for``).

    One query whatever the mix: a primary-key lookup per kind of target, united. A target
    deleted since has no row, so no link.
    """
    types = _activity_types()
    wanted: dict[int, list[int]] = defaultdict(list)
    for type_id, target_id in targets:
        if target_id.isdigit():
            wanted[type_id].append(int(target_id))
    lookups = (
        (RegisteredModel, F("name"), Value("")),
        (ModelVersion, F("model__name"), F("version")),
        (ModelCard, F("version__model__name"), F("version__version")),
        (Artifact, F("version__model__name"), F("version__version")),
    )
    parts = [
        kind.objects.filter(pk__in=wanted[types[kind]])
        .order_by()
        .annotate(kind=Value(types[kind]), target=F("pk"), model_name=name, semver=semver)
        .values_list("kind", "target", "model_name", "semver")
        for kind, name, semver in lookups
        if wanted.get(types[kind])
    ]
    if not parts:
        return {}
    first, *rest = parts
    rows = first.union(*rest, all=True) if rest else first
    return {(kind, str(pk)): activity_url(name, semver) for kind, pk, name, semver in rows}


def activity_url(model_name: str, version: str = "") -> str:
    if not version:
        return reverse("registry:model-detail", args=[model_name])
    return reverse("registry:version-detail", args=[model_name, version])


def _activity_types() -> dict[type[Any], int]:
    types = ContentType.objects.get_for_models(RegisteredModel, ModelVersion, ModelCard, Artifact)
    return {kind: content_type.pk for kind, content_type in types.items()}


def _target(kind: ContentType, ids: list[str]) -> Q:
    # Type first, in the index's order: Q(**kwargs) sorts target_id first, and PostgreSQL
    # then plans this OR for milliseconds (7 ms against 0.4 ms at 50 versions).
    return Q(target_type=kind) & Q(AnyOf("target_id", ids))


def _texts(ids: Iterable[Any]) -> list[str]:
    # AuditEvent.target_id is text.
    return [str(pk) for pk in ids if pk is not None]
