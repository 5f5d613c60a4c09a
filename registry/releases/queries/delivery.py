"""Delivery metrics: the page's metrics for a team and a model, and its filters' choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.models import Team
from registry.models import RegisteredModel
from registry.releases.delivery import Metrics, delivery_metrics


@dataclass(frozen=True)
class DeliveryPage:
    metrics: Metrics
    start: datetime
    end: datetime
    days: int
    teams: list[tuple[str, str]]  # (slug, name), for the filter
    models: list[tuple[str, str]]  # (name, name)
    team: str  # the chosen team's slug, or "" for every team
    team_name: str
    model: str  # the chosen model's name, or "" for every model


def delivery_page(*, days: int, team: str, model: str, now: datetime) -> DeliveryPage:
    """The metrics of the last ``days`` for a team (by slug) and a model (by name): two
    queries for the filters' choices and delivery_metrics' own, whatever the releases."""
    teams = list(Team.objects.order_by("name").values_list("pk", "slug", "name"))
    models = list(RegisteredModel.objects.order_by("name").values_list("pk", "name"))
    team_pk = next((pk for pk, slug, _ in teams if slug == team), None)
    model_pk = next((pk for pk, name in models if name == model), None)
    start = now - timedelta(days=days)
    metrics = delivery_metrics(start=start, end=now, now=now, team=team_pk, model=model_pk)
    return DeliveryPage(
        metrics=metrics,
        start=start,
        end=now,
        days=days,
        teams=[(slug, name) for _, slug, name in teams],
        models=[(name, name) for _, name in models],
        team=team if team_pk is not None else "",
        team_name=next((name for pk, _, name in teams if pk == team_pk), ""),
        model=model if model_pk is not None else "",
    )
