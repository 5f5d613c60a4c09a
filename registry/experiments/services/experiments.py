"""Create and change experiments, and set which way each metric is better."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.models import Team
from portal.people import Person
from portal.services.audit import record_event
from registry.experiments.models import Direction, Experiment
from registry.experiments.permissions import require_log
from registry.experiments.services.keys import check_key


@transaction.atomic
def create_experiment(
    *,
    actor: Person,
    team: Team,
    name: str,
    description: str = "",
    model: Any = None,
    metric_directions: dict[str, str] | None = None,
) -> Experiment:
    require_log(actor, team)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "An experiment needs a name."})
    if model is not None and model.team_id != team.pk:
        raise ValidationError({"model": f"{model.name} belongs to another team."})
    directions = _directions(metric_directions or {})
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(
                name=name,
                description=description,
                team=team,
                model=model,
                metric_directions=directions,
                created_by=actor,
            )
    except IntegrityError:
        raise ValidationError({"name": f"An experiment named {name!r} exists."}) from None
    record_event(actor=actor, verb="experiment.created", target=experiment, after={"name": name})
    return experiment


def _directions(directions: dict[str, str]) -> dict[str, str]:
    for key, direction in directions.items():
        check_key(key, field="metric_directions")
        if direction not in Direction.values:
            raise ValidationError(
                {"metric_directions": f"{key}: {direction!r} is not one of max, min."}
            )
    return dict(directions)


_UNSET: Any = object()


@transaction.atomic
def update_experiment(
    *,
    actor: Person,
    experiment: Experiment,
    description: str | None = None,
    model: Any = _UNSET,
    metric_directions: dict[str, str] | None = None,
) -> Experiment:
    """Change what is given: the description, the model (None: no model), or the whole
    mapping of metric directions. One audit event with what was and what is."""
    require_log(actor, experiment.team)
    locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if description is not None and description != locked.description:
        before["description"], after["description"] = locked.description, description
        locked.description = description
    if model is not _UNSET and model != locked.model:
        if model is not None and model.team_id != locked.team_id:
            raise ValidationError({"model": f"{model.name} belongs to another team."})
        before["model"] = locked.model.name if locked.model else None
        after["model"] = model.name if model else None
        locked.model = model
    if metric_directions is not None:
        directions = _directions(metric_directions)
        if directions != locked.metric_directions:
            before["metric_directions"] = locked.metric_directions
            after["metric_directions"] = locked.metric_directions = directions
    if after:
        locked.save(update_fields=list(after))
        record_event(
            actor=actor, verb="experiment.updated", target=locked, before=before, after=after
        )
    return locked


def set_direction(*, actor: Person, experiment: Experiment, key: str, direction: str) -> Experiment:
    """Say which way one metric is better, keeping the others."""
    return update_experiment(
        actor=actor,
        experiment=experiment,
        metric_directions={**experiment.metric_directions, key: direction},
    )
