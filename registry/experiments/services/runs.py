"""Runs: start one, log params, metrics and tags in atomic batches, end it.

A batch is one transaction: every point is checked first and a single bad one refuses the
whole batch, naming its index and why. Each metric keeps a summary (last, min, max, count)
updated here, so pages and search never read the series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from portal.markdown import render_fields
from portal.people import Person
from portal.services.audit import record_event
from registry.experiments.models import (
    Experiment,
    MetricPoint,
    MetricSummary,
    Param,
    Run,
    RunStatus,
    RunTag,
)
from registry.experiments.permissions import require_log
from registry.experiments.services.keys import key_problem

MAX_POINTS = 10_000
MAX_PARAMS = 1_000
MAX_TAGS = 1_000
MAX_PARAM_VALUE = 6_000
MAX_TAG_VALUE = 5_000
MAX_REPORTED = 20  # a refused batch names at most this many problems
MAX_STEP = 2**63 - 1


class ParamChanged(Exception):
    """A param already logged with another value: params never change (the API's 409)."""

    def __init__(self, key: str, logged: str, sent: str) -> None:
        super().__init__(f"Param {key!r} was logged as {logged!r}; it cannot become {sent!r}.")
        self.key, self.logged, self.sent = key, logged, sent


@dataclass(frozen=True)
class Point:
    key: str
    value: float
    step: int
    timestamp: datetime


@transaction.atomic
def create_run(
    *,
    actor: Person,
    experiment: Experiment,
    name: str = "",
    started_at: datetime | None = None,
    git_commit: str = "",
    source: str = "",
    notes: str = "",
    datasets: Sequence[dict[str, str]] = (),
    python_version: str = "",
    packages: str = "",
) -> Run:
    require_log(actor, experiment.team)
    run = Run.objects.create(
        experiment=experiment,
        name=name.strip(),
        user=actor,
        started_at=started_at or timezone.now(),
        git_commit=git_commit.strip(),
        source=source.strip(),
        notes=notes,
        notes_html=render_fields({"notes": notes})["notes"],
        datasets=_datasets(datasets),
        python_version=python_version.strip(),
        packages=packages,
    )
    record_event(actor=actor, verb="run.created", target=run, after={"name": run.name})
    return run


@transaction.atomic
def end_run(
    *, actor: Person, run: Run, status: str = RunStatus.FINISHED, ended_at: datetime | None = None
) -> Run:
    require_log(actor, run.experiment.team)
    if status == RunStatus.RUNNING or status not in RunStatus.values:
        raise ValidationError({"status": "A run ends as finished, failed or killed."})
    locked = Run.objects.select_for_update().get(pk=run.pk)
    before = locked.status
    locked.status, locked.ended_at = status, ended_at or timezone.now()
    locked.save(update_fields=["status", "ended_at"])
    record_event(
        actor=actor,
        verb="run.ended",
        target=locked,
        before={"status": before},
        after={"status": status},
    )
    run.status, run.ended_at = locked.status, locked.ended_at
    return run


@transaction.atomic
def log_batch(
    *,
    actor: Person,
    run: Run,
    metrics: Sequence[dict[str, Any]] = (),
    params: Sequence[dict[str, Any]] = (),
    tags: Sequence[dict[str, Any]] = (),
) -> dict[str, int]:
    """Store a batch of metric points, params and tags, all or nothing; how many of each."""
    require_log(actor, run.experiment.team)
    now = timezone.now()
    points = _points(metrics, now)
    new_params = _pairs(params, "params", MAX_PARAMS, MAX_PARAM_VALUE)
    new_tags = _pairs(tags, "tags", MAX_TAGS, MAX_TAG_VALUE)
    Run.objects.select_for_update().filter(pk=run.pk).first()  # one batch of a run at a time
    _store_params(run, new_params)
    for key, value in new_tags.items():
        RunTag.objects.update_or_create(run=run, key=key, defaults={"value": value})
    _store_points(run, points)
    _summarise(run, points)
    return {"metrics": len(points), "params": len(new_params), "tags": len(new_tags)}


# Checks ------------------------------------------------------------------------------------


def _points(metrics: Sequence[dict[str, Any]], now: datetime) -> list[Point]:
    if len(metrics) > MAX_POINTS:
        raise ValidationError({"metrics": f"At most {MAX_POINTS:,} points per batch."})
    problems: list[str] = []
    points: list[Point] = []
    for index, raw in enumerate(metrics):
        point, problem = _point(raw, now)
        if problem:
            problems.append(f"[{index}] {problem}")
        elif point is not None:
            points.append(point)
    if problems:
        raise ValidationError({"metrics": _reported(problems)})
    return points


def _point(raw: Any, now: datetime) -> tuple[Point | None, str | None]:
    if not isinstance(raw, dict):
        return None, "must be an object with key, value and step"
    if problem := key_problem(raw.get("key")):
        return None, problem
    value, step = raw.get("value"), raw.get("step", 0)
    if not _finite(value):
        return None, f"value: must be a finite number, not {str(value)[:40]}"
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
        return None, f"step: must be a whole number ≥ 0, not {step!r}"
    stamp = raw.get("timestamp", now)
    if not isinstance(stamp, datetime):
        return None, "timestamp: must be a time"
    assert isinstance(value, int | float)  # _finite checked it
    return Point(key=raw["key"], value=float(value), step=step, timestamp=stamp), None


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _pairs(rows: Sequence[dict[str, Any]], field: str, most: int, longest: int) -> dict[str, str]:
    if len(rows) > most:
        raise ValidationError({field: f"At most {most:,} {field} per batch."})
    problems: list[str] = []
    pairs: dict[str, str] = {}
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            problems.append(f"[{index}] must be an object with key and value")
            continue
        key, value = raw.get("key"), raw.get("value")
        if problem := key_problem(key):
            problems.append(f"[{index}] {problem}")
            continue
        if isinstance(value, bool | int | float) and not isinstance(value, bool):
            value = repr(value) if isinstance(value, float) else str(value)
        if not isinstance(value, str) or len(value) > longest:
            problems.append(f"[{index}] value: a text of at most {longest:,} characters")
            continue
        if "\x00" in value:
            problems.append(f"[{index}] value: holds a NUL character")
            continue
        assert isinstance(key, str)
        if key in pairs and pairs[key] != value:
            problems.append(f"[{index}] {key!r} is given twice with different values")
            continue
        pairs[key] = value
    if problems:
        raise ValidationError({field: _reported(problems)})
    return pairs


def _reported(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_REPORTED:
        return problems
    return [*problems[:MAX_REPORTED], f"… and {len(problems) - MAX_REPORTED} more."]


def _datasets(datasets: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    for index, dataset in enumerate(datasets):
        name, sha = str(dataset.get("name", "")).strip(), str(dataset.get("sha256", "")).lower()
        if not name or len(name) > 300:
            raise ValidationError({"datasets": f"[{index}] name: 1-300 characters."})
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValidationError({"datasets": f"[{index}] sha256: 64 hexadecimal digits."})
        role = str(dataset.get("role", "")).strip()[:40]
        cleaned.append({"name": name, "sha256": sha, "role": role})
    return cleaned


# Storage -----------------------------------------------------------------------------------


def _store_params(run: Run, params: dict[str, str]) -> None:
    if not params:
        return
    logged = dict(Param.objects.filter(run=run, key__in=params).values_list("key", "value"))
    for key, value in params.items():
        if key in logged and logged[key] != value:
            raise ParamChanged(key, logged[key], value)
    Param.objects.bulk_create(
        [Param(run=run, key=key, value=value) for key, value in params.items() if key not in logged]
    )


def _store_points(run: Run, points: list[Point]) -> None:
    if not points:
        return
    if connection.vendor == "postgresql":
        # COPY: several times faster than INSERT for thousands of rows.
        columns = "(run_id, key, step, value, timestamp)"
        table = MetricPoint._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(  # type: ignore[attr-defined]
                f"COPY {table} {columns} FROM STDIN"
            ) as copy,
        ):
            for p in points:
                copy.write_row((run.pk, p.key, p.step, p.value, p.timestamp))
        return
    MetricPoint.objects.bulk_create(
        [
            MetricPoint(run=run, key=p.key, step=p.step, value=p.value, timestamp=p.timestamp)
            for p in points
        ],
        batch_size=2_000,
    )


def _summarise(run: Run, points: list[Point]) -> None:
    """Fold the batch into each key's summary; the latest point is the highest (step, time)."""
    batch: dict[str, dict[str, Any]] = {}
    for p in points:
        s = batch.get(p.key)
        if s is None:
            batch[p.key] = {"last": p, "min": p.value, "max": p.value, "count": 1}
            continue
        s["min"], s["max"], s["count"] = (
            min(s["min"], p.value),
            max(s["max"], p.value),
            s["count"] + 1,
        )
        if (p.step, p.timestamp) >= (s["last"].step, s["last"].timestamp):
            s["last"] = p
    existing = {s.key: s for s in MetricSummary.objects.filter(run=run, key__in=batch)}
    new, changed = [], []
    for key, s in batch.items():
        last: Point = s["last"]
        summary = existing.get(key)
        if summary is None:
            new.append(
                MetricSummary(
                    run=run,
                    key=key,
                    last=last.value,
                    last_step=last.step,
                    last_timestamp=last.timestamp,
                    min=s["min"],
                    max=s["max"],
                    count=s["count"],
                )
            )
            continue
        summary.min, summary.max = min(summary.min, s["min"]), max(summary.max, s["max"])
        summary.count += s["count"]
        if (last.step, last.timestamp) >= (summary.last_step, summary.last_timestamp):
            summary.last, summary.last_step = last.value, last.step
            summary.last_timestamp = last.timestamp
        changed.append(summary)
    MetricSummary.objects.bulk_create(new)
    MetricSummary.objects.bulk_update(
        changed, ["last", "last_step", "last_timestamp", "min", "max", "count"]
    )
