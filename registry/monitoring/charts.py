"""Plotly figures of drift reports as plain ``{data, layout}`` dicts. Pure: the stored
report JSON in, a figure out (or None when there is nothing to draw).

A column's reference and current histograms share their bins (``engine._histograms``):
``{"edges", "counts"}`` for binned numbers, ``{"values", "counts", "other"}`` for
categories and numbers with few values. Both are drawn as shares of their own rows, so a
window of 500 rows compares with a reference of 50,000. Values come from the data, and
Plotly reads a little HTML in text: every label goes through ``text``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from portal.plots import ACCENT, MUTED, colour, layout, text

OTHER = "(other)"
DATE_FORMAT = "%Y-%m-%d %H:%M"  # window ends on the share chart, in the site's time zone
SINGLE_PAD = timedelta(hours=12)
REFERENCE_COLOUR, CURRENT_COLOUR = MUTED, ACCENT


@dataclass(frozen=True)
class Share:
    """One bar of both histograms, for the table under the chart."""

    label: str
    reference: float
    current: float


@dataclass(frozen=True)
class Series:
    """A version's drift share over time, and the share at which its dataset drifts."""

    name: str
    x: list[str]  # window ends as DATE_FORMAT writes them
    y: list[float]
    threshold: float


def _label(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _shares(counts: Sequence[float], other: float = 0) -> list[float]:
    total = float(sum(counts)) + float(other)
    return [float(count) / total if total else 0.0 for count in counts]


def _binned(column: Mapping[str, Any]) -> bool:
    return "edges" in (column.get("reference_histogram") or {})


def histogram_shares(column: Mapping[str, Any]) -> list[Share]:
    """Reference and current shares per bin or value, as the chart draws them."""
    reference = column.get("reference_histogram") or {}
    current = column.get("current_histogram") or {}
    if not reference.get("counts") or not current.get("counts"):
        return []
    if _binned(column):
        labels = [f"{low:.4g} to {high:.4g}" for low, high in pairwise(reference["edges"])]
        ref, cur = _shares(reference["counts"]), _shares(current["counts"])
    else:
        labels = [_label(value) for value in reference.get("values", [])]
        ref_other, cur_other = reference.get("other", 0), current.get("other", 0)
        ref = _shares(reference["counts"], ref_other)
        cur = _shares(current["counts"], cur_other)
        if ref_other or cur_other:
            labels.append(OTHER)
            ref.append(_shares([ref_other], sum(reference["counts"]))[0])
            cur.append(_shares([cur_other], sum(current["counts"]))[0])
    return [Share(label, r, c) for label, r, c in zip(labels, ref, cur, strict=False)]


def histogram_chart(column: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference and the current window overlaid, each bar a share of its own rows."""
    shares = histogram_shares(column)
    if not shares:
        return None
    reference = [share.reference for share in shares]
    current = [share.current for share in shares]
    if _binned(column):
        bins = list(pairwise(column["reference_histogram"]["edges"]))
        x: list[Any] = [(low + high) / 2 for low, high in bins]
        extra: dict[str, Any] = {
            "width": [high - low for low, high in bins],
            "customdata": [share.label for share in shares],
        }
        hover = "%{customdata}"
        xaxis: dict[str, Any] = {"title": {"text": text(column.get("name", ""))}}
    else:
        x = [text(share.label) for share in shares]
        extra, hover = {}, "%{x}"
        xaxis = {"title": {"text": text(column.get("name", ""))}, "type": "category"}
    return {
        "data": [
            _bars("reference", x, reference, REFERENCE_COLOUR, hover, extra),
            _bars("current", x, current, CURRENT_COLOUR, hover, extra),
        ],
        "layout": layout(
            barmode="overlay",
            bargap=0 if _binned(column) else 0.15,
            xaxis=xaxis,
            yaxis={"title": {"text": "share of rows"}, "tickformat": ".0%", "rangemode": "tozero"},
            legend={"orientation": "h", "y": 1.12},
        ),
    }


def _bars(
    name: str, x: list[Any], y: list[float], fill: str, hover: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "type": "bar",
        "name": name,
        "x": x,
        "y": y,
        "opacity": 0.6,
        "marker": {"color": fill, "line": {"color": fill, "width": 1}},
        "hovertemplate": f"{hover}<br>%{{y:.1%}} of {name} rows<extra></extra>",
        **extra,
    }


def share_chart(series: Sequence[Series]) -> dict[str, Any] | None:
    """The share of drifted columns per report, a line per version, with the share at
    which the dataset drifts dashed in the version's colour (one line when all agree)."""
    ends = sorted(x for line in series for x in line.x)
    if not ends:
        return None
    lines = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": text(line.name),
            "x": line.x,
            "y": line.y,
            "line": {"color": colour(index), "width": 2},
            "hovertemplate": f"%{{x}}<br>%{{y:.0%}} of columns drifted<extra>{text(line.name)}"
            "</extra>",
        }
        for index, line in enumerate(series)
    ]
    span = _span(ends)
    thresholds = {line.threshold for line in series}
    if len(thresholds) == 1:
        marks = [_threshold(span, series[0].threshold, "threshold", MUTED)]
    else:
        marks = [
            _threshold(span, line.threshold, f"{text(line.name)} threshold", colour(index))
            for index, line in enumerate(series)
        ]
    xaxis: dict[str, Any] = {"title": {"text": "window end"}, "type": "date"}
    if ends[0] == ends[-1]:
        xaxis["range"] = list(span)  # one report: a day around it, not a millisecond
    return {
        "data": [*lines, *marks],
        "layout": layout(
            xaxis=xaxis,
            yaxis={"title": {"text": "drifted columns"}, "tickformat": ".0%", "range": [0, 1.05]},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def _span(ends: Sequence[str]) -> tuple[str, str]:
    """The first and last window end; half a day either side when there is only one."""
    if ends[0] != ends[-1]:
        return ends[0], ends[-1]
    moment = datetime.strptime(ends[0], DATE_FORMAT)
    return (
        (moment - SINGLE_PAD).strftime(DATE_FORMAT),
        (moment + SINGLE_PAD).strftime(DATE_FORMAT),
    )


def _threshold(span: tuple[str, str], value: float, name: str, fill: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": list(span),
        "y": [value, value],
        "line": {"color": fill, "dash": "dash", "width": 1},
        "hovertemplate": f"dataset drifts at {value:.0%}<extra></extra>",
    }


def accuracy_chart(accuracy: Mapping[str, Any]) -> dict[str, Any] | None:
    """Share of judged predictions that were right, per day; gaps on days without feedback."""
    days, values = accuracy.get("days") or [], accuracy.get("accuracy") or []
    if not any(value is not None for value in values):
        return None
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "accuracy",
                "x": list(days),
                "y": list(values),
                "connectgaps": False,
                "line": {"color": ACCENT, "width": 2},
                "hovertemplate": "%{x}<br>%{y:.1%} right<extra></extra>",
            }
        ],
        "layout": layout(
            xaxis={"title": {"text": "day"}, "type": "date"},
            yaxis={"title": {"text": "accuracy"}, "tickformat": ".0%", "range": [0, 1.05]},
            showlegend=False,
        ),
    }
