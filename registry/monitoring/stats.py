"""Drift statistics: which columns moved between a reference and a current window. Pure.

The public entry points, all on numpy arrays and free of Django:

* ``column_drift``: one column, exact, in memory (``exact.py``);
* ``column_drift_bounded`` with ``ReferenceSummary`` and ``CurrentAccumulator``: the same
  check from a stored reference summary and a window streamed in chunks, in memory that
  does not grow with the rows (``bounded.py`` documents its error bounds);
* ``dataset_drift``: the verdict over all columns;
* ``prediction_drift`` / ``target_drift``: the model's outputs, or the feedback labels;
* ``accuracy_trend``: whether the accuracy that feedback reports is moving.

Tests follow Evidently 0.7's default selection (``selection.py``). Two modes: the default
``two_sample`` tests categories for homogeneity of two samples; ``evidently`` reproduces
Evidently's statistics, its goodness-of-fit chi-square included. Missing values, infinities,
constant or empty columns and new categories give a result with a note, never an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from registry.monitoring.bounded import CurrentAccumulator, ReferenceSummary, column_drift_bounded
from registry.monitoring.cleaning import clean_categorical, clean_numeric
from registry.monitoring.engine import Pair, evaluate
from registry.monitoring.exact import ExactCategorical, ExactNumeric
from registry.monitoring.results import ColumnResult, DatasetResult, dataset_drift
from registry.monitoring.selection import ColumnKind, Mode, StatTest

__all__ = [
    "AccuracyTrend",
    "ColumnKind",
    "ColumnResult",
    "CurrentAccumulator",
    "DatasetResult",
    "Mode",
    "ReferenceSummary",
    "StatTest",
    "accuracy_trend",
    "column_drift",
    "column_drift_bounded",
    "dataset_drift",
    "prediction_drift",
    "target_drift",
]

TREND_ALPHA = 0.05  # a slope counts as a trend when its p-value is below this
TREND_MIN_DAYS = 3  # fewer days with feedback say nothing about a trend


def column_drift(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    *,
    kind: ColumnKind | str,
    test: StatTest | str | None = None,
    threshold: float | None = None,
    mode: Mode | str = Mode.TWO_SAMPLE,
) -> ColumnResult:
    """Drift of one column; ``test`` and ``threshold`` override the default choice."""
    kind = ColumnKind(kind)
    pair: Pair
    if kind == ColumnKind.NUMERIC:
        pair = ExactNumeric(clean_numeric(reference), clean_numeric(current))
    else:
        pair = ExactCategorical(clean_categorical(reference), clean_categorical(current))
    chosen = StatTest(test) if test else None
    return evaluate(pair, test=chosen, threshold=threshold, mode=Mode(mode))


def prediction_drift(
    reference_outputs: npt.ArrayLike,
    current_outputs: npt.ArrayLike,
    *,
    class_names: list[str] | None = None,
    mode: Mode | str = Mode.TWO_SAMPLE,
) -> dict[str, ColumnResult]:
    """Drift of a model's outputs: floats compare as numbers, labels as categories.

    A 2-D array holds class probabilities, one column per class: each class's probability
    is compared as a number, under its name in ``class_names`` (or its index).
    """
    reference, current = np.asarray(reference_outputs), np.asarray(current_outputs)
    if reference.ndim == 2:
        names = class_names or [str(i) for i in range(reference.shape[1])]
        return {
            f"proba_{name}": column_drift(
                reference[:, i], current[:, i], kind=ColumnKind.NUMERIC, mode=mode
            )
            for i, name in enumerate(names)
        }
    # Integer outputs are class labels far more often than counts.
    kind = ColumnKind.NUMERIC if reference.dtype.kind == "f" else ColumnKind.CATEGORICAL
    return {"prediction": column_drift(reference, current, kind=kind, mode=mode)}


def target_drift(
    reference_labels: npt.ArrayLike,
    current_labels: npt.ArrayLike,
    *,
    mode: Mode | str = Mode.TWO_SAMPLE,
) -> ColumnResult:
    """Drift of the true labels that feedback supplies, chosen by dtype as for predictions."""
    return prediction_drift(reference_labels, current_labels, mode=mode)["prediction"]


@dataclass(frozen=True)
class AccuracyTrend:
    days: list[str]
    accuracy: list[float | None]  # None on a day without labelled feedback
    slope_per_day: float | None
    p_value: float | None
    trend: str  # "declining", "improving", "stable" or "insufficient data"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def accuracy_trend(days: list[Any], correct: npt.ArrayLike, total: npt.ArrayLike) -> AccuracyTrend:
    """Share correct per day, and whether it moves: a least-squares line through the days
    with feedback, called a trend when its slope differs from 0 at the 5 % level."""
    right = np.asarray(correct, dtype=float)
    counted = np.asarray(total, dtype=float)
    has_data = counted > 0
    share = np.divide(right, counted, out=np.zeros_like(right), where=has_data)
    accuracy = [float(s) if ok else None for s, ok in zip(share, has_data, strict=True)]
    labels = [str(day) for day in days]
    if np.count_nonzero(has_data) < TREND_MIN_DAYS:
        return AccuracyTrend(labels, accuracy, None, None, "insufficient data")
    position = np.arange(len(right), dtype=float)[has_data]
    if np.ptp(share[has_data]) == 0:
        return AccuracyTrend(labels, accuracy, 0.0, 1.0, "stable")
    fit = stats.linregress(position, share[has_data])
    trend = "stable"
    if fit.pvalue < TREND_ALPHA:
        trend = "improving" if fit.slope > 0 else "declining"
    return AccuracyTrend(labels, accuracy, float(fit.slope), float(fit.pvalue), trend)
