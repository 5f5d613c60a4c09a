"""Tests on counts per value or per bin, shared by the exact and the bounded mode. Pure.

Every function here takes the reference and current counts over the same ordered keys
(values, categories or histogram bins), so both modes reach the same numbers once they
have the same counts. Choices marked "Evidently" reproduce Evidently 0.7's stattests.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.spatial import distance

from registry.monitoring.selection import Mode, StatTest

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CountArray = npt.NDArray[Any]  # counts per key or bin: integers, or interpolated floats

P = ParamSpec("P")
R = TypeVar("R")

ZERO_FILL = 0.0001  # Evidently's stand-in for an empty bin in PSI and KL


def z_test(ref_counts: IntArray, cur_counts: IntArray, mode: Mode) -> tuple[float, float]:
    """Two-proportion z-test on the share of the first key (keys in sorted order).

    Evidently also takes its keys sorted and tests the share of "not the first"; with at
    most two keys either share gives the same |z|, so the choice cannot change the verdict.
    """
    n1, n2 = int(ref_counts.sum()), int(cur_counts.sum())
    p1 = 1 - ref_counts[0] / n1
    p2 = 1 - cur_counts[0] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = float((p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)))
    if mode == Mode.EVIDENTLY:
        # Evidently's 1 - cdf, which rounds p-values below ~1e-16 to 0.
        return z, float(2 * (1 - stats.norm.cdf(abs(z))))
    return z, float(2 * stats.norm.sf(abs(z)))


def chi_square(ref_counts: IntArray, cur_counts: IntArray, mode: Mode) -> tuple[float, float]:
    """Chi-square: a two-sample test of homogeneity, or Evidently's goodness of fit.

    Evidently takes the reference counts, scaled to the current total, as the true
    expected frequencies, ignoring that the reference is a sample too: with no drift and
    1,000 rows a side it alarms far above its nominal 5 %. The 2 x k contingency table
    treats both rows as samples. No Yates correction: scipy applies it only to 2 x 2 tables,
    and without it a two-value chi-square equals the square of the z-test's statistic.
    """
    if mode == Mode.EVIDENTLY:
        expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
        # A category new in current has expected frequency 0: scipy (and so Evidently)
        # returns an infinite statistic and p = 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            result = stats.chisquare(cur_counts, expected)
        return float(result.statistic), float(result.pvalue)
    seen = (ref_counts + cur_counts) > 0
    table = np.vstack([ref_counts[seen], cur_counts[seen]])
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def fill_zeroes(shares: FloatArray) -> FloatArray:
    """Evidently's ``feel_zeroes``: empty bins get 0.0001, or a millionth of the smallest
    non-empty share when that is itself at most 0.0001, so a fill never outweighs data."""
    smallest = shares[shares > 0].min()
    fill = smallest / 10**6 if smallest <= ZERO_FILL else ZERO_FILL
    return np.where(shares == 0, fill, shares)


def share_distance(
    test: StatTest, ref_shares: FloatArray, cur_shares: FloatArray, mode: Mode
) -> float:
    """A distance between two share vectors over the same bins (natural logarithms)."""
    if test == StatTest.JENSENSHANNON:
        # Zero shares stay zero (Evidently passes feel_zeroes=False). Rounding can leave a
        # tiny negative divergence for equal shares, where scipy returns NaN: clip it.
        with np.errstate(invalid="ignore"):
            value = float(distance.jensenshannon(ref_shares, cur_shares))
        return 0.0 if math.isnan(value) else value
    if test == StatTest.HELLINGER:
        overlap = float(np.sqrt(ref_shares * cur_shares).sum())
        if mode == Mode.EVIDENTLY:
            return math.sqrt(1 - min(max(overlap, 0.0), 1.0))
        squares = (np.sqrt(ref_shares) - np.sqrt(cur_shares)) ** 2
        return float(np.sqrt(squares.sum()) / math.sqrt(2))
    ref, cur = fill_zeroes(ref_shares), fill_zeroes(cur_shares)
    if test == StatTest.PSI:
        return float(((ref - cur) * np.log(ref / cur)).sum())
    if test == StatTest.KL_DIV:
        return float(stats.entropy(ref, cur))
    raise ValueError(f"{test} is not a distance between shares")


def sturges_edges(lo: float, hi: float, n: int, integer: bool = False) -> FloatArray:
    """``np.histogram_bin_edges(values, bins="sturges")`` from the values' min, max and count.

    The edges depend on nothing else, so the bounded mode gets the same edges as the exact
    one without holding the values. Mirrors numpy's ``_get_bin_edges``.
    """
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
        return np.linspace(lo, hi, 2)
    width = (hi - lo) / (math.log2(n) + 1.0)
    if integer and width < 1:
        width = 1
    bins = math.ceil((hi - lo) / width)
    return np.linspace(lo, hi, bins + 1)


def sorted_counts(sorted_values: FloatArray, keys: FloatArray) -> IntArray:
    """How many of ``sorted_values`` equal each key."""
    left = np.searchsorted(sorted_values, keys, side="left")
    return (np.searchsorted(sorted_values, keys, side="right") - left).astype(np.int64)


def sorted_bin_counts(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """``np.histogram(values, edges)[0]`` on sorted values: bins [a, b), the last one closed."""
    below = np.searchsorted(sorted_values, edges, side="left")
    below[-1] = np.searchsorted(sorted_values, edges[-1], side="right")
    return np.diff(below).astype(np.int64)


def quietly(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call a scipy function whose warnings (capped p-values, ties) the result already notes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)
