"""Environments, release requests, approvals, deployments, canary steps, runbooks and the
webhooks that tell other systems about releases.

A model version reaches an environment only through a ReleaseRequest; every rule about who
may move one, and when, lives in ``services/``. A Deployment row says what runs where: the
newest live one per (environment, model) is the current deployment.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from portal.models import Team
from registry.choices import VersionStatus
from registry.models import ModelVersion, RegisteredModel
from registry.releases.choices import Check, Decision, ServingMode, State, Strategy


class Environment(models.Model):
    """Where versions run, and what a release into it needs."""

    name = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    # The status a version takes while it runs here: staging or production.
    version_status = models.CharField(
        max_length=16,
        choices=[(VersionStatus.STAGING, "Staging"), (VersionStatus.PRODUCTION, "Production")],
    )
    approvals_needed = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # Roles that must be among the approvers, each held by a different person.
    required_roles = models.JSONField(default=list, blank=True)
    gates_required = models.BooleanField(default=True)
    min_completeness = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    runbook_required = models.BooleanField(default=False)
    # Canary comparisons that block the next traffic step when the new version is worse:
    # "accuracy", "error_rate", "latency" or a business KPI's name.
    guarding_metrics = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("releases:list") + f"?environment={self.name}"


class Runbook(models.Model):
    """One revision of a model's operations runbook; the newest is the runbook."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="runbooks")
    revision = models.PositiveIntegerField()
    body = models.TextField()
    html = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revision"]
        constraints = [
            models.UniqueConstraint(fields=["model", "revision"], name="one_runbook_revision")
        ]

    def __str__(self) -> str:
        return f"runbook of {self.model.name}, revision {self.revision}"


class ReleaseRequest(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="releases")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="releases")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    strategy = models.CharField(max_length=8, choices=Strategy.choices, default=Strategy.FULL)
    # Canary: the traffic shares in percent, rising, the last 100.
    canary_steps = models.JSONField(default=list, blank=True)
    traffic_percent = models.PositiveSmallIntegerField(default=0)
    serving_mode = models.CharField(
        max_length=8, choices=ServingMode.choices, default=ServingMode.REALTIME
    )
    justification = models.TextField()
    justification_html = models.TextField()
    rollback_plan = models.TextField()
    # The checklist when the request was made: {"checks": [{"check", "ok", "required",
    # "overridden", "detail"}], ...}; the release page shows it next to the live one.
    checklist = models.JSONField(default=dict)
    breaking_acknowledged = models.BooleanField(default=False)
    runbook = models.ForeignKey(
        Runbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What ran in the environment when the request was made: the version it replaces.
    replaces = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    deployed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_message = models.TextField(blank=True)  # the CD pipeline's last word, or why

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "environment"], name="release_state_env"),
            models.Index(fields=["version", "environment"], name="release_version_env"),
        ]

    def __str__(self) -> str:
        return f"release {self.pk}: {self.version} to {self.environment.name}"

    def get_absolute_url(self) -> str:
        return reverse("releases:detail", args=[self.pk])

    @property
    def model(self) -> RegisteredModel:
        return self.version.model

    @property
    def is_canary_running(self) -> bool:
        return (
            self.state == State.DEPLOYED
            and self.strategy != Strategy.FULL
            and self.traffic_percent < 100
        )

    def next_step(self) -> int | None:
        """The next traffic share of a running canary (100 ends a shadow release)."""
        if not self.is_canary_running:
            return None
        if self.strategy == Strategy.SHADOW:
            return 100
        return next((step for step in self.canary_steps if step > self.traffic_percent), 100)


class Approval(models.Model):
    """One person's decision on a request. A dismissed approval (the version changed after
    it) no longer counts; the person may approve again."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True)
    roles = models.JSONField(default=list)  # the approver's roles when they decided
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "approver"],
                condition=Q(dismissed_at__isnull=True),
                name="one_live_decision_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.approver} on release {self.request_id}"


class ChecklistOverride(models.Model):
    """An approver's decision that a failing check may not block releases of the version
    into the environment."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="+")
    check_name = models.CharField(max_length=16, choices=Check.choices)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment", "check_name"], name="one_override_per_check"
            )
        ]

    def __str__(self) -> str:
        return f"override of {self.check_name} for {self.version} in {self.environment.name}"


class Deployment(models.Model):
    """A version running in an environment from ``started_at`` until ``ended_at``."""

    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="deployments"
    )
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    release = models.ForeignKey(
        ReleaseRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set on a rollback's deployment: the one it undid.
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "model"],
                condition=Q(ended_at__isnull=True),
                name="one_current_deployment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} in {self.environment.name}"


class CanaryStep(models.Model):
    """A traffic share a canary moved to, who moved it, and why when a guard objected."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="steps")
    traffic_percent = models.PositiveSmallIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"release {self.request_id} at {self.traffic_percent}%"


class ReleaseWebhook(models.Model):
    """Where release events are POSTed: for a team's models, or for an environment."""

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)  # e.g. ["release.approved"]; empty: all
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(environment__isnull=False),
                name="webhook_for_team_or_environment",
            )
        ]

    def __str__(self) -> str:
        return f"release webhook {self.pk}"
