"""A report's outcome in a word, and the drift badge the model page shows beside each version."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, OuterRef, Q, Subquery, Value, When

from portal.jobs import JobStatus
from registry.choices import VersionStatus
from registry.models import ModelVersion
from registry.monitoring.models import DriftReport, MonitoringConfig


@dataclass(frozen=True)
class Verdict:
    """A report's outcome in a word: drift, a critical column, no drift, nothing compared,
    or the job's state while it has no outcome."""

    state: str  # "drift", "critical", "ok", "none", or the job's phase
    label: str
    tone: str  # a badge colour: "bad", "ok", "warn" or "" (plain)


NO_REPORT = Verdict("missing", "No report yet", "")


def verdict_of(*, phase: str, drifted: bool | None, critical: bool) -> Verdict:
    """``critical``: a critical column drifted (an alert without dataset drift)."""
    if phase != JobStatus.SUCCEEDED:
        label = JobStatus(phase).label
        tone = {JobStatus.FAILED: "bad", JobStatus.CANCELLED: ""}.get(JobStatus(phase), "warn")
        return Verdict(str(phase), label, tone)
    if drifted:
        return Verdict("drift", "Drift", "bad")
    if critical:
        return Verdict("critical", "Critical column drifted", "bad")
    if drifted is False:
        return Verdict("ok", "No drift", "ok")
    return Verdict("none", "Nothing compared", "")


def activity_links(targets: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The page of each drift report an audit event or a backlog link names
    (``portal.activity.links_for``): one query. Gone since: no link."""
    kind = ContentType.objects.get_for_model(DriftReport).pk
    ids = [int(target) for type_id, target in targets if type_id == kind and target.isdigit()]
    if not ids:
        return {}
    found = DriftReport.objects.filter(pk__in=ids).select_related("version__model")
    return {
        (kind, str(report.pk)): report.get_absolute_url()
        for report in found.only("version__version", "version__model__name")
    }


def light_verdict(report: DriftReport | None) -> Verdict:
    """The verdict of a report read without its columns: its alert says that a critical
    column drifted (a report alerts on drift or a critical column, and only then)."""
    if report is None:
        return NO_REPORT
    critical = not report.drifted and report.alert_id is not None
    return verdict_of(phase=report.phase, drifted=report.drifted, critical=critical)


def drift_state_value(version_ref: str = "pk") -> Subquery:
    """The model page's badge for ``OuterRef(version_ref)``: "drift" or "ok" from its latest
    succeeded report, "" when it compared nothing, NULL without one."""
    latest = DriftReport.objects.filter(
        version=OuterRef(version_ref), status=DriftReport.status_of(JobStatus.SUCCEEDED)
    ).order_by("-window_end", "-pk")
    state = Case(
        When(Q(drifted=True) | Q(alert__isnull=False), then=Value("drift")),
        When(drifted=False, then=Value("ok")),
        default=Value(""),
    )
    return Subquery(latest.annotate(drift_state=state).values("drift_state")[:1])


def monitored_value(version_ref: str = "pk") -> Subquery:
    """The primary key of ``OuterRef(version_ref)``'s monitoring config, or NULL."""
    return Subquery(MonitoringConfig.objects.filter(version=OuterRef(version_ref)).values("pk")[:1])


def badge_version(versions: Sequence[ModelVersion]) -> ModelVersion | None:
    """Whose drift the model page shows: the production version when it is monitored, else
    the highest monitored version. ``versions`` carry ``monitoring_pk`` (highest first)."""
    monitored = [v for v in versions if getattr(v, "monitoring_pk", None) is not None]
    live = [v for v in monitored if v.status == VersionStatus.PRODUCTION]
    return next(iter(live or monitored), None)
