"""Retention: prediction logs, their identities and the personal data of feedback older than
``HANDOFF_PREDICTION_RETENTION_DAYS`` are removed every night, as a job (``RetentionRun``).

On PostgreSQL the months that ended before the cutoff are dropped whole, one ``DROP TABLE``
each. What is left older than the cutoff (backfills in the default partition, the first days
of the boundary month; the whole log on SQLite) is deleted a batch at a time, each batch in a
short transaction of its own so ingestion never waits long. A batch adds its count to the
run's row in the same transaction, fenced by the run's lease, so a run that is retried after
a crash neither deletes nor counts anything twice.

Outcomes stay (business figures, no personal data). Feedback of the other kinds stays as an
anonymous vote, as erasure leaves it: its comment and end-user id are blanked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from feedback import partitions
from feedback.models import (
    PERSONAL,
    Feedback,
    FeedbackKind,
    PredictionKey,
    PredictionLog,
    RetentionRun,
)
from portal.jobs import JobLost, JobStatus
from portal.services.audit import record_event
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    holds_lease,
    mark_finished,
    report_progress,
    reset_job,
    running_job,
)
from registry.models import RegisteredModel

logger = logging.getLogger("handoff.retention")

BATCH = 5_000  # rows a transaction: short enough that ingestion barely waits for one

Counts = dict[str, int]


@transaction.atomic
def start_retention(*, now: datetime, actor: Any = None) -> RetentionRun:
    """Queue a run with its cutoff; a run still queued or running is returned instead."""
    pending = RetentionRun.statuses(JobStatus.QUEUED, JobStatus.RUNNING)
    run = RetentionRun.objects.select_for_update().filter(status__in=pending).first()
    if run is not None:
        return run
    days = settings.HANDOFF_PREDICTION_RETENTION_DAYS
    run = RetentionRun(retention_days=days, cutoff=now - timedelta(days=days))
    reset_job(run, actor=actor)
    run.save()
    enqueue_job(run)
    return run


def apply_retention(*, run_id: int) -> RetentionRun:
    """Run the retention job; safe to run twice or after a crash (only the lease holder acts)."""
    run = claim_job(RetentionRun, run_id)
    if run is not None:
        with running_job(run):
            _apply(run)
    return RetentionRun.objects.get(pk=run_id)


def make_partitions(*, now: datetime) -> list[str]:
    """This month's partition of the prediction log and the next ones, where missing."""
    made = partitions.ensure_months(now)
    if made:
        logger.info("made prediction log partitions %s", ", ".join(made))
    return made


def _apply(run: RetentionRun) -> None:
    # Each report renews the lease and is where a cancel stops the run, between batches.
    report_progress(run, 5, "Dropping the months that ended before the cutoff")
    _drop_months(run)
    report_progress(run, 15, "Deleting older predictions")
    for model_id in RegisteredModel.objects.order_by("pk").values_list("pk", flat=True):
        take = partial(_predictions, model_id, run.cutoff)
        _in_batches(run, 15, take, "{predictions_deleted:,} older predictions deleted")
    report_progress(run, 55, "Deleting the identities of older predictions")
    take = partial(_keys, run.cutoff)
    _in_batches(run, 55, take, "{keys_deleted:,} prediction identities deleted")
    report_progress(run, 85, "Removing comments and end-user ids from older feedback")
    take = partial(_feedback, run.cutoff)
    _in_batches(
        run, 85, take, "{comments_deleted:,} comments deleted, {feedback_cleared:,} votes cleared"
    )
    _finish(run)


def _in_batches(run: RetentionRun, percent: int, take: Callable[[], Counts], say: str) -> None:
    """Take batches until one comes back short, reporting progress after each."""
    while True:
        taken = _counted(run, take)
        if taken:
            report_progress(run, percent, say.format(**run.counts))
        if taken < BATCH:
            return


def _counted(run: RetentionRun, take: Callable[[], Counts]) -> int:
    """One batch in its own transaction, its counts added to the run's row; JobLost, doing
    nothing, when another run holds the job now."""
    with transaction.atomic():
        locked = RetentionRun.objects.select_for_update().get(pk=run.pk)
        if not holds_lease(locked, run):
            raise JobLost(f"{run} is no longer held by this run")
        counts = take()
        for field, count in counts.items():
            setattr(locked, field, getattr(locked, field) + count)
        locked.save(update_fields=list(counts))
    for field in counts:
        setattr(run, field, getattr(locked, field))
    return sum(counts.values())


def _drop_months(run: RetentionRun) -> None:
    with transaction.atomic():
        locked = RetentionRun.objects.select_for_update().get(pk=run.pk)
        if not holds_lease(locked, run):
            raise JobLost(f"{run} is no longer held by this run")
        dropped = partitions.drop_months_before(run.cutoff)
        locked.partitions_dropped = run.partitions_dropped = [*locked.partitions_dropped, *dropped]
        locked.save(update_fields=["partitions_dropped"])


def _predictions(model_id: int, cutoff: datetime) -> Counts:
    # One model at a time, so the (model, predicted_at) index finds the rows.
    older = PredictionLog.objects.filter(model_id=model_id, predicted_at__lt=cutoff)
    batch = older.order_by().values("pk")[:BATCH]
    deleted, _ = older.filter(pk__in=batch).delete()
    return {"predictions_deleted": deleted}


def _keys(cutoff: datetime) -> Counts:
    batch = list(
        PredictionKey.objects.filter(predicted_at__lt=cutoff)
        .order_by("predicted_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    # Feedback and outcomes that pointed at these identities keep their prediction_id.
    _, by_model = PredictionKey.objects.filter(pk__in=batch).delete()
    return {"keys_deleted": by_model.get(PredictionKey._meta.label, 0)}


def _feedback(cutoff: datetime) -> Counts:
    # Only rows still holding personal data match (the index ``feedback_personal_age``).
    rows = list(
        Feedback.objects.filter(PERSONAL, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", "kind")[:BATCH]
    )
    comments = [pk for pk, kind in rows if kind == FeedbackKind.COMMENT]
    votes = [pk for pk, kind in rows if kind != FeedbackKind.COMMENT]
    _, by_model = Feedback.objects.filter(pk__in=comments).delete()
    cleared = Feedback.objects.filter(pk__in=votes).update(comment="", end_user="")
    return {"comments_deleted": by_model.get(Feedback._meta.label, 0), "feedback_cleared": cleared}


@transaction.atomic
def _finish(run: RetentionRun) -> None:
    locked = RetentionRun.objects.select_for_update().get(pk=run.pk)
    if not holds_lease(locked, run):
        return
    locked.save(update_fields=mark_finished(locked, status=locked.status_of(JobStatus.SUCCEEDED)))
    after = {"cutoff": locked.cutoff.isoformat(), "retention_days": locked.retention_days}
    record_event(
        actor=None, verb="retention.applied", target=locked, after={**after, **locked.counts}
    )
    logger.info("%s: %s", locked, locked.counts)
