"""Figures on the dataset pages: ``{{ dataset.row_count|figure }}``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def figure(value: Any) -> str:
    """A figure as a table shows it: whole numbers and anything past 1,000 with separators,
    smaller fractions to 4 significant digits, the very large in exponent form."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1e15 or not (value.is_integer() or abs(value) >= 1_000):
            return f"{value:.4g}"
        return f"{value:,.0f}"
    return str(value)
