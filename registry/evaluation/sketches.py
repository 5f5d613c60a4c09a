"""Fixed-size summaries of a column read a batch at a time. Pure: numpy and pyarrow only.

Each summary takes one batch after another and never holds more than a bounded amount,
however many rows pass through, so a dataset of any size profiles in bounded memory:

* ``QuantileSketch``: a merging t-digest. Centroids are sized by the arcsine scale, small
  at the tails and larger in the middle, so p01 and p99 stay as accurate as the median; at
  most about ``compression / 2`` centroids are kept.
* ``HyperLogLog``: a distinct-count estimate from 2**14 one-byte registers (about ±0.8 %).
* ``GridHistogram``: exact counts in at most ``MAX_BINS`` bins whose width is a power of
  two, so when a batch widens the range, neighbouring bins merge exactly (no rebinning).

The experiments' ``registry.experiments.sketch`` keeps the shape of a metric series for a
chart (lowest and highest point per step range); it answers no quantile, hence these.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa

FloatArray = npt.NDArray[np.float64]
HashArray = npt.NDArray[np.uint64]

# splitmix64's constants: a cheap mix that spreads any 64-bit input over all 64 bits.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_STRING_BASE = np.uint64(0x100000001B3)  # FNV's prime: the base of the polynomial string hash


# Quantiles ----------------------------------------------------------------------------


class QuantileSketch:
    """Quantiles of every value added, from a bounded set of weighted centroids."""

    def __init__(self, compression: int = 1000) -> None:
        self.compression = compression
        self.count = 0
        self.min = math.inf
        self.max = -math.inf
        self.means: FloatArray = np.empty(0)
        self.weights: FloatArray = np.empty(0)
        # Interior cluster boundaries as quantiles: the arcsine scale
        # k(q) = compression / (2 pi) * asin(2q - 1) crosses an integer at each.
        limit = compression // 4
        steps = np.arange(-limit + 1, limit)
        self._bounds = (np.sin(2 * np.pi * steps / compression) + 1) / 2

    def add_sorted(self, values: FloatArray) -> None:
        """Fold in ``values``: finite, in ascending order.

        The batch is first cut into centroids of its own (its ranks are its positions, so
        no running sum over it is needed), then merged with the kept ones: the usual merge
        of two digests, at the cost of a few hundred centroids rather than the batch.
        """
        count = len(values)
        if not count:
            return
        self.min = min(self.min, float(values[0]))
        self.max = max(self.max, float(values[-1]))
        starts = np.unique(np.ceil(self._bounds * count - 0.5).astype(np.intp).clip(0, count - 1))
        starts = np.concatenate(([0], starts[starts > 0]))
        weights = np.diff(np.concatenate((starts, [count]))).astype(np.float64)
        means = np.add.reduceat(values, starts) / weights
        self.count += count
        both = np.concatenate((self.means, means))
        order = np.argsort(both, kind="stable")
        merged_weights = np.concatenate((self.weights, weights))[order]
        self.means, self.weights = self._compress(both[order], merged_weights)

    def _compress(self, means: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        # A centroid joins the cluster whose quantile range holds its middle rank.
        middles = np.cumsum(weights) - weights / 2
        starts = np.searchsorted(middles, self._bounds * self.count)
        starts = np.unique(np.concatenate(([0], starts)))
        starts = starts[starts < len(means)]
        merged_weights = np.add.reduceat(weights, starts)
        merged_means = np.add.reduceat(means * weights, starts) / merged_weights
        # A weighted mean can stray past its neighbour by a rounding error; keep them sorted.
        return np.maximum.accumulate(merged_means), merged_weights

    def quantiles(self, qs: list[float]) -> list[float] | None:
        """The values at quantiles ``qs`` (0 to 1), interpolated between centroid centres;
        None when nothing was added."""
        if not self.count:
            return None
        centres = np.cumsum(self.weights) - self.weights / 2
        ranks = np.concatenate(([0.0], centres, [float(self.count)]))
        values = np.concatenate(([self.min], self.means, [self.max]))
        found = np.interp(np.asarray(qs) * self.count, ranks, values)
        return [float(v) for v in np.clip(found, self.min, self.max)]


# Distinct values ----------------------------------------------------------------------


class HyperLogLog:
    """How many distinct hashes were added, estimated within about ±0.8 %."""

    PRECISION = 14
    REGISTERS = 1 << PRECISION

    def __init__(self) -> None:
        self.registers = np.zeros(self.REGISTERS, dtype=np.uint8)

    def add(self, hashes: HashArray) -> None:
        if not len(hashes):
            return
        rest_bits = 64 - self.PRECISION
        index = (hashes >> np.uint64(rest_bits)).astype(np.intp)
        rest = hashes & np.uint64((1 << rest_bits) - 1)
        # The rank is the position of the lowest set bit: that bit alone is a power of two,
        # which a float holds exactly, so log2 finds it without a loop over bits.
        lowest = rest & (~rest + np.uint64(1))
        with np.errstate(divide="ignore"):
            rank = np.log2(lowest.astype(np.float64)) + 1
        rank[rest == 0] = rest_bits + 1
        np.maximum.at(self.registers, index, rank.astype(np.uint8))

    def estimate(self) -> int:
        m = self.REGISTERS
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.exp2(-self.registers.astype(np.float64))))
        empty = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and empty:
            return round(m * math.log(m / empty))  # linear counting: better for few values
        return round(raw)


def _mix(values: HashArray) -> HashArray:
    z = values + _GAMMA
    shifted = np.empty_like(z)
    # In place: a batch is hashed per column, and fresh arrays cost more than the arithmetic.
    for shift, factor in ((30, _MUL1), (27, _MUL2), (31, None)):
        np.right_shift(z, np.uint64(shift), out=shifted)
        z ^= shifted
        if factor is not None:
            z *= factor
    return z


def hash_numbers(values: npt.NDArray[np.generic]) -> HashArray:
    """64-bit hashes of numbers; equal numbers of one dtype hash alike (0.0 and -0.0 too)."""
    if values.dtype.kind == "f":
        bits = (values.astype(np.float64) + 0.0).view(np.uint64)
    else:
        bits = values.astype(np.int64).view(np.uint64)
    return _mix(bits)


_powers_cache: dict[str, HashArray] = {"powers": np.ones(1, dtype=np.uint64)}


def _powers(length: int) -> HashArray:
    """``_STRING_BASE ** i`` (mod 2**64) for i below ``length``."""
    cached = _powers_cache["powers"]
    if len(cached) < length:
        grown = np.full(max(length, 2 * len(cached)), _STRING_BASE, dtype=np.uint64)
        grown[0] = 1
        cached = _powers_cache["powers"] = np.cumprod(grown, dtype=np.uint64)
    return cached[:length]


def hash_strings(array: pa.Array) -> HashArray:
    """64-bit hashes of the strings of ``array`` (no nulls), computed over its buffers:
    a polynomial of each string's bytes, then mixed with its length."""
    array = array.cast(pa.large_binary())
    count = len(array)
    if not count:
        return np.empty(0, dtype=np.uint64)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=np.int64, count=count + 1, offset=array.offset * 8
    )
    lengths = np.diff(offsets)
    sums = np.zeros(count, dtype=np.uint64)
    if data_buffer is not None and offsets[-1] > offsets[0]:
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        starts = offsets[:-1] - offsets[0]
        position = np.arange(len(data)) - np.repeat(starts, lengths)
        terms = (data.astype(np.uint64) + np.uint64(1)) * _powers(int(lengths.max()))[position]
        filled = lengths > 0
        sums[filled] = np.add.reduceat(terms, starts[filled])
    return _mix(sums ^ _mix(lengths.astype(np.uint64)))


# Histograms ---------------------------------------------------------------------------


class GridHistogram:
    """Exact counts over bins ``[k * width, (k + 1) * width)`` with ``width`` a power of two.

    The first batch fixes the width; a later batch outside the range widens it by doubling,
    which merges bin pairs exactly. The bins span the values seen, between ``MAX_BINS / 2``
    and ``MAX_BINS`` of them once the range needs that many. Integral data never gets bins
    narrower than 1.
    """

    MAX_BINS = 40

    def __init__(self, *, integral: bool = False) -> None:
        self.integral = integral
        self.width = 0.0
        self.low = 0  # the index k of the first bin
        self.counts = np.zeros(0, dtype=np.int64)

    def add_sorted(self, values: FloatArray) -> None:
        """Count ``values``: finite, in ascending order."""
        if not len(values):
            return
        first, last = float(values[0]), float(values[-1])
        if not self.width:
            self.width = self._first_width(first, last)
            self.low = math.floor(first / self.width)
        low = min(self.low, math.floor(first / self.width))
        high = max(self.low + len(self.counts) - 1, math.floor(last / self.width))
        while high - low + 1 > self.MAX_BINS:
            self._double()
            low, high = low // 2, high // 2
        self._extend(low, high)
        edges = (np.arange(self.low + 1, self.low + len(self.counts)) * self.width).astype(float)
        cuts = np.searchsorted(values, edges, side="left")
        self.counts += np.diff(np.concatenate(([0], cuts, [len(values)])))

    def _first_width(self, first: float, last: float) -> float:
        spread = last - first
        # Bin indices must stay exact in a float: at most 2**52 of them from zero.
        floor_width = max(abs(first), abs(last)) / 2.0**52
        if self.integral:
            floor_width = max(floor_width, 1.0)
        if spread <= 0:
            floor_width = max(floor_width, 2.0 ** math.floor(math.log2(abs(first))) if first else 1)
        width = 2.0 ** math.ceil(math.log2(max(spread / self.MAX_BINS, floor_width, 2.0**-1074)))
        while math.floor(last / width) - math.floor(first / width) + 1 > self.MAX_BINS:
            width *= 2
        return width

    def _double(self) -> None:
        indices = np.arange(self.low, self.low + len(self.counts)) // 2
        new_low = self.low // 2
        self.counts = np.bincount(indices - new_low, weights=self.counts).astype(np.int64)
        self.low, self.width = new_low, self.width * 2

    def _extend(self, low: int, high: int) -> None:
        if not len(self.counts):
            self.low, self.counts = low, np.zeros(high - low + 1, dtype=np.int64)
            return
        before = self.low - low
        after = high - (self.low + len(self.counts) - 1)
        if before or after:
            self.counts = np.concatenate(
                (np.zeros(before, np.int64), self.counts, np.zeros(after, np.int64))
            )
            self.low = low

    def as_json(self) -> dict[str, list[float] | list[int]]:
        edges = [(self.low + i) * self.width for i in range(len(self.counts) + 1)]
        return {"edges": [float(edge) for edge in edges], "counts": self.counts.tolist()}
