"""The drift report's figures, pure: stored report JSON in, a Plotly ``{data, layout}`` out."""

from __future__ import annotations

from typing import Any

import pytest

from registry.monitoring.charts import (
    OTHER,
    Series,
    accuracy_chart,
    histogram_chart,
    histogram_shares,
    share_chart,
)


def binned(reference: list[int], current: list[int], edges: list[float]) -> dict[str, Any]:
    return {
        "name": "age",
        "kind": "numeric",
        "reference_histogram": {"edges": edges, "counts": reference},
        "current_histogram": {"edges": edges, "counts": current},
    }


def valued(
    values: list[Any], reference: list[int], current: list[int], other: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    return {
        "name": "region",
        "kind": "categorical",
        "reference_histogram": {"values": values, "counts": reference, "other": other[0]},
        "current_histogram": {"values": values, "counts": current, "other": other[1]},
    }


def test_binned_columns_overlay_shares_as_wide_as_their_bins() -> None:
    """Bars centred in their bins and as wide, the two sides overlaid."""
    figure = histogram_chart(binned([10, 30, 60], [5, 5, 10], [0.0, 10.0, 20.0, 40.0]))

    assert figure is not None
    reference, current = figure["data"]
    assert (reference["name"], current["name"]) == ("reference", "current")
    assert reference["x"] == [5.0, 15.0, 30.0] and reference["width"] == [10.0, 10.0, 20.0]
    assert reference["y"] == pytest.approx([0.1, 0.3, 0.6])
    assert current["y"] == pytest.approx([0.25, 0.25, 0.5])
    assert reference["customdata"] == ["0 to 10", "10 to 20", "20 to 40"]
    assert figure["layout"]["barmode"] == "overlay"
    assert figure["layout"]["yaxis"]["tickformat"] == ".0%"


def test_sides_of_different_sizes_compare_as_shares() -> None:
    """50,000 reference rows and 500 current rows in the same proportions draw the same bars."""
    figure = histogram_chart(binned([20_000, 30_000], [200, 300], [0.0, 1.0, 2.0]))

    assert figure is not None
    reference, current = figure["data"]
    assert reference["y"] == current["y"] == pytest.approx([0.4, 0.6])


def test_categories_keep_their_order_and_the_rest_is_one_bar() -> None:
    """The top values as the engine listed them, then "(other)": each side sums to 1."""
    column = valued(["north", "south"], [60, 30], [10, 20], other=(10, 70))

    figure = histogram_chart(column)

    assert figure is not None
    reference, current = figure["data"]
    assert reference["x"] == ["north", "south", OTHER]
    assert reference["y"] == pytest.approx([0.6, 0.3, 0.1])
    assert current["y"] == pytest.approx([0.1, 0.2, 0.7])
    assert "width" not in reference
    assert figure["layout"]["xaxis"]["type"] == "category"


def test_numbers_with_few_values_are_labelled_as_written() -> None:
    shares = histogram_shares(valued([0.0, 1.0, 2.5], [1, 1, 2], [2, 1, 1]))
    assert [share.label for share in shares] == ["0", "1", "2.5"]


def test_values_from_the_data_are_shown_literally_not_as_markup() -> None:
    figure = histogram_chart(valued(["<b>bold</b>", "a & b"], [1, 1], [1, 1]))

    assert figure is not None
    assert figure["data"][0]["x"] == ["&lt;b&gt;bold&lt;/b&gt;", "a &amp; b"]


def test_a_column_without_histograms_draws_nothing() -> None:
    """A degenerate column (all missing on one side) keeps empty histograms."""
    assert (
        histogram_chart({"name": "x", "reference_histogram": {}, "current_histogram": {}}) is None
    )
    assert histogram_shares({"name": "x"}) == []


def test_the_share_chart_has_a_line_per_version_and_one_threshold_when_they_agree() -> None:
    series = [
        Series("1.0.0", ["2026-11-01 00:00", "2026-11-02 00:00"], [0.2, 0.6], 0.5),
        Series("1.1.0", ["2026-11-02 00:00", "2026-11-03 00:00"], [0.0, 0.4], 0.5),
    ]

    figure = share_chart(series)

    assert figure is not None
    first, second, threshold = figure["data"]
    assert (first["name"], first["y"]) == ("1.0.0", [0.2, 0.6])
    assert first["line"]["color"] != second["line"]["color"]
    assert threshold["x"] == ["2026-11-01 00:00", "2026-11-03 00:00"]
    assert threshold["y"] == [0.5, 0.5] and threshold["line"]["dash"] == "dash"
    assert figure["layout"]["yaxis"]["range"] == [0, 1.05]


def test_the_share_chart_draws_each_threshold_when_versions_differ() -> None:
    series = [
        Series("1.0.0", ["2026-11-01 00:00"], [0.2], 0.5),
        Series("<i>2</i>", ["2026-11-01 00:00"], [0.4], 0.3),
    ]

    figure = share_chart(series)

    assert figure is not None
    names = [trace["name"] for trace in figure["data"]]
    assert names == [
        "1.0.0",
        "&lt;i&gt;2&lt;/i&gt;",
        "1.0.0 threshold",
        "&lt;i&gt;2&lt;/i&gt; threshold",
    ]
    assert figure["data"][3]["y"] == [0.3, 0.3]
    assert figure["data"][3]["line"]["color"] == figure["data"][1]["line"]["color"]


def test_no_report_no_share_chart() -> None:
    assert share_chart([]) is None
    assert share_chart([Series("1.0.0", [], [], 0.5)]) is None


def test_the_accuracy_trend_leaves_days_without_feedback_as_gaps() -> None:
    trend = {"days": ["2026-11-01", "2026-11-02", "2026-11-03"], "accuracy": [0.9, None, 0.8]}

    figure = accuracy_chart(trend)

    assert figure is not None
    (line,) = figure["data"]
    assert line["x"] == trend["days"] and line["y"] == [0.9, None, 0.8]
    assert line["connectgaps"] is False


def test_no_feedback_no_accuracy_chart() -> None:
    assert accuracy_chart({"days": ["2026-11-01"], "accuracy": [None]}) is None
    assert accuracy_chart({}) is None


def test_a_single_report_gets_a_day_around_it() -> None:
    """Plotly would zoom to a millisecond around one point, and the threshold be a dot."""
    figure = share_chart([Series("1.0.0", ["2026-11-30 10:30"], [0.4], 0.5)])

    assert figure is not None
    assert figure["layout"]["xaxis"]["range"] == ["2026-11-29 22:30", "2026-11-30 22:30"]
    assert figure["data"][1]["x"] == ["2026-11-29 22:30", "2026-11-30 22:30"]
