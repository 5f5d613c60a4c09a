"""Feedback on predictions, from the API, the widget and the portal; and triage.

Feedback may name a prediction that is not logged yet: it is stored and linked as soon as
the prediction arrives (``services.predictions``). An idempotency key makes a re-sent piece
of feedback a duplicate instead of a second vote. On PostgreSQL a batch is stored in one
statement; SQLite does the same in a few ORM statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from feedback.models import Feedback, FeedbackKind, FeedbackSource, PredictionKey, Scope
from feedback.records import Models, Reject, checked, json_text, number, text, unknown_fields
from feedback.records import Outcome as BatchOutcome
from feedback.services.access import Caller
from portal.metrics.instruments import count_ingested
from portal.people import Person
from portal.services.audit import record_event

FIELDS = frozenset(
    {"prediction_id", "model", "kind", "value", "comment", "end_user", "idempotency_key"}
)
MAX_COMMENT = 5_000
THUMBS = {"up": 1.0, "down": 0.0, True: 1.0, False: 0.0}


@dataclass(frozen=True)
class Given:
    model_id: int
    prediction_id: str
    kind: str
    score: float | None
    label: str
    comment: str
    end_user: str
    idempotency_key: str


def give_feedback(
    *, caller: Caller, records: Sequence[Any], now: datetime, source: str = FeedbackSource.API
) -> BatchOutcome:
    """Store each well-formed piece of feedback once; PermissionDenied, storing nothing,
    when the batch names a model the caller may not send feedback for."""
    result = BatchOutcome()
    models = Models(
        (r["model"] for r in records if isinstance(r, dict) and isinstance(r.get("model"), str)),
        caller.single_model,
    )
    caller.require(Scope.FEEDBACK, models.named(records))
    good = [given for _, given in checked(records, lambda raw: _given(raw, models), result)]
    result.accepted = _store(good, caller, now, source)
    result.duplicates = len(good) - result.accepted
    count_ingested("feedback", result)
    return result


def _given(raw: dict[str, Any], models: Models) -> Given:
    unknown_fields(raw, FIELDS)
    model = models.model(raw)
    kind = raw.get("kind")
    if kind not in FeedbackKind.values:
        raise Reject(f"kind: one of {', '.join(FeedbackKind.values)}")
    score, label, comment = None, "", text(raw, "comment", required=False, longest=MAX_COMMENT)
    value = raw.get("value")
    if kind == FeedbackKind.THUMBS:
        if value not in ("up", "down") and not isinstance(value, bool):
            raise Reject('value: "up" or "down" for thumbs')
        score = THUMBS[value]
    elif kind == FeedbackKind.RATING:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise Reject("value: a whole number from 1 to 5 for a rating")
        score = float(value)
    elif kind == FeedbackKind.LABEL:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        label = text({"value": value}, "value")
    elif kind == FeedbackKind.VALUE:
        score = number(raw, "value", required=True)
    else:
        comment = text(raw, "value", longest=MAX_COMMENT) if value is not None else comment
        if not comment:
            raise Reject("value: the comment's text")
    return Given(
        model_id=model.pk,
        prediction_id=text(raw, "prediction_id"),
        kind=str(kind),
        score=score,
        label=label,
        comment=comment,
        end_user=text(raw, "end_user", required=False),
        idempotency_key=text(raw, "idempotency_key", required=False),
    )


def _store(good: list[Given], caller: Caller, now: datetime, source: str) -> int:
    """Store what is new; how many pieces that was."""
    if not good:
        return 0
    fresh = _first_of_each_key(good)
    person = caller.person if caller.person is not None and caller.person.is_authenticated else None
    if connection.vendor == "postgresql":
        return _store_in_one_statement(fresh, caller, person, now, source)
    return _store_with_the_orm(fresh, caller, person, now, source)


def _first_of_each_key(good: list[Given]) -> list[Given]:
    """The batch without repeats of an idempotency key: the first one counts."""
    seen: set[tuple[int, str]] = set()
    fresh: list[Given] = []
    for given in good:
        mark = (given.model_id, given.idempotency_key)
        if given.idempotency_key and mark in seen:
            continue
        seen.add(mark)
        fresh.append(given)
    return fresh


# One round trip, with no transaction of its own: the predictions' identities are joined
# in, and a key already used is skipped by the unique constraint, so a resend (even two at
# once) is stored once and counted once. The columns are Feedback's own.
_INSERT = """
WITH incoming AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(
        model_id bigint, prediction_id text, kind text, score float8, label text,
        comment text, end_user text, idempotency_key text
    )
), stored AS (
    INSERT INTO feedback_feedback (
        model_id, prediction_id, prediction_key_id, kind, score, label, comment, end_user,
        idempotency_key, source, given_by_id, api_key_id, created_at, reviewed_at,
        reviewed_by_id
    )
    SELECT i.model_id, i.prediction_id, k.id, i.kind, i.score, i.label, i.comment,
        i.end_user, i.idempotency_key, %s::text, %s::bigint, %s::bigint, %s::timestamptz,
        NULL, NULL
    FROM incoming i LEFT JOIN feedback_predictionkey k
        ON k.model_id = i.model_id AND k.prediction_id = i.prediction_id
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM stored
"""


def _store_in_one_statement(
    fresh: list[Given], caller: Caller, person: Person | None, now: datetime, source: str
) -> int:
    payload = json_text([asdict(given) for given in fresh])
    key_id = caller.key.pk if caller.key is not None else None
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [payload, source, person.pk if person else None, key_id, now])
        (stored,) = cursor.fetchone()
    return int(stored)


@transaction.atomic
def _store_with_the_orm(
    fresh: list[Given], caller: Caller, person: Person | None, now: datetime, source: str
) -> int:
    model_ids = {g.model_id for g in fresh}
    keyed = {g.idempotency_key for g in fresh if g.idempotency_key}
    taken = set(
        Feedback.objects.filter(model_id__in=model_ids, idempotency_key__in=keyed).values_list(
            "model_id", "idempotency_key"
        )
        if keyed
        else []
    )
    fresh = [
        g for g in fresh if not g.idempotency_key or (g.model_id, g.idempotency_key) not in taken
    ]
    logged = dict(
        (pair[:2], pair[2])
        for pair in PredictionKey.objects.filter(
            model_id__in=model_ids, prediction_id__in={g.prediction_id for g in fresh}
        ).values_list("model_id", "prediction_id", "pk")
    )
    # ignore_conflicts: a concurrent request with the same idempotency key stores it once.
    Feedback.objects.bulk_create(
        [
            Feedback(
                model_id=g.model_id,
                prediction_id=g.prediction_id,
                prediction_key_id=logged.get((g.model_id, g.prediction_id)),
                kind=g.kind,
                score=g.score,
                label=g.label,
                comment=g.comment,
                end_user=g.end_user,
                idempotency_key=g.idempotency_key,
                source=source,
                given_by=person,
                api_key=caller.key,
                created_at=now,
            )
            for g in fresh
        ],
        ignore_conflicts=True,
    )
    return len(fresh)


@transaction.atomic
def mark_reviewed(*, actor: Person, feedback: Sequence[Feedback], now: datetime) -> int:
    """Mark feedback as triaged; how many were not yet. One audit event for the lot."""
    if any(not Caller(person=actor).may(Scope.PREDICTIONS, f.model) for f in feedback):
        raise PermissionDenied("Only the model team's data scientists and engineers triage.")
    pending = [f.pk for f in feedback if f.reviewed_at is None]
    Feedback.objects.filter(pk__in=pending).update(reviewed_at=now, reviewed_by=actor)
    if pending:
        record_event(actor=actor, verb="feedback.reviewed", after={"feedback": pending})
    return len(pending)
