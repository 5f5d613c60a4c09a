from django.db import models


class TaskType(models.TextChoices):
    BINARY_CLASSIFICATION = "binary_classification", "Binary classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification", "Multiclass classification"
    REGRESSION = "regression", "Regression"
    RANKING = "ranking", "Ranking"
    OTHER = "other", "Other"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CANDIDATE = "candidate", "Candidate"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    ARCHIVED = "archived", "Archived"


class ArtifactStatus(models.TextChoices):
    """The artifact's validation job, in its users' words (see Artifact.PHASES)."""

    PENDING = "pending", "Waiting for a worker"
    VALIDATING = "validating", "Validating"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Artifact invalid"
    FAILED = "failed", "Validation failed"
    CANCELLED = "cancelled", "Validation cancelled"


class ChangeKind(models.TextChoices):
    BREAKING = "breaking", "Breaking"
    COMPATIBLE = "compatible", "Compatible"
