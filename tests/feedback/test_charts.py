"""The feedback figures are plain dicts built from plain data."""

from __future__ import annotations

import json
from datetime import date

from feedback import charts

DAYS = [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]


def test_the_confusion_heatmap_puts_predicted_labels_on_rows_from_the_top() -> None:
    figure = charts.confusion_chart(["churn", "stay"], [[3, 1], [2, 5]])

    (heatmap,) = figure["data"]
    assert heatmap["type"] == "heatmap"
    assert (heatmap["x"], heatmap["y"], heatmap["z"]) == (
        ["churn", "stay"],
        ["churn", "stay"],
        [[3, 1], [2, 5]],
    )
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    assert figure["layout"]["yaxis"]["title"]["text"] == "predicted label"
    json.dumps(figure)  # nothing Plotly cannot read


def test_text_from_clients_is_shown_literally_not_as_markup() -> None:
    figure = charts.confusion_chart(['<a href="javascript:x">a</a>', "b&c"], [[1, 0], [0, 1]])
    outcome = charts.outcome_chart(
        "<b>won</b>", [charts.Line("<i>1.0</i>", DAYS, [1, 0, 1], [1] * 3)]
    )

    assert figure["data"][0]["x"] == ['&lt;a href="javascript:x"&gt;a&lt;/a&gt;', "b&amp;c"]
    assert outcome["data"][0]["name"] == "&lt;i&gt;1.0&lt;/i&gt;"
    assert "<" not in outcome["layout"]["yaxis"]["title"]["text"]
    assert "<i>" not in outcome["data"][0]["hovertemplate"]


def test_accuracy_days_without_feedback_are_gaps_in_percent() -> None:
    figure = charts.accuracy_chart(DAYS, [0.5, None, 1.0], [None, None, 0.25], [2, 0, 1])

    accuracy, thumbs = figure["data"]
    assert accuracy["x"] == ["2026-11-28", "2026-11-29", "2026-11-30"]
    assert accuracy["y"] == [50.0, None, 100.0]
    assert thumbs["y"] == [None, None, 25.0]
    assert accuracy["connectgaps"] is False
    assert accuracy["customdata"] == [2, 0, 1]


def test_the_residual_histogram_draws_one_bar_per_bin_between_edges() -> None:
    figure = charts.residual_histogram([-2.0, 0.0, 2.0, 4.0], [1, 0, 3])

    (bars,) = figure["data"]
    assert (bars["x"], bars["y"], bars["width"]) == ([-1.0, 1.0, 3.0], [1, 0, 3], [2.0] * 3)


def test_the_residual_scatter_switches_to_webgl_past_a_thousand_points() -> None:
    few = charts.residual_scatter([(10.0, -2.0), (20.0, 0.5)])
    many = charts.residual_scatter([(float(n), 0.0) for n in range(1_001)])

    assert few["data"][0]["type"] == "scatter"
    assert (few["data"][0]["x"], few["data"][0]["y"]) == ([10.0, 20.0], [-2.0, 0.5])
    assert many["data"][0]["type"] == "scattergl"
    assert few["layout"]["shapes"][0]["y0"] == 0  # the zero line


def test_the_activity_chart_has_two_bar_series_and_the_rate_on_a_second_axis() -> None:
    figure = charts.activity_chart(DAYS, [10, 0, 4], [2, 0, 1], [0.5, None, 1.0])

    predictions, feedback, rate = figure["data"]
    assert (predictions["type"], feedback["type"], rate["type"]) == ("bar", "bar", "scatter")
    assert (predictions["y"], feedback["y"], rate["y"]) == (
        [10, 0, 4],
        [2, 0, 1],
        [50.0, None, 100.0],
    )
    assert rate["yaxis"] == "y2" and figure["layout"]["yaxis2"]["overlaying"] == "y"


def test_each_version_keeps_its_own_line_and_colour_in_an_outcome_chart() -> None:
    lines = [
        charts.Line("1.0.0", DAYS[:2], [0.5, 1.0], [2, 1]),
        charts.Line("1.1.0", DAYS[2:], [0.25], [4]),
    ]

    figure = charts.outcome_chart("converted", lines)

    first, second = figure["data"]
    assert (first["name"], first["x"], first["y"]) == (
        "1.0.0",
        ["2026-11-28", "2026-11-29"],
        [0.5, 1.0],
    )
    assert (second["name"], second["customdata"]) == ("1.1.0", [4])
    assert first["line"]["color"] != second["line"]["color"]


def test_day_charts_show_every_day_of_the_window_even_with_one_day_of_data() -> None:
    line = charts.Line("1.0.0", DAYS[2:], [0.5], [3])

    outcome = charts.outcome_chart("converted", [line], span=(DAYS[0], DAYS[-1]))
    activity = charts.activity_chart(DAYS, [1, 2, 3], [0, 0, 1], [None, None, 1.0])

    for figure in (outcome, activity):
        assert figure["layout"]["xaxis"]["range"] == ["2026-11-28 00:00", "2026-11-30 23:59"]
    assert "range" not in charts.outcome_chart("converted", [line])["layout"]["xaxis"]


def test_the_heatmap_goes_from_near_white_for_none_to_the_accent_for_the_most() -> None:
    (heatmap,) = charts.confusion_chart(["a"], [[1]])["data"]

    assert heatmap["colorscale"][0] == [0, "#f6f8fc"]
    assert heatmap["colorscale"][-1] == [1, charts.ACCENT]
