"""Read paths of the release pages: one function per page, a fixed number of queries however
many releases, approvals, steps or events there are (pinned in tests/releases/test_pages.py).

The list's filters are one FilterSet (``ReleaseFilterSet``), so the API can share them;
"waiting for me" is ``waiting_for``: pending requests an approver may decide and has not.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from portal.activity import PRIVATE_VERB_PREFIX, Target
from portal.models import AuditEvent, Team
from portal.people import Person
from portal.services.audit import events_for
from portal.spreadsheets import csv_safe
from registry.lookups import AnyOf
from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel
from registry.releases.choices import OPEN_STATES, Decision, State, Strategy
from registry.releases.delivery import Metrics, delivery_metrics
from registry.releases.models import (
    Approval,
    CanaryStep,
    Deployment,
    Environment,
    ReleaseRequest,
    Runbook,
)
from registry.releases.permissions import (
    can_cancel,
    can_decide,
    can_deploy,
    can_roll_back,
    is_approver,
)
from registry.releases.services.approvals import Progress, progress
from registry.releases.services.checklist import Checklist, checklist
from registry.releases.services.deployments import deployments_of
from registry.services.contracts import ContractChange
from registry.services.versions import contract_changes
from registry.widgets import Select

MAX_MODEL_NAME = 100
TIMELINE_LIMIT = 200  # a release's events: a few transitions and one per decision
WAITING_SHOWN = 5  # the home page's panel
# The canary analysis is another module's; the release page shows it once it exists.
CANARY_MODULE = "registry.releases.services.canary"


# The list ---------------------------------------------------------------------------------


def waiting_for(person: Person, releases: QuerySet[ReleaseRequest]) -> QuerySet[ReleaseRequest]:
    """Pending requests ``person`` may decide (an approver, not the requester) and has not
    decided yet (a dismissed approval of theirs no longer counts)."""
    if not is_approver(person):
        return releases.none()
    mine = Approval.objects.filter(request=OuterRef("pk"), approver=person, dismissed_at=None)
    return releases.filter(state=State.PENDING).exclude(requested_by=person).exclude(Exists(mine))


class CheckboxFilter(django_filters.Filter):
    """A checkbox: "on" (or true, 1) applies the filter, absent or false leaves it off."""

    field_class = forms.BooleanField


class ReleaseFilterSet(django_filters.FilterSet):
    """Filters of the releases list, shared by the page and the API: every choice an
    allowlist, the model by its name."""

    state = django_filters.ChoiceFilter(
        choices=State.choices, empty_label="Any state", widget=Select
    )
    environment = django_filters.ChoiceFilter(
        field_name="environment__name",
        label="Environment",
        empty_label="All environments",
        widget=Select,
    )
    model = django_filters.CharFilter(
        field_name="version__model__name", label="Model", max_length=MAX_MODEL_NAME
    )
    waiting_for_me = CheckboxFilter(method="filter_waiting", label="Waiting for me")

    class Meta:
        model = ReleaseRequest
        fields = ["state", "environment", "model", "waiting_for_me"]

    def __init__(
        self,
        data: Any,
        *,
        queryset: QuerySet[ReleaseRequest],
        person: Person,
        environments: Iterable[Environment],
    ) -> None:
        super().__init__(data, queryset=queryset)
        self.person = person
        choices = [(env.name, env.title) for env in environments]
        self.filters["environment"].extra["choices"] = choices
        self.form.fields["environment"].choices = [("", "All environments"), *choices]

    def filter_waiting(
        self, queryset: QuerySet[ReleaseRequest], name: str, value: bool
    ) -> QuerySet[ReleaseRequest]:
        return waiting_for(self.person, queryset) if value else queryset


def live_approvals() -> Subquery:
    """How many approvals of the outer request count now (a subquery on its index)."""
    counted = (
        Approval.objects.filter(
            request=OuterRef("pk"), decision=Decision.APPROVE, dismissed_at=None
        )
        .order_by()
        .values("request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def release_list_queryset() -> QuerySet[ReleaseRequest]:
    """What a row of the list shows: the version and its model, the environment, the
    requester, and the approvals counted so far."""
    return (
        ReleaseRequest.objects.select_related("version__model", "environment", "requested_by")
        .only(
            *("state", "strategy", "traffic_percent", "created_at", "updated_at"),
            *("version__version", "version__model__name", "version__model__title"),
            *("environment__name", "environment__title", "environment__approvals_needed"),
            "environment__required_roles",
            *("requested_by__username", "requested_by__first_name", "requested_by__last_name"),
        )
        .annotate(approved_count=Coalesce(live_approvals(), 0))
        .order_by("-created_at", "-pk")
    )


def needed_approvals(environment: Environment) -> int:
    return max(environment.approvals_needed, len(environment.required_roles))


def environments() -> list[Environment]:
    return list(Environment.objects.all())


# The release page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Controls:
    """Which buttons the reader may press on this release now."""

    decide: bool = False
    cancel: bool = False
    deploy: bool = False
    promote: bool = False
    roll_back: bool = False
    already_decided: Approval | None = None


@dataclass(frozen=True)
class ReleasePage:
    release: ReleaseRequest
    approvals: list[Approval]
    progress: Progress
    steps: list[CanaryStep]
    events: list[AuditEvent]
    runbook: Runbook | None
    live: Checklist | None  # the checklist now, while the request is open
    contract: list[ContractChange]
    controls: Controls
    comparisons: list[Any] | None = None  # the canary analysis, once its module exists
    comparison_error: str = ""
    snapshot: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model(self) -> RegisteredModel:
        return self.release.version.model

    @property
    def breaking(self) -> list[ContractChange]:
        return [change for change in self.contract if change.is_breaking]


def release_queryset() -> QuerySet[ReleaseRequest]:
    people = ("username", "first_name", "last_name", "email")
    return ReleaseRequest.objects.select_related(
        "version__model__team", "environment", "requested_by", "replaces", "runbook__author"
    ).prefetch_related(
        Prefetch(
            "approvals",
            queryset=Approval.objects.select_related("approver").only(
                *("request_id", "decision", "comment", "roles", "created_at"),
                *("dismissed_at", "dismissed_reason"),
                *(f"approver__{name}" for name in people),
            ),
        ),
        Prefetch("steps", queryset=CanaryStep.objects.select_related("by")),
    )


def release_page(release: ReleaseRequest, person: Person) -> ReleasePage:
    """Everything the release page shows of ``release`` (from ``release_queryset``)."""
    approvals = list(release.approvals.all())
    events = list(events_for(release)[:TIMELINE_LIMIT])
    runbook = release.runbook or Runbook.objects.filter(model=release.version.model_id).first()
    live = None
    if release.state in OPEN_STATES:
        live = checklist(
            release.version, release.environment, acknowledged=release.breaking_acknowledged
        )
    comparisons, comparison_error = canary_comparisons(release)
    return ReleasePage(
        release=release,
        approvals=approvals,
        progress=progress(release),
        steps=list(release.steps.all()),
        events=events,
        runbook=runbook,
        live=live,
        contract=contract_changes(release.replaces, release.version),
        controls=controls_for(person, release, approvals),
        comparisons=comparisons,
        comparison_error=comparison_error,
        snapshot=list(release.checklist.get("items", [])),
    )


def controls_for(person: Person, release: ReleaseRequest, approvals: list[Approval]) -> Controls:
    """The buttons to show; the services decide again when one is pressed."""
    state = release.state
    mine = next(
        (a for a in approvals if a.approver_id == person.pk and a.dismissed_at is None), None
    )
    deployer = can_deploy(person, release)
    return Controls(
        decide=state == State.PENDING and mine is None and can_decide(person, release),
        cancel=state in (State.PENDING, State.APPROVED) and can_cancel(person, release),
        deploy=state in (State.APPROVED, State.DEPLOYING) and deployer,
        promote=release.is_canary_running and deployer,
        roll_back=state == State.DEPLOYED and can_roll_back(person, release),
        already_decided=mine,
    )


def canary_comparisons(release: ReleaseRequest) -> tuple[list[Any] | None, str]:
    """The canary analysis of a running canary or shadow release: (comparisons, error).
    None until ``registry.releases.services.canary`` exists."""
    if release.state != State.DEPLOYED or release.strategy == Strategy.FULL:
        return None, ""
    canary = _canary_module()
    if canary is None or not hasattr(canary, "compare"):
        return None, ""
    try:
        return list(canary.compare(release)), ""
    except (ValueError, LookupError) as exc:
        return [], str(exc)


def _canary_module() -> Any:
    """The canary analysis module, or None while it does not exist."""
    loaded = sys.modules.get(CANARY_MODULE)
    if loaded is not None:
        return loaded
    try:
        found = importlib.util.find_spec(CANARY_MODULE)
    except (ImportError, ValueError):
        return None
    return importlib.import_module(CANARY_MODULE) if found is not None else None


def activity_links(targets: Iterable[Target]) -> dict[Target, str]:
    """The page of each release that audit events name (``portal.activity.links_for``)."""
    kind = ContentType.objects.get_for_model(ReleaseRequest).pk
    ids = {int(pk) for type_id, pk in targets if type_id == kind and pk.isdigit()}
    if not ids:
        return {}
    found = ReleaseRequest.objects.filter(pk__in=ids).values_list("pk", flat=True)
    return {(kind, str(pk)): reverse("releases:detail", args=[pk]) for pk in found}


# The model page and the home page ---------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """A model's current deployment in one environment, and whether the reader may roll
    its release back from the model page."""

    deployment: Deployment
    can_roll_back: bool

    @property
    def release(self) -> ReleaseRequest | None:
        return self.deployment.release


def what_runs_where(model: RegisteredModel, person: Person) -> list[Running]:
    """One query: the model's current deployments with their environments and releases."""
    rows = []
    for deployment in deployments_of(model):
        deployment.model = model
        deployment.version.model = model
        release = deployment.release
        allowed = False
        if release is not None and release.version_id == deployment.version_id:
            release.version = deployment.version  # known already: no query to ask of it
            allowed = release.state == State.DEPLOYED and can_roll_back(person, release)
        rows.append(Running(deployment, allowed))
    return rows


@dataclass(frozen=True)
class Waiting:
    releases: list[ReleaseRequest]
    count: int
    approver: bool


def waiting_panel(person: Person) -> Waiting:
    """The home page's approvals waiting for me: none and no query for a non-approver;
    one query, two when more wait than the panel lists."""
    if not is_approver(person):
        return Waiting([], 0, False)
    shown = list(
        waiting_for(person, release_list_queryset()).order_by("created_at", "pk")[
            : WAITING_SHOWN + 1
        ]
    )
    count = len(shown)
    if count > WAITING_SHOWN:
        count = waiting_for(person, ReleaseRequest.objects.all()).count()
    return Waiting(shown[:WAITING_SHOWN], count, True)


# The request form -------------------------------------------------------------------------


def pick_environment(found: list[Environment], name: str | None) -> Environment | None:
    return next((env for env in found if env.name == name), found[0] if found else None)


# Runbooks ---------------------------------------------------------------------------------


def current_runbook(model: RegisteredModel) -> Runbook | None:
    return Runbook.objects.filter(model=model).select_related("author").first()


def runbook_revisions(model: RegisteredModel) -> QuerySet[Runbook]:
    return Runbook.objects.filter(model=model).select_related("author").order_by("-revision")


# Audit ------------------------------------------------------------------------------------


class AuditFilterSet(django_filters.FilterSet):
    """The audit page's filters: a verb prefix ("release." or "release.approve"), the
    actor's username, and a day range."""

    verb = django_filters.CharFilter(
        field_name="verb",
        lookup_expr="startswith",
        label="Verb starts with",
        max_length=64,
        help_text="e.g. release. or release.approve",
    )
    actor = django_filters.CharFilter(
        field_name="actor__username", label="Actor (username)", max_length=150
    )
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until", label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = ["verb", "actor", "since", "until"]

    def filter_since(self, queryset: QuerySet[AuditEvent], name: str, value: Any) -> Any:
        start = timezone.make_aware(datetime.combine(value, time.min))
        return queryset.filter(created_at__gte=start)

    def filter_until(self, queryset: QuerySet[AuditEvent], name: str, value: Any) -> Any:
        end = timezone.make_aware(datetime.combine(value, time.max))
        return queryset.filter(created_at__lte=end)


def audit_queryset(person: Person, model: RegisteredModel | None = None) -> QuerySet[AuditEvent]:
    """Every audit event, or the model's: its own, its versions', cards', artifacts' and
    releases' (two queries to name them by id, then the index per target). People's API
    tokens are theirs and the admins': left out for everyone else."""
    events = AuditEvent.objects.select_related("actor", "target_type").order_by(
        "-created_at", "-id"
    )
    if not person.is_superuser:
        events = events.exclude(verb__startswith=PRIVATE_VERB_PREFIX)
    if model is None:
        return events
    return events.filter(model_targets(model))


def model_targets(model: RegisteredModel) -> Q:
    types = ContentType.objects.get_for_models(
        RegisteredModel, ModelVersion, ModelCard, Artifact, ReleaseRequest
    )
    rows = list(
        ModelVersion.objects.filter(model=model).values_list("pk", "card__pk", "artifact__pk")
    )
    releases = list(
        ReleaseRequest.objects.filter(version__model=model).values_list("pk", flat=True)
    )
    ids: dict[type[Any], list[Any]] = {
        RegisteredModel: [model.pk],
        ModelVersion: [row[0] for row in rows],
        ModelCard: [row[1] for row in rows],
        Artifact: [row[2] for row in rows],
        ReleaseRequest: releases,
    }
    found = Q(pk__in=[])
    for kind, pks in ids.items():
        texts = [str(pk) for pk in pks if pk is not None]
        if texts:
            found |= Q(target_type=types[kind]) & Q(AnyOf("target_id", texts))
    return found


CSV_COLUMNS = (
    *("time", "actor", "verb", "target_type", "target_id", "target"),
    *("before", "after", "request_id"),
)
CSV_CHUNK = 500


def audit_csv_rows(events: QuerySet[AuditEvent]) -> Iterable[list[str]]:
    """The header, then one row per event, each cell safe to open in a spreadsheet."""
    yield list(CSV_COLUMNS)
    for event in events.iterator(chunk_size=CSV_CHUNK):
        target_type = event.target_type
        cells = [
            event.created_at.isoformat(timespec="seconds"),
            event.actor.get_username() if event.actor else "",
            event.verb,
            f"{target_type.app_label}.{target_type.model}" if target_type else "",
            event.target_id,
            event.target_repr,
            json.dumps(event.before, sort_keys=True) if event.before is not None else "",
            json.dumps(event.after, sort_keys=True) if event.after is not None else "",
            event.request_id,
        ]
        yield [csv_safe(cell) for cell in cells]


# Delivery metrics -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPage:
    metrics: Metrics
    start: datetime
    end: datetime
    days: int
    teams: list[tuple[str, str]]  # (slug, name), for the filter
    models: list[tuple[str, str]]  # (name, name)
    team: str  # the chosen team's slug, or "" for every team
    team_name: str
    model: str  # the chosen model's name, or "" for every model


def delivery_page(*, days: int, team: str, model: str, now: datetime) -> DeliveryPage:
    """The metrics of the last ``days`` for a team (by slug) and a model (by name): two
    queries for the filters' choices and delivery_metrics' own, whatever the releases."""
    teams = list(Team.objects.order_by("name").values_list("pk", "slug", "name"))
    models = list(RegisteredModel.objects.order_by("name").values_list("pk", "name"))
    team_pk = next((pk for pk, slug, _ in teams if slug == team), None)
    model_pk = next((pk for pk, name in models if name == model), None)
    start = now - timedelta(days=days)
    metrics = delivery_metrics(start=start, end=now, now=now, team=team_pk, model=model_pk)
    return DeliveryPage(
        metrics=metrics,
        start=start,
        end=now,
        days=days,
        teams=[(slug, name) for _, slug, name in teams],
        models=[(name, name) for _, name in models],
        team=team if team_pk is not None else "",
        team_name=next((name for pk, _, name in teams if pk == team_pk), ""),
        model=model if model_pk is not None else "",
    )
