"""Small Plotly histograms of a dataset's columns as plain ``{data, layout}`` dicts. Pure:
a column of the stored profile in, a figure out (or None when there is nothing to draw).

Category values come from the file, and Plotly reads a little HTML in text (``<b>``,
``<a href>``): every value goes through ``text`` first, so it shows as written.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from portal.plots import ACCENT, MUTED, text

OTHER = "(other)"


def shown_value(value: object) -> str:
    """A category value as people read it: booleans as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _layout(**extra: Any) -> dict[str, Any]:
    return {
        "autosize": True,
        "margin": {"t": 6, "r": 6, "b": 28, "l": 40},
        "showlegend": False,
        "bargap": 0,
        "font": {"size": 10},
        "yaxis": {"rangemode": "tozero", "fixedrange": True},
        **extra,
    }


def column_chart(column: dict[str, Any]) -> dict[str, Any] | None:
    """The column's histogram: bars between the bin edges for numbers, the most frequent
    values (then the rest as one bar) for categories."""
    histogram = column.get("histogram") or {}
    if column.get("kind") == "number" and histogram.get("counts"):
        return number_histogram(histogram["edges"], histogram["counts"])
    if column.get("kind") == "category" and histogram.get("values"):
        return top_values_chart(histogram["values"], histogram["counts"], histogram.get("other", 0))
    return None


def number_histogram(edges: list[float], counts: list[int]) -> dict[str, Any]:
    lows_highs = list(pairwise(edges))
    return {
        "data": [
            {
                "type": "bar",
                "x": [(low + high) / 2 for low, high in lows_highs],
                "y": list(counts),
                "width": [high - low for low, high in lows_highs],
                "customdata": [[low, high] for low, high in lows_highs],
                "marker": {"color": ACCENT, "line": {"color": "#fff", "width": 0.5}},
                "hovertemplate": "%{customdata[0]:.4g} to %{customdata[1]:.4g}<br>"
                "%{y} rows<extra></extra>",
            }
        ],
        "layout": _layout(xaxis={"fixedrange": True}),
    }


def top_values_chart(values: list[Any], counts: list[int], other: int) -> dict[str, Any]:
    labels = [text(shown_value(value)) for value in values]
    heights = list(counts)
    colours = [ACCENT] * len(labels)
    if other > 0:
        labels, heights, colours = [*labels, OTHER], [*heights, other], [*colours, MUTED]
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": heights,
                "marker": {"color": colours},
                "hovertemplate": "%{x}<br>%{y} rows<extra></extra>",
            }
        ],
        "layout": _layout(
            xaxis={"type": "category", "fixedrange": True, "tickangle": -30, "automargin": True},
            bargap=0.15,
        ),
    }
