"""Storing checked prediction rows: once per identity, linking feedback and outcomes that
arrived first.

On PostgreSQL a chunk of rows is one statement: the new identities go into
``PredictionKey`` with ``ON CONFLICT DO NOTHING`` (so a re-sent prediction id, even with
another timestamp that falls in another partition, is a duplicate), the rows whose identity
was new go into the partitioned log, and waiting feedback and outcomes are linked, all in one
round trip. The statements go down the request's own connection in pipeline mode (inside
its transaction): each is sent at once and answered at the end, so Python checks the next
chunk while the database stores this one.
SQLite stores every row at the end in a few ORM statements.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg
from django.db import connection
from django.db.models import OuterRef, Subquery

from feedback.models import Feedback, Outcome, PredictionKey, PredictionLog
from feedback.records import json_text
from registry.models import ModelVersion

if TYPE_CHECKING:
    from feedback.services.predictions import Record

Row = tuple["Record", ModelVersion]

_INSERT = """
WITH incoming AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(
        model_id bigint, version_id bigint, prediction_id text, predicted_at timestamptz,
        features jsonb, output jsonb, label text, value float8, latency_ms float8,
        end_user text, metadata jsonb, contract_violation boolean, violations jsonb
    )
), new_keys AS (
    INSERT INTO feedback_predictionkey (model_id, prediction_id, version_id, predicted_at)
    SELECT model_id, prediction_id, version_id, predicted_at FROM incoming
    ON CONFLICT (model_id, prediction_id) DO NOTHING
    RETURNING id, model_id, prediction_id
), logged AS (
    INSERT INTO feedback_predictionlog (
        model_id, version_id, prediction_id, predicted_at, received_at, features, output,
        label, value, latency_ms, end_user, metadata, contract_violation, violations,
        api_key_id
    )
    SELECT i.model_id, i.version_id, i.prediction_id, i.predicted_at, %s::timestamptz,
        i.features, i.output, i.label, i.value, i.latency_ms, i.end_user, i.metadata,
        i.contract_violation, i.violations, %s::bigint
    FROM incoming i JOIN new_keys k USING (model_id, prediction_id)
), linked_feedback AS (
    UPDATE feedback_feedback f SET prediction_key_id = k.id FROM new_keys k
    WHERE f.model_id = k.model_id AND f.prediction_id = k.prediction_id
        AND f.prediction_key_id IS NULL
), linked_outcomes AS (
    UPDATE feedback_outcome o SET prediction_key_id = k.id FROM new_keys k
    WHERE o.model_id = k.model_id AND o.prediction_id = k.prediction_id
        AND o.prediction_key_id IS NULL
)
SELECT count(*) FROM new_keys
"""


class RowStore:
    """Rows added chunk by chunk inside one transaction; ``stored`` counts the new ones.
    Use as a context manager: on leaving, every chunk has been stored (or has failed)."""

    def __init__(self, now: datetime, key_id: int | None) -> None:
        self.now, self.key_id = now, key_id
        self.stored = 0
        self.waiting: list[tuple[Row, list[str]]] = []
        self.pipeline: Any = None
        self.cursors: list[Any] = []

    def __enter__(self) -> RowStore:
        if connection.vendor == "postgresql":
            # Pipeline mode: a statement is sent at once and its answer read at the end.
            connection.ensure_connection()
            self.pipeline = connection.connection.pipeline()
            self.pipeline.__enter__()
        return self

    def add(self, rows: list[Row], violations: list[list[str]]) -> None:
        if not rows:
            return
        if self.pipeline is None:
            self.waiting += zip(rows, violations, strict=True)
            return
        # Bound on the server: the JSON goes as a parameter, not spelled into the statement.
        cursor = psycopg.Cursor(connection.connection)
        cursor.execute(_INSERT, [_payload(rows, violations), self.now, self.key_id])
        self.cursors.append(cursor)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.pipeline is not None:
            try:
                self.pipeline.__exit__(kind, error, trace)  # waits for every answer
                if kind is None:
                    self.stored += sum(int(cursor.fetchone()[0]) for cursor in self.cursors)
            finally:
                for cursor in self.cursors:
                    cursor.close()
        elif kind is None and self.waiting:
            self.stored += _store_with_the_orm(self.waiting, self.now, self.key_id)


def _payload(rows: list[Row], violations: list[list[str]]) -> str:
    return json_text(
        [
            {
                "model_id": r.model_id,
                "version_id": version.pk,
                "prediction_id": r.prediction_id,
                "predicted_at": r.predicted_text,
                "features": r.features,
                "output": r.output,
                "label": r.label,
                "value": r.value,
                "latency_ms": r.latency_ms,
                "end_user": r.end_user,
                "metadata": r.metadata,
                "contract_violation": bool(found),
                "violations": found,
            }
            for (r, version), found in zip(rows, violations, strict=True)
        ],
    )


def _store_with_the_orm(
    waiting: list[tuple[Row, list[str]]], now: datetime, key_id: int | None
) -> int:
    ids = {r.prediction_id for (r, _), _ in waiting}
    model_ids = {r.model_id for (r, _), _ in waiting}
    taken = set(
        PredictionKey.objects.filter(model_id__in=model_ids, prediction_id__in=ids).values_list(
            "model_id", "prediction_id"
        )
    )
    fresh = [
        (r, version, found)
        for (r, version), found in waiting
        if (r.model_id, r.prediction_id) not in taken
    ]
    PredictionKey.objects.bulk_create(
        [
            PredictionKey(
                model_id=r.model_id,
                prediction_id=r.prediction_id,
                version=version,
                predicted_at=r.predicted_at,
            )
            for r, version, _ in fresh
        ]
    )
    PredictionLog.objects.bulk_create(
        [
            PredictionLog(
                model_id=r.model_id,
                version=version,
                prediction_id=r.prediction_id,
                predicted_at=r.predicted_at,
                received_at=now,
                features=r.features,
                output=r.output,
                label=r.label,
                value=r.value,
                latency_ms=r.latency_ms,
                end_user=r.end_user,
                metadata=r.metadata,
                contract_violation=bool(found),
                violations=found,
                api_key_id=key_id,
            )
            for r, version, found in fresh
        ],
        batch_size=1_000,
    )
    key = PredictionKey.objects.filter(
        model=OuterRef("model"), prediction_id=OuterRef("prediction_id")
    )
    for waiting_on_key in (Feedback, Outcome):
        waiting_on_key.objects.filter(  # type: ignore[attr-defined]
            model_id__in=model_ids, prediction_id__in=ids, prediction_key__isnull=True
        ).update(prediction_key=Subquery(key.values("pk")[:1]))
    return len(fresh)
