"""The model page: its versions, the selected one and the one below it, the versions table,
and the open backlog items about the model.

The page reads its versions once with light columns (the switcher needs them all), then full
rows only for the versions it shows. Its activity comes from ``activity``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import F

from portal.activity import Entry
from portal.backlog.choices import OPEN
from portal.backlog.models import BacklogItem, ItemLink
from portal.models import AuditEvent
from registry.choices import VersionStatus
from registry.models import ModelAlias, ModelCard, ModelVersion, RegisteredModel, Tag
from registry.monitoring.queries import drift_state_value, monitored_value
from registry.queries.activity import activity_entries, model_activity, target_ids, targets_of

VERSIONS_PER_PAGE = 20
# Shown for the selected version only, never in the versions table.
VERSION_DETAIL_FIELDS = (
    *("notes", "notes_html", "input_schema", "output_schema"),
    *("example_request", "example_response"),
)
# What the version switcher, the production/staging facts and the pager need of every version.
LIGHT_VERSION_FIELDS = ("id", "model_id", "version", "number", "status", "sort_key")
# What a row of the versions table shows: its creator's name and its artifact's status, not
# the artifact's ONNX inputs and outputs or the creator's whole account.
TABLE_VERSION_FIELDS = (
    *LIGHT_VERSION_FIELDS,
    *("released_at", "created_at", "created_by", "artifact__status"),
    *("created_by__username", "created_by__first_name", "created_by__last_name"),
)


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
    about = targets_of(types[RegisteredModel], [str(model.pk)])
    ids = target_ids(version.pk for version in versions)
    if ids:
        about |= targets_of(types[ModelVersion], ids)
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
