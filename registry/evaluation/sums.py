"""Sums of floats kept exactly, so a streamed metric does not depend on how the rows were
batched nor on their order: each float64 is an integer multiple of 2**-1127 (its 53-bit
mantissa times a power of two), and the sum of those integers is a Python int. A value is
rounded once, when it is read. Pure."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

SCALE = 1074 + 53  # every finite float64 is an integer times 2**-SCALE
HALF = 26  # mantissas are summed in two halves so an int64 never overflows
CHUNK = 1 << 20  # values summed at a time: 2**27 * 2**20 stays exact in float64 and int64


class ExactSums:
    """``groups`` exact sums of float64 values; a non-finite value makes its sum NaN or an
    infinity, as float addition would."""

    def __init__(self, groups: int = 1) -> None:
        self.totals = [0] * groups
        self.special = [0.0] * groups  # infinities and NaN, added as floats

    def grow(self, groups: int) -> None:
        missing = groups - len(self.totals)
        if missing > 0:
            self.totals += [0] * missing
            self.special += [0.0] * missing

    def add(self, values: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Add each value to its group's sum (group 0 when ``groups`` is None)."""
        values = np.asarray(values, dtype=np.float64).ravel()
        if groups is None:
            groups = np.zeros(len(values), dtype=np.intp)
        for start in range(0, len(values), CHUNK):
            self._add(values[start : start + CHUNK], groups[start : start + CHUNK])

    def _add(self, values: np.ndarray, groups: np.ndarray) -> None:
        finite = np.isfinite(values)
        if not finite.all():
            for group, value in zip(
                groups[~finite].tolist(), values[~finite].tolist(), strict=True
            ):
                self.special[group] += value
            values, groups = values[finite], groups[finite]
        if not len(values):
            return
        mantissa, exponent = np.frexp(values)
        whole = (mantissa * float(1 << 53)).astype(np.int64)  # exact: 53 bits
        exponents, where = np.unique(exponent, return_inverse=True)
        cells = groups.astype(np.int64) * len(exponents) + where
        size = len(self.totals) * len(exponents)
        # Each half is below 2**27, so a chunk's sums are integers below 2**53: exact.
        high = np.bincount(cells, weights=whole >> HALF, minlength=size)
        low = np.bincount(cells, weights=whole & ((1 << HALF) - 1), minlength=size)
        for cell in np.flatnonzero((high != 0) | (low != 0)).tolist():
            group, index = divmod(cell, len(exponents))
            count = (int(high[cell]) << HALF) + int(low[cell])
            self.totals[group] += count << int(exponents[index]) + SCALE - 53

    def merge(self, other: ExactSums, into: int = 0, source: int = 0) -> None:
        self.totals[into] += other.totals[source]
        self.special[into] += other.special[source]

    def exact(self, group: int = 0) -> Fraction:
        return Fraction(self.totals[group], 1 << SCALE)

    def value(self, group: int = 0, divide: int = 1) -> float:
        """The sum (divided by ``divide``), rounded once."""
        if self.special[group]:
            return self.special[group]
        return self.totals[group] / ((1 << SCALE) * divide)
