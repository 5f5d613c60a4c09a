"""Experiments, their runs, and what a run logs: params, tags and metric series."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.models import Team


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    KILLED = "killed", "Killed"


class Direction(models.TextChoices):
    MAX = "max", "Higher is better"
    MIN = "min", "Lower is better"


class Experiment(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="experiments")
    # The registered model the experiment's runs train, when there is one.
    model = models.ForeignKey(
        "registry.RegisteredModel",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="experiments",
    )
    # Which way is better, per metric key ("max" unless said otherwise).
    metric_directions = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def direction(self, key: str) -> str:
        return str(self.metric_directions.get(key, Direction.MAX))


class Run(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    git_commit = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    notes_html = models.TextField(blank=True, editable=False)
    # [{"name": "train.parquet", "sha256": "…", "role": "training"}]
    datasets = models.JSONField(default=list, blank=True)
    python_version = models.CharField(max_length=40, blank=True)
    # The frozen package list the client sent: pip freeze / requirements.txt or conda YAML.
    packages = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["experiment", "-started_at"], name="run_by_experiment")]

    def __str__(self) -> str:
        return self.name or f"run {self.pk}"


class Param(models.Model):
    """A hyperparameter as logged: a string, never changed once logged."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=250)
    value = models.CharField(max_length=6000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="one_value_per_param")]
        indexes = [models.Index(fields=["key", "value"], name="param_search")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class RunTag(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.CharField(max_length=5000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="one_value_per_tag")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class MetricChunk(models.Model):
    """Points of one metric of one run, as one batch logged them, packed as arrays.

    A batch of 10,000 points is one row per metric key rather than 10,000 rows, so logging
    writes, and charts read, a few rows. ``registry.experiments.series`` packs and reads them.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=250)
    first_step = models.BigIntegerField()
    last_step = models.BigIntegerField()
    count = models.IntegerField()
    steps = models.BinaryField()  # little-endian int64, in the order logged
    values = models.BinaryField()  # little-endian float64
    timestamps = models.BinaryField()  # little-endian int64: milliseconds since the epoch

    class Meta:
        indexes = [models.Index(fields=["run", "key", "first_step"], name="metric_chunks")]

    def __str__(self) -> str:
        return f"{self.key}@{self.first_step}-{self.last_step} ({self.count} points)"


class MetricSummary(models.Model):
    """Last, min, max and count of one metric of one run, kept up to date on every write."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="summaries")
    key = models.CharField(max_length=250)
    last = models.FloatField()
    last_step = models.BigIntegerField()
    last_timestamp = models.DateTimeField()
    min = models.FloatField()
    max = models.FloatField()
    count = models.BigIntegerField()
    # What charts draw of the series: its first, last, lowest and highest points
    # (registry.experiments.sketch), so a chart of 100k points reads ~200.
    sketch = models.JSONField(default=dict)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="one_summary_per_metric")
        ]
        # Run search: "metrics.accuracy > 0.9" reads this index, not every run.
        indexes = [models.Index(fields=["key", "last"], name="metric_search")]

    def __str__(self) -> str:
        return f"{self.key}: last {self.last}"


class Promotion(models.Model):
    """A finished run registered as a model version: where that version came from."""

    # PROTECT: a version's provenance outlives any clean-up of old runs.
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="promotions")
    version = models.OneToOneField(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="promotion"
    )
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    promoted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-promoted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.run} → {self.version}"
