"""The model registry: models, versions, their cards and ONNX artifacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.safestring import SafeString

from portal.jobs import Job, JobStatus
from portal.markdown import stored_html
from portal.models import Team
from registry.choices import ArtifactStatus, TaskType, VersionStatus

CARD_SECTIONS: list[tuple[str, str]] = [
    ("model_details", "Model details"),
    ("intended_use", "Intended use"),
    ("out_of_scope_use", "Out-of-scope use"),
    ("factors", "Factors"),
    ("metrics", "Metrics"),
    ("evaluation_data", "Evaluation data"),
    ("training_data", "Training data"),
    ("quantitative_analyses", "Quantitative analyses"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats_and_recommendations", "Caveats and recommendations"),
]
CARD_METADATA_FIELDS = ["license", "languages", "datasets", "base_model", "contacts", "links"]

# Status changes a team may make directly; every other change goes through a release.
DIRECT_TRANSITIONS: dict[str, set[str]] = {
    VersionStatus.DRAFT: {VersionStatus.CANDIDATE, VersionStatus.ARCHIVED},
    VersionStatus.CANDIDATE: {VersionStatus.DRAFT, VersionStatus.ARCHIVED},
}
# Statuses in which a version takes a new artifact; later, the file is what was reviewed.
ARTIFACT_STATUSES = {VersionStatus.DRAFT, VersionStatus.CANDIDATE}
RELEASE_TRANSITIONS: dict[str, set[str]] = {
    VersionStatus.CANDIDATE: {VersionStatus.STAGING, VersionStatus.PRODUCTION},
    VersionStatus.STAGING: {VersionStatus.PRODUCTION, VersionStatus.CANDIDATE},
    VersionStatus.PRODUCTION: {VersionStatus.STAGING, VersionStatus.ARCHIVED},
    VersionStatus.ARCHIVED: {VersionStatus.PRODUCTION},
}


class Tag(models.Model):
    name = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredModel(models.Model):
    name = models.SlugField(max_length=100, unique=True, help_text="Unique slug, e.g. churn-risk.")
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="models")
    task_type = models.CharField(max_length=32, choices=TaskType.choices, default=TaskType.OTHER)
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    # Versions ever registered: numbers are never reused, even after a draft is deleted.
    versions_registered = models.PositiveIntegerField(default=0, editable=False)
    # Bumped on every edit: forms and If-Match carry it so a stale save is refused.
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:model-detail", args=[self.name])


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64, help_text="Semantic version, e.g. 1.4.0.")
    number = models.PositiveIntegerField(help_text="1, 2, 3… in order of registration.")
    # Semver precedence as lowercase hex (see registry.semver.semver_sort_key), so
    # the database orders versions by semver under any collation. 512 holds any 64-char version.
    sort_key = models.CharField(max_length=512, editable=False)
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    # Set the first time a release moves the version to staging or production; never cleared,
    # so a version (and its model) that was once live cannot be deleted.
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes = models.TextField(blank=True)
    # Rendered once when the notes are saved (portal.markdown); pages show this.
    notes_html = models.TextField(blank=True, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False)
    input_schema = models.JSONField(default=dict, blank=True)
    output_schema = models.JSONField(default=dict, blank=True)
    example_request = models.JSONField(null=True, blank=True)
    example_response = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "-sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="unique_semver_per_model"),
            models.UniqueConstraint(fields=["model", "number"], name="unique_number_per_model"),
            # Versions differing only in build metadata (1.0.0+a, 1.0.0+b) are one version.
            models.UniqueConstraint(
                fields=["model", "sort_key"], name="unique_precedence_per_model"
            ),
        ]
        indexes = [
            models.Index(fields=["model", "-sort_key"]),
            # A model's newest version in a status (its production version) in one probe.
            models.Index(
                fields=["model", "status", "-sort_key"], name="registry_version_by_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("registry:version-detail", args=[self.model.name, self.version])

    @property
    def notes_display(self) -> SafeString:
        return stored_html(self.notes_html)

    def can_move_directly_to(self, status: str) -> bool:
        return status in DIRECT_TRANSITIONS.get(self.status, set())

    def can_move_by_release_to(self, status: str) -> bool:
        return status in RELEASE_TRANSITIONS.get(self.status, set())

    @property
    def was_released(self) -> bool:
        return self.released_at is not None

    @property
    def is_deletable(self) -> bool:
        """Only a draft that never reached an environment may be deleted."""
        return self.status == VersionStatus.DRAFT and not self.was_released

    @property
    def accepts_artifact(self) -> bool:
        """A new ONNX file may replace the artifact until the version is staged."""
        return self.status in ARTIFACT_STATUSES


class ModelCard(models.Model):
    """The card of one version: the sections of Mitchell et al. plus structured metadata."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="card")
    model_details = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    out_of_scope_use = models.TextField(blank=True)
    factors = models.TextField(blank=True)
    metrics = models.TextField(blank=True)
    evaluation_data = models.TextField(blank=True)
    training_data = models.TextField(blank=True)
    quantitative_analyses = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    caveats_and_recommendations = models.TextField(blank=True)
    license = models.CharField(max_length=100, blank=True)
    languages = models.JSONField(default=list, blank=True)
    datasets = models.JSONField(default=list, blank=True)
    base_model = models.CharField(max_length=200, blank=True)
    contacts = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    # Section field → sanitised HTML, rendered once on save (portal.markdown); pages show it.
    html = models.JSONField(default=dict, blank=True, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"card of {self.version}"

    def get_absolute_url(self) -> str:
        return self.version.get_absolute_url()

    def sections(self) -> list[tuple[str, str, str]]:
        """(field, title, markdown) for every section, in the paper's order."""
        return [(field, title, getattr(self, field)) for field, title in CARD_SECTIONS]

    def rendered_sections(self) -> list[tuple[str, str, SafeString]]:
        """(field, title, stored HTML) for every section, in the paper's order."""
        return [
            (field, title, stored_html(self.html.get(field, ""))) for field, title in CARD_SECTIONS
        ]

    def metadata(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in CARD_METADATA_FIELDS}

    def missing_sections(self) -> list[str]:
        required = settings.HANDOFF_CARD_REQUIRED_SECTIONS
        return [field for field in required if not getattr(self, field, "").strip()]

    def required_counts(self) -> tuple[int, int]:
        """(written, required) sections: what the completeness percentage counts."""
        required = settings.HANDOFF_CARD_REQUIRED_SECTIONS
        return len(required) - len(self.missing_sections()), len(required)

    @property
    def completeness(self) -> int:
        """Percentage of the required sections that are filled."""
        return completeness_percent(self.required_counts()[0])


def completeness_percent(written: int) -> int:
    """A card's completeness when ``written`` of the required sections are filled."""
    required = settings.HANDOFF_CARD_REQUIRED_SECTIONS
    return round(100 * written / len(required)) if required else 100


def artifact_path(instance: Artifact, filename: str) -> str:
    # Server-generated name: the client's file name never reaches the file system.
    return f"artifacts/{instance.version.model_id}/{instance.sha256}.onnx"


class Artifact(Job):
    """The ONNX file of a version; the row is also the job that validates it on a worker."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="artifact")
    file = models.FileField(upload_to=artifact_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16,
        choices=ArtifactStatus.choices,
        default=ArtifactStatus.PENDING,
        db_index=True,
    )
    opset = models.PositiveIntegerField(null=True, blank=True)
    ir_version = models.PositiveIntegerField(null=True, blank=True)
    producer = models.CharField(max_length=200, blank=True)
    inputs = models.JSONField(default=list, blank=True)
    outputs = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    task_name = "registry.tasks.validate_artifact_task"
    activity = "validating"
    audit_prefix = "artifact.validation_"
    retry_hint = "Check that the file loads in onnxruntime on your machine, then upload it again."
    # A validation that ran to the end succeeded, whichever way it judged the file.
    PHASES = {
        ArtifactStatus.PENDING: JobStatus.QUEUED,
        ArtifactStatus.VALIDATING: JobStatus.RUNNING,
        ArtifactStatus.VALID: JobStatus.SUCCEEDED,
        ArtifactStatus.INVALID: JobStatus.SUCCEEDED,
        ArtifactStatus.FAILED: JobStatus.FAILED,
        ArtifactStatus.CANCELLED: JobStatus.CANCELLED,
    }

    def __str__(self) -> str:
        return f"artifact of {self.version}"

    @property
    def validated_at(self) -> datetime | None:
        """When the file was judged valid or invalid (the API has always had this field)."""
        judged = self.status in (ArtifactStatus.VALID, ArtifactStatus.INVALID)
        return self.finished_at if judged else None

    @property
    def tone(self) -> str:
        return "bad" if self.status == ArtifactStatus.INVALID else super().tone


class ModelAlias(models.Model):
    """A free name for one version of a model (``champion``), set by the team, e.g. from MLflow.

    Environment names are not aliases: what runs in an environment moves only by a release.
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=100)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="one_version_per_alias")
        ]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"


class VersionTag(models.Model):
    """A key and value a client attached to a version (MLflow's model-version tags)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.CharField(max_length=5000)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="one_value_per_version_tag")
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
