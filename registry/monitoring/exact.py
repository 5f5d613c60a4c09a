"""The exact mode: both columns in memory, sorted once, tests on whole arrays. Pure.

Each statistic is scipy's on the same values (Wasserstein is the same integral taken over
quantiles of the already sorted arrays, which spares scipy's argsorts and binary searches).
Nothing loops over rows.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy import stats

from registry.monitoring.cleaning import Cleaned
from registry.monitoring.discrete import (
    CountArray,
    FloatArray,
    IntArray,
    quietly,
    sorted_bin_counts,
    sorted_counts,
)
from registry.monitoring.engine import Estimate
from registry.monitoring.selection import ColumnKind


class ExactNumeric:
    kind = ColumnKind.NUMERIC
    counts_exact = True

    def __init__(self, reference: Cleaned, current: Cleaned) -> None:
        self.ref = np.sort(reference.values)
        self.cur = np.sort(current.values)
        self.n_ref, self.n_cur = self.ref.size, self.cur.size
        self.integer = reference.integer and current.integer
        self.notes = reference.notes("reference") + current.notes("current")
        self.ref_keys = distinct_sorted(self.ref)
        self.ref_distinct = self.ref_keys.size

    @cached_property
    def keys(self) -> FloatArray:
        both = np.concatenate([self.ref_keys, distinct_sorted(self.cur)])
        return distinct_sorted(np.sort(both, kind="stable"))  # two sorted runs: a merge

    def union_distinct(self, cap: int | None = None) -> int:
        if cap is not None and self.ref_distinct > cap:
            return self.ref_distinct
        return int(self.keys.size)

    def value_counts(self) -> tuple[np.ndarray, CountArray, CountArray]:
        keys = self.keys
        return keys, sorted_counts(self.ref, keys), sorted_counts(self.cur, keys)

    def bin_counts(self, edges: FloatArray) -> tuple[CountArray, CountArray, float]:
        return sorted_bin_counts(self.ref, edges), sorted_bin_counts(self.cur, edges), 0.0

    def value_range(self) -> tuple[float, float]:
        return float(min(self.ref[0], self.cur[0])), float(max(self.ref[-1], self.cur[-1]))

    def ref_std(self) -> float:
        return float(np.std(self.ref))

    def ks(self) -> Estimate:
        result = stats.ks_2samp(self.ref, self.cur)
        return Estimate(float(result.statistic), float(result.pvalue))

    def wasserstein(self) -> Estimate:
        return Estimate(wasserstein_sorted(self.ref, self.cur))

    def anderson(self) -> Estimate:
        # Evidently's call (the midrank variant); scipy caps p to [0.001, 0.25] and warns.
        result = quietly(stats.anderson_ksamp, [self.ref, self.cur], variant="midrank")
        return Estimate(float(result.statistic), float(result.pvalue))


class ExactCategorical:
    kind = ColumnKind.CATEGORICAL
    integer = False
    counts_exact = True

    def __init__(self, reference: Cleaned, current: Cleaned) -> None:
        self.n_ref, self.n_cur = reference.values.size, current.values.size
        self.notes = reference.notes("reference") + current.notes("current")
        ref_keys, ref_counts = np.unique(reference.values, return_counts=True)
        cur_keys, cur_counts = np.unique(current.values, return_counts=True)
        self.keys = np.union1d(ref_keys, cur_keys)
        self.ref_counts = aligned(ref_keys, ref_counts, self.keys)
        self.cur_counts = aligned(cur_keys, cur_counts, self.keys)
        self.ref_distinct = ref_keys.size

    def union_distinct(self, cap: int | None = None) -> int:
        return int(self.keys.size)

    def value_counts(self) -> tuple[np.ndarray, CountArray, CountArray]:
        return self.keys, self.ref_counts, self.cur_counts

    def bin_counts(self, edges: FloatArray) -> tuple[CountArray, CountArray, float]:
        raise TypeError("categories are not binned")

    def value_range(self) -> tuple[float, float]:
        raise TypeError("categories have no range")

    def ref_std(self) -> float:
        raise TypeError("categories have no spread")

    def ks(self) -> Estimate:
        raise TypeError("KS compares numbers")

    wasserstein = anderson = ks


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array, in one pass."""
    if values.size == 0:
        return values
    first = np.empty(values.size, dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


def aligned(keys: np.ndarray, counts: CountArray, into: np.ndarray) -> IntArray:
    """Counts per key of ``into`` (sorted, holding every key of ``keys``); 0 where absent."""
    out = np.zeros(into.size, dtype=np.int64)
    out[np.searchsorted(into, keys)] = counts
    return out


def wasserstein_sorted(u: FloatArray, v: FloatArray) -> float:
    """``scipy.stats.wasserstein_distance(u, v)`` for sorted ``u`` and ``v``.

    scipy integrates |F_u - F_v| over x; this integrates |Q_u - Q_v| over the quantile
    level t in [0, 1], the same number in one dimension, and needs neither scipy's argsorts
    nor its binary searches: the breakpoints k/n_u and k/n_v are two sorted runs that a
    stable sort merges in linear time, and each sample's quantile on a segment is read at
    its midpoint (never a breakpoint, so no rounding can pick the wrong index).
    """
    levels = np.concatenate([np.arange(1, u.size + 1) / u.size, np.arange(1, v.size + 1) / v.size])
    levels = np.concatenate([[0.0], np.sort(levels, kind="stable")])
    middle = (levels[:-1] + levels[1:]) / 2
    at_u = np.minimum((middle * u.size).astype(np.int64), u.size - 1)
    at_v = np.minimum((middle * v.size).astype(np.int64), v.size - 1)
    return float(np.dot(np.diff(levels), np.abs(u[at_u] - v[at_v])))
