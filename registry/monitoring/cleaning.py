"""Input columns made comparable: missing values, infinities and stray types taken out. Pure.

Evidently drops NaN and ±inf before any test, and so does Handoff; what was dropped is
counted so the report can say so. Categories are compared as strings, so a summary
stored as JSON and the values streamed later still match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Cleaned:
    values: np.ndarray  # finite floats, or category strings
    missing: int = 0
    infinite: int = 0
    invalid: int = 0  # present but not a number, in a numeric column
    integer: bool = False  # integer dtype with nothing dropped: numpy bins it differently

    def notes(self, side: str) -> list[str]:
        return dropped_notes(side, self.missing, self.infinite, self.invalid)


def dropped_notes(side: str, missing: int, infinite: int, invalid: int) -> list[str]:
    notes = []
    if missing:
        notes.append(f"{missing} missing values in {side} dropped")
    if infinite:
        notes.append(f"{infinite} infinities in {side} dropped")
    if invalid:
        notes.append(f"{invalid} values in {side} are not numbers: dropped")
    return notes


def present_mask(values: np.ndarray) -> npt.NDArray[np.bool_]:
    """False for None and NaN (NaN is the one value unequal to itself)."""
    if values.dtype.kind in "fc":
        return ~np.isnan(values)
    if values.dtype.kind != "O":
        return np.ones(values.shape, dtype=bool)
    return np.not_equal(values, np.array(None)) & (values == values)


def clean_numeric(values: npt.ArrayLike) -> Cleaned:
    array = np.asarray(values).ravel()
    if array.dtype.kind == "f":
        return _clean_floats(array.astype(np.float64, copy=False))
    integer = array.dtype.kind in "iu"
    present = present_mask(array)
    missing = int(array.size - np.count_nonzero(present))
    kept = array[present] if missing else array
    floats, invalid = _as_floats(kept)
    finite = np.isfinite(floats)
    infinite = int(np.count_nonzero(~finite[~np.isnan(floats)]))
    if invalid or infinite:
        floats = floats[finite]
    return Cleaned(floats, missing, infinite, invalid, integer and not missing)


def _clean_floats(floats: FloatArray) -> Cleaned:
    """``clean_numeric`` for floats: one pass when every value is finite, as most are."""
    finite = np.isfinite(floats)
    kept = int(np.count_nonzero(finite))
    if kept == floats.size:
        return Cleaned(floats)
    missing = int(np.count_nonzero(np.isnan(floats)))
    return Cleaned(floats[finite], missing, floats.size - kept - missing)


def clean_categorical(values: npt.ArrayLike) -> Cleaned:
    array = np.asarray(values).ravel()
    present = present_mask(array)
    missing = int(array.size - np.count_nonzero(present))
    kept = array[present] if missing else array
    if kept.dtype.kind != "U":
        kept = kept.astype(str)
    return Cleaned(kept, missing)


def _as_floats(values: np.ndarray) -> tuple[FloatArray, int]:
    """Floats, with the number of values that are no number at all (turned into NaN)."""
    try:
        return values.astype(np.float64, copy=False), 0
    except (TypeError, ValueError):
        # Only a column holding text reaches this per-value path.
        floats = np.fromiter((_to_float(v) for v in values), np.float64, values.size)
        return floats, int(np.count_nonzero(np.isnan(floats)))


def _to_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
