"""The bounded mode reaches exact mode's verdicts, within its stated error, in fixed memory."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from registry.monitoring import sketch
from registry.monitoring.sketch import OUTSIDE_BINS, OutsideHistogram
from registry.monitoring.stats import (
    CurrentAccumulator,
    ReferenceSummary,
    StatTest,
    column_drift,
    column_drift_bounded,
)
from tests.monitoring.data import benchmark_columns, run_bounded

COLUMNS_100K = benchmark_columns(100_000, seed=1)
LARGE = [
    "normal",
    "normal_shifted",
    "normal_wider",
    "lognormal_shifted",
    "rating",
    "cat50_reweighted",
]


def assert_agrees(exact, bounded):
    assert bounded.test == exact.test
    assert bounded.drifted == exact.drifted
    if bounded.exact:
        assert bounded.statistic == pytest.approx(exact.statistic, rel=1e-9, abs=1e-12)
        if exact.p_value is not None:
            assert bounded.p_value == pytest.approx(exact.p_value, rel=1e-9, abs=1e-300)
    else:
        assert abs(bounded.statistic - exact.statistic) <= bounded.error_bound + 1e-12


@pytest.mark.parametrize("mode", ["two_sample", "evidently"])
@pytest.mark.parametrize("name", COLUMNS_100K)
def test_verdicts_agree_with_exact_mode_at_100k_rows(name, mode):
    kind, reference, current = COLUMNS_100K[name]

    exact = column_drift(reference, current, kind=kind, mode=mode)
    bounded = run_bounded(kind, reference, current, mode=mode)

    assert_agrees(exact, bounded)
    assert exact.drifted == (name.endswith(("shifted", "reweighted")) or name == "rating")


def test_verdicts_agree_with_exact_mode_at_1m_rows():
    columns = benchmark_columns(1_000_000, seed=2)
    for name in LARGE:
        kind, reference, current = columns[name]

        assert_agrees(
            column_drift(reference, current, kind=kind),
            run_bounded(kind, reference, current, chunk=200_000),
        )


def test_categories_and_few_valued_numbers_are_counted_exactly():
    for name in ("rating", "flag", "cat20_reweighted"):
        kind, reference, current = COLUMNS_100K[name]

        assert run_bounded(kind, reference, current).exact


def test_wasserstein_is_bracketed_tightly_enough_to_keep_every_verdict():
    kind, reference, current = COLUMNS_100K["normal"]

    bounded = run_bounded(kind, reference, current)

    assert not bounded.exact
    assert bounded.error_bound < 0.005  # against a threshold of 0.1


def test_ks_with_a_small_reference_is_exactly_scipys_on_a_streamed_window():
    rng = np.random.default_rng(5)
    reference, current = rng.normal(size=800), rng.normal(0.05, size=60_000)
    expected = stats.ks_2samp(reference, current)

    bounded = run_bounded("numeric", reference, current, chunk=7_000)

    assert (bounded.test, bounded.exact) == (StatTest.KS, True)
    assert bounded.statistic == expected.statistic
    assert bounded.p_value == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.parametrize(
    "test", ["ks", "chisquare", "wasserstein", "jensenshannon", "psi", "kl_div", "hellinger"]
)
def test_a_small_window_against_a_small_reference_is_checked_exactly(test):
    rng = np.random.default_rng(6)
    reference, current = rng.integers(0, 40, 900), rng.integers(0, 45, 8_000)

    exact = column_drift(reference, current, kind="numeric", test=test)
    bounded = run_bounded("numeric", reference, current, test=test, chunk=1_000)

    assert bounded.exact
    assert bounded.statistic == pytest.approx(exact.statistic, rel=1e-12)
    assert bounded.p_value == pytest.approx(exact.p_value, rel=1e-12)


@pytest.mark.parametrize("test", ["ks", "jensenshannon", "hellinger", "psi", "kl_div", "anderson"])
@pytest.mark.parametrize("name", ["lognormal", "lognormal_shifted"])
def test_chosen_tests_on_a_sketched_reference_keep_the_verdict(test, name):
    kind, reference, current = COLUMNS_100K[name]

    exact = column_drift(reference, current, kind=kind, test=test)
    bounded = run_bounded(kind, reference, current, test=test)

    assert bounded.drifted == exact.drifted
    if bounded.error_bound is not None and np.isfinite(bounded.error_bound):
        assert abs(bounded.statistic - exact.statistic) <= bounded.error_bound
    else:
        assert bounded.statistic == pytest.approx(exact.statistic, rel=0.05)


def test_a_window_far_beyond_the_reference_range_is_measured_exactly_outside_it():
    rng = np.random.default_rng(8)
    reference, current = rng.normal(size=50_000), rng.normal(10, 3, size=50_000)

    exact = column_drift(reference, current, kind="numeric")
    bounded = run_bounded("numeric", reference, current)

    assert bounded.drifted and exact.drifted
    assert bounded.statistic == pytest.approx(exact.statistic, rel=1e-3)


def test_a_summary_stored_as_json_gives_the_same_result():
    kind, reference, current = COLUMNS_100K["lognormal_shifted"]

    direct = run_bounded(kind, reference, current)
    stored = run_bounded(kind, reference, current, through_json=True)

    assert stored.as_dict() == direct.as_dict()


def test_the_result_does_not_depend_on_chunk_sizes():
    kind, reference, current = COLUMNS_100K["normal_wider"]

    small = run_bounded(kind, reference, current, chunk=3_000)
    large = run_bounded(kind, reference, current, chunk=100_000)

    assert small.statistic == pytest.approx(large.statistic, rel=1e-9)
    assert small.error_bound == pytest.approx(large.error_bound, rel=1e-6)


def test_memory_stays_fixed_as_the_window_grows():
    rng = np.random.default_rng(9)
    summary = ReferenceSummary.from_values(rng.lognormal(size=200_000), "numeric")
    accumulator = CurrentAccumulator("numeric", summary)

    sizes = []
    for _ in range(4):
        for _ in range(10):
            accumulator.add(rng.lognormal(0.5, 1.5, size=50_000))
        sizes.append(
            (
                accumulator.grid.point_counts.size,
                accumulator.below.counts.size,
                accumulator.above.counts.size,
            )
        )

    assert accumulator.n == 2_000_000
    assert accumulator.buffer is None and accumulator.new_keys is None
    assert sizes[0][0] == summary.grid.points.size <= 4099
    assert all(size[0] == sizes[0][0] and max(size[1:]) <= OUTSIDE_BINS for size in sizes)


def test_the_reference_summary_does_not_grow_with_the_reference():
    rng = np.random.default_rng(10)

    small = ReferenceSummary.from_values(rng.normal(size=100_000), "numeric")
    large = ReferenceSummary.from_values(rng.normal(size=1_000_000), "numeric")

    assert small.grid.points.size == large.grid.points.size <= 4099
    assert int(large.grid.point_counts.sum() + large.grid.cell_counts.sum()) == 1_000_000


def test_outside_bins_merge_exactly_whatever_the_order():
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.normal(0, 1, 5000), rng.normal(0, 500, 200)])
    one = OutsideHistogram(0.0, 0.001)
    other = OutsideHistogram(0.0, 0.001)

    one.add(values)
    for part in np.array_split(values[::-1], 37):
        other.add(part)

    assert one.width == other.width and one.start == other.start
    np.testing.assert_array_equal(one.counts, other.counts)
    edges = one.edges()
    assert one.counts.size <= OUTSIDE_BINS
    for edge in edges[:: max(len(edges) // 20, 1)]:
        assert one.count_below(float(edge))[0] == np.count_nonzero(values < edge)


def test_rare_categories_past_the_limit_are_lumped_and_the_result_says_so(monkeypatch):
    monkeypatch.setattr(sketch, "MAX_CATEGORIES", 30)
    rng = np.random.default_rng(12)
    names = np.array([f"k{i:03d}" for i in range(200)])
    reference, current = names[rng.integers(0, 20, 5000)], names[rng.integers(0, 200, 5000)]

    summary = ReferenceSummary.from_values(reference, "categorical")
    accumulator = CurrentAccumulator("categorical", summary)
    for part in np.array_split(current, 10):
        accumulator.add(part)
    result = column_drift_bounded(summary, accumulator)

    assert accumulator.keys.size <= 30
    assert "lumped" in result.note
    assert not result.exact
    assert result.drifted
