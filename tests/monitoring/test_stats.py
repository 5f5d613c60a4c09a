"""Each statistic of the exact mode equals scipy's on fixed data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from registry.monitoring.anderson import anderson_grouped
from registry.monitoring.cleaning import clean_numeric
from registry.monitoring.discrete import sturges_edges
from registry.monitoring.exact import distinct_count, value_counts, wasserstein_sorted
from registry.monitoring.stats import Mode, StatTest, column_drift

RNG = np.random.default_rng(20240611)
SMALL_REF = RNG.normal(size=800)
SMALL_CUR = RNG.normal(0.15, 1.1, size=700)
BIG_REF = RNG.lognormal(size=3000)
BIG_CUR = RNG.lognormal(0.1, size=2500)
LETTERS = np.array(list("abcd"))
CAT_REF = LETTERS[RNG.choice(4, 900, p=[0.4, 0.3, 0.2, 0.1])]
CAT_CUR = LETTERS[RNG.choice(4, 600, p=[0.35, 0.3, 0.2, 0.15])]


def counts_of(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    return np.array([np.count_nonzero(np.equal(values, key)) for key in keys])


def shares(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.union1d(ref, cur)
    return counts_of(ref, keys) / ref.size, counts_of(cur, keys) / cur.size


def sturges_shares(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    return np.histogram(ref, edges)[0] / ref.size, np.histogram(cur, edges)[0] / cur.size


def test_ks_is_scipys_two_sample_test():
    result = column_drift(SMALL_REF, SMALL_CUR, kind="numeric")
    expected = stats.ks_2samp(SMALL_REF, SMALL_CUR)

    assert result.test == StatTest.KS
    assert result.statistic == expected.statistic
    assert result.p_value == expected.pvalue
    assert result.drifted == (expected.pvalue <= 0.05)
    assert result.score == pytest.approx(1 - expected.pvalue)


def test_wasserstein_is_scipys_divided_by_the_reference_std():
    result = column_drift(BIG_REF, BIG_CUR, kind="numeric")
    expected = stats.wasserstein_distance(BIG_REF, BIG_CUR) / np.std(BIG_REF)

    assert result.test == StatTest.WASSERSTEIN
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.p_value is None
    assert result.score == result.statistic


@pytest.mark.parametrize("seed", range(5))
def test_the_quantile_form_of_wasserstein_equals_scipys_with_ties_and_unequal_sizes(seed):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, 7, 97).astype(float)
    v = np.concatenate([rng.integers(2, 9, 50), rng.normal(4, 2, 61)])

    got = wasserstein_sorted(np.sort(u), np.sort(v))

    assert got == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "m"),
    [(1, 1), (1, 5), (5, 1), (400, 400), (400, 200), (200, 400), (4999, 3001), (3001, 4999)],
)
def test_wasserstein_over_quantiles_equals_scipys_at_any_sizes(n, m):
    rng = np.random.default_rng(n * 10_000 + m)
    u = np.r_[rng.lognormal(size=n - n // 3), rng.integers(0, 4, n // 3)]
    v = np.r_[rng.lognormal(0.2, size=m - m // 3), rng.integers(0, 4, m // 3)]

    got = wasserstein_sorted(np.sort(u), np.sort(v))

    assert got == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-12)


@pytest.mark.parametrize(
    ("values", "past", "expected"),
    [
        (np.array([]), None, 0),
        (np.array([2.0, 2.0, 3.0]), None, 2),
        (np.arange(10_000.0), None, 10_000),
        (np.arange(10_000.0), 50, 4096),  # the first values settle it: more than 50
        (np.repeat(np.arange(30.0), 1000), 50, 30),  # few values: counted whole
        (np.repeat(np.arange(60.0), 1000), 50, 60),
    ],
)
def test_distinct_count_counts_sorted_values_or_stops_past_what_is_asked(values, past, expected):
    assert distinct_count(values, past=past) == expected


def test_floats_are_cleaned_whatever_their_width():
    values = np.array([1.5, np.nan, np.inf, 2.5, -np.inf, np.nan], dtype=np.float32)

    cleaned = clean_numeric(values)

    assert cleaned.values.dtype == np.float64
    assert cleaned.values.tolist() == [1.5, 2.5]
    assert (cleaned.missing, cleaned.infinite, cleaned.invalid) == (2, 2, 0)
    assert clean_numeric(np.arange(3.0)).values.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", "b", "ccc", ""],  # the empty string sorts first, as in numpy
        ["abcdefghi", "abcdefgh", "abcdefghi", "abc"],  # nine characters: one integer
        ["abcdefghij", "x", "x"],  # ten: too long to pack, numpy's own way
        ["abcd", "abc", "\x7f\x7f\x7f\x7f", "abcd"],  # four: one 32-bit integer
        ["abcde", "abcd", "\x7f\x7f\x7f\x7f\x7f"],  # five: 64 bits
        ["é", "e", "é"],  # not ASCII: numpy's own way
        ["a", "a\x01", "a", "A"],
    ],
)
def test_packed_category_counts_equal_numpys(values):
    array = np.array(values)
    keys, counts = value_counts(array)
    expected_keys, expected_counts = np.unique(array, return_counts=True)
    assert keys.dtype == expected_keys.dtype
    assert keys.tolist() == expected_keys.tolist()
    assert counts.tolist() == expected_counts.tolist()


def test_a_constant_reference_is_normed_by_the_floor():
    reference = np.full(2000, 3.0)
    current = np.linspace(2.0, 4.0, 2000)

    result = column_drift(reference, current, kind="numeric")

    assert result.statistic == pytest.approx(stats.wasserstein_distance(reference, current) / 0.001)


def test_jensenshannon_on_category_shares_is_scipys():
    reference = np.tile(CAT_REF, 2)  # 1,800 rows: past the 1,000 of the hypothesis tests
    result = column_drift(reference, CAT_CUR, kind="categorical")

    assert result.test == StatTest.JENSENSHANNON
    assert result.statistic == pytest.approx(distance.jensenshannon(*shares(reference, CAT_CUR)))


def test_jensenshannon_on_many_valued_numbers_uses_sturges_bins_over_both():
    result = column_drift(BIG_REF, BIG_CUR, kind="numeric", test="jensenshannon")

    expected = distance.jensenshannon(*sturges_shares(BIG_REF, BIG_CUR))
    assert result.statistic == pytest.approx(expected, rel=1e-12)


def test_few_valued_numbers_are_compared_per_value_not_binned():
    reference = RNG.integers(0, 20, 3000).astype(float)  # 20 values: not more than 20
    current = RNG.integers(0, 21, 3000).astype(float)

    result = column_drift(reference, current, kind="numeric", test="jensenshannon")

    assert result.statistic == pytest.approx(distance.jensenshannon(*shares(reference, current)))


@pytest.mark.parametrize(
    ("values", "integer"),
    [
        (np.r_[RNG.normal(size=999), 7.5], False),
        (np.arange(-3, 40), True),
        (np.arange(0, 21).repeat(200), True),  # width < 1: numpy widens integer bins to 1
        (np.full(10, 2.0), False),
    ],
)
def test_sturges_edges_from_min_max_and_count_are_numpys(values, integer):
    edges = sturges_edges(values.min(), values.max(), values.size, integer)

    np.testing.assert_array_equal(edges, np.histogram_bin_edges(values, bins="sturges"))


def test_two_sample_chi_square_is_scipys_contingency_test_without_correction():
    result = column_drift(CAT_REF, CAT_CUR, kind="categorical")
    ref_counts = counts_of(CAT_REF, LETTERS)
    cur_counts = counts_of(CAT_CUR, LETTERS)
    expected = stats.chi2_contingency([ref_counts, cur_counts], correction=False)

    assert result.test == StatTest.CHISQUARE
    assert result.mode == Mode.TWO_SAMPLE
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_evidently_chi_square_takes_the_reference_as_the_expected_frequencies():
    result = column_drift(CAT_REF, CAT_CUR, kind="categorical", mode="evidently")
    ref_counts = counts_of(CAT_REF, LETTERS)
    cur_counts = counts_of(CAT_CUR, LETTERS)
    expected = stats.chisquare(cur_counts, ref_counts * CAT_CUR.size / CAT_REF.size)

    assert result.mode == Mode.EVIDENTLY
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_evidently_chi_square_with_a_new_category_is_infinite_and_drifts():
    current = np.r_[CAT_CUR, ["e"]]

    result = column_drift(CAT_REF, current, kind="categorical", mode="evidently")

    assert result.statistic == np.inf
    assert result.p_value == 0.0
    assert result.drifted
    assert result.as_dict()["statistic"] is None  # JSON has no infinity
    assert "1 categories new in current: e" in result.note


def test_z_test_matches_the_two_proportion_formula():
    reference = np.array(["no"] * 540 + ["yes"] * 360)
    current = np.array(["no"] * 430 + ["yes"] * 370)
    p1, p2, n1, n2 = 360 / 900, 370 / 800, 900, 800
    pooled = (360 + 370) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 2 * (1 - stats.norm.cdf(abs(z)))

    result = column_drift(reference, current, kind="categorical")
    evidently = column_drift(reference, current, kind="categorical", mode="evidently")

    assert result.test == evidently.test == StatTest.Z
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert evidently.p_value == pytest.approx(p, rel=1e-12)
    chi2 = stats.chi2_contingency([[540, 360], [430, 370]], correction=False).statistic
    assert result.statistic**2 == pytest.approx(chi2, rel=1e-12)


def test_psi_fills_empty_bins_and_sums_the_log_ratio_terms():
    reference = np.array(list("aaaabbbcc" * 200))
    current = np.array(list("aaabbbbdd" * 200))
    ref, cur = shares(reference, current)
    ref, cur = np.where(ref == 0, 0.0001, ref), np.where(cur == 0, 0.0001, cur)

    result = column_drift(reference, current, kind="categorical", test="psi")

    assert result.statistic == pytest.approx(np.sum((ref - cur) * np.log(ref / cur)), rel=1e-12)
    assert result.band == "major"
    assert result.drifted


def evidently_fill(shares: np.ndarray) -> np.ndarray:
    smallest = shares[shares > 0].min()
    return np.where(shares == 0, smallest / 1e6 if smallest <= 0.0001 else 0.0001, shares)


def test_kl_divergence_is_scipys_entropy_on_filled_shares():
    ref, cur = map(evidently_fill, sturges_shares(BIG_REF, BIG_CUR))
    assert np.any(np.array(sturges_shares(BIG_REF, BIG_CUR)) == 0)  # the fill is exercised

    result = column_drift(BIG_REF, BIG_CUR, kind="numeric", test="kl_div")

    assert result.statistic == pytest.approx(stats.entropy(ref, cur), rel=1e-12)


def test_hellinger_is_the_standard_distance_and_evidentlys_bins_distinct_values():
    ref, cur = sturges_shares(BIG_REF, BIG_CUR)
    standard = np.sqrt(np.sum((np.sqrt(ref) - np.sqrt(cur)) ** 2)) / np.sqrt(2)
    distinct = np.unique(np.concatenate([BIG_REF, BIG_CUR]))
    edges = np.histogram_bin_edges(distinct, bins="sturges")
    ref_e = np.histogram(BIG_REF, edges)[0] / BIG_REF.size
    cur_e = np.histogram(BIG_CUR, edges)[0] / BIG_CUR.size

    result = column_drift(BIG_REF, BIG_CUR, kind="numeric", test="hellinger")
    evidently = column_drift(BIG_REF, BIG_CUR, kind="numeric", test="hellinger", mode="evidently")

    assert result.statistic == pytest.approx(standard, rel=1e-12)
    assert evidently.statistic == pytest.approx(np.sqrt(1 - np.sum(np.sqrt(ref_e * cur_e))))


def test_anderson_darling_is_scipys_midrank_test():
    rng = np.random.default_rng(7)
    reference, current = rng.normal(size=800), rng.normal(size=700)
    expected = stats.anderson_ksamp([reference, current], variant="midrank")
    assert 0.001 < expected.pvalue < 0.25  # interpolated, not capped

    result = column_drift(reference, current, kind="numeric", test="anderson")
    evidently = column_drift(reference, current, kind="numeric", test="anderson", mode="evidently")

    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert (result.threshold, result.drifted) == (0.05, True)
    assert (evidently.threshold, evidently.drifted) == (0.1, True)  # Evidently's default


def test_anderson_darling_from_counts_per_tied_group_equals_scipys():
    rng = np.random.default_rng(7)
    reference, current = rng.integers(0, 30, 400), rng.integers(0, 30, 300)
    keys = np.union1d(reference, current)
    expected = stats.anderson_ksamp([reference, current], variant="midrank")

    statistic, p = anderson_grouped(
        counts_of(reference, keys),
        counts_of(current, keys),
    )

    assert 0.001 < expected.pvalue < 0.25
    assert statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


def test_results_are_json_ready():
    import json

    result = column_drift(BIG_REF, BIG_CUR, kind="numeric")

    data = json.loads(json.dumps(result.as_dict()))
    assert data["test"] == "wasserstein"
    assert data["mode"] == "two_sample"
    assert (
        len(data["reference_histogram"]["edges"]) == len(data["reference_histogram"]["counts"]) + 1
    )
    assert sum(data["reference_histogram"]["counts"]) == BIG_REF.size
    assert sum(data["current_histogram"]["counts"]) == BIG_CUR.size


def test_a_few_valued_reference_against_a_continuous_current_is_not_counted_as_few():
    reference = np.resize([0.0, 1.0, 2.0], 3000)
    current = RNG.normal(1.0, 1.0, 5000)

    result = column_drift(reference, current, kind="numeric")

    assert result.test == StatTest.WASSERSTEIN
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert len(result.reference_histogram["edges"]) > 2  # binned, not per value
