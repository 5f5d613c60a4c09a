"""Logging predictions in batches: idempotent, never dropping a record that breaks its
contract, rejecting only the malformed ones.

A batch is checked and stored a chunk at a time in one transaction: on PostgreSQL the
database stores one chunk while the next is checked (``prediction_store``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import transaction

from feedback.models import Scope
from feedback.records import (
    PLAIN_ISO,
    Models,
    Reject,
    checked,
    moment,
    number,
    obj,
    text,
    unknown_fields,
    versions_of,
)
from feedback.records import Outcome as BatchOutcome
from feedback.services.access import Caller
from feedback.services.prediction_store import Row, RowStore
from portal.metrics.instruments import count_ingested
from registry.quick_schema import quick_validator
from registry.schemas import validator_for

FIELDS = frozenset(
    {"prediction_id", "model", "version", "timestamp", "features", "output", "latency_ms"}
    | {"metadata", "end_user"}
)
MAX_VIOLATIONS = 5  # reasons kept per record; the flag counts every violating record
CHUNK = 250  # records checked while the database stores the chunk before them


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
    versions = versions_of(_versions_named(records, models))
    seen: set[tuple[int, str]] = set()
    key_id = caller.key.pk if caller.key is not None else None
    with transaction.atomic(), RowStore(now, key_id) as store:
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            rows: list[Row] = []
            for index, record in checked(
                chunk, lambda raw: _record(raw, models, now), result, start
            ):
                version = versions.get((record.model_id, record.version))
                if version is None:
                    result.rejected.append(
                        (index, f"version: the model has no version {record.version[:40]!r}")
                    )
                elif (record.model_id, record.prediction_id) in seen:
                    result.duplicates += 1  # the same id twice in one batch: the first counts
                else:
                    seen.add((record.model_id, record.prediction_id))
                    rows.append((record, version))
            violations = _contract_checks(rows)
            result.contract_violations += sum(1 for found in violations if found)
            store.add(rows, violations)
    result.rejected.sort()
    result.accepted = store.stored
    result.duplicates += len(seen) - store.stored
    count_ingested("predictions", result)
    return result


def _versions_named(records: Sequence[Any], models: Models) -> set[tuple[int, str]]:
    """(model id, version) of every record that names both: read before the first chunk."""
    named = set()
    for raw in records:
        if isinstance(raw, dict) and isinstance(number := raw.get("version"), str):
            model = models.find(raw)
            if model is not None:
                named.add((model.pk, number))
    return named


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


def _contract_checks(rows: list[Row]) -> list[list[str]]:
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
