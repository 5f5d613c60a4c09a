"""MLflow's tracking calls as Handoff's experiments services.

MLflow's system tags say what Handoff keeps as run fields (the run name, the source file,
the commit); they are kept as tags as well, so the client reads back what it wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from portal.people import Person
from registry.experiments import series
from registry.experiments.models import Experiment, Run, RunStatus
from registry.experiments.permissions import require_log
from registry.experiments.services import experiments, runs
from registry.experiments.times import milliseconds
from registry.mlflow_api.services.teams import TEAM_TAG, team_for

# MLflow's run statuses and Handoff's; SCHEDULED runs are running to Handoff.
STATUSES = {
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.RUNNING,
    "FINISHED": RunStatus.FINISHED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.KILLED,
}
RUN_NAME, SOURCE, COMMIT = "mlflow.runName", "mlflow.source.name", "mlflow.source.git.commit"


def moment(milliseconds: Any, *, field: str) -> datetime:
    """An MLflow timestamp (milliseconds since the epoch) as an aware time."""
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int | str):
        raise ValidationError({field: f"{milliseconds!r} is not a time in milliseconds."})
    try:
        return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ValidationError({field: f"{milliseconds!r} is not a time in milliseconds."}) from None


def create_experiment(*, actor: Person, name: str, tags: dict[str, str]) -> Experiment:
    return experiments.create_experiment(actor=actor, team=team_for(actor, tags), name=name)


@transaction.atomic
def start_run(
    *,
    actor: Person,
    experiment: Experiment,
    run_name: str,
    start_time: Any,
    tags: dict[str, str],
) -> Run:
    tags = {key: value for key, value in tags.items() if key != TEAM_TAG}
    run = runs.create_run(
        actor=actor,
        experiment=experiment,
        name=(run_name or tags.get(RUN_NAME, ""))[:200],
        started_at=moment(start_time, field="start_time") if start_time else None,
        git_commit=tags.get(COMMIT, "")[:64],
        source=tags.get(SOURCE, "")[:500],
    )
    if run.name:
        tags[RUN_NAME] = run.name
    if tags:
        runs.log_batch(actor=actor, run=run, tags=_pairs(tags))
    return run


def update_run(*, actor: Person, run: Run, status: str, end_time: Any, run_name: str) -> Run:
    """End the run when ``status`` is a final one; a rename goes to the runName tag."""
    if run_name and run_name != run.name:
        runs.rename_run(actor=actor, run=run, name=run_name, tag=RUN_NAME)
    if not status:
        return run
    if status not in STATUSES:
        raise ValidationError({"status": f"{status!r} is not one of {', '.join(STATUSES)}."})
    if STATUSES[status] == RunStatus.RUNNING:
        return run
    ended = moment(end_time, field="end_time") if end_time else None
    return runs.end_run(actor=actor, run=run, status=STATUSES[status], ended_at=ended)


def note_logged_model(*, actor: Person, run: Run, model_json: str) -> None:
    """MLflow 2.x reports a logged model's MLmodel: accept it from those who may log to the
    run. Its files are already among the run's artifacts, so nothing more is stored."""
    require_log(actor, run.experiment.team)
    try:
        json.loads(model_json)
    except ValueError:
        raise ValidationError({"model_json": "not valid JSON."}) from None


def delete_tag(*, actor: Person, run: Run, key: str) -> None:
    if not runs.delete_tag(actor=actor, run=run, key=key):
        raise ObjectDoesNotExist(f"No tag with key {key!r} found on run {run.pk}.")


def set_tag(*, actor: Person, run: Run, key: str, value: str) -> None:
    if key == RUN_NAME:
        runs.rename_run(actor=actor, run=run, name=value, tag=RUN_NAME)
        return
    runs.log_batch(actor=actor, run=run, tags=[{"key": key, "value": value}])


def log_batch(
    *,
    actor: Person,
    run: Run,
    metrics: Sequence[Any],
    params: Sequence[Any],
    tags: Sequence[Any],
) -> None:
    points = [_point(metric) for metric in metrics]
    runs.log_batch(
        actor=actor,
        run=run,
        metrics=_new_for_run(run, metrics, points),
        params=list(params),
        tags=list(tags),
    )


def _new_for_run(run: Run, metrics: Sequence[Any], points: list[Any]) -> list[Any]:
    """``points`` without those that only link a point the run logged to a model.

    The 3.x client, logging a model, sends the run's metrics again with the model's id; MLflow
    stores a point once however often it is sent, so those are not new points of the run.
    """
    linked = [
        i for i, metric in enumerate(metrics) if isinstance(metric, dict) and metric.get("model_id")
    ]
    if not linked:
        return points
    keys = {points[i]["key"] for i in linked if isinstance(points[i].get("key"), str)}
    logged = set()
    for (_, key), arrays in series.read([run.pk], keys).items():
        logged |= {(key, step, value, stamp) for step, value, stamp in arrays.points()}
    repeated = set()
    for i in linked:
        point, stamp = points[i], points[i].get("timestamp")
        when = milliseconds(stamp) if isinstance(stamp, datetime) else stamp
        if (point["key"], point["step"], point["value"], when) in logged:
            repeated.add(i)
    return [point for i, point in enumerate(points) if i not in repeated]


def _point(metric: Any) -> Any:
    """MLflow's metric (timestamp in milliseconds) as the runs service takes it; anything
    malformed goes through unchanged, for the service to name."""
    if not isinstance(metric, dict):
        return metric
    point = {"key": metric.get("key"), "value": metric.get("value"), "step": metric.get("step", 0)}
    step = point["step"]
    if isinstance(step, str) and step.isascii() and step.lstrip("-").isdecimal():
        point["step"] = int(point["step"])  # proto3 JSON sends int64 as text
    stamp = metric.get("timestamp")
    if stamp is not None:
        try:
            point["timestamp"] = moment(stamp, field="timestamp")
        except ValidationError:
            point["timestamp"] = stamp
    return point


def _pairs(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]
