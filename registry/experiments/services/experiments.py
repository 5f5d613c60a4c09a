"""Create experiments and set which way each metric is better."""

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
