"""The evaluation's figures computed from whole arrays with scikit-learn, so every number
equals what scikit-learn gives: classification and regression metrics with their curves,
permutation importance, latency. Pure."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from registry.evaluation.sampling import SEED

CURVE_POINTS = 200
CALIBRATION_BINS = 10
RESIDUAL_BINS = 30
REPEATS = 5

# A permutation-importance model: column arrays in, (label codes or values, scores) out.
Predict = Callable[[Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray | None]]


# Classification ----------------------------------------------------------------------------


def classification_metrics(
    truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None, classes: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(metrics, per_class, curves) from label codes; ``scores`` columns are classes 0..k-1.

    Precision, recall and F1 count the classes present in the labels or the predictions,
    as scikit-learn does by default; macro and weighted averages are scikit-learn's (the
    plain and support-weighted means of the per-class values, computed once).
    """
    if len(truth) == 0:
        return {}, {}, {"classes": list(classes)}
    size = len(classes)
    present = np.flatnonzero(
        np.bincount(truth, minlength=size) + np.bincount(predicted, minlength=size)
    )
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, predicted, labels=present, zero_division=0
    )
    metrics: dict[str, Any] = {"accuracy": float(skm.accuracy_score(truth, predicted))}
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
    confusion = skm.confusion_matrix(truth, predicted, labels=np.arange(size))
    curves: dict[str, Any] = {"classes": list(classes), "confusion": confusion.tolist()}
    if scores is not None and scores.shape[1] >= 2:
        _score_metrics(truth, scores, classes, metrics, per_class, curves)
    return metrics, per_class, curves


def _score_metrics(
    truth: np.ndarray,
    scores: np.ndarray,
    classes: Sequence[str],
    metrics: dict[str, Any],
    per_class: dict[str, Any],
    curves: dict[str, Any],
) -> None:
    """ROC AUC, PR AUC (average precision) and log loss: binary for the positive class
    (score column 1), else one-vs-rest for each class and their macro average."""
    width = scores.shape[1]
    shown = [1] if width == 2 else list(range(width))
    curves.update(roc={}, pr={}, calibration={})
    found: dict[int, tuple[float, float]] = {}
    for c in shown:
        roc_auc, pr_auc = _one_vs_rest(truth == c, scores[:, c], classes[c], curves)
        found[c] = roc_auc, pr_auc
        if classes[c] in per_class:
            per_class[classes[c]].update(roc_auc=roc_auc, pr_auc=pr_auc)
    metrics["roc_auc"] = float(np.mean([v[0] for v in found.values()]))
    metrics["pr_auc"] = float(np.mean([v[1] for v in found.values()]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # float32 rounding gives a probability of 1.0000001 now and then, which scikit-learn
        # refuses: clip to [0, 1] (calibration does too).
        probabilities = np.clip(scores, 0.0, 1.0)
        metrics["log_loss"] = float(skm.log_loss(truth, probabilities, labels=np.arange(width)))


def _one_vs_rest(
    positive: np.ndarray, score: np.ndarray, name: str, curves: dict[str, Any]
) -> tuple[float, float]:
    """One class against the rest: its AUCs, computed from the curves drawn (the way
    roc_auc_score and average_precision_score compute them), so each curve is sorted once."""
    if positive.all() or not positive.any():
        return float("nan"), float("nan")
    fpr, tpr, _ = skm.roc_curve(positive, score)
    precision, recall, _ = skm.precision_recall_curve(positive, score)
    curves["roc"][name] = {"fpr": _thin(fpr), "tpr": _thin(tpr)}
    curves["pr"][name] = {"recall": _thin(recall), "precision": _thin(precision)}
    calibration = _calibration(positive, score)
    if calibration:
        curves["calibration"][name] = calibration
    roc_auc = float(skm.auc(fpr, tpr))
    pr_auc = float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
    return roc_auc, pr_auc


def _calibration(positive: np.ndarray, score: np.ndarray) -> dict[str, list[Any]]:
    """Observed frequency against predicted probability in ten equal bins, with counts."""
    if score.min() < -1e-6 or score.max() > 1 + 1e-6:
        return {}  # not probabilities: no calibration to speak of
    probability = np.clip(score.astype(np.float64), 0.0, 1.0)
    observed, predicted = calibration_curve(positive, probability, n_bins=CALIBRATION_BINS)
    # The bins calibration_curve uses, to count the rows behind each point.
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], probability), minlength=CALIBRATION_BINS)
    return {
        "predicted": predicted.tolist(),
        "observed": observed.tolist(),
        "count": [int(n) for n in counts[counts != 0]],
    }


def _thin(values: np.ndarray, points: int = CURVE_POINTS) -> list[float]:
    """At most ``points`` evenly spaced points of a curve, its ends kept."""
    if len(values) > points:
        values = values[np.unique(np.linspace(0, len(values) - 1, points).round().astype(int))]
    return [float(v) for v in values]


# Regression --------------------------------------------------------------------------------


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    if len(truth) == 0:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R² of one row is undefined: NaN, stored as None
        return {
            "mae": float(skm.mean_absolute_error(truth, predicted)),
            "rmse": float(skm.root_mean_squared_error(truth, predicted)),
            "r2": float(skm.r2_score(truth, predicted)),
        }


def residuals(truth: np.ndarray, predicted: np.ndarray) -> dict[str, list[Any]]:
    """The distribution of truth minus prediction as a histogram."""
    if len(truth) == 0:
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(truth - predicted, bins=RESIDUAL_BINS)
    return {"edges": [float(e) for e in edges], "counts": [int(n) for n in counts]}


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
