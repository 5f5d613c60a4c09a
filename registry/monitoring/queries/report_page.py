"""The read path of a drift report's page and of a column's histograms: the report with
its version, config, reference, alert and starter in one query; the columns are a JSON
field of that row, and their histograms are drawn one at a time by the column partial."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from portal.jobs import JobStatus
from registry.monitoring import charts
from registry.monitoring.models import DriftReport, WindowSource
from registry.monitoring.queries.common import (
    MODE_NAMES,
    TEST_NAMES,
    VERSION_TEXT_FIELDS,
    number,
    percent,
)
from registry.monitoring.queries.verdicts import Verdict, verdict_of
from registry.monitoring.selection import StatTest


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
