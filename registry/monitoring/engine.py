"""One drift check, whatever holds the data. Pure.

A column pair answers a few questions (counts per value, counts per bin, KS,
Wasserstein, Anderson-Darling); ``evaluate`` picks the test, handles degenerate columns
and builds the result. The exact mode answers from the values in memory, the bounded
mode from a stored reference summary and a streamed current window, so both modes share
every rule written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from registry.monitoring.discrete import chi_square, share_distance, sturges_edges, z_test
from registry.monitoring.results import ColumnResult
from registry.monitoring.selection import (
    NUMERIC_ONLY,
    P_VALUE_TESTS,
    ColumnKind,
    Mode,
    Test,
    default_threshold,
    is_drift,
    psi_band,
    select_test,
)

FloatArray = npt.NDArray[np.float64]

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

    def union_distinct(self, cap: int | None = None) -> int:
        """Distinct values of both together; past ``cap`` any number above it will do."""
        ...

    def value_counts(self) -> tuple[np.ndarray, FloatArray, FloatArray]:
        """Sorted keys over both columns, and each column's count per key."""
        ...

    def bin_counts(self, edges: FloatArray) -> tuple[FloatArray, FloatArray, float]:
        """Counts per bin as ``np.histogram`` makes them, and how far their shares may be
        from exact: total variation, reference and current added (0 when exact)."""
        ...

    def value_range(self) -> tuple[float, float]: ...

    def ref_std(self) -> float: ...

    def ks(self) -> Estimate: ...

    def wasserstein(self) -> Estimate: ...

    def anderson(self) -> Estimate: ...


def evaluate(pair: Pair, *, test: Test | None, threshold: float | None, mode: Mode) -> ColumnResult:
    notes = list(pair.notes)
    problem = _degenerate(pair)
    chosen = Test.NONE if problem else test or _default_test(pair)
    if chosen in NUMERIC_ONLY and pair.kind == ColumnKind.CATEGORICAL:
        raise ValueError(f"{chosen} compares numbers; the column is categorical")
    hists: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    if pair.n_ref and pair.n_cur:
        hists = _histograms(pair, notes)
    common = {
        "kind": pair.kind,
        "mode": mode,
        "n_reference": pair.n_ref,
        "n_current": pair.n_cur,
        "reference_histogram": hists[0],
        "current_histogram": hists[1],
    }
    if problem:
        note = "; ".join([problem, *notes])
        return ColumnResult(Test.NONE, None, None, threshold, False, 0.0, note=note, **common)
    limit = default_threshold(chosen, mode) if threshold is None else threshold
    estimate = _measure(pair, chosen, mode, notes)
    testing = chosen in P_VALUE_TESTS
    value = estimate.p_value if testing else estimate.statistic
    assert value is not None
    drifted = is_drift(chosen, value, limit)
    if not estimate.exact and _verdict_uncertain(chosen, estimate, limit):
        notes.append("bounded mode: the statistic is within its error bound of the threshold")
    return ColumnResult(
        test=chosen,
        statistic=estimate.statistic,
        p_value=estimate.p_value,
        threshold=limit,
        drifted=drifted,
        score=1.0 - value if testing else value,
        note="; ".join(notes),
        band=psi_band(estimate.statistic) if chosen == Test.PSI else None,
        exact=estimate.exact,
        error_bound=None if estimate.exact else estimate.error,
        **common,
    )


def _degenerate(pair: Pair) -> str | None:
    if pair.n_ref == 0:
        return "all values missing in reference: no test"
    if pair.n_cur == 0:
        return "all values missing in current: no test"
    if pair.union_distinct(1) == 1:
        return "constant column (one value in both): no test"
    return None


def _default_test(pair: Pair) -> Test:
    # Only the ranges <= 2, 3 to 5 and > 5 matter, so stop counting past six.
    return select_test(pair.kind, pair.n_ref, pair.union_distinct(6))


def _measure(pair: Pair, test: Test, mode: Mode, notes: list[str]) -> Estimate:
    if test == Test.KS:
        return pair.ks()
    if test == Test.ANDERSON:
        return pair.anderson()
    if test == Test.WASSERSTEIN:
        # Evidently's normalisation; the floor keeps a constant reference comparable.
        norm = max(pair.ref_std(), 0.001)
        raw = pair.wasserstein()
        return Estimate(raw.statistic / norm, error=raw.error / norm, exact=raw.exact)
    if test in (Test.Z, Test.CHISQUARE):
        _, ref_counts, cur_counts = pair.value_counts()
        counts = (ref_counts.astype(np.int64), cur_counts.astype(np.int64))
        if test == Test.Z:
            if len(ref_counts) > 2:
                raise ValueError("the z-test compares columns with at most two values")
            statistic, p = z_test(*counts, mode)
        else:
            statistic, p = chi_square(*counts, mode)
            if mode == Mode.EVIDENTLY and np.any((ref_counts == 0) & (cur_counts > 0)):
                notes.append("Evidently's chi-square: a category new in current makes it infinite")
        return Estimate(statistic, p)
    ref_shares, cur_shares, error = _shares(pair, test, mode)
    value = share_distance(test, ref_shares, cur_shares, mode)
    return Estimate(value, error=_distance_error(test, error), exact=error == 0)


def _shares(pair: Pair, test: Test, mode: Mode) -> tuple[FloatArray, FloatArray, float]:
    """Shares per bin by Evidently's rule, and the total variation their error allows."""
    if pair.kind == ColumnKind.NUMERIC:
        edges = None
        lo, hi = pair.value_range()
        if test == Test.HELLINGER and mode == Mode.EVIDENTLY:
            # Evidently's Hellinger bins numbers by Sturges over the distinct values, always.
            edges = sturges_edges(lo, hi, pair.union_distinct(), pair.integer)
        elif pair.ref_distinct > BIN_DISTINCT:
            edges = sturges_edges(lo, hi, pair.n_ref + pair.n_cur, pair.integer)
        if edges is not None:
            ref_counts, cur_counts, variation = pair.bin_counts(edges)
            return ref_counts / pair.n_ref, cur_counts / pair.n_cur, variation
    _, ref_counts, cur_counts = pair.value_counts()
    return ref_counts / pair.n_ref, cur_counts / pair.n_cur, 0.0


def _distance_error(test: Test, variation: float) -> float:
    """How far a distance on shares can be from the exact one, given the total variation
    ``tv_ref + tv_cur`` of the shares' error. JS and Hellinger are metrics, so the error is
    at most d(ref, ref') + d(cur, cur') <= sqrt(2 c (tv_ref + tv_cur)), with c = ln 2 for JS
    (JSD <= ln 2 * TV) and c = 1 for Hellinger (H^2 <= TV). PSI and KL have no such bound."""
    if variation == 0:
        return 0.0
    if test == Test.JENSENSHANNON:
        return float(np.sqrt(2 * np.log(2) * variation))
    if test == Test.HELLINGER:
        return float(np.sqrt(2 * variation))
    return float("inf")


def _verdict_uncertain(test: Test, estimate: Estimate, limit: float) -> bool:
    if estimate.p_range is not None:
        low, high = estimate.p_range
        return is_drift(test, low, limit) != is_drift(test, high, limit)
    low, high = estimate.statistic - estimate.error, estimate.statistic + estimate.error
    return is_drift(test, low, limit) != is_drift(test, high, limit)


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


def _top_values(keys: np.ndarray, counts: FloatArray, top: np.ndarray | None) -> dict[str, Any]:
    shown = counts if top is None else counts[top]
    values = keys if top is None else keys[top]
    return {
        "values": values.tolist(),
        "counts": np.rint(shown).astype(int).tolist(),
        "other": int(round(float(counts.sum() - shown.sum()))),
    }


def _binned(edges: FloatArray, counts: FloatArray) -> dict[str, Any]:
    return {"edges": edges.tolist(), "counts": np.rint(counts).astype(int).tolist()}
