"""The read path of a model's monitoring page: the configs (each with the keys of its latest
report and latest succeeded report), those reports, the newest reports, the points of the
share chart, the open drift alerts and a few unmonitored versions: a query each, light
columns only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from portal.backlog.choices import OPEN, Kind
from portal.backlog.models import BacklogItem, ItemLink
from portal.jobs import JobStatus
from registry.models import ModelVersion, RegisteredModel
from registry.monitoring import charts
from registry.monitoring.models import DriftReport, MonitoringConfig
from registry.monitoring.queries.common import LIGHT_REPORT_FIELDS, percent
from registry.monitoring.queries.verdicts import Verdict, light_verdict

RECENT_REPORTS = 20  # rows of the monitoring page's report table


CHART_POINTS = 500  # the newest reports drawn on the share chart


UNMONITORED_SHOWN = 5  # versions offered for setting up on the monitoring page


ALERTS_SHOWN = 20


@dataclass(frozen=True)
class MonitoredVersion:
    config: MonitoringConfig
    version: ModelVersion
    latest: DriftReport | None  # the newest report, whatever its state
    finished: DriftReport | None  # the newest succeeded report
    verdict: Verdict  # of ``finished``

    @property
    def running(self) -> bool:
        return self.latest is not None and not self.latest.is_final


@dataclass(frozen=True)
class ReportRow:
    report: DriftReport
    version: ModelVersion
    url: str
    verdict: Verdict
    share: str


@dataclass(frozen=True)
class MonitoringPage:
    model: RegisteredModel
    monitored: list[MonitoredVersion]  # highest version first
    recent: list[ReportRow]  # newest first
    chart: dict[str, Any] | None
    alerts: list[BacklogItem]
    unmonitored: list[ModelVersion]  # a few versions without monitoring, highest first


def monitoring_page(model: RegisteredModel) -> MonitoringPage:
    """The model's monitoring page in six queries, however many reports it has."""
    configs = _configs(model)
    versions = {config.version_id: config.version for config in configs}
    for version in versions.values():
        version.model = model  # the report URLs name it: no query per row
    wanted = {getattr(c, pk) for c in configs for pk in ("latest_pk", "finished_pk")} - {None}
    latest = _light_reports().in_bulk(list(wanted)) if wanted else {}
    monitored = [
        MonitoredVersion(
            config=config,
            version=config.version,
            latest=latest.get(getattr(config, "latest_pk", None)),
            finished=latest.get(getattr(config, "finished_pk", None)),
            verdict=light_verdict(latest.get(getattr(config, "finished_pk", None))),
        )
        for config in configs
    ]
    return MonitoringPage(
        model=model,
        monitored=monitored,
        recent=_recent(versions),
        chart=_share_chart(configs, versions) if configs else None,
        alerts=drift_alerts(list(versions)),
        unmonitored=_unmonitored(model, list(versions)),
    )


def _configs(model: RegisteredModel) -> list[MonitoringConfig]:
    reports = DriftReport.objects.filter(config=OuterRef("pk")).order_by("-window_end", "-pk")
    succeeded = reports.filter(status=DriftReport.status_of(JobStatus.SUCCEEDED))
    return list(
        MonitoringConfig.objects.filter(version__model=model)
        .select_related("version", "reference")
        .only(
            *("id", "version_id", "reference_id", "schedule", "source", "window_hours"),
            *("drift_share", "mode", "updated_at"),
            *("version__id", "version__model_id", "version__version", "version__status"),
            *("version__sort_key", "reference__id", "reference__name", "reference__version"),
        )
        .annotate(
            latest_pk=Subquery(reports.values("pk")[:1]),
            finished_pk=Subquery(succeeded.values("pk")[:1]),
        )
        .order_by("-version__sort_key")
    )


def _light_reports() -> QuerySet[DriftReport]:
    return DriftReport.objects.only(*LIGHT_REPORT_FIELDS).order_by()


def _recent(versions: Mapping[int, ModelVersion]) -> list[ReportRow]:
    if not versions:
        return []
    reports = (
        _light_reports()
        .filter(version_id__in=list(versions))
        .order_by("-window_end", "-pk")[:RECENT_REPORTS]
    )
    rows = []
    for report in reports:
        report.version = versions[report.version_id]
        rows.append(
            ReportRow(
                report=report,
                version=report.version,
                url=report.get_absolute_url(),
                verdict=light_verdict(report),
                share=percent(report.share),
            )
        )
    return rows


def _share_chart(
    configs: Sequence[MonitoringConfig], versions: Mapping[int, ModelVersion]
) -> dict[str, Any] | None:
    points = (
        DriftReport.objects.filter(
            version_id__in=list(versions),
            status=DriftReport.status_of(JobStatus.SUCCEEDED),
            share__isnull=False,
        )
        .order_by("-window_end", "-pk")
        .values_list("version_id", "window_end", "share")[:CHART_POINTS]
    )
    by_version: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for version_id, end, share in reversed(list(points)):
        if share is not None:  # filtered out above; the type does not know
            by_version[version_id].append((end, share))
    series = [
        charts.Series(
            name=versions[config.version_id].version,
            x=[_local(end) for end, _ in by_version[config.version_id]],
            y=[share for _, share in by_version[config.version_id]],
            threshold=config.drift_share,
        )
        for config in reversed(configs)  # the lowest version first, as a legend reads
        if by_version.get(config.version_id)
    ]
    return charts.share_chart(series)


def _local(moment: datetime) -> str:
    """As Plotly's date axis reads it: the site's wall time (it drops a UTC offset)."""
    return timezone.localtime(moment).strftime(charts.DATE_FORMAT)


def drift_alerts(version_ids: Iterable[int]) -> list[BacklogItem]:
    """Open drift alerts linked to any of the versions: one query."""
    ids = [str(pk) for pk in version_ids]
    if not ids:
        return []
    links = ItemLink.objects.filter(
        target_type=ContentType.objects.get_for_model(ModelVersion), target_id__in=ids
    )
    items = BacklogItem.objects.filter(
        kind=Kind.DRIFT_ALERT, status__in=OPEN, pk__in=links.values("item_id")
    )
    fields = ("id", "title", "status", "priority", "created_at", "updated_at")
    return list(items.only(*fields).order_by("priority", "-pk")[:ALERTS_SHOWN])


def _unmonitored(model: RegisteredModel, monitored: list[int]) -> list[ModelVersion]:
    versions = ModelVersion.objects.filter(model=model).exclude(pk__in=monitored)
    found = list(
        versions.only("id", "model_id", "version", "status", "sort_key").order_by("-sort_key")[
            :UNMONITORED_SHOWN
        ]
    )
    for version in found:
        version.model = model
    return found
