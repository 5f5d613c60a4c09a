"""A series' sketch keeps what a chart needs, stays small, and is the same however the
series was split into batches."""

from __future__ import annotations

import random

import numpy as np
import pytest

from registry.experiments.sketch import BUCKETS, EMPTY, MAX_POINTS, Sketch, fold


def _series(length: int, seed: int = 1) -> tuple[list[int], list[float]]:
    rng = random.Random(seed)
    steps = list(range(length))
    values = [rng.gauss(0, 1) + (50 if rng.random() < 0.001 else 0) for _ in steps]
    return steps, values


def _stamps(steps: list[int]) -> list[int]:
    """A point a second from 2026-01-01, in milliseconds."""
    return [1_767_225_600_000 + 1_000 * step for step in steps]


def _expected(steps: list[int], values: list[float], width: int) -> set[tuple[int, float]]:
    """Brute force: each bucket's lowest and highest point, and the first and last."""
    kept = {(steps[0], values[0]), (steps[-1], values[-1])}
    buckets: dict[int, list[tuple[int, float]]] = {}
    for step, value in zip(steps, values, strict=True):
        buckets.setdefault(step // width, []).append((step, value))
    for points in buckets.values():
        kept.add(min(points, key=lambda p: p[1]))
        kept.add(max(points, key=lambda p: p[1]))
    return kept


def test_a_long_series_keeps_every_buckets_lowest_and_highest_and_its_ends() -> None:
    steps, values = _series(100_000)

    sketch = fold(EMPTY, steps, values, _stamps(steps))

    assert len(sketch) <= MAX_POINTS
    assert (sketch.width & (sketch.width - 1)) == 0  # a power of two
    assert steps[-1] // sketch.width < BUCKETS
    assert set(zip(sketch.steps, sketch.values, strict=True)) == _expected(
        steps, values, sketch.width
    )
    assert min(sketch.values) == min(values) and max(sketch.values) == max(values)
    assert sketch.steps == sorted(sketch.steps)
    assert sketch.stamps == _stamps(sketch.steps)  # each kept point keeps its own time


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folding_batches_in_any_order_gives_the_sketch_of_the_whole_series(seed: int) -> None:
    steps, values = _series(20_000, seed)
    cuts = sorted(random.Random(seed).sample(range(1, len(steps)), 9))
    batches = [
        (steps[a:b], values[a:b]) for a, b in zip([0, *cuts], [*cuts, len(steps)], strict=True)
    ]
    random.Random(seed).shuffle(batches)

    folded = EMPTY
    for batch_steps, batch_values in batches:
        folded = fold(folded, batch_steps, batch_values, _stamps(batch_steps))

    whole = fold(EMPTY, steps, values, _stamps(steps))
    assert folded.width == whole.width
    assert set(zip(folded.steps, folded.values, strict=True)) == set(
        zip(whole.steps, whole.values, strict=True)
    )


def test_a_short_series_is_kept_whole_and_late_large_steps_widen_the_buckets() -> None:
    short = fold(EMPTY, [0, 1, 2], [0.3, 0.1, 0.2], [10, 11, 12])
    assert (short.width, short.steps, short.values) == (1, [0, 1, 2], [0.3, 0.1, 0.2])
    assert short.stamps == [10, 11, 12]

    far = fold(short, [2**62], [0.5], [13])  # a step as large as a timestamp in nanoseconds
    assert far.steps[0] == 0 and far.steps[-1] == 2**62
    assert len(far) <= MAX_POINTS


def test_a_sketch_round_trips_through_json_and_an_empty_fold_changes_nothing() -> None:
    sketch = fold(EMPTY, [5, 6], [1.0, 2.0], [1_000, 2_000])

    assert Sketch.from_json(sketch.as_json()) == sketch
    assert Sketch.from_json({}) == EMPTY
    nothing = np.array([], dtype=np.int64)
    assert fold(sketch, nothing, np.array([]), nothing) == sketch
