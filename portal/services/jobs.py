"""The services that move a job along: queue, claim, report progress, finish, fail, cancel.

A job's row is its truth. A task claims the row (row lock, one attempt counted, a lease
taken), reports progress (which renews the lease and is where it notices a cancel), and
finishes or fails it. Beat re-enqueues every job whose lease ran out, whatever killed its
worker or lost its message; a job that used up its attempts ends failed with the reason.

The lease token fences a run: a run that lost its lease to a newer one (or whose row was
reset by a new upload) can no longer write progress or an outcome.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from portal.jobs import (
    MAX_ERROR_CHARS,
    J,
    Job,
    JobCancelled,
    JobLost,
    JobStatus,
    default_max_attempts,
    job_models,
)
from portal.services.audit import record_event

logger = logging.getLogger("handoff.jobs")


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.HANDOFF_JOB_LEASE_SECONDS)


def _lock(job: J) -> J:
    return type(job)._default_manager.select_for_update().get(pk=job.pk)


def holds_lease(locked: Job, run: Job) -> bool:
    """Whether ``run`` (the claimed copy) still owns the locked row and may write to it."""
    return locked.phase == JobStatus.RUNNING and locked.lease_token == run.lease_token


# Queueing -----------------------------------------------------------------------------


def reset_job(job: Job, *, actor: Any) -> None:
    """Make ``job`` a fresh, queued run started by ``actor``; the caller saves the row."""
    now = timezone.now()
    job.status = job.status_of(JobStatus.QUEUED)
    job.progress, job.progress_text, job.error = 0, "", ""
    job.attempts, job.max_attempts = 0, default_max_attempts()
    job.queued_at, job.started_at, job.finished_at = now, None, None
    # A delivery lease: beat sends the job again only if no worker claims it by then.
    job.lease_expires_at, job.lease_token = _lease_until(now), None
    job.started_by = actor if getattr(actor, "is_authenticated", False) else None
    job.cancel_requested = False


def enqueue_job(job: Job) -> None:
    """Send the job's task once the surrounding transaction commits (never if it rolls back).

    robust: a broker outage must not fail a change that is already stored; the row stays
    queued and beat sends it when its lease runs out.
    """
    model, pk = type(job), job.pk
    # A closure, not functools.partial: Django logs a robust callback's __qualname__.
    transaction.on_commit(lambda: send_job(model, pk), robust=True)


def send_job(model: type[Job], pk: int) -> None:
    name = model.task_name
    if name not in current_app.tasks:
        # A web process may not have imported the app's tasks module yet.
        import_module(name.rpartition(".")[0])
    current_app.tasks[name].delay(pk)


# Running ------------------------------------------------------------------------------

_RUN_FIELDS = ["status", "progress", "progress_text", "lease_expires_at", "lease_token"]


def claim_job(model: type[J], pk: int) -> J | None:
    """Take the job for this run, or None when it is final, gone or held by a live run."""
    with transaction.atomic():
        job = model._default_manager.select_for_update().filter(pk=pk).first()
        if job is None or job.is_final:
            return None
        now = timezone.now()
        live = job.lease_expires_at is not None and job.lease_expires_at > now
        if job.phase == JobStatus.RUNNING and live:
            return None
        if job.cancel_requested or job.attempts >= job.max_attempts:
            _end_unfinished(job)
            return None
        job.status = job.status_of(JobStatus.RUNNING)
        job.attempts += 1
        job.progress, job.progress_text, job.error = 0, "", ""
        job.started_at, job.lease_expires_at, job.lease_token = now, _lease_until(now), uuid.uuid4()
        job.save(update_fields=[*_RUN_FIELDS, "attempts", "started_at", "error"])
    return job


def report_progress(job: Job, percent: int, text: str = "") -> None:
    """Record progress and renew the lease; raise JobCancelled or JobLost to stop the run."""
    with transaction.atomic():
        locked = _lock(job)
        if not holds_lease(locked, job):
            raise JobLost(f"{job} is no longer held by this run")
        if locked.cancel_requested:
            raise JobCancelled(str(job))
        locked.progress = job.progress = max(0, min(100, percent))
        locked.progress_text = job.progress_text = text[:200]
        locked.lease_expires_at = job.lease_expires_at = _lease_until(timezone.now())
        locked.save(update_fields=["progress", "progress_text", "lease_expires_at"])
    _pause_for_fault_tests()


def _pause_for_fault_tests() -> None:
    # Always 0 outside the fault tests, which need a worker to be mid-job when they kill it.
    if settings.HANDOFF_JOB_STEP_DELAY_MS:
        time.sleep(settings.HANDOFF_JOB_STEP_DELAY_MS / 1000)


def mark_finished(locked: Job, *, status: str) -> list[str]:
    """End a locked row with a final ``status``; returns the fields for update_fields."""
    locked.status = status
    locked.progress = 100 if locked.phase == JobStatus.SUCCEEDED else locked.progress
    locked.finished_at = timezone.now()
    locked.lease_expires_at, locked.lease_token = None, None
    return ["status", "progress", "finished_at", "lease_expires_at", "lease_token"]


def record_success(
    run: J, *, results: Mapping[str, Any], audit: Callable[[J], dict[str, Any]]
) -> J | None:
    """Store ``results`` on the job's row and end it succeeded, with its audit event
    (``audit(row)``), in the caller's transaction; None when another run took the job over
    (its result is the one)."""
    locked = _lock(run)
    if not holds_lease(locked, run):
        return None
    fields = mark_finished(locked, status=run.status_of(JobStatus.SUCCEEDED))
    for name, value in results.items():
        setattr(locked, name, value)
    locked.error = ""
    locked.save(update_fields=[*fields, *results, "error"])
    record_event(
        actor=None, verb=locked.audit_verb("succeeded"), target=locked, after=audit(locked)
    )
    return locked


def finish_job(job: J, *, status: str = "") -> J | None:
    """Record success for a job that has no outcome fields of its own; None if lost."""
    with transaction.atomic():
        locked = _lock(job)
        if not holds_lease(locked, job):
            return None
        locked.save(
            update_fields=mark_finished(locked, status=status or job.status_of(JobStatus.SUCCEEDED))
        )
    return locked


def fail_job(job: J, *, reason: str) -> J | None:
    """End the run as failed with ``reason``, written for the person who will read it."""
    with transaction.atomic():
        locked = _lock(job)
        if not holds_lease(locked, job):
            return None
        _end(locked, JobStatus.FAILED, error=reason)
    return locked


@contextmanager
def running_job(job: Job) -> Iterator[Job]:
    """Run the body as the job's current attempt.

    A cancel ends the job cancelled and a lost lease ends only this run, both quietly; any
    other exception gives the job back for another attempt (or fails it) and propagates.
    """
    try:
        yield job
    except JobCancelled:
        _stop(job, cancelled=True)
    except JobLost:
        logger.info("%s was taken over by another run; this one stops", job)
    except Exception as exc:
        logger.exception("%s: attempt %s stopped", job, job.attempts)
        _stop(job, crash=_crash_reason(exc))
        raise


def _crash_reason(exc: BaseException) -> str:
    # Exception text can hold paths or data, so people see only what kind of failure it was.
    if isinstance(exc, SoftTimeLimitExceeded):
        return "ran over the time limit"
    return f"stopped with {type(exc).__name__}"


def _stop(job: Job, *, cancelled: bool = False, crash: str = "") -> None:
    """End this run without an outcome: cancelled, failed, or queued for another attempt."""
    try:
        with transaction.atomic():
            locked = _lock(job)
            if not holds_lease(locked, job):
                return
            if cancelled or locked.cancel_requested:
                _end(locked, JobStatus.CANCELLED, error="")
            elif locked.attempts >= locked.max_attempts:
                reason = f"Gave up after {locked.attempts} attempts while {locked.activity}: "
                _end(
                    locked,
                    JobStatus.FAILED,
                    error=_gave_up(locked, f"{reason}the last one {crash}."),
                )
            else:
                _requeue_locked(
                    locked, lease_until=timezone.now(), error=_retry_note(locked, crash)
                )
    except Exception:  # the database may be what failed; beat retries once the lease ends
        logger.exception("could not release %s", job)


def _retry_note(job: Job, what: str) -> str:
    return f"Attempt {job.attempts} of {job.max_attempts} {what}; it will be retried."


def _end(locked: Job, phase: JobStatus, *, error: str, actor: Any = None) -> None:
    """End a locked row without an outcome (failed or cancelled), with an audit event."""
    fields = mark_finished(locked, status=locked.status_of(phase))
    # A retry note left by an earlier attempt would now be wrong, so the error is replaced.
    locked.error = error[:MAX_ERROR_CHARS]
    locked.save(update_fields=[*fields, "error"])
    verb = locked.audit_verb("failed" if phase == JobStatus.FAILED else "cancelled")
    after = {"attempts": locked.attempts, "error": locked.error}
    record_event(actor=actor, verb=verb, target=locked, after=after)


def _end_unfinished(locked: Job) -> None:
    """A claimed or stale row that may not run again: cancelled if asked, else out of attempts."""
    if locked.cancel_requested:
        _end(locked, JobStatus.CANCELLED, error="")
        return
    reason = f"The worker died {locked.attempts} times while {locked.activity}."
    _end(locked, JobStatus.FAILED, error=_gave_up(locked, reason))


def _gave_up(job: Job, reason: str) -> str:
    """The reason a job was not retried, and what a person can do about it."""
    return f"{reason} {job.retry_hint}".strip()


def retry_job(*, job: J, actor: Any) -> J:
    """Run a failed job again from the start, as a fresh queued run started by ``actor``.

    The caller checks that ``actor`` may (the System page: staff only).
    """
    with transaction.atomic():
        locked = _lock(job)
        if locked.phase != JobStatus.FAILED:
            raise ValidationError(
                f"Only a failed job is retried; this one is {locked.get_status_display()}."
            )
        error = locked.error
        reset_job(locked, actor=actor)
        locked.save()
        record_event(
            actor=actor, verb=locked.audit_verb("retried"), target=locked, before={"error": error}
        )
        enqueue_job(locked)
    return locked


# Cancelling ---------------------------------------------------------------------------


def request_cancel(*, job: J, actor: Any) -> J:
    """Stop ``job``: at once when no worker has it, else at the worker's next step.

    The caller checks that ``actor`` may; a job already cancelling is left as it is.
    """
    with transaction.atomic():
        locked = _lock(job)
        if locked.is_final:
            raise ValidationError(
                f"Nothing to cancel: it has already ended ({locked.get_status_display()})."
            )
        if locked.cancel_requested:
            return locked
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
        if locked.phase == JobStatus.QUEUED:
            _end(locked, JobStatus.CANCELLED, error="", actor=actor)
        else:
            record_event(actor=actor, verb=locked.audit_verb("cancel_requested"), target=locked)
    return locked


# Beat ---------------------------------------------------------------------------------


def requeue_stale_jobs() -> int:
    """Send again every queued or running job whose lease ran out; returns how many were sent.

    A lost broker message or a killed worker only delays the work. A running job that has
    used its attempts is failed instead of sent.
    """
    now = timezone.now()
    sent = 0
    for model in job_models():
        for pk in _stale(model._default_manager.all(), now).values_list("pk", flat=True):
            sent += _requeue(model, pk, now)
    return sent


def _stale(jobs: models.QuerySet[Any], now: datetime) -> models.QuerySet[Any]:
    model = jobs.model
    return jobs.filter(status__in=model.statuses(JobStatus.QUEUED, JobStatus.RUNNING)).filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )


def _requeue(model: type[Job], pk: int, now: datetime) -> int:
    with transaction.atomic():
        # skip_locked: a row locked right now is being claimed, so it is not stale.
        locked = _stale(model._default_manager.select_for_update(skip_locked=True), now)
        job = locked.filter(pk=pk).first()
        if job is None:
            return 0
        if job.phase == JobStatus.RUNNING and (
            job.cancel_requested or job.attempts >= job.max_attempts
        ):
            _end_unfinished(job)
            return 0
        if job.phase == JobStatus.RUNNING:
            logger.warning(
                "%s: the worker stopped during attempt %s; sending it again", job, job.attempts
            )
            error = _retry_note(job, "stopped with its worker")
        else:
            error = job.error
        _requeue_locked(job, lease_until=_lease_until(now), error=error)
        enqueue_job(job)
    return 1


def _requeue_locked(locked: Job, *, lease_until: datetime, error: str) -> None:
    locked.status = locked.status_of(JobStatus.QUEUED)
    locked.progress_text, locked.error = "", error[:MAX_ERROR_CHARS]
    locked.lease_expires_at, locked.lease_token = lease_until, None
    locked.save(update_fields=[*_RUN_FIELDS, "error"])
