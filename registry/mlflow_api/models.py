"""What only MLflow clients have: logged models (3.x) and where a version was registered from.

Everything else an MLflow client writes is Handoff's own data: experiments, runs, params,
metrics and tags (``registry.experiments``), models, versions, aliases and version tags
(``registry``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.experiments.models import Experiment, Run


class LoggedModelStatus(models.TextChoices):
    PENDING = "LOGGED_MODEL_PENDING", "Pending"
    READY = "LOGGED_MODEL_READY", "Ready"
    FAILED = "LOGGED_MODEL_UPLOAD_FAILED", "Upload failed"


class LoggedModel(models.Model):
    """A model a run logged (``mlflow.<flavour>.log_model``): files under its own artifact
    folder, registered as a version later, or never."""

    model_id = models.CharField(max_length=40, unique=True)  # "m-" and 32 hex digits
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=250)
    source_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="logged_models"
    )
    # The run that reported the model as its output (runs/outputs), and at which step.
    output_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_outputs"
    )
    output_step = models.BigIntegerField(default=0)
    model_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=32, choices=LoggedModelStatus.choices, default=LoggedModelStatus.PENDING
    )
    status_message = models.CharField(max_length=1000, blank=True)
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"


class VersionSource(models.Model):
    """Where an MLflow client registered a version from: the source URI it sent, the run and
    the logged model, as ``model-versions/get`` reports them back."""

    version = models.OneToOneField(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="mlflow_source"
    )
    source = models.CharField(max_length=1000)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    logged_model = models.ForeignKey(
        LoggedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )

    def __str__(self) -> str:
        return self.source
