"""Business outcomes of predictions (``converted`` = 1, ``order_value`` = 42.5), reported
later by the product: one value per prediction and name, re-sending is a duplicate."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from feedback.models import Outcome, PredictionKey, Scope
from feedback.records import Models, Reject, checked, moment, text, unknown_fields
from feedback.records import Outcome as BatchOutcome
from feedback.services.access import Caller
from portal.metrics.instruments import count_ingested

FIELDS = frozenset({"prediction_id", "model", "name", "value", "timestamp"})
NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


@dataclass(frozen=True)
class Reported:
    model_id: int
    prediction_id: str
    name: str
    value: float
    happened_at: datetime


def report_outcomes(*, caller: Caller, records: Sequence[Any], now: datetime) -> BatchOutcome:
    """Store each new (prediction, name) once; PermissionDenied, storing nothing, when the
    batch names a model the caller may not log for."""
    result = BatchOutcome()
    models = Models(
        (r["model"] for r in records if isinstance(r, dict) and isinstance(r.get("model"), str)),
        caller.single_model,
    )
    caller.require(Scope.PREDICTIONS, models.named(records))
    good = [r for _, r in checked(records, lambda raw: _reported(raw, models, now), result)]
    result.accepted = _store(good, caller)
    result.duplicates = len(good) - result.accepted
    count_ingested("outcomes", result)
    return result


def _reported(raw: dict[str, Any], models: Models, now: datetime) -> Reported:
    unknown_fields(raw, FIELDS)
    model = models.model(raw)
    name = text(raw, "name", longest=100)
    if not NAME.match(name):
        raise Reject("name: lower-case letters, digits and _, starting with a letter")
    value = raw.get("value")
    if isinstance(value, bool):
        value = float(value)  # handled_by_human: true
    if (
        not isinstance(value, int | float)
        or value != value
        or value in (float("inf"), float("-inf"))
    ):
        raise Reject("value: a finite number or true/false")
    return Reported(
        model.pk, text(raw, "prediction_id"), name, float(value), moment(raw, "timestamp", now)
    )


@transaction.atomic
def _store(good: list[Reported], caller: Caller) -> int:
    if not good:
        return 0
    model_ids = {r.model_id for r in good}
    ids = {r.prediction_id for r in good}
    taken = set(
        Outcome.objects.filter(model_id__in=model_ids, prediction_id__in=ids).values_list(
            "model_id", "prediction_id", "name"
        )
    )
    fresh: list[Reported] = []
    for r in good:
        mark = (r.model_id, r.prediction_id, r.name)
        if mark not in taken:
            taken.add(mark)
            fresh.append(r)
    logged = {
        (model_id, prediction_id): pk
        for model_id, prediction_id, pk in PredictionKey.objects.filter(
            model_id__in=model_ids, prediction_id__in=ids
        ).values_list("model_id", "prediction_id", "pk")
    }
    Outcome.objects.bulk_create(
        [
            Outcome(
                model_id=r.model_id,
                prediction_id=r.prediction_id,
                prediction_key_id=logged.get((r.model_id, r.prediction_id)),
                name=r.name,
                value=r.value,
                happened_at=r.happened_at,
                api_key=caller.key,
            )
            for r in fresh
        ],
        ignore_conflicts=True,
    )
    return len(fresh)
