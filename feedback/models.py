"""API keys, logged predictions, feedback on them, and business outcomes.

A prediction has two rows. ``PredictionKey`` is its identity (model + the client's
prediction id, unique), small and never partitioned, so idempotency holds across time
partitions and feedback can point at it with a foreign key, even before the prediction is
logged. ``PredictionLog`` holds what was predicted; on PostgreSQL it is range-partitioned
by ``predicted_at`` (``feedback.partitions``), so retention drops whole months.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.jobs import Job
from portal.models import Team
from registry.models import ModelVersion, RegisteredModel


class Scope(models.TextChoices):
    PREDICTIONS = "predictions:write", "Log predictions and outcomes"
    FEEDBACK = "feedback:write", "Send feedback"
    READ = "read", "Read predictions and feedback"
    # The CD pipeline: read what should run where and report deployment status.
    DEPLOYMENTS = "deployments:write", "Report deployments (CD pipeline)"


class ApiKey(models.Model):
    """A key for production services and product pages: one model, or every model of a team.

    Only a SHA-256 digest of the key is stored; the prefix finds it and shows in lists.
    """

    name = models.CharField(max_length=80)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    # None: every model of the team, now and later.
    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = models.JSONField(default=list)
    # Browser pages that may use the key (the widget); empty: servers only.
    allowed_origins = models.JSONField(default=list, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def covers(self, model: RegisteredModel) -> bool:
        """Whether the key may act on ``model``."""
        if self.model_id is not None:
            return self.model_id == model.pk
        return model.team_id == self.team_id


class PredictionKey(models.Model):
    """The identity of one logged (or announced) prediction: unique per model."""

    # No constraints of their own: the statement that writes a key writes its log row with
    # the same model and version, whose constraints refuse the pair (saving two lookups a
    # row on the ingest path); deletes still cascade through the ORM. The unique constraint
    # below indexes the model.
    model = models.ForeignKey(
        RegisteredModel,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    prediction_id = models.CharField(max_length=200)
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    predicted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "prediction_id"], name="one_prediction_id")
        ]
        # Retention deletes identities by age, a batch at a time (services.retention).
        indexes = [models.Index(fields=["predicted_at"], name="prediction_key_age")]

    def __str__(self) -> str:
        return f"{self.prediction_id} of {self.model_id}"


class PredictionLog(models.Model):
    """What a model version predicted, from which inputs, when; as the service sent it.

    On PostgreSQL the table is partitioned by month of ``predicted_at`` and its primary key
    is (id, predicted_at); ``id`` alone is still unique (one identity sequence).
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    prediction_id = models.CharField(max_length=200)
    predicted_at = models.DateTimeField()
    received_at = models.DateTimeField()
    features = models.JSONField()
    # {"label": "…"} or {"value": 1.5}, with optional {"probabilities": {"label": p}}.
    output = models.JSONField()
    label = models.CharField(max_length=200, blank=True)  # the output label, for analysis
    value = models.FloatField(null=True, blank=True)  # the output value, for regression
    latency_ms = models.FloatField(null=True, blank=True)
    # Personal data: erased with the end user (``services.erasure``).
    end_user = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    contract_violation = models.BooleanField(default=False)
    violations = models.JSONField(default=list, blank=True)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["version", "predicted_at"], name="prediction_window"),
            models.Index(fields=["model", "predicted_at"], name="prediction_model_window"),
            models.Index(fields=["model", "prediction_id"], name="prediction_lookup"),
            models.Index(fields=["end_user"], name="prediction_end_user"),
        ]

    def __str__(self) -> str:
        return f"{self.prediction_id} ({self.predicted_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("feedback:prediction", args=[self.model.name, self.prediction_id])


class FeedbackKind(models.TextChoices):
    THUMBS = "thumbs", "Thumbs up or down"
    RATING = "rating", "Rating 1-5"
    LABEL = "label", "Corrected label"
    VALUE = "value", "Corrected value"
    COMMENT = "comment", "Comment"


class FeedbackSource(models.TextChoices):
    API = "api", "API"
    WIDGET = "widget", "Widget"
    PORTAL = "portal", "Portal"


# Feedback that still holds personal data: free text or the end user's id.
PERSONAL = ~models.Q(comment="") | ~models.Q(end_user="")


class Feedback(models.Model):
    """What a person said about a prediction. It may arrive before the prediction is
    logged: ``prediction_key`` is set as soon as both exist."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="+")
    prediction_id = models.CharField(max_length=200)
    # Set when the prediction is logged (``prediction_id`` is the client's id).
    prediction_key = models.ForeignKey(
        PredictionKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    kind = models.CharField(max_length=10, choices=FeedbackKind.choices)
    # thumbs: 1 up, 0 down; rating: 1-5; value: the corrected value.
    score = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=200, blank=True)  # the corrected label
    # Personal data: free text and the pseudonymous end user, erased on request.
    comment = models.TextField(blank=True)
    end_user = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=FeedbackSource.choices)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_feedback_per_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["model", "-created_at"], name="feedback_inbox"),
            models.Index(fields=["model", "prediction_id"], name="feedback_prediction"),
            models.Index(fields=["end_user"], name="feedback_end_user"),
            # Only rows still holding personal data, so retention finds them without reading
            # the old feedback it already cleared (services.retention).
            models.Index(fields=["created_at"], condition=PERSONAL, name="feedback_personal_age"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.prediction_id}"


class Outcome(models.Model):
    """A business result of a prediction, reported later (``converted`` = 1)."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="+")
    prediction_id = models.CharField(max_length=200)
    prediction_key = models.ForeignKey(
        PredictionKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    name = models.CharField(max_length=100)
    value = models.FloatField()
    happened_at = models.DateTimeField()
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "prediction_id", "name"], name="one_outcome_per_name"
            )
        ]
        indexes = [models.Index(fields=["model", "name", "happened_at"], name="outcome_trend")]

    def __str__(self) -> str:
        return f"{self.name}={self.value} for {self.prediction_id}"


class RetentionRun(Job):
    """One pass of retention: prediction logs, their identities and the personal data of
    feedback older than ``cutoff`` are removed (``services.retention``), with the counts."""

    retention_days = models.PositiveIntegerField()
    cutoff = models.DateTimeField()
    # On PostgreSQL whole months go at once; their rows are not counted one by one.
    partitions_dropped = models.JSONField(default=list, blank=True)
    predictions_deleted = models.PositiveBigIntegerField(default=0)
    keys_deleted = models.PositiveBigIntegerField(default=0)
    comments_deleted = models.PositiveBigIntegerField(default=0)
    feedback_cleared = models.PositiveBigIntegerField(default=0)

    task_name = "feedback.tasks.apply_retention_task"
    activity = "deleting old predictions and feedback"
    audit_prefix = "retention."

    class Meta:
        ordering = ["-queued_at", "-pk"]

    def __str__(self) -> str:
        return f"retention before {self.cutoff:%Y-%m-%d}"

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "partitions_dropped": self.partitions_dropped,
            "predictions_deleted": self.predictions_deleted,
            "keys_deleted": self.keys_deleted,
            "comments_deleted": self.comments_deleted,
            "feedback_cleared": self.feedback_cleared,
        }
