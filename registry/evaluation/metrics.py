"""Evaluation metrics, pure: accumulate a dataset a batch at a time, then compute everything
with scikit-learn, so every number equals what scikit-learn gives on the same arrays.

Memory: per row only compact arrays are kept (label codes as int32, scores as float32,
regression values as float64, slice codes as int32), never the feature table; permutation
importance runs on a bounded reservoir sample of rows.

The result's shape is the one the pages and the gates read (``models.Evaluation``):
``metrics``, ``per_class``, ``curves``, ``importance``, ``slices`` and ``latency``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

CURVE_POINTS = 200
CALIBRATION_BINS = 10
RESIDUAL_BINS = 30
TOP_SLICES = 10
MAX_SLICE_VALUES = 1000  # distinct values tracked per slice column; later ones are "(other)"
SAMPLE_ROWS = 20_000
REPEATS = 5
SEED = 0
OTHER = "(other)"
MISSING = "(missing)"

# A permutation-importance model: column arrays in, (label codes or values, scores) out.
Predict = Callable[[Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray | None]]


@dataclass
class EvaluationResult:
    rows: int
    metrics: dict[str, Any]
    per_class: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    importance: list[dict[str, Any]] = field(default_factory=list)
    slices: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The fields of an Evaluation row; undefined metrics (NaN) become None."""
        from registry.evaluation.models import result_json

        return dict(result_json(asdict(self)))


# Text values as small integer codes --------------------------------------------------------


def as_text(values: pa.Array | pa.ChunkedArray | np.ndarray) -> pa.Array:
    """Values as text the way classes are named: 1, 1.0 and True are all "1"."""
    array = pa.array(values) if isinstance(values, np.ndarray) else values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_boolean(array.type):
        array = pc.cast(array, pa.int8())
    return pc.cast(array, pa.string())


class Codes:
    """Maps text to int32 codes against an ordered list of values that grows as new ones
    appear; past ``limit`` values, new ones share the code of ``OTHER``."""

    def __init__(self, known: Sequence[str] = (), *, limit: int | None = None) -> None:
        self.values: list[str] = list(dict.fromkeys(known))
        self.limit = limit
        self._set = pa.array(self.values, type=pa.string())

    def encode(
        self, values: pa.Array | pa.ChunkedArray | np.ndarray, *, null: str = ""
    ) -> np.ndarray:
        text = as_text(values)
        if null and text.null_count:
            text = pc.fill_null(text, null)
        codes = pc.index_in(text, value_set=self._set)
        if codes.null_count:
            self._learn(pc.unique(pc.filter(text, pc.is_null(codes))))
            codes = pc.index_in(text, value_set=self._set)
        if codes.null_count:  # values past the limit
            codes = codes.fill_null(self._other())
        return np.asarray(codes.to_numpy(), dtype=np.int32)

    def _learn(self, new: pa.Array) -> None:
        room = None if self.limit is None else max(0, self.limit - len(self.values))
        fresh = [value for value in new.to_pylist() if value is not None]
        self.values += fresh[:room] if room is not None else fresh
        self._set = pa.array(self.values, type=pa.string())

    def _other(self) -> int:
        if OTHER not in self.values:
            self.values.append(OTHER)
            self._set = pa.array(self.values, type=pa.string())
        return self.values.index(OTHER)


# A bounded sample of rows ------------------------------------------------------------------


class Reservoir:
    """A uniform sample of at most ``size`` rows of a stream (Algorithm R), fixed seed."""

    def __init__(self, size: int = SAMPLE_ROWS, seed: int = SEED) -> None:
        self.size, self.seen = size, 0
        self.rng = np.random.default_rng(seed)
        self.columns: dict[str, np.ndarray] = {}
        self.truth: np.ndarray | None = None

    def add(self, columns: Mapping[str, np.ndarray], truth: np.ndarray) -> None:
        rows = len(truth)
        if self.truth is None:
            self.truth = np.empty(self.size, dtype=truth.dtype)
            self.columns = {k: np.empty(self.size, dtype=v.dtype) for k, v in columns.items()}
        fill = min(max(self.size - self.seen, 0), rows)
        if fill:
            self._put(np.arange(self.seen, self.seen + fill), np.arange(fill), columns, truth)
        if rows > fill:
            position = self.seen + np.arange(fill, rows)  # each row's index in the stream
            slot = self.rng.integers(0, position + 1)
            kept = np.flatnonzero(slot < self.size)
            # A slot drawn twice in one batch ends with the later row, as one at a time would.
            _, last = np.unique(slot[kept][::-1], return_index=True)
            chosen = kept[::-1][last]
            self._put(slot[chosen], fill + chosen, columns, truth)
        self.seen += rows

    def _put(
        self,
        slots: np.ndarray,
        rows: np.ndarray,
        columns: Mapping[str, np.ndarray],
        truth: np.ndarray,
    ) -> None:
        assert self.truth is not None
        self.truth[slots] = truth[rows]
        for name, values in columns.items():
            self.columns[name][slots] = values[rows]

    def sample(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        kept = min(self.seen, self.size)
        truth = self.truth[:kept] if self.truth is not None else np.empty(0)
        return {k: v[:kept] for k, v in self.columns.items()}, truth


# Accumulating batches ----------------------------------------------------------------------


class Accumulator:
    """Everything an evaluation keeps while it streams a dataset."""

    def __init__(
        self,
        *,
        regression: bool,
        classes: Sequence[str] = (),
        slice_columns: Sequence[str] = (),
        sample_rows: int = SAMPLE_ROWS,
        seed: int = SEED,
    ) -> None:
        self.regression = regression
        self.model_classes = len(classes)
        self.classes = Codes(classes)
        # Classes with names ("cultivar_1", …) while the graph's label output is a number:
        # the number is the class's index (scikit-learn trained on codes 0…k-1).
        self.named_classes = bool(classes) and not any(_is_number(str(c)) for c in classes)
        self.truth: list[np.ndarray] = []
        self.predicted: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []
        self.slices = {name: Codes(limit=MAX_SLICE_VALUES) for name in slice_columns}
        self.slice_codes: dict[str, list[np.ndarray]] = {name: [] for name in slice_columns}
        self.reservoir = Reservoir(sample_rows, seed) if sample_rows else None
        self.timings: list[tuple[int, float]] = []
        self.importance_metric = ""  # set once the metrics say which: what predict must give

    @property
    def rows(self) -> int:
        return sum(len(t) for t in self.truth)

    def add(
        self,
        *,
        truth: pa.Array | np.ndarray,
        predicted: pa.Array | np.ndarray | None,
        scores: np.ndarray | None = None,
        slices: Mapping[str, pa.Array] | None = None,
        features: Mapping[str, np.ndarray] | None = None,
        seconds: float | None = None,
    ) -> None:
        """One batch: true labels (or values), predictions (None: the scores' best class),
        class scores, slice columns, the model's input columns (for the sample) and the
        seconds inference took."""
        true = self.encode(truth)
        self.truth.append(true)
        self.predicted.append(self.predictions(predicted, scores))
        if scores is not None:
            self.scores.append(np.asarray(scores, dtype=np.float32))
        for name, values in (slices or {}).items():
            self.slice_codes[name].append(self.slices[name].encode(values, null=MISSING))
        if self.reservoir is not None and features is not None:
            self.reservoir.add(features, true)
        if seconds is not None:
            self.timings.append((len(true), seconds))

    def encode(self, values: pa.Array | np.ndarray) -> np.ndarray:
        """Labels as class codes, or regression values as float64."""
        if self.regression:
            if isinstance(values, np.ndarray):
                return values.astype(np.float64, copy=False)
            return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))
        return self.classes.encode(values)

    def predictions(
        self, predicted: pa.Array | np.ndarray | None, scores: np.ndarray | None
    ) -> np.ndarray:
        if predicted is not None:
            if self._indexes(predicted):
                return np.asarray(predicted, dtype=np.int32)
            return self.encode(predicted)
        if scores is None:
            raise ValueError("a batch needs predictions or scores")
        return np.asarray(np.argmax(scores, axis=1), dtype=np.int32)

    def _indexes(self, predicted: pa.Array | np.ndarray) -> bool:
        if self.regression or not self.named_classes or not isinstance(predicted, np.ndarray):
            return False
        if predicted.dtype.kind not in "iu" or not len(predicted):
            return False
        return bool(predicted.min() >= 0 and predicted.max() < self.model_classes)

    def unknown_labels(self) -> list[str]:
        """True labels that are none of the model's classes, when none of them is: the
        mapping's classes are then surely wrong (a partial overlap is fine for metrics)."""
        if self.regression or not self.model_classes or not self.truth:
            return []
        counts = np.bincount(_joined(self.truth, np.int32), minlength=len(self.classes.values))
        if counts[: self.model_classes].any():
            return []
        return [self.classes.values[i] for i in np.flatnonzero(counts)]

    def result(
        self, *, predict: Predict | None = None, on_column: Callable[[int, int], None] | None = None
    ) -> EvaluationResult:
        """Every metric of the whole dataset; ``predict`` (the model, when there is one)
        gives permutation importance, calling ``on_column(done, total)`` between columns."""
        truth = _joined(self.truth, np.float64 if self.regression else np.int32)
        predicted = _joined(self.predicted, truth.dtype)
        scores = _joined(self.scores, np.float32) if self.scores else None
        classes = self.classes.values
        if self.regression:
            metrics = regression_metrics(truth, predicted)
            per_class: dict[str, Any] = {}
            curves: dict[str, Any] = {"residuals": residuals(truth, predicted)}
        else:
            if not self.model_classes:
                # Classes met in the data, not named by a model: shown in sorted order. The
                # sample keeps the codes it was taken with, so importance is unaffected.
                truth, predicted, classes = sorted_classes(truth, predicted, classes)
            scores = scores if scores is not None and self._scorable(truth) else None
            metrics, per_class, curves = classification_metrics(truth, predicted, scores, classes)
        importance = self._importance(metrics, scores, predict, on_column)
        return EvaluationResult(
            rows=len(truth),
            metrics=metrics,
            per_class=per_class,
            curves=curves,
            importance=importance,
            slices=self._slices(truth, predicted, scores, classes),
            latency=latency(self.timings),
        )

    def _importance(
        self,
        metrics: Mapping[str, Any],
        scores: np.ndarray | None,
        predict: Predict | None,
        on_column: Callable[[int, int], None] | None,
    ) -> list[dict[str, Any]]:
        if predict is None or self.reservoir is None or not self.reservoir.seen:
            return []
        metric = main_metric(
            metrics,
            regression=self.regression,
            classes=len(self.classes.values),
            binary_scores=scores is not None and scores.shape[1] == 2,
        )
        self.importance_metric = metric
        columns, truth = self.reservoir.sample()
        return permutation_importance(columns, truth, predict, metric=metric, on_column=on_column)

    def _scorable(self, truth: np.ndarray) -> bool:
        # Scores speak of the model's classes only: a label outside them has no score.
        return self.model_classes > 0 and (len(truth) == 0 or int(truth.max()) < self.model_classes)

    def _slices(
        self,
        truth: np.ndarray,
        predicted: np.ndarray,
        scores: np.ndarray | None,
        classes: Sequence[str],
    ) -> list[dict[str, Any]]:
        found = []
        for name, codes in self.slice_codes.items():
            for value, rows in slice_groups(_joined(codes, np.int32), self.slices[name].values):
                part = scores[rows] if scores is not None else None
                if self.regression:
                    summary = regression_metrics(truth[rows], predicted[rows])
                else:
                    summary = classification_metrics(truth[rows], predicted[rows], part, classes)[0]
                found.append(
                    {"column": name, "value": value, "rows": int(rows.sum()), "metrics": summary}
                )
        return found


def sorted_classes(
    truth: np.ndarray, predicted: np.ndarray, classes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The codes renumbered so classes run in order: by value when all are numbers."""
    numeric = all(_is_number(value) for value in classes)
    order = sorted(range(len(classes)), key=lambda i: float(classes[i]) if numeric else classes[i])
    renumber = np.empty(len(classes), dtype=np.int32)
    renumber[order] = np.arange(len(classes), dtype=np.int32)
    return renumber[truth], renumber[predicted], [classes[i] for i in order]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    """The batches' arrays as one, which then replaces them: the rows are held once."""
    joined = np.concatenate(parts) if parts else np.empty(0, dtype=dtype)
    parts[:] = [joined] if parts else []
    return joined


def slice_groups(codes: np.ndarray, values: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """The most frequent values (at most TOP_SLICES) each with its row mask, then the rest
    together as "(other)"."""
    counts = np.bincount(codes, minlength=len(values))
    ranked = [i for i in np.argsort(-counts, kind="stable") if counts[i] and values[i] != OTHER]
    top = ranked[:TOP_SLICES]
    groups = [(values[i], codes == i) for i in top]
    rest = ~np.isin(codes, top)
    if rest.any():
        groups.append((OTHER, rest))
    return groups


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
