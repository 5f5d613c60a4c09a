"""Logged models (MLflow 3.x): created before their files are uploaded, marked ready after,
tagged with the versions registered from them, and reported as a run's outputs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from portal.people import Person
from registry.experiments.models import Experiment, Run
from registry.experiments.permissions import require_log
from registry.experiments.services.keys import key_problem
from registry.mlflow_api.models import LoggedModel, LoggedModelStatus

MAX_PAIRS = 1_000
MAX_VALUE = 5_000


@transaction.atomic
def create_logged_model(
    *,
    actor: Person,
    experiment: Experiment,
    name: str,
    source_run: Run | None,
    model_type: str,
    params: dict[str, str],
    tags: dict[str, str],
) -> LoggedModel:
    require_log(actor, experiment.team)
    if source_run is not None and source_run.experiment_id != experiment.pk:
        raise ValidationError({"source_run_id": "The run belongs to another experiment."})
    return LoggedModel.objects.create(
        model_id=f"m-{uuid.uuid4().hex}",
        experiment=experiment,
        name=(name or "model")[:250],
        source_run=source_run,
        model_type=model_type[:100],
        params=_checked(params, "params"),
        tags=_checked(tags, "tags"),
        created_by=actor,
    )


@transaction.atomic
def set_status(*, actor: Person, model: LoggedModel, status: str, message: str = "") -> None:
    require_log(actor, model.experiment.team)
    if status not in LoggedModelStatus.values:
        raise ValidationError(
            {"status": f"{status!r} is not one of {', '.join(LoggedModelStatus.values)}."}
        )
    model.status, model.status_message = status, message[:1000]
    model.save(update_fields=["status", "status_message", "updated_at"])


@transaction.atomic
def set_tags(*, actor: Person, model: LoggedModel, tags: dict[str, str]) -> None:
    require_log(actor, model.experiment.team)
    locked = LoggedModel.objects.select_for_update().get(pk=model.pk)
    locked.tags = _checked({**locked.tags, **tags}, "tags")
    locked.save(update_fields=["tags", "updated_at"])
    model.tags = locked.tags


@transaction.atomic
def delete_tag(*, actor: Person, model: LoggedModel, key: str) -> None:
    require_log(actor, model.experiment.team)
    locked = LoggedModel.objects.select_for_update().get(pk=model.pk)
    if key not in locked.tags:
        raise ObjectDoesNotExist(f"No tag with key {key!r} on logged model {model.model_id}.")
    del locked.tags[key]
    locked.save(update_fields=["tags", "updated_at"])


@transaction.atomic
def record_outputs(*, actor: Person, run: Run, outputs: Sequence[Any]) -> None:
    """Mark each ``{"model_id", "step"}`` as an output of ``run``."""
    require_log(actor, run.experiment.team)
    for index, output in enumerate(outputs):
        if not isinstance(output, dict) or not isinstance(output.get("model_id"), str):
            raise ValidationError({"models": f"[{index}] expected an object with model_id."})
        step = output.get("step") or 0
        if isinstance(step, str) and step.isascii() and step.isdecimal():
            step = int(step)
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValidationError({"models": f"[{index}] step: a whole number ≥ 0."})
        updated = LoggedModel.objects.filter(
            model_id=output["model_id"], experiment_id=run.experiment_id
        ).update(output_run=run, output_step=step)
        if not updated:
            raise ObjectDoesNotExist(f"Logged model {output['model_id']!r} not found.")


def _checked(pairs: dict[str, str], field: str) -> dict[str, str]:
    if len(pairs) > MAX_PAIRS:
        raise ValidationError({field: f"At most {MAX_PAIRS:,}."})
    for key, value in pairs.items():
        if problem := key_problem(key):
            raise ValidationError({field: problem})
        if len(value) > MAX_VALUE:
            raise ValidationError({field: f"{key}: at most {MAX_VALUE:,} characters."})
    return dict(pairs)
