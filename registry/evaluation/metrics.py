"""Evaluation metrics, pure: accumulate a dataset a batch at a time, then compute every
figure with scikit-learn from what was kept, so every number is what scikit-learn gives on
all rows (within a stated bound for ROC and PR curves past a bound of distinct scores).

Memory does not grow with the rows: a batch is folded into counts and exact sums
(``tallies``) for the whole dataset and for each slice value, then dropped; permutation
importance runs on a bounded reservoir sample of rows (``sampling``); latency keeps one
figure per batch. What a figure is computed from is in ``scoring``. The result's shape is
the one the pages and the gates read (``models.Evaluation``): ``metrics``, ``per_class``,
``curves``, ``importance``, ``slices`` and ``latency``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.evaluation.sampling import OTHER, SAMPLE_ROWS, SEED, Codes, Reservoir
from registry.evaluation.score_counts import LIMIT, auc_bounds
from registry.evaluation.scoring import (
    Predict,
    class_figures,
    latency,
    main_metric,
    permutation_importance,
    value_figures,
)
from registry.evaluation.tallies import ClassTally, ValueTally

TOP_SLICES = 10
MAX_SLICE_VALUES = 1000  # distinct values tracked per slice column; later ones are "(other)"
SLICE_KEYS = LIMIT  # score keys a slice column's values share (see score_counts)
MISSING = "(missing)"

Tally = ClassTally | ValueTally


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
        self.rows = 0
        self.width = 0  # score columns, set by the first batch
        self.tally: Tally | None = None
        self.slices = {name: Codes(limit=MAX_SLICE_VALUES) for name in slice_columns}
        self.slice_tallies: dict[str, list[Tally]] = {name: [] for name in slice_columns}
        self.reservoir = Reservoir(sample_rows, seed) if sample_rows else None
        self.timings: list[tuple[int, float]] = []
        self.importance_metric = ""  # set once the metrics say which: what predict must give

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
        guessed = self.predictions(predicted, scores)
        if scores is not None:
            scores = np.asarray(scores, dtype=np.float32)
            if self.tally is None:
                self.width = scores.shape[1]
            elif scores.shape[1] != self.width:
                raise ValueError(f"scores of {scores.shape[1]} classes, then {self.width}")
        if self.tally is None:
            self.tally = self._tally()
        _fold(self.tally, true, guessed, scores)
        for name, values in (slices or {}).items():
            self._add_slices(name, values, true, guessed, scores)
        if self.reservoir is not None and features is not None:
            self.reservoir.add(features, true)
        if seconds is not None:
            self.timings.append((len(true), seconds))
        self.rows += len(true)

    def _tally(self, keys: int = LIMIT, *, histogram: bool = True) -> Tally:
        if self.regression:
            return ValueTally(histogram=histogram)  # slices show metrics, no histogram
        return ClassTally(self.width, keys)

    def _add_slices(
        self,
        name: str,
        values: pa.Array,
        truth: np.ndarray,
        predicted: np.ndarray,
        scores: np.ndarray | None,
    ) -> None:
        """Each slice value's rows into its own tally; the column's values share a budget
        of score keys, so many values hold no more than a few."""
        codes = self.slices[name].encode(values, null=MISSING)
        tallies = self.slice_tallies[name]
        known = len(self.slices[name].values)
        if known > len(tallies):
            keys = SLICE_KEYS // known
            for tally in tallies:
                if isinstance(tally, ClassTally):
                    tally.fit(keys)
            tallies += [self._tally(keys, histogram=False) for _ in range(known - len(tallies))]
        order = np.argsort(codes, kind="stable")
        ordered = codes[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        for first, end in zip(starts, [*starts[1:], len(order)], strict=True):
            rows = order[first:end]
            part = None if scores is None else scores[rows]
            _fold(tallies[int(ordered[first])], truth[rows], predicted[rows], part)

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
        if self.regression or not self.model_classes or not isinstance(self.tally, ClassTally):
            return []
        counts = self.tally.confusion.sum(axis=1)
        if counts[: self.model_classes].any():
            return []
        return [self.classes.values[i] for i in np.flatnonzero(counts)]

    def result(
        self, *, predict: Predict | None = None, on_column: Callable[[int, int], None] | None = None
    ) -> EvaluationResult:
        """Every metric of the whole dataset; ``predict`` (the model, when there is one)
        gives permutation importance, calling ``on_column(done, total)`` between columns."""
        tally = self.tally if self.tally is not None else self._tally()
        classes = self.classes.values
        if isinstance(tally, ValueTally):
            metrics, residuals = value_figures(tally)
            per_class: dict[str, Any] = {}
            curves: dict[str, Any] = {"residuals": residuals}
            scorable = False
        else:
            if not self.model_classes:
                # Classes met in the data, not named by a model: shown in sorted order. The
                # sample keeps the codes it was taken with, so importance is unaffected.
                order = class_order(classes)
                for each in [tally, *(t for ts in self.slice_tallies.values() for t in ts)]:
                    assert isinstance(each, ClassTally)
                    each.renumbered(order)
                classes = [classes[i] for i in order]
            scorable = self._scorable(tally)
            metrics, per_class, curves = class_figures(tally, classes, scorable=scorable)
        importance = self._importance(metrics, scorable, predict, on_column)
        return EvaluationResult(
            rows=self.rows,
            metrics=metrics,
            per_class=per_class,
            curves=curves,
            importance=importance,
            slices=self._slices(classes, scorable),
            latency=latency(self.timings),
        )

    def _importance(
        self,
        metrics: Mapping[str, Any],
        scorable: bool,
        predict: Predict | None,
        on_column: Callable[[int, int], None] | None,
    ) -> list[dict[str, Any]]:
        if predict is None or self.reservoir is None or not self.reservoir.seen:
            return []
        metric = main_metric(
            metrics,
            regression=self.regression,
            classes=len(self.classes.values),
            binary_scores=scorable and self.width == 2,
        )
        self.importance_metric = metric
        columns, truth = self.reservoir.sample()
        return permutation_importance(columns, truth, predict, metric=metric, on_column=on_column)

    def _scorable(self, tally: ClassTally) -> bool:
        # Scores speak of the model's classes only: a label outside them has no score.
        labels = tally.confusion.sum(axis=1)
        return self.model_classes > 0 and tally.scorable and not labels[self.model_classes :].any()

    def _slices(self, classes: Sequence[str], scorable: bool) -> list[dict[str, Any]]:
        found = []
        for name, tallies in self.slice_tallies.items():
            rest = partial(self._tally, SLICE_KEYS, histogram=False)
            for value, tally in slice_groups(tallies, self.slices[name].values, rest):
                if isinstance(tally, ValueTally):
                    summary = value_figures(tally)[0]
                    errors: dict[str, float] = {}
                else:
                    summary, _, curves = class_figures(tally, classes, scorable=scorable)
                    errors = auc_bounds(curves)
                entry = {"column": name, "value": value, "rows": tally.rows, "metrics": summary}
                if errors:
                    entry["auc_error"] = errors
                found.append(entry)
        return found


def _fold(tally: Tally, truth: np.ndarray, predicted: np.ndarray, scores: Any) -> None:
    if isinstance(tally, ValueTally):
        tally.add(truth, predicted)
    else:
        tally.add(truth, predicted, scores)


def class_order(classes: Sequence[str]) -> list[int]:
    """The codes in the order classes are shown: by value when all are numbers."""
    numeric = all(_is_number(value) for value in classes)
    return sorted(range(len(classes)), key=lambda i: float(classes[i]) if numeric else classes[i])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def slice_groups(
    tallies: Sequence[Tally], values: Sequence[str], empty: Callable[[], Tally]
) -> list[tuple[str, Tally]]:
    """The most frequent values (at most TOP_SLICES) with their tallies, then the rest
    merged as "(other)"."""
    counts = np.array([tally.rows for tally in tallies], dtype=np.int64)
    ranked = [i for i in np.argsort(-counts, kind="stable") if counts[i] and values[i] != OTHER]
    top = ranked[:TOP_SLICES]
    groups = [(values[i], tallies[i]) for i in top]
    rest = [tallies[i] for i in range(len(tallies)) if i not in set(top) and counts[i]]
    if rest:
        merged = empty()
        for tally in rest:
            merged.merge(tally)  # type: ignore[arg-type]
        groups.append((OTHER, merged))
    return groups
