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
        ref_keys, ref_counts = value_counts(reference.values)
        cur_keys, cur_counts = value_counts(current.values)
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
    nor its binary searches. The breakpoints i/n and j/m of the two samples are merged by
    counting, not sorting: i/n has ceil(i m / n) - 1 of v's below it, j/m has floor(j n / m)
    of u's at or below it (u first on a tie). Each sample's quantile on a segment is read
    at the segment's midpoint (never a breakpoint, so no rounding picks the wrong index).
    """
    n, m = u.size, v.size
    levels = np.empty(n + m + 1)
    levels[0] = 0.0
    i = np.arange(1, n + 1, dtype=np.int64)
    levels[i + (-(-i * m // n) - 1)] = i / n
    del i
    j = np.arange(1, m + 1, dtype=np.int64)
    levels[j + j * n // m] = j / m
    del j
    total = 0.0
    # A block of segments at a time: the temporaries stay small whatever the sizes.
    for first in range(0, n + m, WASSERSTEIN_BLOCK):
        edges = levels[first : first + WASSERSTEIN_BLOCK + 1]
        middle = (edges[:-1] + edges[1:]) / 2
        at_u = np.minimum((middle * n).astype(np.int64), n - 1)
        at_v = np.minimum((middle * m).astype(np.int64), m - 1)
        total += float(np.dot(np.diff(edges), np.abs(u[at_u] - v[at_v])))
    return total


WASSERSTEIN_BLOCK = 1 << 18
PACKED_CHARACTERS = 9  # ASCII characters of 7 bits that one 64-bit integer holds


def value_counts(values: np.ndarray) -> tuple[np.ndarray, IntArray]:
    """``np.unique(values, return_counts=True)``, faster on short ASCII text.

    Comparing strings makes numpy's sort slow; category names are mostly a few ASCII
    characters, so each is packed into one integer (7 bits a character, the first in the
    highest bits, so the integers sort as the strings do), counted, and unpacked.
    """
    width = values.itemsize // 4
    if values.dtype.kind != "U" or not values.size or not 0 < width <= PACKED_CHARACTERS:
        return np.unique(values, return_counts=True)
    codes = np.ascontiguousarray(values).view(np.uint32).reshape(values.size, width)
    if codes.max() >= 128:
        return np.unique(values, return_counts=True)
    shifts = np.uint64(7) * (np.uint64(PACKED_CHARACTERS - 1) - np.arange(width, dtype=np.uint64))
    packed = np.zeros(values.size, dtype=np.uint64)
    for position in range(width):
        packed |= codes[:, position].astype(np.uint64) << shifts[position]
    keys, counts = np.unique(packed, return_counts=True)
    characters = ((keys[:, None] >> shifts) & np.uint64(127)).astype(np.uint32)
    return characters.view(values.dtype.str).ravel(), counts
