"""Drift monitoring: what to watch per model version, the stored reference summaries, and
the reports the workers write.

A report is a row of the platform's job model (``portal.jobs.Job``): the row is the job,
and the result lands on it. One report per (config, window): a task delivered twice, or
beat ticking twice in an hour, finds the report that is already there.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from portal.jobs import Job
from registry.evaluation.models import Dataset
from registry.models import ModelVersion
from registry.monitoring.selection import Mode

MAX_WINDOW_HOURS = 24 * 90


class Schedule(models.TextChoices):
    MANUAL = "manual", "Only when someone runs it"
    HOURLY = "hourly", "Every hour"
    DAILY = "daily", "Every day"


class WindowSource(models.TextChoices):
    LOGS = "logs", "Logged predictions"
    DATASET = "dataset", "An uploaded dataset"


class MonitoringConfig(models.Model):
    """What drift to watch for one version, against which reference, how often.

    ``columns``: one entry per feature compared, defaulting from the input contract:
    ``{"name": "age", "kind": "numeric", "test": "" (the default choice) or "psi", …,
    "threshold": null or 0.2, "critical": false}``. A critical column raises an alert on
    its own drift, whatever the share of drifted columns.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="monitoring"
    )
    reference = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    columns = models.JSONField(default=list)
    # Reference columns holding the model's outputs and the true labels, for prediction and
    # target drift; empty to leave them out.
    prediction_column = models.CharField(max_length=200, blank=True)
    target_column = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=8, choices=WindowSource.choices, default="logs")
    window_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_HOURS)]
    )
    current = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default="daily")
    drift_share = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.01), MaxValueValidator(1.0)]
    )
    mode = models.CharField(
        max_length=12,
        choices=[(Mode.TWO_SAMPLE, "Two-sample tests"), (Mode.EVIDENTLY, "Evidently-compatible")],
        default=Mode.TWO_SAMPLE,
    )
    webhook_url = models.URLField(blank=True, max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"drift monitoring of {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:model", args=[self.version.model.name])

    def critical_columns(self) -> list[str]:
        return [column["name"] for column in self.columns if column.get("critical")]


class ReferenceColumn(models.Model):
    """A reference dataset column's summary for the bounded mode
    (``sketch.ReferenceSummary.as_json``): computed once, read by every later report."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    column = models.CharField(max_length=200)
    kind = models.CharField(max_length=12)
    summary = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "column", "kind"], name="one_reference_summary"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset} · {self.column}"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run now"
    API = "api", "API"


class DriftReport(Job):
    """The current window of a version compared with its reference; also the job doing it."""

    config = models.ForeignKey(MonitoringConfig, on_delete=models.CASCADE, related_name="reports")
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="drift_reports"
    )
    window_key = models.CharField(max_length=40)  # one report per config and window
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    source = models.CharField(max_length=8, choices=WindowSource.choices)
    mode = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    # Results (set together when the job succeeds).
    bounded = models.BooleanField(default=False)  # read in bounded memory, not whole
    reference_rows = models.PositiveBigIntegerField(null=True, blank=True)
    current_rows = models.PositiveBigIntegerField(null=True, blank=True)
    # [{"name": …, **ColumnResult.as_dict(), "critical": bool}], the most drifted first.
    columns = models.JSONField(default=list, blank=True)
    predictions = models.JSONField(default=list, blank=True)  # the same, for the outputs
    target = models.JSONField(default=dict, blank=True)  # true labels from feedback, if any
    accuracy = models.JSONField(default=dict, blank=True)  # stats.AccuracyTrend.as_dict
    drifted = models.BooleanField(null=True, blank=True)
    share = models.FloatField(null=True, blank=True)
    share_threshold = models.FloatField(null=True, blank=True)  # the config's, when it ran
    drifted_columns = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    alert = models.ForeignKey(
        "backlog.BacklogItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    task_name = "registry.monitoring.tasks.run_drift_report_task"
    activity = "comparing with the reference"
    audit_prefix = "drift_report."
    retry_hint = "Check the reference dataset and the monitored columns, then run it again."

    class Meta:
        ordering = ["-window_end", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["config", "window_key"], name="one_report_per_window")
        ]
        indexes = [models.Index(fields=["version", "-window_end"], name="drift_reports_of_version")]

    def __str__(self) -> str:
        return f"drift report {self.pk} of {self.version}"

    def get_absolute_url(self) -> str:
        return reverse(
            "monitoring:report", args=[self.version.model.name, self.version.version, self.pk]
        )

    @property
    def alerting(self) -> bool:
        """Dataset drift, or a critical column drifted."""
        critical = {c["name"] for c in self.columns if c.get("critical") and c.get("drifted")}
        return bool(self.drifted) or bool(critical)
