"""The evaluation's figures, from what was kept of the rows (``tallies``): classification
and regression metrics with their curves, then permutation importance (on the sample) and
latency. Pure.

Every figure is scikit-learn's on all rows, computed from counts instead of rows: the
label metrics by scikit-learn from the confusion matrix's cells (as sample weights), the
curves from the counts per distinct score (``score_counts``: exact up to a bound of
distinct scores, past it within the bound the curve carries as ``auc_error``); log loss,
calibration and the regression metrics from exact sums (``sums``), so they equal the
mathematically exact value rounded once (scikit-learn's summation rounds as it goes: the
two agree to about 1e-15). Log loss is computed in float64 from the float32 scores, clipped
to [eps, 1 - eps] with float32's eps as scikit-learn clips float32 probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from sklearn import metrics as skm

from registry.evaluation.sampling import SEED
from registry.evaluation.tallies import ClassTally, ValueTally, shown_classes

CURVE_POINTS = 200
REPEATS = 5

# A permutation-importance model: column arrays in, (label codes or values, scores) out.
Predict = Callable[[Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray | None]]


# Classification ----------------------------------------------------------------------------


def classification_metrics(
    truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None, classes: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``class_figures`` of whole arrays: label codes, predicted codes, scores (columns are
    classes 0..k-1)."""
    tally = ClassTally(width=0 if scores is None else scores.shape[1])
    if len(truth):
        tally.add(np.asarray(truth), np.asarray(predicted), scores)
    return class_figures(tally, classes, scorable=tally.scorable)


def class_figures(
    tally: ClassTally, classes: Sequence[str], *, scorable: bool
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(metrics, per_class, curves) of a classification; the score metrics when
    ``scorable`` (every row has scores, for labels among the scores' classes).

    Precision, recall and F1 count the classes present in the labels or the predictions,
    as scikit-learn does by default; macro and weighted averages are scikit-learn's (the
    plain and support-weighted means of the per-class values, computed once).
    """
    if not tally.rows:
        return {}, {}, {"classes": list(classes)}
    size = len(classes)
    tally.grow(size)
    confusion = tally.confusion[:size, :size]
    present = np.flatnonzero(confusion.sum(axis=0) + confusion.sum(axis=1))
    # One row per cell of the confusion matrix, weighted by its count: scikit-learn's sums
    # of the weights are the same integers its counts of rows would be.
    truth, predicted = np.nonzero(confusion)
    weights = confusion[truth, predicted].astype(np.float64)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, predicted, labels=present, zero_division=0, sample_weight=weights
    )
    accuracy = skm.accuracy_score(truth, predicted, sample_weight=weights)
    metrics: dict[str, Any] = {"accuracy": float(accuracy)}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        metrics[f"{name}_macro"] = float(np.mean(values))
        metrics[f"{name}_weighted"] = float(np.average(values, weights=support))
    per_class = {
        classes[int(c)]: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
            "roc_auc": None,
            "pr_auc": None,
        }
        for i, c in enumerate(present)
    }
    curves: dict[str, Any] = {"classes": list(classes), "confusion": confusion.tolist()}
    if scorable and tally.width >= 2:
        _score_metrics(tally, classes, metrics, per_class, curves)
    return metrics, per_class, curves


def _score_metrics(
    tally: ClassTally,
    classes: Sequence[str],
    metrics: dict[str, Any],
    per_class: dict[str, Any],
    curves: dict[str, Any],
) -> None:
    """ROC AUC, PR AUC (average precision) and log loss: binary for the positive class
    (score column 1), else one-vs-rest for each class and their macro average."""
    curves.update(roc={}, pr={}, calibration={})
    found: dict[int, tuple[float, float]] = {}
    for c in shown_classes(tally.width):
        roc_auc, pr_auc = _one_vs_rest(tally, c, classes[c], curves)
        found[c] = roc_auc, pr_auc
        if classes[c] in per_class:
            per_class[classes[c]].update(roc_auc=roc_auc, pr_auc=pr_auc)
    metrics["roc_auc"] = float(np.mean([v[0] for v in found.values()]))
    metrics["pr_auc"] = float(np.mean([v[1] for v in found.values()]))
    metrics["log_loss"] = tally.loss.value(divide=tally.rows)


def _one_vs_rest(
    tally: ClassTally, c: int, name: str, curves: dict[str, Any]
) -> tuple[float, float]:
    """One class against the rest: its AUCs, computed from the curves drawn (the way
    roc_auc_score and average_precision_score compute them)."""
    positives = int(tally.confusion[c].sum())
    if positives in (0, tally.rows):
        return float("nan"), float("nan")
    found = tally.ranks[c].curves()
    roc: dict[str, Any] = {"fpr": _thin(found.fpr), "tpr": _thin(found.tpr)}
    pr: dict[str, Any] = {"recall": _thin(found.recall), "precision": _thin(found.precision)}
    # Only when neighbouring scores had to share buckets: the most the area can be off.
    if found.roc_error:
        roc["auc_error"] = found.roc_error
    if found.pr_error:
        pr["auc_error"] = found.pr_error
    curves["roc"][name], curves["pr"][name] = roc, pr
    calibration = _calibration(tally, c)
    if calibration:
        curves["calibration"][name] = calibration
    return found.roc_auc, found.pr_auc


def _calibration(tally: ClassTally, c: int) -> dict[str, list[Any]]:
    """Observed frequency against predicted probability in ten equal bins, with counts:
    scikit-learn's ``calibration_curve`` from the bins' counts and exact sums."""
    if tally.lowest[c] < -1e-6 or tally.highest[c] > 1 + 1e-6:
        return {}  # not probabilities: no calibration to speak of
    counts, positives = tally.bins[c], tally.bin_positives[c]
    filled = np.flatnonzero(counts)
    return {
        "predicted": [tally.bin_sums[c].value(int(b), divide=int(counts[b])) for b in filled],
        "observed": (positives[filled] / counts[filled]).tolist(),
        "count": [int(n) for n in counts[filled]],
    }


def _thin(values: np.ndarray, points: int = CURVE_POINTS) -> list[float]:
    """At most ``points`` evenly spaced points of a curve, its ends kept."""
    if len(values) > points:
        values = values[np.unique(np.linspace(0, len(values) - 1, points).round().astype(int))]
    return [float(v) for v in values]


# Regression --------------------------------------------------------------------------------


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """``value_figures``' metrics of whole arrays."""
    tally = ValueTally()
    tally.add(truth, predicted)
    return value_figures(tally)[0]


def value_figures(tally: ValueTally) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, residuals' histogram) of a regression: MAE, RMSE and R² as scikit-learn
    defines them, from exact sums (R²'s total sum of squares is exact: the sum of squares
    less the squared sum over the rows, with no cancellation)."""
    rows = tally.rows
    if not rows:
        return {}, {"edges": [], "counts": []}
    sums = tally.sums
    metrics = {
        "mae": sums.value(2, divide=rows),
        "rmse": math.sqrt(sums.value(3, divide=rows)),
        "r2": _r2(sums.exact(0), sums.exact(1), sums.exact(3), rows),
    }
    histogram = tally.residuals.histogram() if tally.residuals is not None else {}
    return metrics, histogram


def _r2(total: Fraction, squares: Fraction, residual_squares: Fraction, rows: int) -> float:
    if rows < 2:
        return float("nan")  # undefined for one row, as scikit-learn says (stored as None)
    spread = squares - total * total / rows
    if spread == 0:
        return 1.0 if residual_squares == 0 else 0.0  # scikit-learn's force_finite
    return float(1 - residual_squares / spread)


# Permutation importance --------------------------------------------------------------------


def main_metric(
    metrics: Mapping[str, Any], *, regression: bool, classes: int, binary_scores: bool
) -> str:
    """What importance measures the drop of: R² for a regression; ROC AUC for a binary
    model with scores (when defined); else accuracy for two classes, macro F1 for more."""
    if regression:
        return "r2"
    roc_auc = metrics.get("roc_auc")
    if binary_scores and roc_auc is not None and roc_auc == roc_auc:
        return "roc_auc"
    return "f1_macro" if classes > 2 else "accuracy"


def score(
    metric: str, truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None
) -> float:
    """``metric`` of a sample: the number whose drop permutation importance reports."""
    if metric == "r2":
        return float(skm.r2_score(truth, predicted))
    if metric == "roc_auc":
        if scores is None or len(np.unique(truth)) < 2:
            return float("nan")
        if scores.shape[1] == 2:
            return float(skm.roc_auc_score(truth == 1, scores[:, 1]))
        return float("nan")
    if metric == "f1_macro":
        return float(skm.f1_score(truth, predicted, average="macro", zero_division=0))
    return float(skm.accuracy_score(truth, predicted))


def permutation_importance(
    columns: Mapping[str, np.ndarray],
    truth: np.ndarray,
    predict: Predict,
    *,
    metric: str,
    repeats: int = REPEATS,
    seed: int = SEED,
    on_column: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """How much ``metric`` drops when each input column is shuffled, over ``repeats``
    shuffles (fixed seed): the mean drop and its standard deviation, largest first."""
    if len(truth) == 0:
        return []
    rng = np.random.default_rng(seed)
    baseline = score(metric, truth, *predict(columns))
    found = []
    for done, name in enumerate(columns):
        if on_column is not None:
            on_column(done, len(columns))
        drops = []
        for _ in range(repeats):
            shuffled = dict(columns)
            shuffled[name] = columns[name][rng.permutation(len(truth))]
            drops.append(baseline - score(metric, truth, *predict(shuffled)))
        found.append(
            {
                "column": name,
                "drop": float(np.mean(drops)),
                "spread": float(np.std(drops)),
                "metric": metric,
            }
        )
    return sorted(found, key=lambda row: -row["drop"] if row["drop"] == row["drop"] else np.inf)


# Latency -----------------------------------------------------------------------------------


def latency(timings: Sequence[tuple[int, float]]) -> dict[str, Any]:
    """Per-row inference time from the batches: (rows, seconds) of each."""
    timed = [(rows, seconds) for rows, seconds in timings if rows]
    if not timed:
        return {}
    per_row_ms = np.array([seconds * 1000 / rows for rows, seconds in timed])
    total_seconds = sum(seconds for _, seconds in timed)
    return {
        "p50_ms": float(np.percentile(per_row_ms, 50)),
        "p95_ms": float(np.percentile(per_row_ms, 95)),
        "rows_per_s": float(sum(rows for rows, _ in timed) / total_seconds)
        if total_seconds
        else None,
    }
