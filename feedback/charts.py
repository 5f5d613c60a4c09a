"""Plotly figures of feedback as plain ``{data, layout}`` dicts. Pure: data in, dict out.

Labels, versions and outcome names come from clients of the API, and Plotly reads a little
HTML in text (``<b>``, ``<a href>``): every such text goes through ``text`` first, so it is
shown as written, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.plots import (
    ACCENT,
    GOOD,
    MUTED,
    binned_bars,
    colour,
    confusion_heatmap,
    layout,
    text,
)


@dataclass(frozen=True)
class Line:
    """One version's daily means of an outcome."""

    label: str
    days: list[date]
    values: list[float]
    counts: list[int]


def _layout(**extra: Any) -> dict[str, Any]:
    return layout(**{"margin": {"t": 30, "r": 10, "b": 50, "l": 55}, **extra})


def _days(days: Sequence[date]) -> list[str]:
    return [day.isoformat() for day in days]


def _day_axis(first: date, last: date, **extra: Any) -> dict[str, Any]:
    """A date axis showing whole days from ``first`` to ``last``, however few have data."""
    return {
        "type": "date",
        "range": [f"{first.isoformat()} 00:00", f"{last.isoformat()} 23:59"],
        "tickformat": "%b %d",
        **extra,
    }


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def confusion_chart(labels: Sequence[str], counts: Sequence[Sequence[int]]) -> dict[str, Any]:
    """A heatmap of corrected labels (columns) by predicted label (rows), counts written in
    the cells; the first label at the top left, so agreement runs down the diagonal."""
    return confusion_heatmap(
        labels,
        counts,
        rows="predicted label",
        columns="corrected label",
        hover="predicted %{y}<br>corrected to %{x}<br>%{z}",
        unit="feedback",
    )


def accuracy_chart(
    days: Sequence[date],
    accuracy: Sequence[float | None],
    thumbs_up_rate: Sequence[float | None],
    judged: Sequence[int],
) -> dict[str, Any]:
    """Feedback-based accuracy and thumbs-up rate per day, in percent; a day without
    feedback is a gap, not a zero."""
    x = _days(days)
    lines = [
        ("accuracy", accuracy, ACCENT),
        ("thumbs up", thumbs_up_rate, GOOD),
    ]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": x,
                "y": [_percent(value) for value in values],
                "customdata": list(judged),
                "hovertemplate": f"%{{x}}: %{{y:.1f}}% {name}<br>%{{customdata}} judged"
                "<extra></extra>",
                "line": {"color": line_colour, "width": 2},
                "connectgaps": False,
            }
            for name, values, line_colour in lines
        ],
        "layout": _layout(
            xaxis=_day_axis(days[0], days[-1], title={"text": "day of prediction"})
            if days
            else {"type": "date"},
            yaxis={"title": {"text": "%"}, "range": [0, 105], "ticksuffix": "%"},
            legend={"orientation": "h", "y": -0.3},
        ),
    }


def residual_histogram(edges: Sequence[float], counts: Sequence[int]) -> dict[str, Any]:
    """Bars of residual counts between consecutive ``edges`` (binned by the database)."""
    return binned_bars(edges, counts, x_title="predicted - corrected", unit="predictions")


def residual_scatter(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Residual against predicted value, one marker per correction, with the zero line."""
    many = len(points) > 1_000
    return {
        "data": [
            {
                "type": "scattergl" if many else "scatter",
                "mode": "markers",
                "x": [predicted for predicted, _ in points],
                "y": [residual for _, residual in points],
                "marker": {"color": ACCENT, "size": 5 if many else 7, "opacity": 0.7},
                "hovertemplate": "predicted %{x:.4g}<br>residual %{y:.4g}<extra></extra>",
            }
        ],
        "layout": _layout(
            xaxis={"title": {"text": "predicted value"}},
            yaxis={"title": {"text": "predicted - corrected"}, "zeroline": True},
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 0,
                    "y1": 0,
                    "line": {"color": MUTED, "dash": "dot"},
                }
            ],
        ),
    }


def activity_chart(
    days: Sequence[date],
    predictions: Sequence[int],
    feedback: Sequence[int],
    thumbs_up_rate: Sequence[float | None],
) -> dict[str, Any]:
    """Predictions and feedback per day as bars, the thumbs-up rate as a line on the right."""
    x = _days(days)
    return {
        "data": [
            {
                "type": "bar",
                "name": "predictions",
                "x": x,
                "y": list(predictions),
                "marker": {"color": MUTED},
            },
            {
                "type": "bar",
                "name": "feedback",
                "x": x,
                "y": list(feedback),
                "marker": {"color": ACCENT},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "thumbs up",
                "x": x,
                "y": [_percent(value) for value in thumbs_up_rate],
                "yaxis": "y2",
                "line": {"color": GOOD, "width": 2},
                "connectgaps": False,
                "hovertemplate": "%{x}: %{y:.1f}% thumbs up<extra></extra>",
            },
        ],
        "layout": _layout(
            barmode="group",
            xaxis=_day_axis(days[0], days[-1]) if days else {"type": "date"},
            yaxis={"title": {"text": "count"}, "rangemode": "tozero"},
            yaxis2={
                "title": {"text": "thumbs up"},
                "overlaying": "y",
                "side": "right",
                "range": [0, 105],
                "ticksuffix": "%",
                "showgrid": False,
            },
            legend={"orientation": "h", "y": -0.2},
            margin={"t": 20, "r": 55, "b": 50, "l": 55},
        ),
    }


def outcome_chart(
    name: str, lines: Sequence[Line], span: tuple[date, date] | None = None
) -> dict[str, Any]:
    """One line per version: the outcome's daily mean over the days it happened, on an axis
    of the days in ``span`` (first, last) when given."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": text(line.label),
                "x": _days(line.days),
                "y": list(line.values),
                "customdata": list(line.counts),
                "hovertemplate": f"{text(line.label)}<br>%{{x}}: mean %{{y:.4g}}"
                "<br>%{customdata} outcomes<extra></extra>",
                "line": {"color": colour(index), "width": 2},
            }
            for index, line in enumerate(lines)
        ],
        "layout": _layout(
            xaxis=_day_axis(*span) if span else {"type": "date"},
            yaxis={"title": {"text": f"mean {text(name)}"}},
            showlegend=True,
            legend={"orientation": "h", "y": -0.2, "title": {"text": "version"}},
        ),
    }
