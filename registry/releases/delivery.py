"""How the two disciplines deliver together: lead time, approval wait, release frequency,
change-failure rate, time to restore and the age of open drift alerts, per team and model
over a period.

Computed from the audit trail (the release events every transition writes) and the rows
they point at, so nothing extra is kept: five queries whatever the number of releases.
``summarise`` is the arithmetic on plain facts; ``delivery_metrics`` reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from portal.backlog.choices import OPEN, Kind
from portal.backlog.models import ItemLink
from portal.models import AuditEvent
from registry.models import ModelVersion
from registry.releases.models import ReleaseRequest

VERBS = (
    "release.requested",
    "release.approved",
    "release.deployed",
    "release.failed",
    "release.rolled_back",
)


@dataclass
class ReleaseFacts:
    """One release's moments, read from its audit events."""

    model: str
    team: str
    environment: str
    registered_at: datetime  # when its version was registered
    requested_at: datetime | None = None
    approved_at: datetime | None = None
    deployed_at: datetime | None = None
    failed_at: datetime | None = None
    rolled_back_at: datetime | None = None


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of some durations, in hours; None without any."""

    count: int
    median_hours: float | None
    p90_hours: float | None

    @classmethod
    def of(cls, durations: Iterable[timedelta]) -> Spread:
        hours = np.array([d.total_seconds() / 3600 for d in durations])
        if not hours.size:
            return cls(0, None, None)
        return cls(int(hours.size), float(np.median(hours)), float(np.percentile(hours, 90)))


@dataclass(frozen=True)
class Metrics:
    lead_time: Spread  # version registered → deployed to production
    approval_wait: Spread  # requested → approved
    deployments: int
    per_week: float
    change_failure_rate: float | None  # failed or rolled back, of those that reached the rollout
    time_to_restore: Spread  # deployed → rolled back; failed → next deployment; alert → fix
    open_alert_age: Spread
    weekly: dict[str, int] = field(default_factory=dict)  # deployments per ISO week


def summarise(
    releases: list[ReleaseFacts],
    *,
    start: datetime,
    end: datetime,
    alerts: Iterable[tuple[str, datetime]] = (),
    open_alerts: Iterable[datetime] = (),
    now: datetime,
) -> Metrics:
    """``alerts``: (model, raised at) of drift alerts; a later production deployment of the
    model restores it. Only moments inside [start, end) count."""

    def inside(moment: datetime | None) -> bool:
        return moment is not None and start <= moment < end

    production = [r for r in releases if r.environment == "production"]
    lead = [
        r.deployed_at - r.registered_at
        for r in production
        if r.deployed_at is not None and inside(r.deployed_at)
    ]
    wait = [
        r.approved_at - r.requested_at
        for r in releases
        if r.approved_at is not None and r.requested_at is not None and inside(r.approved_at)
    ]
    deployed = [r for r in releases if inside(r.deployed_at)]
    reached = [r for r in releases if inside(r.deployed_at) or inside(r.failed_at)]
    bad = [r for r in reached if r.failed_at or r.rolled_back_at]
    restore = [
        r.rolled_back_at - r.deployed_at
        for r in deployed
        if r.rolled_back_at is not None and r.deployed_at is not None
    ]
    by_place: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for r in releases:
        if r.deployed_at is not None:
            by_place[(r.model, r.environment)].append(r.deployed_at)
    broken = [(r.model, r.environment, r.failed_at) for r in releases if r.failed_at is not None]
    alerted = [(model, "production", raised) for model, raised in alerts]
    for model, place, since in [*broken, *alerted]:
        if inside(since):
            later = [d for d in by_place[(model, place)] if d > since]
            if later:
                restore.append(min(later) - since)
    weekly: dict[str, int] = defaultdict(int)
    for r in deployed:
        year, week, _ = r.deployed_at.isocalendar()  # type: ignore[union-attr]
        weekly[f"{year}-W{week:02d}"] += 1
    weeks = max((end - start).total_seconds() / (7 * 86400), 1 / 7)
    return Metrics(
        lead_time=Spread.of(lead),
        approval_wait=Spread.of(wait),
        deployments=len(deployed),
        per_week=len(deployed) / weeks,
        change_failure_rate=len(bad) / len(reached) if reached else None,
        time_to_restore=Spread.of(restore),
        open_alert_age=Spread.of(now - raised for raised in open_alerts),
        weekly=dict(sorted(weekly.items())),
    )


def delivery_metrics(
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    team: int | None = None,
    model: int | None = None,
) -> Metrics:
    """The metrics of the releases of a team's (or one model's) versions, all when neither."""
    requests = ReleaseRequest.objects.select_related("version__model__team", "environment")
    scope = Q()
    if team is not None:
        scope &= Q(version__model__team_id=team)
    if model is not None:
        scope &= Q(version__model_id=model)
    rows = {str(r.pk): r for r in requests.filter(scope)}
    facts = {
        pk: ReleaseFacts(
            model=r.version.model.name,
            team=r.version.model.team.name,
            environment=r.environment.name,
            registered_at=r.version.created_at,
        )
        for pk, r in rows.items()
    }
    kind = ContentType.objects.get_for_model(ReleaseRequest)
    events = AuditEvent.objects.filter(target_type=kind, target_id__in=list(rows), verb__in=VERBS)
    for target, verb, at in events.order_by("created_at").values_list(
        "target_id", "verb", "created_at"
    ):
        setattr(facts[target], verb.removeprefix("release.") + "_at", at)
    return summarise(
        list(facts.values()),
        start=start,
        end=end,
        alerts=_drift_alerts(team, model),
        open_alerts=_open_alert_times(team, model),
        now=now,
    )


def _alert_links(team: int | None, model: int | None) -> QuerySet[ItemLink]:
    """Links from drift-alert items to the versions they are about (one per alert)."""
    links = ItemLink.objects.filter(
        item__kind=Kind.DRIFT_ALERT, target_type=ContentType.objects.get_for_model(ModelVersion)
    )
    if team is not None:
        links = links.filter(item__team_id=team)
    if model is not None:
        versions = ModelVersion.objects.filter(model_id=model).values_list("pk", flat=True)
        links = links.filter(target_id__in=[str(pk) for pk in versions])
    return links


def _drift_alerts(team: int | None, model: int | None) -> list[tuple[str, datetime]]:
    links = list(_alert_links(team, model).values_list("target_id", "item__created_at"))
    names = dict(
        ModelVersion.objects.filter(pk__in=[int(v) for v, _ in links]).values_list(
            "pk", "model__name"
        )
    )
    return [(names.get(int(version), ""), raised) for version, raised in links]


def _open_alert_times(team: int | None, model: int | None) -> list[datetime]:
    links = _alert_links(team, model).filter(item__status__in=OPEN)
    # One age per item, however many versions it links to.
    items = links.order_by().values_list("item_id", "item__created_at").distinct()
    return [raised for _, raised in items]
