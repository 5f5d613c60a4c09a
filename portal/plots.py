"""Embedding Plotly figures without inline script.

A figure becomes a JSON data island (Django's json_script escapes it) plus an empty div;
static/js/plots.js finds each ``[data-plotly]`` div and calls Plotly.newPlot on it.
"""

from __future__ import annotations

import json
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
