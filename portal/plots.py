"""Embedding Plotly figures without inline script.

A figure becomes a JSON data island (Django's json_script escapes it) plus an empty div;
static/js/plots.js finds each ``[data-plotly]`` div and calls Plotly.newPlot on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString


def figure_dict(figure: Any) -> dict[str, Any]:
    """A plain ``{data, layout}`` dict from a plotly Figure (or such a dict already)."""
    if isinstance(figure, dict):
        return {"data": figure.get("data", []), "layout": figure.get("layout", {})}
    return json.loads(figure.to_json())


def plotly_embed(figure: Any, element_id: str, *, height: int = 360) -> SafeString:
    """HTML for one chart: the data island and the div that plots.js fills."""
    island_id = f"{element_id}-data"
    return format_html(
        '{}<div class="chart" id="{}" data-plotly="{}" style="min-height:{}px"></div>',
        json_script(figure_dict(figure), island_id),
        element_id,
        island_id,
        height,
    )


# What every chart of ours shares: colours, literal text, and the two figures that more than
# one page draws (a confusion heatmap, bars over bin edges).

# The first ten colours of Plotly's "D3" palette: a version or class keeps its colour.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
ACCENT, GOOD, BAD, MUTED = "#2454d6", "#11693c", "#b42318", "#9aa3b2"


def text(value: object) -> str:
    """``value`` as Plotly shows it literally: its markup characters as entities (labels
    come from clients and files, and Plotly reads a little HTML in text)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def layout(**extra: Any) -> dict[str, Any]:
    return {"autosize": True, "margin": {"t": 30, "r": 10, "b": 50, "l": 60}, **extra}


def confusion_heatmap(
    labels: Sequence[object],
    counts: Sequence[Sequence[int]],
    *,
    rows: str,
    columns: str,
    hover: str,
    unit: str,
) -> dict[str, Any]:
    """Counts with the ``rows`` axis down and the ``columns`` axis across, written in the
    cells, the first label at the top left so that agreement runs down the diagonal."""
    shown = [text(label) for label in labels]
    return {
        "data": [
            {
                "type": "heatmap",
                "x": shown,
                "y": shown,
                "z": [list(row) for row in counts],
                "colorscale": [[0, "#f6f8fc"], [1, ACCENT]],
                "texttemplate": "%{z}",
                "hovertemplate": f"{hover}<extra></extra>",
                "colorbar": {"title": {"text": unit}},
            }
        ],
        "layout": layout(
            xaxis={"title": {"text": columns}, "type": "category", "side": "bottom"},
            yaxis={"title": {"text": rows}, "type": "category", "autorange": "reversed"},
            margin={"t": 20, "r": 10, "b": 60, "l": 90},
        ),
    }


def binned_bars(
    edges: Sequence[float], counts: Sequence[int], *, x_title: str, unit: str
) -> dict[str, Any]:
    """Residual-like bars: ``counts`` between consecutive ``edges``, each as wide as its bin."""
    bins = list(pairwise(edges))
    return {
        "data": [
            {
                "type": "bar",
                "x": [(low + high) / 2 for low, high in bins],
                "y": list(counts),
                "width": [high - low for low, high in bins],
                "marker": {"color": ACCENT, "line": {"color": "#fff", "width": 1}},
                "hovertemplate": f"residual ≈ %{{x:.4g}}<br>%{{y}} {unit}<extra></extra>",
            }
        ],
        "layout": layout(
            xaxis={"title": {"text": x_title}, "zeroline": True},
            yaxis={"title": {"text": unit}},
            bargap=0,
        ),
    }
