"""What an evaluation keeps of a group of rows (the whole dataset, or one slice value) while
it streams them: counts and exact sums whose size does not grow with the rows. Pure.

A classification keeps its confusion matrix (labels against predictions, as class codes),
and with scores, per class shown, the counts per distinct score (``score_counts``) and the
calibration bins, plus the log loss summed row by row. A regression keeps exact sums (of
the truth, its square, the absolute and squared residuals) and the residuals' histogram.
Every sum is exact (``sums``), so a figure does not depend on how the rows were batched.
"""

from __future__ import annotations

import math

import numpy as np

from registry.evaluation.score_counts import LIMIT, ScoreCounts
from registry.evaluation.sums import ExactSums

CALIBRATION_BINS = 10
# Scores are float32: scikit-learn clips float32 probabilities to [eps, 1 - eps] for log loss.
EPS = float(np.finfo(np.float32).eps)
RESIDUAL_BINS = 30
FINE_BINS = 4096  # residual bins kept while streaming; neighbours merge as the range grows


def shown_classes(width: int) -> list[int]:
    """The score columns that get curves: the positive class (1) of a binary model, else
    every class (one-vs-rest)."""
    return [1] if width == 2 else list(range(width))


class ClassTally:
    """A classification's counts: labels and predictions as codes, scores (optional) with
    ``width`` columns, one per model class."""

    def __init__(self, width: int = 0, keys: int = LIMIT) -> None:
        self.rows = 0
        self.confusion = np.zeros((0, 0), dtype=np.int64)
        self.width = width
        self.scored = 0  # rows that came with scores
        self.beyond = False  # a label outside the scores' classes: no score metrics
        shown = shown_classes(width) if width >= 2 else []
        self.ranks = {c: ScoreCounts(_share(keys, len(shown))) for c in shown}
        self.lowest = {c: math.inf for c in self.ranks}
        self.highest = {c: -math.inf for c in self.ranks}
        self.bins = {c: np.zeros(CALIBRATION_BINS, dtype=np.int64) for c in self.ranks}
        self.bin_positives = {c: np.zeros(CALIBRATION_BINS, dtype=np.int64) for c in self.ranks}
        self.bin_sums = {c: ExactSums(CALIBRATION_BINS) for c in self.ranks}
        self.loss = ExactSums()

    def add(self, truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None) -> None:
        """One batch of label codes, predicted codes and scores (rows x ``width``)."""
        size = int(max(truth.max(initial=-1), predicted.max(initial=-1))) + 1
        self.grow(size)
        size = len(self.confusion)
        cells = truth.astype(np.int64) * size + predicted
        self.confusion += np.bincount(cells, minlength=size * size).reshape(size, size)
        self.rows += len(truth)
        if scores is None or not self.ranks or not len(truth):
            return
        self.scored += len(truth)
        if int(truth.max()) >= self.width:
            self.beyond = True
            return  # the score metrics will not be computed: no need to count them
        for c, ranks in self.ranks.items():
            score = scores[:, c]
            positive = truth == c
            ranks.add(score, positive)
            self.lowest[c] = min(self.lowest[c], float(score.min()))
            self.highest[c] = max(self.highest[c], float(score.max()))
            probability = np.clip(score.astype(np.float64), 0.0, 1.0)
            # The bins calibration_curve uses: ten equal ones, a value on an edge goes left.
            where = np.searchsorted(EDGES[1:-1], probability)
            self.bins[c] += np.bincount(where, minlength=CALIBRATION_BINS)
            self.bin_positives[c] += np.bincount(where[positive], minlength=CALIBRATION_BINS)
            self.bin_sums[c].add(probability, where)
        chosen = scores[np.arange(len(truth)), truth].astype(np.float64)
        self.loss.add(-np.log(np.clip(np.clip(chosen, 0.0, 1.0), EPS, 1 - EPS)))

    def fit(self, keys: int) -> None:
        """Hold at most ``keys`` score keys (shared by the classes) from now on."""
        for ranks in self.ranks.values():
            ranks.fit(_share(keys, len(self.ranks)))

    def grow(self, size: int) -> None:
        """Room for ``size`` class codes (codes are only ever added)."""
        have = len(self.confusion)
        if size > have:
            grown = np.zeros((size, size), dtype=np.int64)
            grown[:have, :have] = self.confusion
            self.confusion = grown

    def merge(self, other: ClassTally) -> None:
        self.grow(len(other.confusion))
        self.confusion[: len(other.confusion), : len(other.confusion)] += other.confusion
        self.rows += other.rows
        self.scored += other.scored
        self.beyond |= other.beyond
        for c, ranks in self.ranks.items():
            ranks.merge(other.ranks[c])
            self.lowest[c] = min(self.lowest[c], other.lowest[c])
            self.highest[c] = max(self.highest[c], other.highest[c])
            self.bins[c] += other.bins[c]
            self.bin_positives[c] += other.bin_positives[c]
            for b in range(CALIBRATION_BINS):
                self.bin_sums[c].merge(other.bin_sums[c], b, b)
        self.loss.merge(other.loss)

    def renumbered(self, order: list[int]) -> None:
        """Codes renumbered so code ``order[i]`` becomes ``i`` (classes without scores)."""
        self.grow(len(order))
        self.confusion = self.confusion[np.ix_(order, order)]

    @property
    def scorable(self) -> bool:
        """Scores on every row, for labels that are all among the scores' classes."""
        return bool(self.ranks) and self.scored == self.rows > 0 and not self.beyond


EDGES = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
MIN_KEYS = 128  # a class's least share of a budget of score keys


def _share(keys: int, classes: int) -> int:
    return max(MIN_KEYS, keys // max(classes, 1))


class ValueTally:
    """A regression's exact sums and its residuals' histogram."""

    def __init__(self, *, histogram: bool = True) -> None:
        self.rows = 0
        # 0: truth, 1: truth squared, 2: |residual|, 3: residual squared (as computed)
        self.sums = ExactSums(4)
        self.residuals = ResidualBins() if histogram else None

    def add(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        truth = np.asarray(truth, dtype=np.float64)
        residual = truth - np.asarray(predicted, dtype=np.float64)
        if not (np.isfinite(truth).all() and np.isfinite(residual).all()):
            raise ValueError("Input contains NaN or infinity.")
        self.rows += len(truth)
        self.sums.add(truth, np.zeros(len(truth), dtype=np.intp))
        for part in exact_squares(truth):
            self.sums.add(part, np.ones(len(truth), dtype=np.intp))
        self.sums.add(np.abs(residual), np.full(len(truth), 2, dtype=np.intp))
        self.sums.add(residual * residual, np.full(len(truth), 3, dtype=np.intp))
        if self.residuals is not None:
            self.residuals.add(residual)

    def merge(self, other: ValueTally) -> None:
        self.rows += other.rows
        for group in range(4):
            self.sums.merge(other.sums, group, group)
        if self.residuals is not None and other.residuals is not None:
            self.residuals.merge(other.residuals)


def exact_squares(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three arrays whose sum is each value's square exactly (Veltkamp's split: 26-bit
    halves, whose products a float64 holds)."""
    t = values * 134217729.0  # 2**27 + 1
    high = t - (t - values)
    low = values - high
    return high * high, 2.0 * high * low, low * low


class ResidualBins:
    """Counts of residuals in bins of a power-of-two width, on multiples of the width: when
    the range grows past ``FINE_BINS`` bins, neighbours merge (the width doubles), so every
    residual stays counted exactly in the bin it falls in."""

    def __init__(self) -> None:
        self.width = 0.0  # 0 until the first value
        self.start = 0  # the first kept bin: [start * width, (start + 1) * width)
        self.counts = np.zeros(0, dtype=np.int64)
        self.low, self.high = math.inf, -math.inf

    def add(self, values: np.ndarray) -> None:
        if not len(values):
            return
        self.low = min(self.low, float(values.min()))
        self.high = max(self.high, float(values.max()))
        if not self.width:
            spread = self.high - self.low or abs(self.low) or 1.0
            self.width = 2.0 ** math.floor(math.log2(spread / FINE_BINS))
        self._fit([(self.width, self.start, self.counts)])
        where = np.floor(values / self.width).astype(np.int64) - self.start
        self.counts += np.bincount(where, minlength=FINE_BINS)

    def merge(self, other: ResidualBins) -> None:
        if not other.width:
            return
        parts = [(other.width, other.start, other.counts)]
        if self.width:
            parts.append((self.width, self.start, self.counts))
        self.width = max(self.width, other.width)
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        self._fit(parts, moved=True)

    def _fit(self, parts: list[tuple[float, int, np.ndarray]], moved: bool = False) -> None:
        """Widen (merging neighbours) and move the kept bins to hold [low, high], then put
        ``parts`` (bins as width, first bin, counts) back in."""
        width = self.width
        while math.floor(self.high / width) - math.floor(self.low / width) >= FINE_BINS:
            width *= 2.0
        start = math.floor(self.low / width)
        inside = len(self.counts) and start >= self.start
        if (
            not moved
            and width == self.width
            and inside
            and (math.floor(self.high / width) < self.start + FINE_BINS)
        ):
            return
        self.width, self.start = width, start
        self.counts = np.zeros(FINE_BINS, dtype=np.int64)
        for part_width, part_start, counts in parts:
            filled = np.flatnonzero(counts)
            if len(filled):
                doubling = round(math.log2(width / part_width))
                where = ((filled + part_start) >> doubling) - start
                np.add.at(self.counts, where, counts[filled])

    def histogram(self, bins: int = RESIDUAL_BINS) -> dict[str, list]:
        """At most ``bins`` equal bins over the residuals, from the kept ones merged."""
        filled = np.flatnonzero(self.counts)
        if not len(filled):
            return {"edges": [], "counts": []}
        first, last = int(filled[0]) + self.start, int(filled[-1]) + self.start
        doubling = 0
        while (last >> doubling) - (first >> doubling) >= bins:
            doubling += 1
        base = first >> doubling
        counts = np.zeros((last >> doubling) - base + 1, dtype=np.int64)
        np.add.at(counts, ((filled + self.start) >> doubling) - base, self.counts[filled])
        width = self.width * 2.0**doubling
        edges = [(base + i) * width for i in range(len(counts) + 1)]
        return {"edges": [float(e) for e in edges], "counts": [int(n) for n in counts]}
