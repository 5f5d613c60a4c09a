"""A metric series' sketch: what a chart needs of it, kept on its summary. Pure: no Django.

The sketch holds the series' first and last point and, in each of at most ``BUCKETS`` step
ranges, its lowest and highest point: at most 2 * BUCKETS + 2 points however long the
series grows, so a page charting 50 runs and 10 metrics reads 500 small sketches, never the
million points behind them.

Ranges are aligned on multiples of a width, a power of two: step ``s`` falls in bucket
``s // width``. When a batch stretches the series over more than ``BUCKETS`` buckets the
width doubles and neighbouring buckets merge. The lowest point of a union is the lowest of
its parts' lowest points (likewise highest, first and last), so folding each batch into the
sketch gives exactly the sketch of the whole series, in whatever order batches arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

BUCKETS = 100
MAX_POINTS = 2 * BUCKETS + 2


@dataclass(frozen=True)
class Sketch:
    width: int
    steps: list[int]  # in step order
    values: list[float]
    stamps: list[int]  # milliseconds since the epoch, for charts over time

    def as_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "steps": self.steps,
            "values": self.values,
            "stamps": self.stamps,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Sketch:
        data = data or {}
        return cls(
            int(data.get("width", 1)),
            list(data.get("steps", [])),
            list(data.get("values", [])),
            list(data.get("stamps", [])),
        )

    def points(self) -> list[tuple[int, float, int]]:
        return list(zip(self.steps, self.values, self.stamps, strict=True))

    def __len__(self) -> int:
        return len(self.steps)


EMPTY = Sketch(1, [], [], [])


def fold(
    sketch: Sketch, steps: npt.ArrayLike, values: npt.ArrayLike, stamps: npt.ArrayLike
) -> Sketch:
    """``sketch`` with the points (``steps[i]``, ``values[i]``, ``stamps[i]``) added."""
    s = np.concatenate([np.asarray(sketch.steps, dtype=np.int64), np.asarray(steps, np.int64)])
    v = np.concatenate([np.asarray(sketch.values, dtype=float), np.asarray(values, float)])
    ms = np.concatenate([np.asarray(sketch.stamps, dtype=np.int64), np.asarray(stamps, np.int64)])
    if not len(s):
        return sketch
    width = max(sketch.width, 1)
    low, high = int(s.min()), int(s.max())
    while high // width - low // width >= BUCKETS:
        width *= 2
    bucket = s // width
    # Sorted by bucket, then value: each bucket's first row is its lowest point, its last
    # row its highest.
    by_value = np.lexsort((v, bucket))
    sorted_buckets = bucket[by_value]
    starts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
    ends = np.r_[starts[1:], len(by_value)] - 1
    first = int(np.argmin(s))  # the earliest of the lowest steps
    last = len(s) - 1 - int(np.argmax(s[::-1]))  # the latest of the highest steps
    kept = np.unique(np.concatenate([by_value[starts], by_value[ends], [first, last]]))
    kept = kept[np.lexsort((kept, s[kept]))]  # step order; ties in the order logged
    return Sketch(width, s[kept].tolist(), v[kept].tolist(), ms[kept].tolist())
