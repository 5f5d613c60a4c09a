"""The tables the evaluation pages show, read from an evaluation's stored results: metrics
against the champion's, classes, and slices worst first. Pure: rows in, rows out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.evaluation.directions import higher_is_better, improvement
from registry.evaluation.models import Evaluation, TaskKind
from registry.evaluation.score_counts import auc_bounds

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)",
    "f1_macro": "F1 (macro)",
    "precision_weighted": "Precision (weighted)",
    "recall_weighted": "Recall (weighted)",
    "f1_weighted": "F1 (weighted)",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "log_loss": "Log loss",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)",
}
# The metric slices are ranked by, and the few a summary shows, first available first.
MAIN_METRICS: dict[str, tuple[str, ...]] = {
    TaskKind.CLASSIFICATION: ("f1_macro", "accuracy", "roc_auc"),
    TaskKind.REGRESSION: ("rmse", "mae", "r2"),
}
SUMMARY_METRICS: dict[str, tuple[str, ...]] = {
    TaskKind.CLASSIFICATION: ("accuracy", "f1_macro", "roc_auc"),
    TaskKind.REGRESSION: ("rmse", "mae", "r2"),
}
CLASS_METRICS = ("precision", "recall", "f1", "roc_auc", "pr_auc")
WORST_SHOWN = 3
NONE = "—"


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " "))


def number(value: Any) -> str:
    """A metric as people read it: three decimals near 0-1, fewer for big values, two
    significant digits for tiny ones (a latency of microseconds is not 0.000 ms)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return NONE
    if 0 < abs(value) < 0.001:
        return f"{value:.2g}"
    if abs(value) < 10:
        return f"{value:.3f}"
    if abs(value) < 1000:
        return f"{value:.2f}"
    return f"{value:,.0f}"


def signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value)


@dataclass(frozen=True)
class MetricRow:
    """One metric of the challenger, with the champion's value and which way it moved."""

    key: str
    label: str
    value: str
    champion: str = NONE
    change: str = ""
    # "better", "worse" or "same" by the metric's direction; "" without a champion value.
    verdict: str = ""
    # The most the value can be off (AUCs past the exact limit of distinct scores).
    bound: str = ""


@dataclass(frozen=True)
class SliceRow:
    column: str
    value: str
    rows: int
    metric: str  # the ranking metric, formatted
    metrics: dict[str, str] = field(default_factory=dict)
    worst: bool = False


def measured(evaluation: Evaluation) -> dict[str, Any]:
    """Metrics and latency under one set of names, as the table and the gates read them."""
    values = dict(evaluation.metrics or {})
    latency = evaluation.latency or {}
    for key in ("p50_ms", "p95_ms"):
        if latency.get(key) is not None:
            values[f"latency_{key}"] = latency[key]
    return values


def _ordered(values: Mapping[str, Any]) -> list[str]:
    known = [key for key in METRIC_LABELS if key in values]
    return known + sorted(key for key in values if key not in METRIC_LABELS)


def _compare(key: str, mine: Any, theirs: Any) -> tuple[str, str]:
    if not all(isinstance(v, int | float) for v in (mine, theirs)):
        return "", ""
    gain = improvement(key, float(mine), float(theirs))
    verdict = "better" if gain > 0 else "worse" if gain < 0 else "same"
    return signed(float(mine) - float(theirs)), verdict


def metric_rows(evaluation: Evaluation, champion: Evaluation | None = None) -> list[MetricRow]:
    """Every metric of ``evaluation``; with a champion, its value and the difference."""
    values = measured(evaluation)
    theirs = measured(champion) if champion is not None else {}
    bounds = auc_bounds(evaluation.curves or {})
    rows = []
    for key in _ordered(values):
        change, verdict = _compare(key, values[key], theirs.get(key))
        rows.append(
            MetricRow(
                key=key,
                label=metric_label(key),
                value=number(values[key]),
                champion=number(theirs.get(key)),
                change=change,
                verdict=verdict,
                bound=number(bounds[key]) if key in bounds else "",
            )
        )
    return rows


def main_metric(task_kind: str, metrics: Mapping[str, Any]) -> str:
    """The metric that ranks slices: the first of the task's main metrics with a value."""
    for key in MAIN_METRICS.get(task_kind, ()):
        if metrics.get(key) is not None:
            return key
    return next((key for key, value in metrics.items() if value is not None), "")


def summary(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The few metrics a list shows: (label, formatted value) for those computed."""
    keys = SUMMARY_METRICS.get(evaluation.task_kind, ())
    values = evaluation.metrics or {}
    return [(metric_label(key), number(values[key])) for key in keys if key in values]


def class_rows(per_class: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per class: its label, support and formatted metrics."""
    return [
        {
            "label": label,
            "support": scores.get("support"),
            **{key: number(scores.get(key)) for key in CLASS_METRICS},
        }
        for label, scores in per_class.items()
    ]


def _rank(metric: str, row: Mapping[str, Any]) -> tuple[int, float]:
    """Sort key: slices with the metric first, worst first; the rest after, in order."""
    value = (row.get("metrics") or {}).get(metric)
    if not isinstance(value, int | float):
        return (1, 0.0)
    return (0, float(value) if higher_is_better(metric) else -float(value))


def slice_rows(
    slices: Sequence[Mapping[str, Any]],
    metric: str,
    shown: Sequence[str] = (),
    overall: float | None = None,
) -> list[SliceRow]:
    """Slices sorted worst first by ``metric``; the worst few highlighted, only those worse
    than the whole dataset (``overall``) when it is known: a slice as good as the rest is no
    warning, however it ranks."""
    ranked = sorted(slices, key=lambda row: _rank(metric, row))
    rows = []
    for index, row in enumerate(ranked):
        values = row.get("metrics") or {}
        value = values.get(metric)
        below = not isinstance(overall, int | float) or (
            isinstance(value, int | float) and improvement(metric, float(value), overall) < 0
        )
        rows.append(
            SliceRow(
                column=str(row.get("column", "")),
                value=str(row.get("value", "")),
                rows=int(row.get("rows") or 0),
                metric=number(values.get(metric)),
                metrics={key: number(values.get(key)) for key in shown},
                worst=index < WORST_SHOWN and _rank(metric, row)[0] == 0 and below,
            )
        )
    return rows
