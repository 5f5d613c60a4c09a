"""The body of POST /api/v1/runs/{id}/log-batch/: read by plain code, not a serializer per
point, because 10,000 points must be checked in milliseconds. The serializers here describe
the body for the schema; ``batch_from_body`` reads it and names every problem by index.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from rest_framework import serializers

from registry.experiments.api.serializers import RunKeyValueSerializer
from registry.experiments.services.runs import (
    MAX_PARAM_VALUE,
    MAX_PARAMS,
    MAX_POINTS,
    MAX_REPORTED,
    MAX_TAG_VALUE,
    MAX_TAGS,
)
from registry.experiments.times import EPOCH, MAX_MILLISECONDS, MILLISECOND

FLOAT_LIMIT = 2**1024  # a whole number at least this large is no float
BATCH_FIELDS = ("metrics", "params", "tags")
POINT_FIELDS = frozenset({"key", "value", "step", "timestamp"})
PAIR_FIELDS = frozenset({"key", "value"})


class MetricPointSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=250)
    value = serializers.FloatField()
    step = serializers.IntegerField(min_value=0, required=False, help_text="0 when left out.")
    timestamp = serializers.IntegerField(
        min_value=0,
        max_value=MAX_MILLISECONDS,
        required=False,
        help_text="Milliseconds since the epoch; the time of the request when left out.",
    )


class LogBatchSerializer(serializers.Serializer):
    """The body of POST …/log-batch/ (read by ``batch_from_body``, for the schema only)."""

    metrics = serializers.ListField(
        child=MetricPointSerializer(), max_length=MAX_POINTS, required=False
    )
    params = serializers.ListField(
        child=RunKeyValueSerializer(),
        max_length=MAX_PARAMS,
        required=False,
        help_text=f"Values up to {MAX_PARAM_VALUE:,} characters; numbers are stored as text.",
    )
    tags = serializers.ListField(
        child=RunKeyValueSerializer(),
        max_length=MAX_TAGS,
        required=False,
        help_text=f"Values up to {MAX_TAG_VALUE:,} characters; a tag logged again is replaced.",
    )


class LogBatchResultSerializer(serializers.Serializer):
    metrics = serializers.IntegerField(help_text="Points stored.")
    params = serializers.IntegerField()
    tags = serializers.IntegerField()


# The 409 of a param that would change ("errors" cannot be a serializer field's name).
PARAM_CHANGED_SCHEMA = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "key": {"type": "string"},
        "logged": {"type": "string", "description": "The value the param was logged with."},
        "sent": {"type": "string", "description": "The other value this batch sent."},
    },
    "required": ["errors", "key", "logged", "sent"],
}


def batch_from_body(data: Any) -> dict[str, Any]:
    """The body's metrics, params and tags for ``log_batch``: shape and timestamps checked.

    Each point's timestamp (milliseconds) becomes a time; the service checks the rest of
    each point, param and tag and names every problem by index.
    """
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            {"detail": ["The body is an object with metrics, params and/or tags."]}
        )
    errors: dict[str, list[str]] = {
        str(name)[:100]: ["Unknown field; this request takes: metrics, params, tags."]
        for name in data
        if name not in BATCH_FIELDS
    }
    for name in BATCH_FIELDS:
        if not isinstance(data.get(name, []), list):
            errors[name] = ["A list."]
    if errors:
        raise serializers.ValidationError(errors)
    # A copy of each list: timestamps are replaced in it, not in the request's data.
    batch = {name: list(data.get(name, [])) for name in BATCH_FIELDS}
    problems = {
        "metrics": _point_problems(batch["metrics"]),
        "params": _pair_problems(batch["params"], MAX_PARAMS),
        "tags": _pair_problems(batch["tags"], MAX_TAGS),
    }
    reported = {name: _reported(found) for name, found in problems.items() if found}
    if reported:
        raise serializers.ValidationError(reported)
    return batch


def _point_problems(points: list[Any]) -> list[str]:
    """Problems the service does not look for; each timestamp becomes a time in ``points``."""
    if len(points) > MAX_POINTS:
        return []  # the service refuses the batch as a whole
    problems = []
    for index, raw in enumerate(points):
        if not isinstance(raw, dict):
            continue  # the service says what a point must be
        if not raw.keys() <= POINT_FIELDS:
            extra = _names(raw.keys() - POINT_FIELDS)
            problems.append(f"[{index}] unknown field {extra}; a point has {_POINT_NAMES}")
            continue
        value = raw.get("value")
        if type(value) is int and not -FLOAT_LIMIT < value < FLOAT_LIMIT:
            problems.append(f"[{index}] value: must be a finite number")
            continue
        if "timestamp" in raw:
            stamp = _time(raw["timestamp"])
            if stamp is None:
                problems.append(f"[{index}] timestamp: {_STAMP_RULE}, not {raw['timestamp']!r}")
                continue
            points[index] = {**raw, "timestamp": stamp}
    return problems


_POINT_NAMES = "key, value, step and timestamp"
_STAMP_RULE = f"whole milliseconds since 1970-01-01 UTC, 0 to {MAX_MILLISECONDS:,}"


def _time(stamp: Any) -> datetime | None:
    if type(stamp) is not int or not 0 <= stamp <= MAX_MILLISECONDS:
        return None
    return EPOCH + stamp * MILLISECOND


def _pair_problems(rows: list[Any], most: int) -> list[str]:
    if len(rows) > most:
        return []
    return [
        f"[{index}] unknown field {_names(raw.keys() - PAIR_FIELDS)}; this takes key and value"
        for index, raw in enumerate(rows)
        if isinstance(raw, dict) and not raw.keys() <= PAIR_FIELDS
    ]


def _names(keys: AbstractSet[Any]) -> str:
    return ", ".join(sorted(repr(key)[:50] for key in keys))


def _reported(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_REPORTED:
        return problems
    return [*problems[:MAX_REPORTED], f"… and {len(problems) - MAX_REPORTED} more."]
