"""Datasets (profiled on a worker), input mappings, evaluations (run on a worker) and
quality gates with their results and overrides.

Datasets and evaluations are rows of the platform's job model (``portal.jobs.Job``): the
row is the job, and the result lands on it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.jobs import Job
from portal.models import Team
from registry.models import ModelVersion, RegisteredModel


class DatasetKind(models.TextChoices):
    TRAINING = "training", "Training"
    EVALUATION = "evaluation", "Evaluation"
    REFERENCE = "reference", "Reference"


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


def dataset_path(instance: Dataset, filename: str) -> str:
    # Server-generated name: the client's file name never reaches the file system.
    return f"datasets/{instance.team_id}/{instance.sha256}.{instance.file_format}"


class Dataset(Job):
    """A data file people evaluate on or compare with; the row is also its profiling job."""

    name = models.SlugField(max_length=100)
    version = models.CharField(max_length=64, help_text="e.g. 2026-11 or 3")
    kind = models.CharField(max_length=16, choices=DatasetKind.choices)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="datasets")
    file = models.FileField(upload_to=dataset_path, max_length=300)
    file_format = models.CharField(max_length=8, choices=DatasetFormat.choices)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The profile, once the job has run: rows, and per column its type, nulls, distinct
    # values, statistics and a compact histogram (``profiling.ColumnProfile.as_json``).
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    columns = models.JSONField(default=list, blank=True)

    task_name = "registry.evaluation.tasks.profile_dataset_task"
    activity = "profiling"
    audit_prefix = "dataset.profile_"
    retry_hint = "Check that the file opens in pyarrow on your machine, then upload it again."

    class Meta:
        ordering = ["name", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="one_dataset_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("datasets:dataset", args=[self.name, self.version])

    def column_names(self) -> list[str]:
        return [str(column["name"]) for column in self.columns]


class InputMapping(models.Model):
    """How dataset columns (or request fields) feed a version's ONNX graph, and how its
    outputs read: drafted from the contract and the graph's signature, then edited.

    ``inputs``: one entry per ONNX input, in the graph's order:
    ``{"name": "features", "dtype": "float32", "columns": ["age", "income", ...]}``
    (a column list of one for a per-column input).
    ``outputs``: ``{"label": "<output name>", "scores": "<output name or ''>",
    "classes": ["<label of score column 0>", ...]}``; ``classes`` empty for regression.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="input_mapping"
    )
    inputs = models.JSONField(default=list)
    outputs = models.JSONField(default=dict)
    drafted = models.BooleanField(default=True, help_text="Drafted, not yet edited by a person")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"input mapping of {self.version}"

    def columns(self) -> list[str]:
        """Every dataset column the graph reads, in order."""
        return [column for entry in self.inputs for column in entry["columns"]]


class TaskKind(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    REGRESSION = "regression", "Regression"


class Evaluation(Job):
    """A version measured on a dataset; the row is also the job that measures it."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="evaluations")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="evaluations")
    label_column = models.CharField(max_length=200)
    slice_columns = models.JSONField(default=list, blank=True)
    # Versions without an artifact: the dataset column holding their predictions.
    prediction_column = models.CharField(max_length=200, blank=True)
    task_kind = models.CharField(max_length=16, choices=TaskKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Results (``metrics.EvaluationResult.as_json``): set together when the job succeeds.
    rows = models.PositiveBigIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)  # name → value, higher or lower better
    per_class = models.JSONField(default=dict, blank=True)  # class → {precision, recall, ...}
    curves = models.JSONField(default=dict, blank=True)  # confusion, roc, pr, calibration, ...
    importance = models.JSONField(default=list, blank=True)  # [{column, drop, spread}]
    slices = models.JSONField(default=list, blank=True)  # [{column, value, rows, metrics}]
    latency = models.JSONField(default=dict, blank=True)  # {"p50_ms": …, "p95_ms": …}

    task_name = "registry.evaluation.tasks.run_evaluation_task"
    activity = "evaluating"
    audit_prefix = "evaluation."
    retry_hint = "Check the input mapping and the dataset's columns, then start it again."

    class Meta:
        ordering = ["-queued_at", "-pk"]
        indexes = [models.Index(fields=["version", "-queued_at"], name="evaluations_of_version")]

    def __str__(self) -> str:
        return f"evaluation {self.pk} of {self.version} on {self.dataset}"

    def get_absolute_url(self) -> str:
        return reverse(
            "evaluation:evaluation", args=[self.version.model.name, self.version.version, self.pk]
        )


class RuleKind(models.TextChoices):
    METRIC = "metric", "Metric threshold"
    RELATIVE = "relative", "No worse than production"
    CARD = "card", "Card completeness"
    CONTRACT = "contract", "No unacknowledged breaking contract change"
    LATENCY = "latency", "Latency p95"


class Comparator(models.TextChoices):
    GE = ">=", "≥"
    GT = ">", ">"
    LE = "<=", "≤"
    LT = "<", "<"


class QualityGate(models.Model):
    """One rule a version must meet to be released: a model's own, or a team-wide default
    (``model`` empty) that every model of the team inherits."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="quality_gates")
    model = models.ForeignKey(
        RegisteredModel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quality_gates",
    )
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    metric = models.CharField(max_length=64, blank=True)  # metric and relative rules
    comparator = models.CharField(max_length=2, choices=Comparator.choices, default=">=")
    # metric: the bar; relative: the largest allowed loss against production; card: the
    # percentage; latency: milliseconds.
    threshold = models.FloatField()
    slice_column = models.CharField(max_length=200, blank=True)  # "on every slice of …"
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "metric", "pk"]

    def __str__(self) -> str:
        return describe_rule(self)


def describe_rule(rule: QualityGate) -> str:
    """The rule as people say it: "f1_macro ≥ 0.85 on every slice of region"."""
    symbol = Comparator(rule.comparator).label
    if rule.kind == RuleKind.METRIC:
        text = f"{rule.metric} {symbol} {rule.threshold:g}"
        return f"{text} on every slice of {rule.slice_column}" if rule.slice_column else text
    if rule.kind == RuleKind.RELATIVE:
        return f"{rule.metric} no worse than production by more than {rule.threshold:g}"
    if rule.kind == RuleKind.CARD:
        return f"card completeness ≥ {rule.threshold:g}%"
    if rule.kind == RuleKind.LATENCY:
        return f"latency p95 ≤ {rule.threshold:g} ms"
    return "no breaking contract change without an acknowledged note"


class GateOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NOT_EVALUABLE = "not_evaluable", "Not evaluable"


class GateResult(models.Model):
    """How one rule judged one version, from one evaluation (or none, for rules that need
    no evaluation); the latest result per rule and version is the one that counts."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="gate_results")
    gate = models.ForeignKey(QualityGate, on_delete=models.CASCADE, related_name="results")
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="gate_results"
    )
    rule = models.CharField(max_length=300)  # as the rule read when it judged
    outcome = models.CharField(max_length=16, choices=GateOutcome.choices)
    observed = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["version", "gate", "-created_at"], name="gate_results")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.outcome}"


class GateOverride(models.Model):
    """An approver's decision that a version may be released although its gates fail."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="gate_overrides"
    )
    justification = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The failing results it overrode: a new failure after it needs a new override.
    results = models.ManyToManyField(GateResult, related_name="overrides", blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"override of {self.version} by {self.by}"


class ContractAcknowledgement(models.Model):
    """A person's note that a version's breaking contract changes are known and handled
    (clients told, a migration planned): what the contract gate asks for."""

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="contract_acknowledgement"
    )
    note = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"breaking contract change of {self.version} acknowledged"


def result_json(value: Any) -> Any:
    """JSON fields hold plain floats: NaN and infinities (an undefined metric) become None."""
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, dict):
        return {str(k): result_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [result_json(v) for v in value]
    return value
