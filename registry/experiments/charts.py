"""Plotly figures of runs as plain ``{data, layout}`` dicts. Pure: data in, dict out.

A run keeps its colour on every chart of a page: colours go by the run's place in the
compared list (``run_colour``), never by a trace's place in one chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Plotly's "D3" and "G10" qualitative palettes: 20 distinguishable colours, then they repeat.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6",
    "#dd4477", "#66aa00", "#b82e2e", "#316395",
)  # fmt: skip


STEP, TIME = "step", "time"  # what a metric chart's x axis shows


@dataclass(frozen=True)
class Series:
    """One trace: a run's points of one metric, as plotted (maybe downsampled)."""

    label: str
    colour: str
    x: list[int]  # steps, or milliseconds since the epoch over time
    values: list[float]

    @classmethod
    def of(
        cls, label: str, colour: str, points: Sequence[tuple[int, float, int]], over: str
    ) -> Series:
        """A trace of (step, value, milliseconds) points, over step or over time."""
        x = [p[2] for p in points] if over == TIME else [p[0] for p in points]
        return cls(label, colour, x, [p[1] for p in points])


@dataclass(frozen=True)
class Axis:
    """One dimension of a parallel-coordinates or scatter plot: a label and a value per run."""

    label: str
    values: list[float | str | None]


def run_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _layout(**extra: Any) -> dict[str, Any]:
    return {"autosize": True, "margin": {"t": 30, "r": 10, "b": 40, "l": 55}, **extra}


def metric_chart(key: str, series: Sequence[Series], over: str = STEP) -> dict[str, Any]:
    """A line per run of one metric over step, or over time (a date axis)."""
    xaxis: dict[str, Any] = {"title": {"text": over}}
    if over == TIME:
        xaxis["type"] = "date"  # Plotly reads the numbers as milliseconds since the epoch
    data = [
        {
            "type": "scattergl" if len(s.x) > 1_000 else "scatter",
            "mode": "lines",
            "name": s.label,
            "x": s.x,
            "y": s.values,
            "line": {"color": s.colour, "width": 1.5},
        }
        for s in series
    ]
    return {
        "data": data,
        "layout": _layout(
            xaxis=xaxis,
            yaxis={"title": {"text": key}},
            showlegend=len(series) > 1,
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def _numeric(values: Sequence[float | str | None]) -> list[float] | None:
    """The values as numbers when every present one is a finite number, else None."""
    numbers = []
    for value in values:
        try:
            number = float(value) if value is not None else math.nan
        except ValueError:
            return None
        numbers.append(number)
    return numbers


def _dimension(axis: Axis) -> dict[str, Any]:
    numbers = _numeric(axis.values)
    if numbers is not None:
        return {"label": axis.label, "values": numbers}
    # Text values (optimizer=adam) get one tick each, in sorted order.
    labels = sorted({str(v) for v in axis.values if v is not None})
    place = {label: index for index, label in enumerate(labels)}
    return {
        "label": axis.label,
        "values": [place[str(v)] if v is not None else None for v in axis.values],
        "tickvals": list(range(len(labels))),
        "ticktext": labels,
    }


def parallel_chart(axes: Sequence[Axis]) -> dict[str, Any]:
    """Parallel coordinates of the runs; lines coloured by the last axis (the metric)."""
    dimensions = [_dimension(axis) for axis in axes]
    line: dict[str, Any] = {}
    if dimensions and "tickvals" not in dimensions[-1]:
        line = {"color": dimensions[-1]["values"], "colorscale": "Viridis", "showscale": True}
    return {
        "data": [{"type": "parcoords", "dimensions": dimensions, "line": line}],
        "layout": _layout(margin={"t": 50, "r": 40, "b": 30, "l": 40}),
    }


def scatter_chart(
    x: Axis, y: Axis, labels: Sequence[str], colours: Sequence[str]
) -> dict[str, Any]:
    """One marker per run, in the run's colour, ``y`` against ``x``."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "x": list(x.values),
                "y": list(y.values),
                "text": list(labels),
                "hovertemplate": "%{text}<br>%{x}, %{y}<extra></extra>",
                "marker": {"color": list(colours), "size": 10},
            }
        ],
        "layout": _layout(
            xaxis={"title": {"text": x.label}},
            yaxis={"title": {"text": y.label}},
        ),
    }
