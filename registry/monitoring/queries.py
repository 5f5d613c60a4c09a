"""Read paths of the monitoring pages: one function per page, a fixed number of queries
however many reports, columns or versions there are (pinned in tests/monitoring/test_pages.py).

- the report page reads the report with its version, config, reference, alert and starter in
  one query; its columns are a JSON field of that row, and their histograms are drawn
  one at a time by the column partial;
- the model's monitoring page reads the configs (each with the keys of its latest report and
  latest succeeded report), those reports, the newest reports, the points of the share chart,
  the open drift alerts and a few unmonitored versions: a query each, light columns only;
- the model page's drift badge is a subquery per version on the (version, -window_end) index,
  riding along with the registry's version query (``drift_state_value``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from portal.backlog.choices import OPEN, Kind
from portal.backlog.models import BacklogItem, ItemLink
from portal.jobs import JobStatus
from registry.choices import VersionStatus
from registry.evaluation.models import Dataset, DatasetKind
from registry.models import ModelVersion, RegisteredModel
from registry.monitoring import charts
from registry.monitoring.models import DriftReport, MonitoringConfig, WindowSource
from registry.monitoring.selection import ColumnKind, Mode, StatTest
from registry.monitoring.services.configs import default_columns

RECENT_REPORTS = 20  # rows of the monitoring page's report table
CHART_POINTS = 500  # the newest reports drawn on the share chart
UNMONITORED_SHOWN = 5  # versions offered for setting up on the monitoring page
ALERTS_SHOWN = 20
DATASETS_LISTED = 200  # choices of the settings form's reference and current dataset

TEST_NAMES: dict[str, str] = {
    StatTest.KS: "Kolmogorov-Smirnov",
    StatTest.CHISQUARE: "Chi-square",
    StatTest.Z: "Z-test (two proportions)",
    StatTest.WASSERSTEIN: "Wasserstein (normed)",
    StatTest.JENSENSHANNON: "Jensen-Shannon",
    StatTest.PSI: "PSI",
    StatTest.KL_DIV: "KL divergence",
    StatTest.HELLINGER: "Hellinger",
    StatTest.ANDERSON: "Anderson-Darling",
    StatTest.NONE: "none",
}
MODE_NAMES: dict[str, str] = {
    Mode.TWO_SAMPLE: "Two-sample tests",
    Mode.EVIDENTLY: "Evidently-compatible",
}

# What the monitoring page shows of a report: not its columns and their histograms.
LIGHT_REPORT_FIELDS = (
    *("id", "version_id", "window_start", "window_end", "trigger", "status", "progress"),
    *("share", "drifted", "drifted_columns", "alert_id", "cancel_requested", "queued_at"),
)
# A version's contract, notes and examples: never shown on the monitoring pages.
VERSION_TEXT_FIELDS = (
    *("input_schema", "output_schema", "notes", "notes_html"),
    *("example_request", "example_response"),
)


# Verdicts ---------------------------------------------------------------------------------


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


# Numbers as the pages show them ----------------------------------------------------------


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    if not isfinite(value):
        return "∞"
    return f"{value:.{digits}g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


# The report page --------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRow:
    """A row of the report's column table, ready to show."""

    index: int  # its position in ``report.columns``: the column partial's key
    name: str
    critical: bool
    kind: str
    test: str
    statistic: str
    p_value: str
    threshold: str
    drifted: bool
    compared: bool  # a test ran (a degenerate column has none)
    note: str
    error_bound: str  # "" when exact
    band: str  # PSI's band, or ""


def column_row(index: int, column: Mapping[str, Any]) -> ColumnRow:
    test = str(column.get("test") or StatTest.NONE)
    return ColumnRow(
        index=index,
        name=str(column.get("name", "")),
        critical=bool(column.get("critical")),
        kind=str(column.get("kind", "")),
        test=TEST_NAMES.get(test, test),
        statistic=number(column.get("statistic")),
        p_value=number(column.get("p_value"), 3),
        threshold=number(column.get("threshold"), 3),
        drifted=bool(column.get("drifted")),
        compared=test != StatTest.NONE,
        note=str(column.get("note") or ""),
        error_bound=_error_bound(column),
        band=str(column.get("band") or ""),
    )


def _error_bound(column: Mapping[str, Any]) -> str:
    if column.get("exact", True):
        return ""
    bound = column.get("error_bound")
    # The JSON keeps no infinity: an approximate statistic without a bound has None.
    return f"± {number(bound, 2)}" if bound is not None else "approximate, no bound"


@dataclass(frozen=True)
class ReportPage:
    report: DriftReport
    verdict: Verdict
    threshold: float  # the config's drift share now (the report does not keep the one it used)
    columns: list[ColumnRow]
    critical_drifted: list[str]
    prediction: ColumnRow | None
    figures: dict[str, dict[str, Any]]  # "prediction", "target", "accuracy" when present
    target: ColumnRow | None
    target_note: str
    accuracy: Mapping[str, Any]

    @property
    def mode(self) -> str:
        return MODE_NAMES.get(self.report.mode, self.report.mode)

    @property
    def compared(self) -> int:
        return len(self.columns)

    @property
    def drifted_count(self) -> int:
        return len(self.report.drifted_columns or [])

    @property
    def share(self) -> str:
        return percent(self.report.share)

    @property
    def threshold_text(self) -> str:
        return percent(self.threshold)

    @property
    def slope_text(self) -> str:
        """The accuracy trend's slope in percentage points a day."""
        slope = self.accuracy.get("slope_per_day")
        return "—" if slope is None else f"{slope * 100:+.2f} points"

    @property
    def trend_p_text(self) -> str:
        return number(self.accuracy.get("p_value"), 3)

    @property
    def reference(self) -> Any:
        return self.report.config.reference

    @property
    def current(self) -> Any:
        """The dataset compared, when the window came from one rather than the logs."""
        return self.report.config.current if self.report.source == WindowSource.DATASET else None


def report_queryset() -> QuerySet[DriftReport]:
    """A report with everything its page names, in one query; the datasets' profiles and
    the version's contract stay behind."""
    return DriftReport.objects.select_related(
        "version__model__team", "config__reference", "config__current", "alert", "started_by"
    ).defer(
        "config__reference__columns",
        "config__current__columns",
        *(f"version__{field}" for field in VERSION_TEXT_FIELDS),
    )


def report_page(report: DriftReport) -> ReportPage:
    """What the report page shows of a report read through ``report_queryset``: no query."""
    succeeded = report.phase == JobStatus.SUCCEEDED
    columns = [column_row(i, c) for i, c in enumerate(report.columns or [])] if succeeded else []
    critical = [row.name for row in columns if row.critical and row.drifted]
    prediction = (report.predictions or [None])[0] if succeeded else None
    target = report.target or {} if succeeded else {}
    figures: dict[str, dict[str, Any]] = {}
    if prediction and (figure := charts.histogram_chart(prediction)):
        figures["prediction"] = figure
    if target.get("test") and (figure := charts.histogram_chart(target)):
        figures["target"] = figure
    accuracy = report.accuracy or {} if succeeded else {}
    if figure := charts.accuracy_chart(accuracy):
        figures["accuracy"] = figure
    return ReportPage(
        report=report,
        verdict=verdict_of(phase=report.phase, drifted=report.drifted, critical=bool(critical)),
        threshold=report.share_threshold or report.config.drift_share,
        columns=columns,
        critical_drifted=critical,
        prediction=column_row(0, prediction) if prediction else None,
        figures=figures,
        target=column_row(0, target) if target.get("test") else None,
        target_note=str(target.get("note") or ""),
        accuracy=accuracy,
    )


@dataclass(frozen=True)
class ColumnChart:
    """One column's overlaid histograms, for the column partial."""

    row: ColumnRow
    figure: dict[str, Any] | None
    shares: list[charts.Share]

    @property
    def element_id(self) -> str:
        return f"column-{self.row.index}-chart"


def column_chart(report: DriftReport, index: int) -> ColumnChart:
    """Column ``index`` of the report's columns; IndexError when it has no such column."""
    if index < 0:
        raise IndexError(index)
    column = (report.columns or [])[index]
    return ColumnChart(
        row=column_row(index, column),
        figure=charts.histogram_chart(column),
        shares=charts.histogram_shares(column),
    )


# The model's monitoring page ------------------------------------------------------------


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


# The settings page ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigPage:
    config: MonitoringConfig | None
    datasets: list[Dataset]  # the choices, reference datasets first, without profiles
    reference: Dataset | None  # the one the column rows come from, with its profile
    rows: list[dict[str, Any]]  # the column table's initial rows
    paths: dict[str, list[str]]  # where each column sits in a logged request

    @property
    def reference_columns(self) -> list[str]:
        return sorted(self.reference.column_names()) if self.reference else []


def config_page(version: ModelVersion, *, wanted: str | None = None) -> ConfigPage:
    """The version's settings, the datasets to choose from and the column rows of the
    reference ``wanted`` (a primary key from the form), else the saved or the first one."""
    config = (
        MonitoringConfig.objects.filter(version=version)
        .select_related("reference", "current")
        .defer("reference__columns", "current__columns")
        .first()
    )
    datasets = team_datasets(version)
    if config is not None and config.reference_id not in {d.pk for d in datasets}:
        datasets.append(config.reference)  # another team's, or past the list's end
    by_pk = {dataset.pk: dataset for dataset in datasets}
    asked = _pk(wanted)
    chosen = by_pk.get(asked) if asked is not None else None
    chosen = chosen or (config.reference if config else None)
    if chosen is None and datasets:
        chosen = datasets[0]
    reference = Dataset.objects.get(pk=chosen.pk) if chosen else None  # with its profile
    if reference is None:
        return ConfigPage(config, datasets, None, [], {})
    defaults = default_columns(version, reference)
    present = set(reference.column_names())
    saved = [c for c in (config.columns if config else []) if c["name"] in present]
    paths = {c["name"]: list(c.get("path") or [c["name"]]) for c in [*defaults, *saved]}
    return ConfigPage(config, datasets, reference, column_rows(saved, defaults), paths)


def _pk(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def team_datasets(version: ModelVersion) -> list[Dataset]:
    """The profiled datasets of the model's team, reference datasets first, without their
    profiles (the select needs names only)."""
    first = Case(
        When(kind=DatasetKind.REFERENCE, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    listed = Dataset.objects.filter(
        team_id=version.model.team_id, status=Dataset.status_of(JobStatus.SUCCEEDED)
    ).only("pk", "name", "version", "kind", "created_at")
    ordered = listed.annotate(reference_first=first)
    return list(ordered.order_by("reference_first", "name", "-created_at")[:DATASETS_LISTED])


def column_rows(
    saved: Sequence[Mapping[str, Any]], defaults: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A row per saved column (monitored), then per default column not saved (monitored
    only when nothing is saved yet)."""
    rows = [{**column, "include": True} for column in saved]
    have = {column["name"] for column in saved}
    rows += [{**c, "include": not saved} for c in defaults if c["name"] not in have]
    return [
        {
            "name": row["name"],
            "include": row["include"],
            "kind": row.get("kind") or ColumnKind.CATEGORICAL,
            "test": row.get("test") or "",
            "threshold": row.get("threshold"),
            "critical": bool(row.get("critical")),
        }
        for row in rows
    ]
