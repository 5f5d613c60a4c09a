"""The default test follows Evidently 0.7's rules, at each boundary."""

from __future__ import annotations

import numpy as np
import pytest

from registry.monitoring.stats import StatTest, column_drift

RNG = np.random.default_rng(3)


def values(n: int, distinct: int) -> np.ndarray:
    return np.resize(np.arange(distinct, dtype=float), n)


def test_1000_reference_rows_after_dropping_nan_and_inf_still_get_hypothesis_tests():
    reference = np.r_[RNG.normal(size=1000), np.nan, np.inf, -np.inf]
    current = RNG.normal(size=1000)

    result = column_drift(reference, current, kind="numeric")

    assert result.test == StatTest.KS
    assert result.n_reference == 1000
    assert "1 missing values in reference dropped" in result.note
    assert "2 infinities in reference dropped" in result.note


def test_1001_reference_rows_get_distances():
    result = column_drift(RNG.normal(size=1001), RNG.normal(size=1000), kind="numeric")

    assert result.test == StatTest.WASSERSTEIN


@pytest.mark.parametrize(
    ("distinct", "small", "large"),
    [
        (2, StatTest.Z, StatTest.JENSENSHANNON),
        (3, StatTest.CHISQUARE, StatTest.JENSENSHANNON),
        (5, StatTest.CHISQUARE, StatTest.JENSENSHANNON),
        (6, StatTest.KS, StatTest.WASSERSTEIN),
    ],
)
def test_numeric_columns_by_their_number_of_values(distinct, small, large):
    assert column_drift(values(1000, distinct), values(900, distinct), kind="numeric").test == small
    assert column_drift(values(1001, distinct), values(900, distinct), kind="numeric").test == large


def test_values_are_counted_over_reference_and_current_together():
    reference = values(500, 3)  # 0, 1, 2
    current = values(500, 3) + 3  # 3, 4, 5: six values in all

    assert column_drift(reference, current, kind="numeric").test == StatTest.KS


@pytest.mark.parametrize(("letters", "small"), [("ab", StatTest.Z), ("abc", StatTest.CHISQUARE)])
def test_categorical_columns_by_their_number_of_values(letters, small):
    categories = np.array(list(letters))

    small_result = column_drift(np.resize(categories, 1000), categories, kind="categorical")
    large_result = column_drift(np.resize(categories, 1001), categories, kind="categorical")

    assert small_result.test == small
    assert large_result.test == StatTest.JENSENSHANNON


def test_a_chosen_test_and_threshold_override_the_defaults():
    reference, current = RNG.normal(size=2000), RNG.normal(0.3, size=2000)

    result = column_drift(reference, current, kind="numeric", test="psi", threshold=0.9)

    assert (result.test, result.threshold, result.drifted) == (StatTest.PSI, 0.9, False)


def test_a_numeric_test_on_categories_is_refused():
    with pytest.raises(ValueError, match="compares numbers"):
        column_drift(np.array(["a", "b"]), np.array(["a"]), kind="categorical", test="ks")


def test_ks_drifts_at_p_equal_to_the_threshold_and_the_others_below_it():
    from registry.monitoring.selection import is_drift

    assert is_drift(StatTest.KS, 0.05, 0.05)
    assert not is_drift(StatTest.CHISQUARE, 0.05, 0.05)
    assert is_drift(StatTest.WASSERSTEIN, 0.1, 0.1)
    assert not is_drift(StatTest.JENSENSHANNON, float("nan"), 0.1)


def test_a_z_test_chosen_for_a_column_that_gains_a_third_value_becomes_chi_square():
    reference, current = np.array(["a", "b"] * 300), np.array(["a", "b", "c"] * 200)

    result = column_drift(reference, current, kind="categorical", test="z")

    assert result.test == StatTest.CHISQUARE
    assert "chi-square instead of the z-test" in result.note
