"""Evaluation metrics, pure: accumulate a dataset a batch at a time, then compute everything
with scikit-learn, so every number equals what scikit-learn gives on the same arrays.

Memory: per row only compact arrays are kept (label codes as int32, scores as float32,
regression values as float64, slice codes as int32), never the feature table; permutation
importance runs on a bounded reservoir sample of rows.

What is kept of the rows is in ``sampling``; the figures are computed in ``scoring``. The
result's shape is the one the pages and the gates read (``models.Evaluation``):
``metrics``, ``per_class``, ``curves``, ``importance``, ``slices`` and ``latency``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.evaluation.sampling import OTHER, SAMPLE_ROWS, SEED, Codes, Reservoir
from registry.evaluation.scoring import (
    Predict,
    classification_metrics,
    latency,
    main_metric,
    permutation_importance,
    regression_metrics,
    residuals,
)

TOP_SLICES = 10
MAX_SLICE_VALUES = 1000  # distinct values tracked per slice column; later ones are "(other)"
MISSING = "(missing)"


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
