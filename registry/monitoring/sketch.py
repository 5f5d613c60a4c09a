"""Fixed-size summaries for the bounded mode: a reference summary stored once, and a current
window counted chunk by chunk onto the reference's grid. Pure.

A numeric reference becomes a grid of points (every distinct value when there are at most
``EXACT_DISTINCT``, else 2,048 quantiles; plus 2,048 evenly spaced values) with exact counts:
how many values sit on each point, and how many lie strictly between two neighbouring
points (with the sum of their offsets from the left point). Current values are counted on
the same grid; those beyond the reference's range go to two power-of-two histograms that
merge neighbouring bins exactly when the range grows, plus exact sums of their distances
from the range. Nothing here grows with the number of rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from registry.monitoring.cleaning import clean_categorical, clean_numeric, dropped_notes
from registry.monitoring.discrete import FloatArray, IntArray
from registry.monitoring.exact import aligned, distinct_sorted
from registry.monitoring.selection import ColumnKind

EXACT_DISTINCT = 10_000  # a reference with at most this many distinct values is kept whole
GRID_QUANTILES = 2048  # otherwise: reference quantiles, so each cell holds <= 1/2048 of it ...
GRID_EVEN = 2048  # ... and evenly spaced values, so no cell is wider than 1/2048 of the range
BUFFER = 10_000  # a current window this small is kept whole (scipy's exact KS limit too)
NEW_VALUES = 1_000  # current values off a whole reference's points, counted one by one
MAX_CATEGORIES = 100_000  # current categories counted one by one; the rarest beyond are lumped
OUTSIDE_BINS = 1024  # bins of each histogram beyond the reference's range


@dataclass
class Grid:
    """Exact counts on sorted points and in the open cells between neighbours."""

    points: FloatArray
    point_counts: IntArray
    cell_counts: IntArray
    cell_offsets: FloatArray  # per cell, the sum of (value - left point)

    @classmethod
    def empty(cls, points: FloatArray) -> Grid:
        cells = max(points.size - 1, 0)
        counts = np.zeros(points.size, np.int64)
        return cls(points, counts, np.zeros(cells, np.int64), np.zeros(cells))

    def add(self, values: FloatArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count ``values``; return masks of those below, above and off the points."""
        points, size = self.points, self.points.size
        if not size:  # an empty reference: nothing to count on
            nowhere = np.zeros(values.size, dtype=bool)
            return nowhere, nowhere, ~nowhere
        index = np.searchsorted(points, values, side="left")
        on_point = index < size
        on_point[on_point] = points[index[on_point]] == values[on_point]
        self.point_counts += np.bincount(index[on_point], minlength=size)
        off = ~on_point
        inside = off & (index > 0) & (index < size)
        cell = index[inside] - 1
        self.cell_counts += np.bincount(cell, minlength=size - 1)
        self.cell_offsets += np.bincount(
            cell, weights=values[inside] - points[cell], minlength=size - 1
        )
        return off & (index == 0), index == size, off

    def as_json(self) -> dict[str, list[Any]]:
        return {
            "points": self.points.tolist(),
            "point_counts": self.point_counts.tolist(),
            "cell_counts": self.cell_counts.tolist(),
            "cell_offsets": self.cell_offsets.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, list[Any]]) -> Grid:
        return cls(
            np.asarray(data["points"], dtype=np.float64),
            np.asarray(data["point_counts"], dtype=np.int64),
            np.asarray(data["cell_counts"], dtype=np.int64),
            np.asarray(data["cell_offsets"], dtype=np.float64),
        )


@dataclass
class ReferenceSummary:
    """Everything the bounded mode needs of a reference column, computed once and stored."""

    kind: ColumnKind
    n: int
    missing: int = 0
    infinite: int = 0
    invalid: int = 0
    integer: bool = False
    distinct: int = 0
    std: float = 0.0  # numpy's (population) std: Evidently's Wasserstein norm
    grid: Grid | None = None
    categories: np.ndarray | None = None  # sorted strings
    counts: IntArray | None = None

    @classmethod
    def from_values(cls, values: npt.ArrayLike, kind: ColumnKind | str) -> ReferenceSummary:
        kind = ColumnKind(kind)
        if kind == ColumnKind.CATEGORICAL:
            cleaned = clean_categorical(values)
            keys, counts = np.unique(cleaned.values, return_counts=True)
            return cls(
                kind,
                n=int(counts.sum()),
                missing=cleaned.missing,
                distinct=keys.size,
                categories=keys,
                counts=counts.astype(np.int64),
            )
        cleaned = clean_numeric(values)
        ordered = np.sort(cleaned.values)
        keys = distinct_sorted(ordered)
        points = _grid_points(ordered, keys)
        grid = Grid.empty(points)
        grid.add(ordered)
        return cls(
            kind,
            n=ordered.size,
            missing=cleaned.missing,
            infinite=cleaned.infinite,
            invalid=cleaned.invalid,
            integer=cleaned.integer,
            distinct=keys.size,
            std=float(np.std(ordered)) if ordered.size else 0.0,
            grid=grid,
        )

    @property
    def exact(self) -> bool:
        """True when every reference value is a point: nothing was summarised away."""
        return self.grid is None or not self.grid.cell_counts.any()

    def notes(self) -> list[str]:
        return dropped_notes("reference", self.missing, self.infinite, self.invalid)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": str(self.kind),
            "n": self.n,
            "missing": self.missing,
            "infinite": self.infinite,
            "invalid": self.invalid,
            "integer": self.integer,
            "distinct": self.distinct,
            "std": self.std,
        }
        if self.grid is not None:
            data["grid"] = self.grid.as_json()
        if self.categories is not None and self.counts is not None:
            data["categories"] = self.categories.tolist()
            data["counts"] = self.counts.tolist()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReferenceSummary:
        categories = data.get("categories")
        return cls(
            kind=ColumnKind(data["kind"]),
            n=data["n"],
            missing=data["missing"],
            infinite=data["infinite"],
            invalid=data["invalid"],
            integer=data["integer"],
            distinct=data["distinct"],
            std=data["std"],
            grid=Grid.from_json(data["grid"]) if "grid" in data else None,
            categories=None if categories is None else np.asarray(categories, dtype=str),
            counts=None if categories is None else np.asarray(data["counts"], dtype=np.int64),
        )


def _grid_points(ordered: FloatArray, distinct: FloatArray) -> FloatArray:
    """Every distinct value if few enough (the reference is then kept whole), else its
    quantiles; with evenly spaced values either way, so that no cell is wide."""
    if not ordered.size:
        return ordered
    if distinct.size <= EXACT_DISTINCT:
        chosen = distinct
    else:
        ranks = np.rint(np.linspace(0, ordered.size - 1, GRID_QUANTILES + 1)).astype(np.int64)
        chosen = ordered[ranks]
    even = np.linspace(ordered[0], ordered[-1], GRID_EVEN + 1)
    return np.unique(np.concatenate([chosen, even]))


class OutsideHistogram:
    """Counts in bins of width ``width * 2**k`` from an anchor; when values need more than
    ``OUTSIDE_BINS`` bins, neighbours merge in pairs, which is exact (no re-binning)."""

    def __init__(self, anchor: float, width: float) -> None:
        self.anchor, self.width = anchor, width
        self.start = 0.0  # index of the first bin, an integer kept as a float
        self.counts: IntArray = np.zeros(0, np.int64)

    def add(self, values: FloatArray) -> None:
        if values.size == 0:
            return
        index = np.floor((values - self.anchor) / self.width)
        low, high = float(index.min()), float(index.max())
        if self.counts.size:
            low, high = min(low, self.start), max(high, self.start + self.counts.size - 1)
        shift = 0
        while _halve(high, shift) - _halve(low, shift) + 1 > OUTSIDE_BINS:
            shift += 1
        if shift:
            self._coarsen(shift)
            index = np.floor(np.ldexp(index, -shift))
            low, high = _halve(low, shift), _halve(high, shift)
        counts = np.zeros(int(high - low) + 1, np.int64)
        if self.counts.size:
            offset = int(self.start - low)
            counts[offset : offset + self.counts.size] = self.counts
        counts += np.bincount((index - low).astype(np.int64), minlength=counts.size)
        self.start, self.counts = low, counts

    def _coarsen(self, shift: int) -> None:
        self.width = math.ldexp(self.width, shift)
        if self.counts.size:
            merged = np.floor(np.ldexp(self.start + np.arange(self.counts.size), -shift))
            self.start = float(merged[0])
            self.counts = np.bincount((merged - merged[0]).astype(np.int64), weights=self.counts)
            self.counts = self.counts.astype(np.int64)

    def edges(self) -> FloatArray:
        steps = self.start + np.arange(self.counts.size + 1, dtype=np.float64)
        return self.anchor + steps * self.width

    def count_below(self, x: float) -> tuple[float, float]:
        """Values below ``x``, interpolated in the bin holding it, and that bin's count."""
        if not self.counts.size:
            return 0.0, 0.0
        position = (x - self.anchor) / self.width - self.start
        whole = min(max(math.floor(position), 0), self.counts.size)
        count = float(self.counts[:whole].sum())
        if whole < self.counts.size and position > 0:
            part = float(self.counts[whole])
            return count + (position - whole) * part, part
        return count, 0.0


def _halve(index: float, times: int) -> float:
    """The index of the bin holding bin ``index`` once bins have merged ``times`` times."""
    return float(math.floor(math.ldexp(index, -times)))


class CurrentAccumulator:
    """A current window, one chunk at a time, in memory bounded whatever its length."""

    def __init__(self, kind: ColumnKind | str, reference: ReferenceSummary) -> None:
        self.kind = ColumnKind(kind)
        if self.kind != reference.kind:
            raise ValueError(f"a {self.kind} window needs a {self.kind} reference")
        self.reference = reference
        self.n = self.missing = self.infinite = self.invalid = 0
        self.integer = True
        if self.kind == ColumnKind.CATEGORICAL:
            self.keys = np.empty(0, dtype=str)
            self.counts: IntArray = np.zeros(0, np.int64)
            self.lumped = 0  # categories past MAX_CATEGORIES
            return
        assert reference.grid is not None
        points = reference.grid.points
        self.min, self.max = math.inf, -math.inf
        self.grid = Grid.empty(points)
        self.buffer: list[FloatArray] | None = []
        self.below_count = self.above_count = 0
        self.below_distance = self.above_distance = 0.0
        low, high = (points[0], points[-1]) if points.size else (0.0, 0.0)
        width = ((high - low) or max(abs(low), 1.0)) / OUTSIDE_BINS
        self.below, self.above = OutsideHistogram(low, width), OutsideHistogram(high, width)
        # Values that are none of a whole reference's points, for per-value shares.
        tracking = points.size > 0 and reference.exact
        self.new_keys: FloatArray | None = np.empty(0) if tracking else None
        self.new_counts: IntArray = np.zeros(0, np.int64)

    def add(self, chunk: npt.ArrayLike) -> None:
        if self.kind == ColumnKind.CATEGORICAL:
            self._add_categories(chunk)
        else:
            self._add_numbers(chunk)

    def notes(self) -> list[str]:
        notes = dropped_notes("current", self.missing, self.infinite, self.invalid)
        if self.kind == ColumnKind.CATEGORICAL and self.lumped:
            notes.append(f"{self.lumped} rows of rare categories past {MAX_CATEGORIES:,} lumped")
        return notes

    def _add_numbers(self, chunk: npt.ArrayLike) -> None:
        cleaned = clean_numeric(chunk)
        self._tally(cleaned.missing, cleaned.infinite, cleaned.invalid)
        self.integer = self.integer and cleaned.integer
        values = cleaned.values
        if values.size == 0:
            return
        self.n += values.size
        self.min, self.max = min(self.min, float(values.min())), max(self.max, float(values.max()))
        if self.buffer is not None:
            self.buffer = [*self.buffer, values.copy()] if self.n <= BUFFER else None
        if not self.grid.points.size:
            return  # no reference values: the check will say so
        below, above, off = self.grid.add(values)
        low, high = self.grid.points[0], self.grid.points[-1]
        self.below_count += int(below.sum())
        self.above_count += int(above.sum())
        self.below_distance += float((low - values[below]).sum())
        self.above_distance += float((values[above] - high).sum())
        self.below.add(values[below])
        self.above.add(values[above])
        if self.new_keys is not None:
            self._track_new(values[off])

    def _track_new(self, values: FloatArray) -> None:
        assert self.new_keys is not None
        keys, counts = np.unique(values, return_counts=True)
        merged = np.union1d(self.new_keys, keys)
        if merged.size > NEW_VALUES:
            self.new_keys = None  # too many: the column is no longer few-valued
            return
        kept = aligned(self.new_keys, self.new_counts, merged)
        self.new_counts = kept + aligned(keys, counts, merged)
        self.new_keys = merged

    def _add_categories(self, chunk: npt.ArrayLike) -> None:
        cleaned = clean_categorical(chunk)
        self._tally(cleaned.missing, 0, 0)
        self.n += cleaned.values.size
        keys, counts = np.unique(cleaned.values, return_counts=True)
        merged = np.union1d(self.keys, keys)
        self.counts = aligned(self.keys, self.counts, merged) + aligned(keys, counts, merged)
        self.keys = merged
        if merged.size > MAX_CATEGORIES:
            keep = np.sort(np.argsort(-self.counts, kind="stable")[:MAX_CATEGORIES])
            self.lumped += int(self.counts.sum() - self.counts[keep].sum())
            self.keys, self.counts = self.keys[keep], self.counts[keep]

    def _tally(self, missing: int, infinite: int, invalid: int) -> None:
        self.missing += missing
        self.infinite += infinite
        self.invalid += invalid
