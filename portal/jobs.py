"""The one job model every background task uses: its states, fields and facts about a row.

The services that move a job along (claim, progress, finish, fail, cancel, requeue) are in
``portal.services.jobs``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

logger = logging.getLogger("handoff.jobs")

MAX_ERROR_CHARS = 2000


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
TONES = {JobStatus.SUCCEEDED: "ok", JobStatus.FAILED: "bad", JobStatus.CANCELLED: ""}


def default_max_attempts() -> int:
    return int(settings.HANDOFF_JOB_MAX_ATTEMPTS)


class Job(models.Model):
    """Abstract: one piece of long work, run by the Celery task named in ``task_name``.

    A job whose people know its states by other names (an artifact is "valid" or "invalid",
    not "succeeded") overrides ``status`` with its own choices and maps each to a phase in
    ``PHASES``; the services here only ever speak in phases.
    """

    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    progress_text = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=default_max_attempts)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_requested = models.BooleanField(default=False)

    task_name: ClassVar[str] = ""
    activity: ClassVar[str] = "running"  # "worker died 3 times while <activity>"
    audit_prefix: ClassVar[str] = ""  # verbs are <prefix>failed, <prefix>cancelled, ...
    retry_hint: ClassVar[str] = "Start it again, or ask an administrator to check the workers."
    PHASES: ClassVar[Mapping[str, JobStatus]] = {status.value: status for status in JobStatus}

    class Meta:
        abstract = True

    @property
    def phase(self) -> JobStatus:
        return self.PHASES[self.status]

    @property
    def is_final(self) -> bool:
        return self.phase in FINAL

    @property
    def can_cancel(self) -> bool:
        return not self.is_final and not self.cancel_requested

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn, bad, or "" for a plain badge (cancelled)."""
        return TONES.get(self.phase, "warn")

    @classmethod
    def status_of(cls, phase: JobStatus) -> str:
        """The stored status for ``phase`` (the first, when several outcomes share it)."""
        return next(value for value, mapped in cls.PHASES.items() if mapped == phase)

    @classmethod
    def statuses(cls, *phases: JobStatus) -> list[str]:
        return [value for value, mapped in cls.PHASES.items() if mapped in phases]

    @classmethod
    def audit_verb(cls, event: str) -> str:
        prefix = cls.audit_prefix or f"{cls._meta.model_name}."
        return f"{prefix}{event}"


J = TypeVar("J", bound=Job)


class JobCancelled(Exception):
    """Someone asked the job to stop; raised at the next progress report."""


class JobLost(Exception):
    """Another run holds the job now (or it was reset): this run must write nothing more."""


def job_models() -> list[type[Job]]:
    """Every concrete job model of every installed app."""
    return [model for model in apps.get_models() if issubclass(model, Job)]
