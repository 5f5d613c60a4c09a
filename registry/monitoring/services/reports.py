"""Drift reports: started by beat, a person or the API; run on a worker; cancelled.

A run reads the reference and the current window a chunk at a time and writes every result
in one save at the end, with the alert in the same transaction: a run killed half-way
leaves nothing behind, so a redelivered task starts over and the window ends with exactly
one report (the (config, window) key makes a second start find the first).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.analysis import Window as Days
from feedback.analysis import daily_judgements
from portal.jobs import JobStatus
from portal.services.audit import record_event
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    fail_job,
    record_success,
    report_progress,
    request_cancel,
    running_job,
)
from registry.evaluation import datafiles
from registry.monitoring.comparison import (
    Collected,
    accumulate,
    collect,
    compare_bounded,
    compare_exact,
    ranked,
)
from registry.monitoring.models import DriftReport, MonitoringConfig, Schedule, WindowSource
from registry.monitoring.permissions import require_monitor
from registry.monitoring.reading import (
    PREDICTION,
    Chunk,
    Column,
    Window,
    corrected_labels,
    dataset_chunks,
    log_chunks,
    logged_rows,
    output_kind,
)
from registry.monitoring.selection import ColumnKind, Mode
from registry.monitoring.services.references import reference_summaries
from registry.monitoring.stats import ColumnResult, accuracy_trend, column_drift, dataset_drift
from registry.monitoring.windows import window_of

PROGRESS_SECONDS = 1.0
REFERENCE_SHARE, READ_SHARE = 20, 90  # percent of the bar at the end of each step
TREND_DAYS = 14
TARGET = "target"
RESULT_FIELDS = [
    "bounded",
    "reference_rows",
    "current_rows",
    "columns",
    "predictions",
    "target",
    "accuracy",
    "drifted",
    "share",
    "share_threshold",
    "drifted_columns",
    "notes",
    "duration_seconds",
]


class DriftFailed(Exception):
    """The report cannot be made as set up; the message says what a person can change."""


# Starting -------------------------------------------------------------------------------


def start_report(
    *, actor: Any, config: MonitoringConfig, trigger: str, now: datetime | None = None
) -> tuple[DriftReport, bool]:
    """Queue the report of the window ``trigger`` names, or find the one already there;
    ``actor`` None is the schedule. Returns (report, whether it is new)."""
    if actor is not None:
        require_monitor(actor, config.version)
    period = window_of(
        schedule=config.schedule,
        trigger=trigger,
        hours=config.window_hours,
        now=now or timezone.now(),
    )
    existing = DriftReport.objects.filter(config=config, window_key=period.key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            report = DriftReport.objects.create(
                config=config,
                version=config.version,
                window_key=period.key,
                window_start=period.start,
                window_end=period.end,
                trigger=trigger,
                source=config.source,
                mode=config.mode,
                started_by=actor if actor is not None else None,
            )
            record_event(
                actor=actor,
                verb=DriftReport.audit_verb("queued"),
                target=report,
                after={"window": period.key, "trigger": trigger},
            )
            enqueue_job(report)
    except IntegrityError:  # started at the same moment by another click or tick
        return DriftReport.objects.get(config=config, window_key=period.key), False
    return report, True


def schedule_due_reports(*, now: datetime | None = None) -> int:
    """Start this period's report of every scheduled config that has none yet."""
    started = 0
    configs = MonitoringConfig.objects.exclude(schedule=Schedule.MANUAL).select_related("version")
    for config in configs:
        _, created = start_report(actor=None, config=config, trigger="schedule", now=now)
        started += created
    return started


def cancel_report(*, actor: Any, report: DriftReport) -> DriftReport:
    require_monitor(actor, report.version)
    return request_cancel(job=report, actor=actor)


# Running --------------------------------------------------------------------------------


def run_report(*, report_id: int) -> DriftReport:
    """The task body: safe to run twice, after a crash, or next to another run."""
    report = claim_job(DriftReport, report_id)
    if report is not None:
        with running_job(report):
            try:
                outcome = _compare(report)
            except DriftFailed as exc:
                fail_job(report, reason=str(exc))
            except datafiles.UnreadableDataset as exc:
                fail_job(report, reason=f"The reference cannot be read: {exc}. {report.retry_hint}")
            else:
                _finish(report, outcome)
    return DriftReport.objects.get(pk=report_id)


@dataclass
class _Outcome:
    started: float = field(default_factory=time.monotonic)
    bounded: bool = False
    reference_rows: int | None = None
    current_rows: int | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    target: dict[str, Any] = field(default_factory=dict)
    accuracy: dict[str, Any] = field(default_factory=dict)
    drifted: bool | None = None
    share: float | None = None
    share_threshold: float | None = None
    drifted_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in RESULT_FIELDS if name != "duration_seconds"}
        return {**values, "duration_seconds": round(time.monotonic() - self.started, 3)}


@dataclass(frozen=True)
class _Plan:
    report: DriftReport
    config: MonitoringConfig
    columns: list[Column]
    window: Window
    outputs: bool  # prediction drift: the reference names a column of the model's outputs

    def reference_names(self) -> dict[str, str]:
        names = {c.name: c.name for c in self.columns}
        if self.outputs:
            names[self.config.prediction_column] = PREDICTION
        if self.config.target_column:
            names[self.config.target_column] = TARGET
        return names

    def current_names(self) -> dict[str, str]:
        names = {c.name: c.name for c in self.columns}
        if self.outputs and self.config.prediction_column:
            names[self.config.prediction_column] = PREDICTION
        return names

    def output_column(self) -> Column:
        kind = output_kind(self.config.version)
        return Column(name=PREDICTION, kind=kind, path=())


def _compare(report: DriftReport) -> _Outcome:
    outcome = _Outcome()
    plan = _plan(report)
    report_progress(report, 0, "Counting the window's rows")
    outcome.current_rows = _current_rows(plan)
    outcome.reference_rows = plan.config.reference.row_count
    if not outcome.current_rows:
        outcome.notes.append(_empty_note(plan))
        return outcome
    outcome.bounded = outcome.current_rows > settings.HANDOFF_DRIFT_EXACT_ROWS
    compared = plan.columns + ([plan.output_column()] if plan.outputs else [])
    progress = _Progress(report, outcome.current_rows)
    if outcome.bounded:
        results = _bounded(plan, compared, progress, outcome)
    else:
        results = _exact(plan, compared, progress, outcome)
    output = results.pop(PREDICTION, None)
    if output is not None:
        outcome.predictions = ranked({PREDICTION: output})
    critical = plan.config.critical_columns()
    outcome.columns = ranked(results, critical)
    verdict = dataset_drift(results, share=plan.config.drift_share)
    outcome.drifted, outcome.share = verdict.drifted, verdict.share
    outcome.share_threshold = verdict.threshold
    outcome.drifted_columns = verdict.drifted_columns
    if plan.config.source == WindowSource.LOGS:
        outcome.accuracy = _accuracy(plan)
    return outcome


def _plan(report: DriftReport) -> _Plan:
    config = MonitoringConfig.objects.select_related("version__model", "reference", "current").get(
        pk=report.config_id
    )
    columns = [Column.from_config(entry) for entry in config.columns]
    if not columns:
        raise DriftFailed("No columns are monitored: choose them in the monitoring settings.")
    reference = config.reference
    if reference.phase != JobStatus.SUCCEEDED:
        raise DriftFailed(f"The reference {reference} is not profiled: upload it again.")
    have = set(reference.column_names())
    wanted = [c.name for c in columns]
    for extra in (config.prediction_column, config.target_column):
        if extra:
            wanted.append(extra)
    missing = [name for name in wanted if name not in have]
    if missing:
        raise DriftFailed(f"The reference {reference} lacks the columns {', '.join(missing)}.")
    outputs = bool(config.prediction_column)
    if config.source == WindowSource.DATASET:
        if config.current is None:
            raise DriftFailed("No current dataset is chosen in the monitoring settings.")
        outputs = outputs and config.prediction_column in set(config.current.column_names())
    window = Window(config.version, report.window_start, report.window_end)
    return _Plan(report, config, columns, window, outputs)


def _current_rows(plan: _Plan) -> int:
    if plan.config.source == WindowSource.DATASET:
        assert plan.config.current is not None
        return plan.config.current.row_count or 0
    return logged_rows(plan.window)


def _current_chunks(plan: _Plan) -> Iterator[Chunk]:
    if plan.config.source == WindowSource.DATASET:
        assert plan.config.current is not None
        return dataset_chunks(plan.config.current, plan.current_names())
    return log_chunks(plan.window, plan.columns, outputs=plan.outputs)


def _exact(
    plan: _Plan, compared: list[Column], progress: _Progress, outcome: _Outcome
) -> dict[str, ColumnResult]:
    names = [c.name for c in compared]
    report_progress(plan.report, 0, "Reading the reference")
    reference = collect(
        dataset_chunks(plan.config.reference, plan.reference_names()),
        [*names, *([TARGET] if plan.config.target_column else [])],
        lambda rows: None,
    )
    if plan.config.target_column and plan.config.source == WindowSource.LOGS:
        outcome.target = _target(plan, reference)
    current = collect(_current_chunks(plan), names, progress.rows)
    report_progress(plan.report, READ_SHARE, "Comparing the columns")
    return compare_exact(reference, current, compared, Mode(plan.config.mode))


def _bounded(
    plan: _Plan, compared: list[Column], progress: _Progress, outcome: _Outcome
) -> dict[str, ColumnResult]:
    report_progress(plan.report, 0, "Reading the reference summaries")
    summaries = reference_summaries(plan.config.reference, plan.columns)
    if plan.outputs:
        output = Column(name=plan.config.prediction_column, kind=compared[-1].kind, path=())
        summaries[PREDICTION] = reference_summaries(plan.config.reference, [output])[output.name]
    accumulators = accumulate(summaries, _current_chunks(plan), compared, progress.rows)
    report_progress(plan.report, READ_SHARE, "Comparing the columns")
    outcome.notes.append(
        f"{outcome.current_rows:,} rows: compared in bounded memory against the stored "
        "reference summary; a statistic that is not exact shows its error bound."
    )
    return compare_bounded(summaries, accumulators, compared, Mode(plan.config.mode))


def _target(plan: _Plan, reference: Collected) -> dict[str, Any]:
    """The labels people corrected in the window against the reference's true labels."""
    labels = corrected_labels(plan.window, limit=settings.HANDOFF_DRIFT_EXACT_ROWS)
    values = reference.column(TARGET)
    if not labels:
        return {"note": "No corrected labels were given on the window's predictions."}
    kind = output_kind(plan.config.version)
    if kind == ColumnKind.NUMERIC:
        return {"note": "Target drift compares labels; this model predicts values."}
    result = column_drift(values, labels, kind=kind, mode=Mode(plan.config.mode))
    return {"name": plan.config.target_column, **result.as_dict()}


def _accuracy(plan: _Plan) -> dict[str, Any]:
    days = Days.last(TREND_DAYS, plan.window.end)
    judged = daily_judgements(plan.config.version, days)
    trend = accuracy_trend(
        [day.day for day in judged], [day.correct for day in judged], [d.judged for d in judged]
    )
    return trend.as_dict()


def _empty_note(plan: _Plan) -> str:
    if plan.config.source == WindowSource.DATASET:
        return f"The current dataset {plan.config.current} has no rows: nothing to compare."
    start, end = (timezone.localtime(t) for t in (plan.window.start, plan.window.end))
    return (
        f"No predictions of {plan.config.version} were logged between {start:%Y-%m-%d %H:%M} "
        f"and {end:%Y-%m-%d %H:%M}: nothing to compare."
    )


class _Progress:
    """Rows read (and so a renewed lease and a noticed cancel) at most once a second."""

    def __init__(self, report: DriftReport, total: int) -> None:
        self.report, self.total = report, total
        self.last = time.monotonic()

    def rows(self, done: int) -> None:
        if time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        span = READ_SHARE - REFERENCE_SHARE
        percent = REFERENCE_SHARE + span * min(done, self.total) // max(self.total, 1)
        report_progress(self.report, percent, f"{done:,} of {self.total:,} rows")
        self.last = time.monotonic()


def _finish(run: DriftReport, outcome: _Outcome) -> DriftReport:
    """Every result in one save, and the alert in the same transaction."""
    from registry.monitoring.services.alerts import raise_alert

    with transaction.atomic():
        locked = record_success(
            run,
            results=outcome.values(),
            audit=lambda row: {
                "drifted": row.drifted,
                "share": row.share,
                "rows": row.current_rows,
            },
        )
        if locked is None:
            return DriftReport.objects.get(pk=run.pk)
        if locked.alerting:
            raise_alert(locked)
    return locked
