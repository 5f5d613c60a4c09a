"""Which test runs on a column, its threshold, and what counts as drift. Pure.

The default choice follows Evidently 0.7 (``_get_default_stattest``), so teams moving from
it see the same tests: ``n_ref`` is the reference rows left after dropping NaN and ±inf,
``n_values`` the distinct values of reference and current together.
"""

from __future__ import annotations

from enum import StrEnum


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class Mode(StrEnum):
    # Chi-square as a test of homogeneity of the two samples (the default).
    TWO_SAMPLE = "two_sample"
    # Evidently 0.7's statistics reproduced exactly, its chi-square included.
    EVIDENTLY = "evidently"


class StatTest(StrEnum):
    """Evidently's names, so a per-column choice carries over unchanged."""

    KS = "ks"
    CHISQUARE = "chisquare"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JENSENSHANNON = "jensenshannon"
    PSI = "psi"
    KL_DIV = "kl_div"
    HELLINGER = "hellinger"
    ANDERSON = "anderson"
    NONE = "none"  # a degenerate column: nothing to compare


# Tests that return a p-value; drift is a small p. The rest are distances: drift is a large one.
P_VALUE_TESTS = frozenset({StatTest.KS, StatTest.CHISQUARE, StatTest.Z, StatTest.ANDERSON})
NUMERIC_ONLY = frozenset({StatTest.KS, StatTest.WASSERSTEIN, StatTest.ANDERSON})

SMALL_REFERENCE = 1000  # Evidently: n_ref <= 1,000 gets hypothesis tests, larger gets distances
FEW_VALUES = 5  # numeric columns with at most this many values are compared as categories
BINARY = 2  # at most two values: the two-proportion z-test

DEFAULT_THRESHOLDS = {
    StatTest.KS: 0.05,
    StatTest.CHISQUARE: 0.05,
    StatTest.Z: 0.05,
    StatTest.WASSERSTEIN: 0.1,
    StatTest.JENSENSHANNON: 0.1,
    StatTest.PSI: 0.1,
    StatTest.KL_DIV: 0.1,
    StatTest.HELLINGER: 0.1,
    StatTest.ANDERSON: 0.05,
}
# Evidently registers Anderson-Darling with a default threshold of 0.1 (the issue asks 0.05).
EVIDENTLY_THRESHOLDS = {**DEFAULT_THRESHOLDS, StatTest.ANDERSON: 0.1}

PSI_MAJOR = 0.25  # PSI bands: < 0.1 none, 0.1 to 0.25 moderate, >= 0.25 major


def select_test(kind: ColumnKind, n_ref: int, n_values: int) -> StatTest:
    """Evidently 0.7's default test for a column of ``kind``."""
    few = kind == ColumnKind.CATEGORICAL or n_values <= FEW_VALUES
    if n_ref <= SMALL_REFERENCE:
        if not few:
            return StatTest.KS
        return StatTest.CHISQUARE if n_values > BINARY else StatTest.Z
    return StatTest.JENSENSHANNON if few else StatTest.WASSERSTEIN


def default_threshold(test: StatTest, mode: Mode) -> float:
    table = EVIDENTLY_THRESHOLDS if mode == Mode.EVIDENTLY else DEFAULT_THRESHOLDS
    return table[test]


def is_drift(test: StatTest, value: float, threshold: float) -> bool:
    """Evidently's comparisons: KS drifts at p <= threshold, other tests at p < threshold,
    distances at value >= threshold. NaN is never drift."""
    if test == StatTest.KS:
        return bool(value <= threshold)
    if test in P_VALUE_TESTS:
        return bool(value < threshold)
    return bool(value >= threshold)


def psi_band(value: float) -> str:
    if value >= PSI_MAJOR:
        return "major"
    return "moderate" if value >= DEFAULT_THRESHOLDS[StatTest.PSI] else "none"
