"""The evaluation page's figures and tables, from stored results: pure functions."""

from __future__ import annotations

from typing import Any

from registry.evaluation import charts
from registry.evaluation.models import Evaluation, TaskKind
from registry.evaluation.result_tables import (
    class_rows,
    main_metric,
    metric_rows,
    number,
    slice_rows,
    summary,
)


def _evaluation(**results: Any) -> Evaluation:
    return Evaluation(task_kind=TaskKind.CLASSIFICATION, **results)


def test_class_labels_and_column_names_reach_plotly_as_text_not_markup() -> None:
    """Plotly reads <b> and <a href> in text: dataset values are shown as written."""
    confusion = charts.confusion_chart(["<b>yes</b>", "a&b"], [[1, 2], [3, 4]])
    importance = charts.importance_chart(
        [{"column": '<a href="x">age</a>', "drop": 0.1, "spread": 0.01, "metric": "roc_auc"}]
    )
    roc = charts.roc_chart({"<i>1</i>": {"fpr": [0, 1], "tpr": [0, 1]}})

    assert confusion["data"][0]["x"] == ["&lt;b&gt;yes&lt;/b&gt;", "a&amp;b"]
    assert importance["data"][0]["y"] == ['&lt;a href="x"&gt;age&lt;/a&gt;']
    assert roc["data"][0]["name"] == "&lt;i&gt;1&lt;/i&gt;"


def test_roc_and_calibration_charts_draw_their_reference_diagonal() -> None:
    """Chance (ROC) and perfect calibration are the dotted line from (0, 0) to (1, 1)."""
    roc = charts.roc_chart({"1": {"fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1]}}, {"1": 0.81234})
    calibration = charts.calibration_chart(
        {"1": {"predicted": [0.1, 0.9], "observed": [0.2, 0.8], "count": [50, 40]}}
    )

    for figure in (roc, calibration):
        diagonal = figure["data"][-1]
        assert (diagonal["x"], diagonal["y"]) == ([0, 1], [0, 1])
        assert diagonal["line"]["dash"] == "dot"
    assert roc["data"][0]["name"] == "1 (AUC 0.812)"
    assert calibration["data"][0]["customdata"] == [50, 40]


def test_importance_bars_put_the_biggest_drop_on_top_with_its_spread() -> None:
    importance = [
        {"column": "tickets", "drop": 0.20, "spread": 0.02, "metric": "roc_auc"},
        {"column": "age", "drop": 0.05, "spread": 0.01, "metric": "roc_auc"},
    ]

    bars = charts.importance_chart(importance)["data"][0]

    # Plotly draws the first category at the bottom.
    assert bars["y"] == ["age", "tickets"]
    assert bars["x"] == [0.05, 0.20]
    assert bars["error_x"]["array"] == [0.01, 0.02]
    assert charts.importance_height(importance * 10) > charts.importance_height(importance)


def test_residual_bars_sit_between_the_edges() -> None:
    bars = charts.residual_chart([-2.0, 0.0, 4.0], [3, 5])["data"][0]

    assert bars["x"] == [-1.0, 2.0]
    assert bars["width"] == [2.0, 4.0]
    assert bars["y"] == [3, 5]


def test_the_champion_difference_is_coloured_by_the_metrics_direction() -> None:
    """Higher accuracy is better; higher log loss is worse; latency compares too."""
    challenger = _evaluation(
        metrics={"accuracy": 0.9, "log_loss": 0.40, "f1_macro": 0.7}, latency={"p95_ms": 2.0}
    )
    champion = _evaluation(
        metrics={"accuracy": 0.8, "log_loss": 0.30, "f1_macro": 0.7}, latency={"p95_ms": 3.0}
    )

    rows = {row.key: row for row in metric_rows(challenger, champion)}

    assert (rows["accuracy"].change, rows["accuracy"].verdict) == ("+0.100", "better")
    assert (rows["log_loss"].change, rows["log_loss"].verdict) == ("+0.100", "worse")
    assert rows["f1_macro"].verdict == "same"
    assert rows["latency_p95_ms"].verdict == "better"
    assert rows["accuracy"].champion == "0.800"


def test_metrics_without_a_champion_value_have_no_verdict() -> None:
    rows = metric_rows(_evaluation(metrics={"accuracy": 0.9, "roc_auc": None}), None)

    assert [(row.label, row.value, row.verdict) for row in rows] == [
        ("Accuracy", "0.900", ""),
        ("ROC AUC", "—", ""),
    ]


def test_an_area_past_the_exact_limit_shows_its_bound_and_an_exact_one_none() -> None:
    """Curves whose scores shared buckets carry ``auc_error``; the table shows the mean over
    the classes drawn next to the value."""
    curves = {
        "roc": {"0": {"auc_error": 2e-7}, "1": {"auc_error": 4e-7}},
        "pr": {"0": {}, "1": {}},
    }
    metrics = {"roc_auc": 0.97, "pr_auc": 0.95, "accuracy": 0.9}

    rows = {row.key: row for row in metric_rows(_evaluation(metrics=metrics, curves=curves))}

    assert rows["roc_auc"].bound == "3e-07"
    assert rows["pr_auc"].bound == rows["accuracy"].bound == ""


def test_slices_are_ranked_worst_first_by_the_metrics_direction() -> None:
    """F1: lowest first; RMSE: highest first; slices without the metric go last, unmarked."""
    slices = [
        {"column": "region", "value": v, "rows": 10, "metrics": {"f1_macro": f, "rmse": r}}
        for v, f, r in [
            ("north", 0.9, 1.0),
            ("south", 0.5, 4.0),
            ("east", 0.7, 2.0),
            ("west", 0.6, 3.0),
            ("(other)", None, None),
        ]
    ]

    by_f1 = slice_rows(slices, "f1_macro", ["f1_macro"])
    by_rmse = slice_rows(slices, "rmse")

    assert [row.value for row in by_f1] == ["south", "west", "east", "north", "(other)"]
    assert [row.worst for row in by_f1] == [True, True, True, False, False]
    assert [row.value for row in by_rmse][:3] == ["south", "west", "east"]
    assert by_f1[0].metrics == {"f1_macro": "0.500"}


def test_the_main_metric_is_the_first_computed_of_the_tasks() -> None:
    assert main_metric("classification", {"f1_macro": None, "accuracy": 0.8}) == "accuracy"
    assert main_metric("regression", {"r2": 0.5, "rmse": 2.0}) == "rmse"


def test_numbers_read_well_at_every_scale() -> None:
    values = (0.85312, 12.345, 123456.7, 0.000042, 0, None, True)
    assert [number(v) for v in values] == [
        "0.853",
        "12.35",
        "123,457",
        "4.2e-05",
        "0.000",
        "—",
        "—",
    ]


def test_a_summary_shows_the_tasks_main_metrics_that_were_computed() -> None:
    evaluation = _evaluation(metrics={"accuracy": 0.91, "log_loss": 0.2, "roc_auc": 0.88})

    assert summary(evaluation) == [("Accuracy", "0.910"), ("ROC AUC", "0.880")]


def test_class_rows_keep_support_and_format_scores() -> None:
    rows = class_rows({"1": {"precision": 0.5, "recall": 0.25, "f1": 1 / 3, "support": 40}})

    assert rows == [
        {
            "label": "1",
            "support": 40,
            "precision": "0.500",
            "recall": "0.250",
            "f1": "0.333",
            "roc_auc": "—",
            "pr_auc": "—",
        }
    ]
