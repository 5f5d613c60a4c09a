"""Plotly figures embed as a JSON data island plus a div, with no inline script."""

import json
import re

import plotly.graph_objects as go

from portal.plots import figure_dict, plotly_embed


def test_it_embeds_a_figure_as_a_data_island_and_a_div() -> None:
    """The div points at the island; the island holds the figure's data."""
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="loss"))
    html = str(plotly_embed(fig, "loss-chart"))
    assert 'id="loss-chart"' in html and 'data-plotly="loss-chart-data"' in html
    island = re.search(r'<script id="loss-chart-data" type="application/json">(.*?)</script>', html)
    assert island is not None
    data = json.loads(island.group(1))
    assert data["data"][0]["name"] == "loss"
    assert list(data["data"][0]["y"]) == [3, 4] or "bdata" in str(data["data"][0]["y"])


def test_it_escapes_hostile_labels() -> None:
    """A run name that closes the script element cannot break out of the island."""
    fig = {"data": [{"type": "bar", "x": ["</script><script>alert(1)</script>"], "y": [1]}]}
    html = str(plotly_embed(fig, "c"))
    assert html.count("</script>") == 1
    assert "<script>alert(1)" not in html


def test_it_accepts_plain_dicts() -> None:
    """Chart builders may return plain {data, layout} dicts."""
    assert figure_dict({"data": [1]}) == {"data": [1], "layout": {}}
