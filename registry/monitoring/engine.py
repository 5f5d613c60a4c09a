"""One drift check, whatever holds the data. Pure.

A column pair answers a few questions (counts per value, counts per bin, KS,
Wasserstein, Anderson-Darling); ``evaluate`` picks the test, handles degenerate columns
and builds the result. The exact mode answers from the values in memory, the bounded
mode from a stored reference summary and a streamed current window, so both modes share
every rule written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np

from registry.monitoring.discrete import (
    CountArray,
    FloatArray,
    chi_square,
    share_distance,
    sturges_edges,
    z_test,
)
from registry.monitoring.results import ColumnResult
from registry.monitoring.selection import (
    BINARY,
    NUMERIC_ONLY,
    P_VALUE_TESTS,
    ColumnKind,
    Mode,
    StatTest,
    default_threshold,
    is_drift,
    psi_band,
    select_test,
)

BIN_DISTINCT = 20  # Evidently: numeric columns with more reference values are binned (Sturges)
MAX_BINS = 50  # the most bars a histogram in the report shows
NOTED_CATEGORIES = 5  # new categories named in a note


@dataclass(frozen=True)
class Estimate:
    """A statistic and its p-value, with how far the bounded mode may be from exact."""

    statistic: float
    p_value: float | None = None
    error: float = 0.0  # |statistic - exact statistic| at most this
    p_range: tuple[float, float] | None = None  # the p-values the error allows
    exact: bool = True


class Pair(Protocol):
    """A reference and a current column, cleaned; every count is over both in the same keys."""

    kind: ColumnKind
    n_ref: int
    n_cur: int
    ref_distinct: int
    integer: bool
    notes: list[str]
    counts_exact: bool  # False once the bounded mode lumped values it could not count apart

    def union_distinct(self, cap: int | None = None) -> int:
        """Distinct values of both together; past ``cap`` any number above it will do."""
        ...

    def value_counts(self) -> tuple[np.ndarray, CountArray, CountArray]:
        """Sorted keys over both columns, and each column's count per key."""
        ...

    def bin_counts(self, edges: FloatArray) -> tuple[CountArray, CountArray, float]:
        """Counts per bin as ``np.histogram`` makes them, and how far their shares may be
        from exact: total variation, reference and current added (0 when exact)."""
        ...

    def value_range(self) -> tuple[float, float]: ...

    def ref_std(self) -> float: ...

    def ks(self) -> Estimate: ...

    def wasserstein(self) -> Estimate: ...

    def anderson(self) -> Estimate: ...


def evaluate(
    pair: Pair, *, test: StatTest | None, threshold: float | None, mode: Mode
) -> ColumnResult:
    if test in NUMERIC_ONLY and pair.kind == ColumnKind.CATEGORICAL:
        raise ValueError(f"{test} compares numbers; the column is categorical")
    notes = list(pair.notes)
    hists = _histograms(pair, notes) if pair.n_ref and pair.n_cur else ({}, {})
    result = partial(
        ColumnResult,
        kind=pair.kind,
        mode=mode,
        n_reference=pair.n_ref,
        n_current=pair.n_cur,
        reference_histogram=hists[0],
        current_histogram=hists[1],
    )
    problem = _degenerate(pair)
    if problem:
        note = "; ".join([problem, *notes])
        return result(StatTest.NONE, None, None, threshold, False, 0.0, note=note)
    chosen = _choose(pair, test, notes)
    limit = default_threshold(chosen, mode) if threshold is None else threshold
    estimate = _measure(pair, chosen, mode, notes)
    testing = chosen in P_VALUE_TESTS
    value = estimate.p_value if testing else estimate.statistic
    assert value is not None
    if not estimate.exact:
        notes.extend(_bounded_notes(chosen, estimate, limit))
    return result(
        test=chosen,
        statistic=estimate.statistic,
        p_value=estimate.p_value,
        threshold=limit,
        drifted=is_drift(chosen, value, limit),
        score=1.0 - value if testing else value,
        note="; ".join(notes),
        band=psi_band(estimate.statistic) if chosen == StatTest.PSI else None,
        exact=estimate.exact,
        error_bound=None if estimate.exact else estimate.error,
    )


def _degenerate(pair: Pair) -> str | None:
    if pair.n_ref == 0:
        return "all values missing in reference: no test"
    if pair.n_cur == 0:
        return "all values missing in current: no test"
    if pair.union_distinct(1) == 1:
        return "constant column (one value in both): no test"
    return None


def _choose(pair: Pair, test: StatTest | None, notes: list[str]) -> StatTest:
    if test is None:
        # Only the ranges <= 2, 3 to 5 and > 5 matter, so stop counting past six.
        return select_test(pair.kind, pair.n_ref, pair.union_distinct(6))
    if test == StatTest.Z and pair.union_distinct(BINARY) > BINARY:
        # A column chosen for the z-test gained a third value: chi-square generalises it.
        notes.append("more than two values: chi-square instead of the z-test")
        return StatTest.CHISQUARE
    return test


def _measure(pair: Pair, test: StatTest, mode: Mode, notes: list[str]) -> Estimate:
    if test == StatTest.KS:
        return pair.ks()
    if test == StatTest.ANDERSON:
        return pair.anderson()
    if test == StatTest.WASSERSTEIN:
        # Evidently's normalisation; the floor keeps a constant reference comparable.
        norm = max(pair.ref_std(), 0.001)
        raw = pair.wasserstein()
        return Estimate(raw.statistic / norm, error=raw.error / norm, exact=raw.exact)
    if test in (StatTest.Z, StatTest.CHISQUARE):
        _, ref_counts, cur_counts = pair.value_counts()
        counts = (ref_counts.astype(np.int64), cur_counts.astype(np.int64))
        if test == StatTest.Z:
            statistic, p = z_test(*counts, mode)
        else:
            statistic, p = chi_square(*counts, mode)
            if mode == Mode.EVIDENTLY and np.any((ref_counts == 0) & (cur_counts > 0)):
                notes.append("Evidently's chi-square: a category new in current makes it infinite")
        return _lumped(Estimate(statistic, p), pair)
    ref_shares, cur_shares, error = _shares(pair, test, mode)
    value = share_distance(test, ref_shares, cur_shares, mode)
    if error:
        return Estimate(value, error=_distance_error(test, error), exact=False)
    return _lumped(Estimate(value), pair)


def _lumped(estimate: Estimate, pair: Pair) -> Estimate:
    """A test on counts per value is exact unless values were lumped (no error bound)."""
    if pair.counts_exact:
        return estimate
    return Estimate(estimate.statistic, estimate.p_value, error=float("inf"), exact=False)


def _shares(pair: Pair, test: StatTest, mode: Mode) -> tuple[FloatArray, FloatArray, float]:
    """Shares per bin by Evidently's rule, and the total variation their error allows."""
    if pair.kind == ColumnKind.NUMERIC:
        edges = None
        lo, hi = pair.value_range()
        if test == StatTest.HELLINGER and mode == Mode.EVIDENTLY:
            # Evidently's Hellinger bins numbers by Sturges over the distinct values, always.
            edges = sturges_edges(lo, hi, pair.union_distinct(), pair.integer)
        elif pair.ref_distinct > BIN_DISTINCT:
            edges = sturges_edges(lo, hi, pair.n_ref + pair.n_cur, pair.integer)
        if edges is not None:
            ref_counts, cur_counts, variation = pair.bin_counts(edges)
            return ref_counts / pair.n_ref, cur_counts / pair.n_cur, variation
    _, ref_counts, cur_counts = pair.value_counts()
    return ref_counts / pair.n_ref, cur_counts / pair.n_cur, 0.0


def _distance_error(test: StatTest, variation: float) -> float:
    """How far a distance on shares can be from the exact one, given the total variation
    ``tv_ref + tv_cur`` of the shares' error. JS and Hellinger are metrics, so the error is
    at most d(ref, ref') + d(cur, cur') <= sqrt(2 c (tv_ref + tv_cur)), with c = ln 2 for JS
    (JSD <= ln 2 * TV) and c = 1 for Hellinger (H^2 <= TV). PSI and KL have no such bound."""
    if variation == 0:
        return 0.0
    if test == StatTest.JENSENSHANNON:
        return float(np.sqrt(2 * np.log(2) * variation))
    if test == StatTest.HELLINGER:
        return float(np.sqrt(2 * variation))
    return float("inf")


def _bounded_notes(test: StatTest, estimate: Estimate, limit: float) -> list[str]:
    if not np.isfinite(estimate.error):
        return ["bounded mode: approximate, with no error bound for this test"]
    if estimate.p_range is not None:
        low, high = estimate.p_range
    else:
        low, high = estimate.statistic - estimate.error, estimate.statistic + estimate.error
    if is_drift(test, low, limit) != is_drift(test, high, limit):
        return ["bounded mode: the statistic is within its error bound of the threshold"]
    return []


def _histograms(pair: Pair, notes: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compact histograms over shared bins: edges for numbers, top values for categories."""
    if pair.kind == ColumnKind.CATEGORICAL:
        keys, ref_counts, cur_counts = pair.value_counts()
        new = (ref_counts == 0) & (cur_counts > 0)
        if new.any():
            named = keys[new][np.argsort(-cur_counts[new], kind="stable")][:NOTED_CATEGORIES]
            more = ", …" if new.sum() > NOTED_CATEGORIES else ""
            notes.append(f"{int(new.sum())} categories new in current: {', '.join(named)}{more}")
        top = np.argsort(-(ref_counts + cur_counts), kind="stable")[:MAX_BINS]
        return _top_values(keys, ref_counts, top), _top_values(keys, cur_counts, top)
    if pair.ref_distinct <= BIN_DISTINCT and pair.union_distinct(MAX_BINS) <= MAX_BINS:
        keys, ref_counts, cur_counts = pair.value_counts()
        return _top_values(keys, ref_counts, None), _top_values(keys, cur_counts, None)
    lo, hi = pair.value_range()
    edges = sturges_edges(lo, hi, pair.n_ref + pair.n_cur, pair.integer)
    if len(edges) > MAX_BINS + 1:
        edges = np.linspace(lo, hi, MAX_BINS + 1)
    ref_counts, cur_counts, _ = pair.bin_counts(edges)
    return _binned(edges, ref_counts), _binned(edges, cur_counts)


def _top_values(keys: np.ndarray, counts: CountArray, top: np.ndarray | None) -> dict[str, Any]:
    shown = counts if top is None else counts[top]
    values = keys if top is None else keys[top]
    return {
        "values": values.tolist(),
        "counts": np.rint(shown).astype(int).tolist(),
        "other": round(float(counts.sum() - shown.sum())),
    }


def _binned(edges: FloatArray, counts: CountArray) -> dict[str, Any]:
    return {"edges": edges.tolist(), "counts": np.rint(counts).astype(int).tolist()}
