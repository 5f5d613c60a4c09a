"""One class's scores against the rest, as counts of positives and negatives per distinct
score, in bounded memory: what ROC and precision-recall curves need, without the rows. Pure.

A score is a float32 (what ONNX graphs give), keyed by its bits in an order-preserving way,
so equal scores share a key: a model's scores repeat a lot (0 and 1 alone are often
thousands of rows). Counts are merged batch by batch, and while a table holds at most
``limit`` keys it is exact: its curves and areas are scikit-learn's on all rows (they are
computed by scikit-learn, from the counts as sample weights).

Past ``limit`` keys, neighbouring floats share a bucket: the key loses its lowest bit, then
the next, until the table fits (a bucket of 2**k neighbouring float32 values; about 2**-(23-k)
of a score's value). The counts stay exact; only the order of a positive and a negative in
the same bucket is lost, and that is bounded: ``roc_error`` is half the share of
positive-negative pairs that meet in a bucket holding more than one distinct score (ties
of one score count half in the exact area too), ``pr_error`` the most the bucket's steps
of precision can move. The final buckets depend only on the scores seen, not on batching.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

LIMIT = 1 << 17  # keys a table holds before neighbouring scores share buckets
SIGN = np.uint32(0x80000000)


def score_keys(scores: np.ndarray) -> np.ndarray:
    """float32 scores as uint32 keys in the same order (-0.0 is 0.0; NaN sorts last)."""
    values = np.asarray(scores, dtype=np.float32) + np.float32(0)  # -0.0 + 0 is +0.0
    bits = values.view(np.uint32)
    return np.where(bits & SIGN, ~bits, bits | SIGN)


def key_scores(keys: np.ndarray) -> np.ndarray:
    """The float32 scores of keys (``score_keys`` reversed)."""
    keys = np.asarray(keys, dtype=np.uint32)
    return np.where(keys & SIGN, keys & ~SIGN, ~keys).view(np.float32)


@dataclass
class Curves:
    """What scikit-learn draws from the counts, with the bounds of the areas' errors."""

    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    roc_auc: float
    pr_auc: float
    roc_error: float
    pr_error: float


class ScoreCounts:
    """Positives and negatives per score key, sorted by key; ``shift`` bits dropped."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.shift = 0
        self.keys = np.empty(0, dtype=np.uint32)  # bucket keys (score keys >> shift)
        self.low = np.empty(0, dtype=np.uint32)  # the least and greatest score key in each
        self.high = np.empty(0, dtype=np.uint32)
        self.positives = np.empty(0, dtype=np.int64)
        self.negatives = np.empty(0, dtype=np.int64)
        self.nan = False

    @property
    def rows(self) -> int:
        return int(self.positives.sum() + self.negatives.sum())

    def add(self, scores: np.ndarray, positive: np.ndarray) -> None:
        """One batch: each row's score and whether it belongs to the class."""
        keys = score_keys(scores)
        if np.isnan(scores).any():
            self.nan = True
        flagged = (keys.astype(np.uint64) << np.uint64(1)) | positive.astype(np.uint64)
        found, counts = np.unique(flagged, return_counts=True)
        keys = (found >> np.uint64(1)).astype(np.uint32)
        is_positive = (found & np.uint64(1)).astype(bool)
        self._merge(
            keys,
            keys,
            np.where(is_positive, counts, 0).astype(np.int64),
            np.where(is_positive, 0, counts).astype(np.int64),
        )

    def merge(self, other: ScoreCounts) -> None:
        """Count ``other``'s rows too (its buckets are kept: the coarser one wins)."""
        self.nan |= other.nan
        if other.shift > self.shift:
            self._coarsen(other.shift)
        self._merge(other.low, other.high, other.positives, other.negatives)

    def fit(self, limit: int) -> None:
        """Hold at most ``limit`` keys from now on."""
        self.limit = limit
        self._coarsen(self.shift)

    def _merge(
        self,
        low: np.ndarray,
        high: np.ndarray,
        positives: np.ndarray,
        negatives: np.ndarray,
    ) -> None:
        """Add buckets (sorted by score key, with their least and greatest score keys) to
        the table: counts of known keys in place, new keys inserted, so the table is
        copied at most once (no sort of the whole table)."""
        keys, low, high, positives, negatives = _collapse(
            low >> np.uint32(self.shift), low, high, positives, negatives
        )
        at = np.searchsorted(self.keys, keys)
        known = at < len(self.keys)
        known[known] = self.keys[at[known]] == keys[known]
        where = at[known]
        self.positives[where] += positives[known]
        self.negatives[where] += negatives[known]
        self.low[where] = np.minimum(self.low[where], low[known])
        self.high[where] = np.maximum(self.high[where], high[known])
        new = ~known
        if new.any():
            at = at[new]
            self.keys = np.insert(self.keys, at, keys[new])
            self.low = np.insert(self.low, at, low[new])
            self.high = np.insert(self.high, at, high[new])
            self.positives = np.insert(self.positives, at, positives[new])
            self.negatives = np.insert(self.negatives, at, negatives[new])
        self._coarsen(self.shift)

    def _coarsen(self, shift: int) -> None:
        """Drop key bits up to ``shift``, then more until the table fits its limit."""
        while shift > self.shift or len(self.keys) > self.limit:
            self.shift += 1
            self.keys, self.low, self.high, self.positives, self.negatives = _collapse(
                self.keys >> np.uint32(1), self.low, self.high, self.positives, self.negatives
            )

    def curves(self) -> Curves:
        """ROC and precision-recall curves (scikit-learn's ``roc_curve`` and
        ``precision_recall_curve`` on the counts), their areas and the areas' bounds."""
        from sklearn import metrics as skm

        if self.nan:
            raise ValueError("Input contains NaN.")
        # Each bucket's least score stands for it: buckets never overlap, so the order holds.
        scores = key_scores(self.low)
        truth = np.repeat([False, True], len(scores))
        both = np.concatenate((scores, scores))
        weights = np.concatenate((self.negatives, self.positives)).astype(np.float64)
        fpr, tpr, _ = skm.roc_curve(truth, both, sample_weight=weights)
        precision, recall, _ = skm.precision_recall_curve(truth, both, sample_weight=weights)
        roc_error, pr_error = self._bounds()
        return Curves(
            fpr=fpr,
            tpr=tpr,
            precision=precision,
            recall=recall,
            roc_auc=float(skm.auc(fpr, tpr)),
            pr_auc=float(max(0.0, -np.sum(np.diff(recall) * precision[:-1]))),
            roc_error=roc_error,
            pr_error=pr_error,
        )

    def _bounds(self) -> tuple[float, float]:
        """The most the areas can be off: only buckets holding distinct scores count."""
        mixed = self.low != self.high
        if not mixed.any():
            return 0.0, 0.0
        p, n = self.positives.astype(np.float64), self.negatives.astype(np.float64)
        total_p, total_n = p.sum(), n.sum()
        roc = 0.5 * float(np.sum(p[mixed] * n[mixed])) / (total_p * total_n)
        # Precision-recall, highest scores first: the rows above each bucket, then the
        # worst and best precision of the bucket's positives, whatever their order inside.
        above_p = total_p - np.cumsum(p)
        above_n = total_n - np.cumsum(n)
        worst = (above_p + 1) / (above_p + 1 + above_n + n)
        reached = above_p + p + above_n
        best = np.divide(above_p + p, reached, out=np.ones_like(p), where=reached > 0)
        pr = float(np.sum((p / total_p * (best - worst))[mixed & (p > 0)]))
        return float(roc), pr


def _collapse(
    keys: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted rows with equal keys summed into one."""
    if len(keys) < 2:
        return keys, low, high, positives, negatives
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    if len(starts) == len(keys):
        return keys, low, high, positives, negatives
    return (
        keys[starts],
        np.minimum.reduceat(low, starts),
        np.maximum.reduceat(high, starts),
        np.add.reduceat(positives, starts),
        np.add.reduceat(negatives, starts),
    )


def auc_bounds(curves: Mapping[str, Any]) -> dict[str, float]:
    """The most the shown ROC and PR AUCs (means over the classes drawn) can be off, from
    the curves' ``auc_error``; empty when every score was kept exactly."""
    bounds = {}
    for key, metric in (("roc", "roc_auc"), ("pr", "pr_auc")):
        drawn = curves.get(key) or {}
        errors = [curve.get("auc_error", 0.0) for curve in drawn.values()]
        if any(errors):
            bounds[metric] = float(np.mean(errors))
    return bounds
