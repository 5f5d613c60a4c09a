"""Plotly figures of an evaluation's results as plain ``{data, layout}`` dicts. Pure: the
stored result JSON in, a figure out.

Class labels and column names come from the dataset, and Plotly reads a little HTML in text
(``<b>``, ``<a href>``): every such text goes through ``text`` first, so it is shown as
written, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portal.plots import ACCENT, MUTED, binned_bars, colour, confusion_heatmap, text
from portal.plots import layout as _layout


def _diagonal(name: str, *, rising: bool = True) -> dict[str, Any]:
    """The dotted reference line from (0, 0) to (1, 1), or from (0, 1) to (1, 0)."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": [0, 1],
        "y": [0, 1] if rising else [1, 0],
        "line": {"color": MUTED, "dash": "dot", "width": 1},
        "hoverinfo": "skip",
    }


def _unit_axis(title: str) -> dict[str, Any]:
    return {"title": {"text": title}, "range": [-0.02, 1.02], "zeroline": False}


def _legend() -> dict[str, Any]:
    return {"orientation": "h", "y": -0.25}


def confusion_chart(
    classes: Sequence[object], confusion: Sequence[Sequence[int]]
) -> dict[str, Any]:
    """A heatmap of counts, true class by row and predicted class by column, the first class
    at the top left so that right answers run down the diagonal."""
    return confusion_heatmap(
        classes,
        confusion,
        rows="true class",
        columns="predicted class",
        hover="true %{y}<br>predicted %{x}<br>%{z} rows",
        unit="rows",
    )


def _class_lines(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    x_key: str,
    y_key: str,
    hover: str,
    areas: Mapping[str, float | None] | None = None,
) -> list[dict[str, Any]]:
    lines = []
    for index, (label, curve) in enumerate(curves.items()):
        area = (areas or {}).get(label)
        name = text(label) if area is None else f"{text(label)} (AUC {area:.3f})"
        lines.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": list(curve.get(x_key, [])),
                "y": list(curve.get(y_key, [])),
                "line": {"color": colour(index), "width": 2},
                "hovertemplate": f"{hover}<extra>{name}</extra>",
            }
        )
    return lines


def roc_chart(
    roc: Mapping[str, Mapping[str, Sequence[float]]],
    areas: Mapping[str, float | None] | None = None,
) -> dict[str, Any]:
    """True against false positive rate per class (one-vs-rest), with the chance line."""
    lines = _class_lines(roc, "fpr", "tpr", "FPR %{x:.3f}<br>TPR %{y:.3f}", areas)
    return {
        "data": [*lines, _diagonal("chance")],
        "layout": _layout(
            xaxis=_unit_axis("false positive rate"),
            yaxis=_unit_axis("true positive rate"),
            legend=_legend(),
        ),
    }


def pr_chart(
    pr: Mapping[str, Mapping[str, Sequence[float]]],
    areas: Mapping[str, float | None] | None = None,
) -> dict[str, Any]:
    """Precision against recall per class (one-vs-rest)."""
    lines = _class_lines(pr, "recall", "precision", "recall %{x:.3f}<br>precision %{y:.3f}", areas)
    return {
        "data": lines,
        "layout": _layout(
            xaxis=_unit_axis("recall"), yaxis=_unit_axis("precision"), legend=_legend()
        ),
    }


def calibration_chart(calibration: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, Any]:
    """Observed frequency against mean predicted probability per bin, with the diagonal a
    perfectly calibrated model would follow; hovering a point gives its rows."""
    lines = []
    for index, (label, curve) in enumerate(calibration.items()):
        name = text(label)
        lines.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": list(curve.get("predicted", [])),
                "y": list(curve.get("observed", [])),
                "customdata": list(curve.get("count", [])),
                "line": {"color": colour(index), "width": 2},
                "hovertemplate": "predicted %{x:.3f}<br>observed %{y:.3f}<br>%{customdata} rows"
                f"<extra>{name}</extra>",
            }
        )
    return {
        "data": [*lines, _diagonal("perfectly calibrated")],
        "layout": _layout(
            xaxis=_unit_axis("mean predicted probability"),
            yaxis=_unit_axis("observed frequency"),
            legend=_legend(),
        ),
    }


def residual_chart(edges: Sequence[float], counts: Sequence[int]) -> dict[str, Any]:
    """Bars of residual (prediction minus truth) counts between consecutive ``edges``."""
    return binned_bars(edges, counts, x_title="prediction - truth", unit="rows")


def importance_chart(importance: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Permutation importance as horizontal bars, the most important on top, each with its
    spread over the repeats as an error bar."""
    ordered = list(reversed(importance))  # Plotly draws the first bar at the bottom
    metric = text(importance[0].get("metric", "score")) if importance else "score"
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [entry.get("drop") for entry in ordered],
                "y": [text(entry.get("column", "")) for entry in ordered],
                "error_x": {
                    "type": "data",
                    "array": [entry.get("spread") or 0 for entry in ordered],
                    "visible": True,
                    "color": MUTED,
                },
                "marker": {"color": ACCENT},
                "hovertemplate": f"%{{y}}: {metric} drops by %{{x:.4f}}<extra></extra>",
            }
        ],
        "layout": _layout(
            xaxis={"title": {"text": f"drop in {metric} when shuffled"}, "zeroline": True},
            yaxis={"type": "category", "automargin": True},
            margin={"t": 10, "r": 10, "b": 50, "l": 10},
        ),
    }


def importance_height(importance: Sequence[object]) -> int:
    """Enough room for every bar: 28 px a column, at least 160 px."""
    return max(160, 60 + 28 * len(importance))
