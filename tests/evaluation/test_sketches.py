"""The fixed-size summaries profiling folds batches into: quantiles, distinct counts and
histograms, checked against numpy on the same data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from registry.evaluation.sketches import (
    GridHistogram,
    HyperLogLog,
    QuantileSketch,
    hash_numbers,
    hash_strings,
)

QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
# Quantile tolerance, as a share of the rows: the estimate's rank is within this of q.
RANK_TOLERANCE = 0.002


def _fold(sketch: QuantileSketch, values: np.ndarray, batch: int) -> None:
    for start in range(0, len(values), batch):
        sketch.add_sorted(np.sort(values[start : start + batch]))


def _rank_errors(values: np.ndarray, estimates: list[float]) -> list[float]:
    ordered = np.sort(values)
    return [abs(np.searchsorted(ordered, e) / len(ordered) - q) for q, e in zip(QS, estimates)]


@pytest.mark.parametrize("batch", [997, 65_536])
def test_quantiles_are_within_a_fifth_of_a_percent_of_rank(batch: int) -> None:
    """Skewed data in batches of any size: every quantile's rank is within 0.2 % of q."""
    values = np.random.default_rng(3).lognormal(3, 1.5, 300_000)
    sketch = QuantileSketch()

    _fold(sketch, values, batch)

    estimates = sketch.quantiles(QS)
    assert estimates is not None
    assert max(_rank_errors(values, estimates)) < RANK_TOLERANCE
    assert sketch.count == len(values)
    assert sketch.min == values.min() and sketch.max == values.max()


def test_the_sketch_stays_small_and_data_in_sorted_order_is_no_harder() -> None:
    """However many batches, at most about compression / 2 centroids are kept; a column
    stored in ascending order (each batch beyond the last) is summarised as well."""
    values = np.arange(200_000, dtype=float)
    sketch = QuantileSketch(compression=200)

    _fold(sketch, values, 1_000)

    assert len(sketch.means) <= 102
    estimates = sketch.quantiles(QS)
    assert estimates is not None
    assert max(_rank_errors(values, estimates)) < 0.01


def test_an_empty_sketch_has_no_quantiles_and_one_value_is_every_quantile() -> None:
    sketch = QuantileSketch()
    assert sketch.quantiles(QS) is None
    sketch.add_sorted(np.array([4.5]))
    assert sketch.quantiles(QS) == [4.5] * len(QS)


def test_hyperloglog_estimates_within_two_percent_and_ignores_repeats() -> None:
    """100,000 distinct values, each added three times in shuffled batches."""
    distinct = np.random.default_rng(5).permutation(100_000).astype(float) * 1.5
    sketch = HyperLogLog()
    for chunk in np.array_split(np.tile(distinct, 3), 30):
        sketch.add(hash_numbers(chunk))

    assert abs(sketch.estimate() - 100_000) / 100_000 < 0.02


def test_hyperloglog_is_near_exact_for_few_values() -> None:
    sketch = HyperLogLog()
    sketch.add(hash_numbers(np.arange(50)))
    assert sketch.estimate() == pytest.approx(50, abs=1)


def test_number_hashes_treat_minus_zero_as_zero_and_differ_otherwise() -> None:
    hashes = hash_numbers(np.array([0.0, -0.0, 1.0, 2.0]))
    assert hashes[0] == hashes[1]
    assert len(set(hashes[1:].tolist())) == 3


def test_string_hashes_depend_only_on_the_text() -> None:
    """The same text hashes alike in any array, at any offset (a sliced array), and
    different texts (empty, prefixes, non-ASCII) hash apart."""
    texts = ["", "a", "ab", "ba", "aa", "é", "e\u0301", "north", "north "]
    whole = hash_strings(pa.array(texts))
    sliced = hash_strings(pa.array(["x", "y", *texts]).slice(2))
    large = hash_strings(pa.array(texts, type=pa.large_string()))

    assert whole.tolist() == sliced.tolist() == large.tolist()
    assert len(set(whole.tolist())) == len(texts)


def _histogram_equals_numpy(histogram: GridHistogram, values: np.ndarray) -> None:
    shown = histogram.as_json()
    expected, _ = np.histogram(values, bins=shown["edges"])
    assert shown["counts"] == expected.tolist()
    assert sum(shown["counts"]) == len(values)
    assert len(shown["counts"]) <= GridHistogram.MAX_BINS


def test_histogram_counts_are_exact_when_later_batches_widen_the_range() -> None:
    """The first batch spans 0..1; later ones reach -300 and 5,000: bins merge by pairs
    and every count still equals numpy's over the final edges."""
    rng = np.random.default_rng(7)
    batches = [rng.random(500), rng.normal(0, 100, 500), rng.exponential(800, 500)]
    histogram = GridHistogram()
    for batch in batches:
        histogram.add_sorted(np.sort(batch))

    _histogram_equals_numpy(histogram, np.concatenate(batches))
    assert len(histogram.counts) >= GridHistogram.MAX_BINS // 2


def test_histogram_of_integers_has_bins_at_least_one_wide() -> None:
    values = np.array([0, 1, 1, 2, 3, 3, 3, 9], dtype=float)
    histogram = GridHistogram(integral=True)
    histogram.add_sorted(values)

    shown = histogram.as_json()
    assert shown["edges"][1] - shown["edges"][0] == 1
    assert shown["counts"] == [1, 2, 1, 3, 0, 0, 0, 0, 0, 1]


def test_histogram_of_one_repeated_value_is_one_bin() -> None:
    histogram = GridHistogram()
    histogram.add_sorted(np.full(10, -3.7))

    shown = histogram.as_json()
    assert shown["counts"] == [10]
    assert shown["edges"][0] <= -3.7 < shown["edges"][1]
