"""Masks over one batch of a column: true where a value breaks a contract rule (null where
the rule says nothing of it), and the messages that count them. Pure: pyarrow.compute,
never a Python loop over rows."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from registry.evaluation.contract_rules import counted, is_number

Mask = Callable[[pa.Array], pa.Array]
NUMBER_TEXT = r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$"


def nulls(array: pa.Array) -> pa.Array:
    return array.is_null()


def present(array: pa.Array) -> pa.Array:
    return array.is_valid()


def not_finite(array: pa.Array) -> pa.Array:
    if pa.types.is_decimal(array.type):
        return pc.is_null(array)  # a decimal is always finite; nulls are not counted here
    return pc.invert(pc.is_finite(array))


def fractional(array: pa.Array) -> pa.Array:
    if pa.types.is_decimal(array.type):
        array = array.cast(pa.float64())
    return pc.and_(pc.is_finite(array), pc.not_equal(array, pc.floor(array)))


def not_number_text(array: pa.Array) -> pa.Array:
    return pc.invert(pc.match_substring_regex(array, NUMBER_TEXT))


def text_fractional(array: pa.Array) -> pa.Array:
    return fractional(parsed(array))


def parsed(array: pa.Array) -> pa.Array:
    """Text read as numbers; text that is no number becomes null (its type check counts it)."""
    numeric = pc.match_substring_regex(array, NUMBER_TEXT)
    kept = pc.if_else(numeric, pc.utf8_trim_whitespace(array), pa.scalar(None, array.type))
    return pc.cast(kept, pa.float64())


def plain_values(array: pa.Array) -> pa.Array:
    if pa.types.is_decimal(array.type):
        return array.cast(pa.float64())
    if pa.types.is_string_view(array.type):
        return array.cast(pa.large_string())
    return array


def outside(allowed: list[Any], values_are: str) -> Mask:
    """Values not among ``allowed`` (members of another JSON type never match)."""
    if values_are in ("number", "parsed"):
        members = [float(v) for v in allowed if is_number(v)]
        value_set = pa.array(members, type=pa.float64())

        def outside_numbers(values: pa.Array) -> pa.Array:
            found = pc.is_in(values.cast(pa.float64()), value_set=value_set)
            return pc.and_(pc.invert(found), values.is_valid())

        return outside_numbers
    if values_are == "boolean":
        value_set = pa.array([v for v in allowed if isinstance(v, bool)], type=pa.bool_())
    else:
        value_set = pa.array([v for v in allowed if isinstance(v, str)], type=pa.large_string())

    def outside(values: pa.Array) -> pa.Array:
        typed = values.cast(value_set.type) if values.type != value_set.type else values
        found = pc.is_in(typed, value_set=value_set)
        return pc.and_(pc.invert(found), values.is_valid())

    return outside


BOUND_CHECKS: dict[tuple[str, bool], tuple[Callable[..., pa.Array], str]] = {
    ("minimum", False): (pc.less, "below"),
    ("minimum", True): (pc.less_equal, "at or below"),
    ("maximum", False): (pc.greater, "above"),
    ("maximum", True): (pc.greater_equal, "at or above"),
}


def said(words: str) -> Callable[[int], str]:
    """A problem's message: its count, then ``words``."""
    return lambda count: f"{counted(count)} {words}"


def compared(
    compare: Callable[..., pa.Array], limit: float, *, measure: Mask | None = None
) -> Mask:
    """True where ``compare(value, limit)`` holds (of ``measure(value)`` when given)."""

    def mask(values: pa.Array) -> pa.Array:
        return compare(measure(values) if measure else values, pa.scalar(limit))

    return mask


def not_finite_message(count: int) -> str:
    return f"{counted(count)} NaN or infinite, which no request can carry"


def fraction_message(count: int) -> str:
    return f"{counted(count)} with a fractional part where the contract says integer"


def text_message(wanted: set[str]) -> Callable[[int], str]:
    noun = "number" if "number" in wanted else "integer"
    return lambda count: f"{counted(count)} of text that is not a {noun}"


def json_value(value: Any) -> Any:
    """A cell as JSON can carry it (and a person can read it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value[:100].hex()
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    if isinstance(value, list | dict):
        return str(value)[:200]
    return value
