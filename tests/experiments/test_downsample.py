"""Downsampling keeps every bucket's min and max, the ends, the order and the limit."""

from __future__ import annotations

import math
import random

import pytest

from registry.experiments.downsample import downsample


def _series(n: int, seed: int = 7) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    return [(step, math.sin(step / 50) + rng.gauss(0, 0.1)) for step in range(n)]


@pytest.mark.parametrize("n", [10, 1_999, 2_000, 2_001, 10_000, 100_000])
def test_never_more_than_the_limit_and_short_series_unchanged(n: int) -> None:
    series = _series(n)

    thinned = downsample(series)

    assert len(thinned) <= 2_000
    if n <= 2_000:
        assert thinned == series


def test_each_buckets_min_and_max_survive() -> None:
    series = _series(100_000)
    series[12_345] = (12_345, 50.0)  # a spike
    series[67_890] = (67_890, -50.0)  # a dip

    thinned = downsample(series, limit=301)

    buckets = (301 - 1) // 3
    size = len(series) / buckets
    kept = set(thinned)
    for number in range(buckets):
        bucket = series[int(number * size) : int((number + 1) * size)]
        assert min(bucket, key=lambda p: p[1]) in kept
        assert max(bucket, key=lambda p: p[1]) in kept
    assert (12_345, 50.0) in kept and (67_890, -50.0) in kept


def test_the_ends_stay_and_steps_stay_in_order() -> None:
    series = _series(50_000)

    thinned = downsample(series, limit=100)

    assert thinned[0] == series[0] and thinned[-1] == series[-1]
    assert [p[0] for p in thinned] == sorted({p[0] for p in thinned})


def test_a_limit_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        downsample(_series(10), limit=3)
