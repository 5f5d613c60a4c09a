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
from registry.monitoring.engine import MAX_BINS, Estimate
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
        # Counted, not listed: a continuous column never needs its keys.
        self.ref_distinct = distinct_count(self.ref, past=MAX_BINS)

    @cached_property
    def keys(self) -> FloatArray:
        both = np.concatenate([distinct_sorted(self.ref), distinct_sorted(self.cur)])
        return distinct_sorted(np.sort(both, kind="stable"))  # two sorted runs: a merge

    @cached_property
    def cur_distinct(self) -> int:
        return distinct_count(self.cur, past=MAX_BINS)

    def union_distinct(self, cap: int | None = None) -> int:
        if cap is not None:
            # Either side past the cap settles it, without listing the union's keys.
            most = max(self.ref_distinct, self.cur_distinct)
            if most > cap:
                return most
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


def distinct_count(values: FloatArray, past: int | None = None) -> int:
    """How many distinct values a sorted array holds; past ``past``, any number above it
    (the rules ask no more), which the first few values of a continuous column settle."""
    if past is not None:
        first = values[:DISTINCT_PROBE]
        if first.size == DISTINCT_PROBE and (found := distinct_count(first)) > past:
            return found
    if values.size == 0:
        return 0
    return 1 + int(np.count_nonzero(values[1:] != values[:-1]))


def aligned(keys: np.ndarray, counts: CountArray, into: np.ndarray) -> IntArray:
    """Counts per key of ``into`` (sorted, holding every key of ``keys``); 0 where absent."""
    out = np.zeros(into.size, dtype=np.int64)
    out[np.searchsorted(into, keys)] = counts
    return out


def wasserstein_sorted(u: FloatArray, v: FloatArray) -> float:
    """``scipy.stats.wasserstein_distance(u, v)`` for sorted ``u`` and ``v``.

    scipy integrates |F_u - F_v| over x; this integrates |Q_u - Q_v| over the quantile
    level t in [0, 1], the same number in one dimension, and needs neither scipy's argsorts
    nor its binary searches. The segments between the breakpoints i/n and j/m of the two
    samples are counted, not sorted: the one ending at u's i/n starts after the
    ceil(i m / n) - 1 = (i m - 1) // n breakpoints of v below i/n, the one ending at v's j/m
    after the j n // m of u at or below it (u first on a tie). Lengths are exact integers
    over n m, so each term is rounded once. With n = m every segment is one of u's, 1/n long.
    Sums, not ``np.dot``: OpenBLAS's own threads fight the column threads (4x slower).
    """
    n, m = u.size, v.size
    if n == m:
        return float(np.abs(u - v).sum()) / n
    total = 0.0
    # A block of breakpoints at a time: the temporaries stay small whatever the sizes.
    for first in range(0, n, WASSERSTEIN_BLOCK):
        i = np.arange(first + 1, min(first + WASSERSTEIN_BLOCK, n) + 1, dtype=np.int64)
        v_below = (i * m - 1) // n
        length = np.minimum(i * m - v_below * n, m)
        total += float((length * np.abs(u[first : first + i.size] - v[v_below])).sum())
    for first in range(0, m, WASSERSTEIN_BLOCK):
        j = np.arange(first + 1, min(first + WASSERSTEIN_BLOCK, m) + 1, dtype=np.int64)
        u_upto = j * n // m
        length = np.minimum(j * n - u_upto * m, n)
        at_u = np.minimum(u_upto, n - 1)  # past the end only where the length is 0
        total += float((length * np.abs(u[at_u] - v[first : first + j.size])).sum())
    return total / (n * m)


WASSERSTEIN_BLOCK = 1 << 18
DISTINCT_PROBE = 4096  # sorted values counted before the whole column is
PACKED_CHARACTERS = 9  # ASCII characters of 7 bits that one 64-bit integer holds


def value_counts(values: np.ndarray) -> tuple[np.ndarray, IntArray]:
    """``np.unique(values, return_counts=True)``, faster on short ASCII text.

    Comparing strings makes numpy's sort slow; category names are mostly a few ASCII
    characters, so each is packed into one integer (7 bits a character, the first in the
    highest bits, so the integers sort as the strings do), counted, and unpacked. Up to
    four characters fit 32 bits, which sort faster than 64.
    """
    width = values.itemsize // 4
    if values.dtype.kind != "U" or not values.size or not 0 < width <= PACKED_CHARACTERS:
        return np.unique(values, return_counts=True)
    codes = np.ascontiguousarray(values).view(np.uint32).reshape(values.size, width)
    if codes.max() >= 128:
        return np.unique(values, return_counts=True)
    dtype = np.uint32 if width <= 4 else np.uint64
    packed = codes[:, 0].astype(dtype)
    for position in range(1, width):  # in place: no temporary per character
        np.left_shift(packed, 7, out=packed)
        np.bitwise_or(packed, codes[:, position], out=packed)
    keys, counts = np.unique(packed, return_counts=True)
    shifts = (7 * np.arange(width - 1, -1, -1)).astype(dtype)
    characters = ((keys[:, None] >> shifts) & dtype(127)).astype(np.uint32)
    return characters.view(values.dtype.str).ravel(), counts
