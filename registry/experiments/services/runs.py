"""Runs: start one, log params, metrics and tags in atomic batches, end it.

A batch is one transaction: every point is checked first and a single bad one refuses the
whole batch, naming its index and why. Each metric keeps a summary (last, min, max, count)
updated here, so pages and search never read the series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.markdown import render_fields
from portal.people import Person
from portal.services.audit import record_event
from registry.experiments import series
from registry.experiments.models import (
    Experiment,
    MetricChunk,
    MetricSummary,
    Param,
    Run,
    RunStatus,
    RunTag,
)
from registry.experiments.permissions import require_log
from registry.experiments.services.keys import key_problem
from registry.experiments.sketch import EMPTY, Sketch, fold

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


@dataclass
class Points:
    """A batch's metric points as columns, in the order sent."""

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    stamps: list[datetime] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)


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
def rename_run(*, actor: Person, run: Run, name: str, tag: str = "") -> Run:
    """Rename the run; with ``tag``, keep a tag of that key (a client's run-name tag) in step."""
    require_log(actor, run.experiment.team)
    name = name.strip()[:200]
    before = run.name
    Run.objects.filter(pk=run.pk).update(name=name)
    if tag:
        RunTag.objects.update_or_create(run=run, key=tag, defaults={"value": name})
    record_event(
        actor=actor, verb="run.renamed", target=run, before={"name": before}, after={"name": name}
    )
    run.name = name
    return run


@transaction.atomic
def delete_tag(*, actor: Person, run: Run, key: str) -> bool:
    """Remove the run's tag ``key``; False when it had none."""
    require_log(actor, run.experiment.team)
    deleted, _ = RunTag.objects.filter(run=run, key=key).delete()
    if deleted:
        record_event(actor=actor, verb="run.untagged", target=run, before={"key": key})
    return bool(deleted)


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
    if points:
        _store(run, points)
    return {"metrics": len(points), "params": len(new_params), "tags": len(new_tags)}


# Checks ------------------------------------------------------------------------------------


def _points(metrics: Sequence[dict[str, Any]], now: datetime) -> Points:
    if len(metrics) > MAX_POINTS:
        raise ValidationError({"metrics": f"At most {MAX_POINTS:,} points per batch."})
    points = _well_formed(metrics, now)
    if points is not None:
        return points
    problems: list[str] = []
    points = Points()
    for index, raw in enumerate(metrics):
        problem = _point(raw, now, points)
        if problem:
            problems.append(f"[{index}] {problem}")
    if problems:
        raise ValidationError({"metrics": _reported(problems)})
    return points


def _well_formed(metrics: Sequence[Any], now: datetime) -> Points | None:
    """The batch as columns when every point is well formed, checked a column at a time (a
    key once per distinct key, the values as one array); None when anything is off, and the
    point-by-point check then names it."""
    try:
        if any(type(raw) is not dict for raw in metrics):
            return None
        keys = [raw.get("key") for raw in metrics]
        if any(key_problem(key) for key in set(keys)):
            return None
        values = [raw.get("value") for raw in metrics]
        if not {type(value) for value in values} <= {int, float}:
            return None
        array = np.array(values, dtype=float)
        steps = [raw.get("step", 0) for raw in metrics]
        if not {type(step) for step in steps} <= {int} or not np.isfinite(array).all():
            return None
        if steps and not (min(steps) >= 0 and max(steps) <= MAX_STEP):
            return None
        stamps = [raw.get("timestamp", now) for raw in metrics]
        if not all(isinstance(stamp, datetime) for stamp in stamps):
            return None
    except (TypeError, OverflowError):  # an unhashable key; an int too large for a float
        return None
    return Points(keys, array.tolist(), steps, stamps)


def _point(raw: Any, now: datetime, points: Points) -> str | None:
    """Why ``raw`` is not a point, or None after adding it to ``points``."""
    if not isinstance(raw, dict):
        return "must be an object with key, value and step"
    if problem := key_problem(raw.get("key")):
        return problem
    value, step = raw.get("value"), raw.get("step", 0)
    if not _finite(value):
        return f"value: must be a finite number, not {str(value)[:40]}"
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
        return f"step: must be a whole number ≥ 0, not {step!r}"
    stamp = raw.get("timestamp", now)
    if not isinstance(stamp, datetime):
        return "timestamp: must be a time"
    assert isinstance(value, int | float)  # _finite checked it
    points.keys.append(raw["key"])
    points.values.append(float(value))
    points.steps.append(step)
    points.stamps.append(stamp)
    return None


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


def _store(run: Run, points: Points) -> None:
    """Each key's points as one packed chunk, and the key's summary and sketch updated."""
    rows: dict[str, list[int]] = {}
    for index, key in enumerate(points.keys):
        rows.setdefault(key, []).append(index)
    steps, values = np.array(points.steps, dtype=np.int64), np.array(points.values)
    stamps = np.array(series.milliseconds(points.stamps), dtype=np.int64)
    per_key = {}
    for key, indices in rows.items():
        at = np.array(indices)
        per_key[key] = series.Arrays(steps[at], values[at], stamps[at])
    MetricChunk.objects.bulk_create([series.chunk(run, key, s) for key, s in per_key.items()])
    _summarise(run, points, rows, per_key)


def _summarise(
    run: Run, points: Points, rows: dict[str, list[int]], per_key: dict[str, series.Arrays]
) -> None:
    """Fold the batch into each key's summary and sketch; the latest point is the highest
    (step, time)."""
    existing = {s.key: s for s in MetricSummary.objects.filter(run=run, key__in=rows)}
    new, changed = [], []
    for key, indices in rows.items():
        logged = per_key[key]
        top = logged.steps.max()
        highest = [indices[i] for i in np.flatnonzero(logged.steps == top).tolist()]
        last = max(reversed(highest), key=lambda i: points.stamps[i])  # ties: the latest sent
        summary = existing.get(key)
        if summary is None:
            summary = MetricSummary(
                run=run,
                key=key,
                last=points.values[last],
                last_step=points.steps[last],
                last_timestamp=points.stamps[last],
                min=float(logged.values.min()),
                max=float(logged.values.max()),
                count=0,
                sketch=EMPTY.as_json(),
            )
            new.append(summary)
        else:
            summary.min = min(summary.min, float(logged.values.min()))
            summary.max = max(summary.max, float(logged.values.max()))
            if (points.steps[last], points.stamps[last]) >= (
                summary.last_step,
                summary.last_timestamp,
            ):
                summary.last, summary.last_step = points.values[last], points.steps[last]
                summary.last_timestamp = points.stamps[last]
            changed.append(summary)
        summary.count += len(indices)
        sketch = Sketch.from_json(summary.sketch)
        summary.sketch = fold(sketch, logged.steps, logged.values, logged.stamps).as_json()
    MetricSummary.objects.bulk_create(new)
    MetricSummary.objects.bulk_update(
        changed, ["last", "last_step", "last_timestamp", "min", "max", "count", "sketch"]
    )
