"""A dataset's profile: per column its type, nulls, distinct values, statistics and a
compact histogram. Pure (no Django); the profiling job stores what ``profile`` returns.

The file is read a batch at a time (``datafiles.batches``) and every figure is folded in
per batch with pyarrow.compute and numpy, never row by row in Python, into summaries of
fixed size (``sketches``): memory stays bounded however large the file.

* Numbers: min, max and mean are exact; std is the sample standard deviation (merged per
  batch, Chan et al.); quantiles come from a t-digest (``sketches.QuantileSketch``);
  the histogram's counts are exact (``sketches.GridHistogram``). NaN and infinities are
  counted apart and left out of the statistics.
* Strings and booleans are categories: value counts are kept exactly while the column has
  at most ``EXACT_DISTINCT`` distinct values; past that the ``TOP_KEPT`` most frequent are
  kept and their counts become lower bounds (``top_exact`` false).
* Distinct counts are exact up to ``EXACT_DISTINCT`` values, then a HyperLogLog estimate
  (``distinct_exact`` false).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.evaluation import datafiles
from registry.evaluation.sketches import (
    FloatArray,
    GridHistogram,
    HyperLogLog,
    QuantileSketch,
    hash_numbers,
    hash_strings,
)

BATCH_ROWS = datafiles.BATCH_ROWS
EXACT_DISTINCT = 100_000
TOP_KEPT = 1_000  # candidates kept for the top values once counting is no longer exact
TOP_SHOWN = 10
QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
ESTIMATE_SAMPLE_BYTES = 1 << 20

Progress = Callable[[int, int | None], None]


@dataclass
class Profile:
    row_count: int
    columns: list[dict[str, Any]] = field(default_factory=list)


def profile(
    path: str | Path,
    file_format: str,
    *,
    batch_rows: int = BATCH_ROWS,
    on_progress: Progress | None = None,
) -> Profile:
    """Profile every column of the file; ``on_progress(rows_done, rows_total or None)`` is
    called after each batch. Raises ``datafiles.UnreadableDataset``."""
    schema = datafiles.schema_of(path, file_format)
    total = datafiles.row_count_hint(path, file_format)
    columns = [column_profiler(field) for field in schema]
    rows = 0
    for batch in datafiles.batches(path, file_format, batch_rows=batch_rows):
        for profiler, array in zip(columns, batch.columns, strict=True):
            profiler.add(array)
        rows += batch.num_rows
        if on_progress is not None:
            on_progress(rows, total)
    return Profile(row_count=rows, columns=[column.as_json() for column in columns])


def estimate_rows(path: str | Path, file_format: str, size: int) -> int | None:
    """Rows in the file: Parquet's footer says; a CSV's are guessed from the line length
    of its first MiB (for a progress bar, not a figure anyone reads)."""
    known = datafiles.row_count_hint(path, file_format)
    if known is not None:
        return known
    with open(path, "rb") as handle:
        sample = handle.read(ESTIMATE_SAMPLE_BYTES)
    lines = sample.count(b"\n")
    if not lines:
        return None
    return max(1, round(size / (len(sample) / lines)) - 1)  # less the header


# Columns ------------------------------------------------------------------------------


class ColumnProfiler:
    kind = "other"

    def __init__(self, field: pa.Field) -> None:
        self.name = field.name
        self.type = str(field.type)
        self.nulls = 0

    def add(self, array: pa.Array) -> None:
        self.nulls += array.null_count

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "nulls": self.nulls,
            "distinct": None,
            "distinct_exact": False,
        }


def column_profiler(field: pa.Field) -> ColumnProfiler:
    kind = field.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return NumberProfiler(field)
    if pa.types.is_boolean(kind) or _is_text(kind):
        return CategoryProfiler(field)
    return ColumnProfiler(field)


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _plain(array: pa.Array) -> pa.Array:
    """Dictionary-encoded columns (Parquet categoricals) as plain values."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_string_view(array.type):
        array = array.cast(pa.large_string())
    return array


class DistinctNumbers:
    """Distinct finite numbers: the exact sorted set up to ``EXACT_DISTINCT``, then HLL."""

    def __init__(self) -> None:
        self.seen: FloatArray | None = np.empty(0)
        self.sketch: HyperLogLog | None = None

    def add_sorted(self, values: FloatArray) -> None:
        if not len(values):
            return
        unique = values[np.concatenate(([True], values[1:] != values[:-1]))]
        if self.sketch is not None:
            self.sketch.add(hash_numbers(unique))
            return
        assert self.seen is not None
        both = np.sort(np.concatenate((self.seen, unique)), kind="stable")  # two sorted runs
        self.seen = both[np.concatenate(([True], both[1:] != both[:-1]))]
        if len(self.seen) > EXACT_DISTINCT:
            self.sketch = HyperLogLog()
            self.sketch.add(hash_numbers(self.seen))
            self.seen = None

    def result(self) -> tuple[int, bool]:
        if self.sketch is not None:
            return self.sketch.estimate(), False
        assert self.seen is not None
        return len(self.seen), True


class NumberProfiler(ColumnProfiler):
    kind = "number"

    def __init__(self, field: pa.Field) -> None:
        super().__init__(field)
        value_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        self.integer = pa.types.is_integer(value_type)
        self.count = 0
        self.non_finite = 0
        self.mean = 0.0
        self.m2 = 0.0  # sum of squared deviations from the mean
        self.low: float | int | None = None
        self.high: float | int | None = None
        self.quantiles = QuantileSketch()
        self.histogram: GridHistogram | None = None
        self.distinct = DistinctNumbers()

    def add(self, array: pa.Array) -> None:
        super().add(array)
        array = _plain(array)
        if array.null_count:
            array = array.drop_null()
        if pa.types.is_decimal(array.type):
            array = array.cast(pa.float64())
        ordered = np.sort(array.to_numpy(zero_copy_only=False))
        if not len(ordered):
            return
        if self.integer:
            self._extremes(int(ordered[0]), int(ordered[-1]))
            values = ordered.astype(np.float64)
        else:
            values = self._finite(ordered.astype(np.float64, copy=False))
            if not len(values):
                return
            self._extremes(float(values[0]), float(values[-1]))
        self._moments(values)
        self.quantiles.add_sorted(values)
        if self.histogram is None:
            integral = self.integer or bool(np.all(values == np.floor(values)))
            self.histogram = GridHistogram(integral=integral)
        self.histogram.add_sorted(values)
        self.distinct.add_sorted(values)

    def _finite(self, ordered: FloatArray) -> FloatArray:
        # Sorted: -inf first, then the finite values, then +inf and NaN.
        start = int(np.searchsorted(ordered, -np.inf, side="right"))
        stop = int(np.searchsorted(ordered, np.inf, side="left"))
        self.non_finite += len(ordered) - (stop - start)
        return ordered[start:stop]

    def _extremes(self, low: float | int, high: float | int) -> None:
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def _moments(self, values: FloatArray) -> None:
        count = len(values)
        mean = float(values.mean())
        m2 = float(values.var()) * count
        total = self.count + count
        delta = mean - self.mean
        self.mean += delta * count / total
        self.m2 += m2 + delta * delta * self.count * count / total
        self.count = total

    def as_json(self) -> dict[str, Any]:
        data = super().as_json()
        data["distinct"], data["distinct_exact"] = self.distinct.result()
        data["non_finite"] = self.non_finite
        found = self.quantiles.quantiles(list(QUANTILES.values()))
        data.update(
            min=self.low,
            max=self.high,
            mean=self.mean if self.count else None,
            std=math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else None,
            quantiles=dict(zip(QUANTILES, found, strict=True)) if found else None,
            histogram=self.histogram.as_json() if self.histogram else None,
        )
        return data


class ValueCounts:
    """How often each value occurs: exact while there are at most ``EXACT_DISTINCT``
    values, then the ``TOP_KEPT`` most frequent (lower bounds) plus a HyperLogLog."""

    def __init__(self, value_type: pa.DataType) -> None:
        self.values = pa.array([], type=value_type)
        self.counts = pa.array([], type=pa.int64())
        self.sketch: HyperLogLog | None = None

    def add(self, values: pa.Array, counts: pa.Array) -> None:
        if self.sketch is not None and not pa.types.is_boolean(values.type):
            self.sketch.add(hash_strings(values))
        merged = (
            pa.table(
                {
                    "value": pa.concat_arrays([self.values, values]),
                    "count": pa.concat_arrays([self.counts, counts.cast(pa.int64())]),
                }
            )
            .group_by("value")
            .aggregate([("count", "sum")])
        )
        self.values, self.counts = merged["value"].combine_chunks(), merged["count_sum"]
        self.counts = self.counts.combine_chunks()
        if self.sketch is None and len(self.values) > EXACT_DISTINCT:
            self.sketch = HyperLogLog()
            self.sketch.add(hash_strings(self.values))
        if self.sketch is not None:
            self.values, self.counts = self.top(TOP_KEPT)

    def top(self, count: int) -> tuple[pa.Array, pa.Array]:
        table = pa.table({"value": self.values, "count": self.counts})
        order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("value", "ascending")])
        kept = table.take(order[:count])
        return kept["value"].combine_chunks(), kept["count"].combine_chunks()

    def distinct(self) -> tuple[int, bool]:
        if self.sketch is not None:
            return self.sketch.estimate(), False
        return len(self.values), True


class CategoryProfiler(ColumnProfiler):
    kind = "category"

    def __init__(self, field: pa.Field) -> None:
        super().__init__(field)
        value_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_string_view(value_type):
            value_type = pa.large_string()
        self.counts = ValueCounts(value_type)
        self.present = 0

    def add(self, array: pa.Array) -> None:
        super().add(array)
        array = _plain(array)
        if array.null_count:
            array = array.drop_null()
        self.present += len(array)
        if len(array):
            found = pc.value_counts(array)
            self.counts.add(found.field("values"), found.field("counts"))

    def as_json(self) -> dict[str, Any]:
        data = super().as_json()
        data["distinct"], data["distinct_exact"] = self.counts.distinct()
        values, counts = self.counts.top(TOP_SHOWN)
        top = [
            {"value": value, "count": count}
            for value, count in zip(values.to_pylist(), counts.to_pylist(), strict=True)
        ]
        data["top"] = top
        data["top_exact"] = self.counts.sketch is None
        data["histogram"] = {
            "values": [item["value"] for item in top],
            "counts": [item["count"] for item in top],
            "other": self.present - sum(item["count"] for item in top),
        }
        return data
