"""Thin a metric series for a chart without losing its extremes. Pure: no Django.

The series is cut into equal step-ordered buckets; each bucket keeps its first point, its
minimum and its maximum (and the series keeps its last point), so spikes and dips survive
and a chart of at most ``limit`` points looks like the full series.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

DEFAULT_LIMIT = 2_000

P = TypeVar("P", bound=tuple[int, float])


def downsample(points: Sequence[P], limit: int = DEFAULT_LIMIT) -> list[P]:
    """At most ``limit`` of ``points`` (sorted by step): every bucket's first, min and max."""
    if limit < 4:
        raise ValueError("A chart needs a limit of at least 4 points.")
    if len(points) <= limit:
        return list(points)
    buckets = (limit - 1) // 3  # three points a bucket, and the last point of the series
    size = len(points) / buckets
    kept: list[P] = []
    for number in range(buckets):
        bucket = points[int(number * size) : int((number + 1) * size)]
        if not bucket:
            continue
        low = min(bucket, key=lambda point: point[1])
        high = max(bucket, key=lambda point: point[1])
        chosen = {id(bucket[0]): bucket[0], id(low): low, id(high): high}
        kept.extend(sorted(chosen.values(), key=lambda point: point[0]))
    if kept[-1] is not points[-1]:
        kept.append(points[-1])
    return kept
