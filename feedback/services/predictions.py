"""Logging predictions in batches: idempotent, never dropping a record that breaks its
contract, rejecting only the malformed ones.

On PostgreSQL a batch is one statement: the new identities go into ``PredictionKey`` with
``ON CONFLICT DO NOTHING`` (so a re-sent prediction id, even with another timestamp that
falls in another partition, is a duplicate), the rows whose identity was new go into the
partitioned log, and feedback and outcomes that arrived first are linked, all in one
round trip. SQLite does the same in a few ORM statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from feedback.models import Feedback, Outcome, PredictionKey, PredictionLog, Scope
from feedback.records import (
    PLAIN_ISO,
    Models,
    Reject,
    checked,
    json_text,
    moment,
    number,
    obj,
    text,
    unknown_fields,
    versions_of,
)
from feedback.records import Outcome as BatchOutcome
from feedback.services.access import Caller
from registry.models import ModelVersion
from registry.quick_schema import quick_validator
from registry.schemas import validator_for

FIELDS = frozenset(
    {"prediction_id", "model", "version", "timestamp", "features", "output", "latency_ms"}
    | {"metadata", "end_user"}
)
MAX_VIOLATIONS = 5  # reasons kept per record; the flag counts every violating record


@dataclass(frozen=True)
class Record:
    model_id: int
    version: str
    prediction_id: str
    predicted_at: datetime
    predicted_text: str  # ISO 8601 as PostgreSQL reads it: the client's own when it is so
    features: dict[str, Any]
    output: dict[str, Any]
    label: str
    value: float | None
    latency_ms: float | None
    end_user: str
    metadata: dict[str, Any]


@dataclass
class PredictionResult(BatchOutcome):
    contract_violations: int = 0

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "contract_violations": self.contract_violations}


def log_predictions(*, caller: Caller, records: Sequence[Any], now: datetime) -> PredictionResult:
    """Store the well-formed records of a batch once each; PermissionDenied, storing nothing,
    when the batch names a model the caller may not log for."""
    result = PredictionResult()
    models = Models(
        (r["model"] for r in records if isinstance(r, dict) and isinstance(r.get("model"), str)),
        caller.single_model,
    )
    caller.require(Scope.PREDICTIONS, models.named(records))
    good = checked(records, lambda raw: _record(raw, models, now), result)
    versions = versions_of({(r.model_id, r.version) for _, r in good})
    rows: list[tuple[Record, ModelVersion]] = []
    seen: set[tuple[int, str]] = set()
    for index, record in good:
        version = versions.get((record.model_id, record.version))
        if version is None:
            result.rejected.append(
                (index, f"version: the model has no version {record.version[:40]!r}")
            )
        elif (record.model_id, record.prediction_id) in seen:
            result.duplicates += 1  # the same id twice in one batch: the first one counts
        else:
            seen.add((record.model_id, record.prediction_id))
            rows.append((record, version))
    result.rejected.sort()
    violations = _contract_checks(rows)
    result.contract_violations = sum(1 for found in violations if found)
    key_id = caller.key.pk if caller.key is not None else None
    stored = _store(rows, violations, now, key_id) if rows else 0
    result.accepted = stored
    result.duplicates += len(rows) - stored
    return result


def _record(raw: dict[str, Any], models: Models, now: datetime) -> Record:
    unknown_fields(raw, FIELDS)
    model = models.model(raw)
    output = obj(raw, "output", required=True)
    label, value = output.get("label"), output.get("value")
    if label is None and value is None:
        raise Reject("output: give a label or a value")
    if label is not None and (not isinstance(label, str | int) or isinstance(label, bool)):
        raise Reject("output.label: a string or a whole number")
    latency = number(raw, "latency_ms")
    if latency is not None and latency < 0:
        raise Reject("latency_ms: zero or more")
    predicted_at = moment(raw, "timestamp", now)
    sent = raw.get("timestamp")
    return Record(
        model_id=model.pk,
        version=text(raw, "version", longest=64),
        prediction_id=text(raw, "prediction_id"),
        predicted_at=predicted_at,
        # Formatting 10,000 times costs more than matching the client's text.
        predicted_text=sent
        if isinstance(sent, str) and PLAIN_ISO.match(sent)
        else predicted_at.isoformat(),
        features=obj(raw, "features", required=True),
        output=output,
        label="" if label is None else str(label)[:200],
        value=number(output, "value"),
        latency_ms=latency,
        end_user=text(raw, "end_user", required=False),
        metadata=obj(raw, "metadata"),
    )


def _contract_checks(rows: list[tuple[Record, ModelVersion]]) -> list[list[str]]:
    """Per row, why its features break its version's input contract (empty: they keep it)."""
    validators: dict[int, Any] = {}
    quick: dict[int, Any] = {}
    found: list[list[str]] = []
    for record, version in rows:
        if not version.input_schema:
            found.append([])
            continue
        validator = validators.get(version.pk)
        if validator is None:
            validator = validators[version.pk] = validator_for(version.input_schema)
            quick[version.pk] = quick_validator(version.input_schema)
        keeps = quick[version.pk]
        try:
            # Most payloads keep a plain contract: a quick yes spares jsonschema's walk.
            if (keeps is not None and keeps(record.features)) or validator.is_valid(
                record.features
            ):
                found.append([])
                continue
            errors = islice(validator.iter_errors(record.features), MAX_VIOLATIONS)
            found.append([_reason(error) for error in errors])
        except RecursionError:
            found.append(["the features nest too deeply to check"])
    return found


def _reason(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where or '(features)'}: {error.message[:200]}"


def _store(
    rows: list[tuple[Record, ModelVersion]],
    violations: list[list[str]],
    now: datetime,
    key_id: int | None,
) -> int:
    """Store the rows whose identity is new; how many that was."""
    if connection.vendor == "postgresql":
        return _store_in_one_statement(rows, violations, now, key_id)
    return _store_with_the_orm(rows, violations, now, key_id)


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
    SELECT i.model_id, i.version_id, i.prediction_id, i.predicted_at, %s, i.features,
        i.output, i.label, i.value, i.latency_ms, i.end_user, i.metadata,
        i.contract_violation, i.violations, %s
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


def _store_in_one_statement(
    rows: list[tuple[Record, ModelVersion]],
    violations: list[list[str]],
    now: datetime,
    key_id: int | None,
) -> int:
    payload = json_text(
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
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [payload, now, key_id])
        (stored,) = cursor.fetchone()
    return int(stored)


@transaction.atomic
def _store_with_the_orm(
    rows: list[tuple[Record, ModelVersion]],
    violations: list[list[str]],
    now: datetime,
    key_id: int | None,
) -> int:
    ids = {r.prediction_id for r, _ in rows}
    model_ids = {r.model_id for r, _ in rows}
    taken = set(
        PredictionKey.objects.filter(model_id__in=model_ids, prediction_id__in=ids).values_list(
            "model_id", "prediction_id"
        )
    )
    fresh = [
        (r, version, found)
        for (r, version), found in zip(rows, violations, strict=True)
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
    for waiting in (Feedback, Outcome):
        waiting.objects.filter(  # type: ignore[attr-defined]
            model_id__in=model_ids, prediction_id__in=ids, prediction_key__isnull=True
        ).update(prediction_key=Subquery(key.values("pk")[:1]))
    return len(fresh)
