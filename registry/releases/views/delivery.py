"""The delivery metrics page: how the two disciplines deliver together over the last 30, 90
or 365 days, for every team, one team or one model. Read-only, for anyone signed in.

The two figures are pure functions of the metrics (data in, ``{data, layout}`` out), drawn
by static/js/plots.js from their data islands."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.plots import ACCENT, MUTED, layout
from portal.web import HtmxHttpRequest
from registry.releases.delivery import Metrics, Spread
from registry.releases.forms import DeliveryFilterForm, period_from
from registry.releases.queries import delivery_page

HOURS_PER_DAY = 24
MAX_NAME = 120  # a team's slug or a model's name, at most


@require_GET
def delivery(request: HtmxHttpRequest) -> HttpResponse:
    # A team or model that is not one of the choices is ignored: the page shows them all.
    page = delivery_page(
        days=period_from(request.GET.get("days")),
        team=request.GET.get("team", "")[:MAX_NAME],
        model=request.GET.get("model", "")[:MAX_NAME],
        now=timezone.now(),
    )
    initial = {"days": page.days, "team": page.team, "model": page.model}
    form = DeliveryFilterForm(initial=initial, teams=page.teams, models=page.models)
    figures = {
        "weekly": weekly_chart(page.metrics.weekly, page.start, page.end),
        "durations": durations_chart(page.metrics),
    }
    context = {"page": page, "metrics": page.metrics, "form": form, "figures": figures}
    return render(request, "releases/delivery.html", context)


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_between(start: datetime, end: datetime) -> list[str]:
    """Every ISO week from ``start``'s to ``end``'s, in order (the chart shows quiet weeks)."""
    found: list[str] = []
    moment = start
    while moment <= end:
        week = _week(moment)
        if not found or found[-1] != week:
            found.append(week)
        moment += timedelta(days=1)
    if _week(end) not in found:
        found.append(_week(end))
    return found


def weekly_chart(weekly: dict[str, int], start: datetime, end: datetime) -> dict[str, Any]:
    """Deployments per ISO week over the period, a bar per week (zero included)."""
    weeks = weeks_between(start, end)
    return {
        "data": [
            {
                "type": "bar",
                "x": weeks,
                "y": [weekly.get(week, 0) for week in weeks],
                "marker": {"color": ACCENT},
                "hovertemplate": "%{x}: %{y} deployment(s)<extra></extra>",
            }
        ],
        "layout": layout(
            xaxis={"title": {"text": "ISO week"}, "type": "category"},
            yaxis={"title": {"text": "deployments"}, "rangemode": "tozero", "dtick": 1},
        ),
    }


DURATIONS = (
    ("lead_time", "Lead time to production"),
    ("approval_wait", "Waiting for approval"),
    ("time_to_restore", "Time to restore"),
    ("open_alert_age", "Open drift alerts' age"),
)


def durations_chart(metrics: Metrics) -> dict[str, Any] | None:
    """Median and 90th percentile of each duration, in hours when all are under two days,
    else in days; None when none has a value."""
    rows: list[tuple[str, Spread]] = [(label, getattr(metrics, name)) for name, label in DURATIONS]
    rows = [(label, spread) for label, spread in rows if spread.count]
    if not rows:
        return None
    labels = [label for label, _ in rows]
    longest = max(spread.p90_hours or 0 for _, spread in rows)
    unit, per_hour = ("hours", 1.0) if longest < 2 * HOURS_PER_DAY else ("days", 1 / HOURS_PER_DAY)

    def scaled(values: list[float | None]) -> list[float]:
        return [round((value or 0) * per_hour, 2) for value in values]

    bars = [
        ("median", [spread.median_hours for _, spread in rows], ACCENT),
        ("90th percentile", [spread.p90_hours for _, spread in rows], MUTED),
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "y": labels,
                "x": scaled(values),
                "marker": {"color": colour},
                "hovertemplate": f"%{{y}}, {name}: %{{x}} {unit}<extra></extra>",
            }
            for name, values, colour in bars
        ],
        "layout": layout(
            barmode="group",
            xaxis={"title": {"text": unit}, "rangemode": "tozero"},
            yaxis={"type": "category", "autorange": "reversed", "automargin": True},
            legend={"orientation": "h", "y": -0.25},
            margin={"t": 20, "r": 10, "b": 70, "l": 10},
        ),
    }
