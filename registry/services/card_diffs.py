"""Comparing two model cards, section by section and field by field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from portal.textdiff import line_diff
from registry.models import CARD_METADATA_FIELDS, CARD_SECTIONS, ModelCard
from registry.services.model_cards import empty_value

DiffStatus = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class SectionDiff:
    field: str
    title: str
    status: DiffStatus
    lines: list[tuple[str, str]]  # (op, text) with op in "+", "-", " "


def card_diff(old: ModelCard | None, new: ModelCard) -> list[SectionDiff]:
    """One entry per section, in CARD_SECTIONS order; ``old=None`` means an empty card."""
    diffs = []
    for field, title in CARD_SECTIONS:
        before = getattr(old, field) if old is not None else ""
        after = getattr(new, field)
        status = _status(before, after)
        lines = [] if status == "unchanged" else line_diff(before, after)
        diffs.append(SectionDiff(field=field, title=title, status=status, lines=lines))
    return diffs


def _status(before: str, after: str) -> DiffStatus:
    if before == after:
        return "unchanged"
    if not before.strip():
        return "added"
    if not after.strip():
        return "removed"
    return "changed"


def metadata_diff(old: ModelCard | None, new: ModelCard) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for each metadata field that differs.

    With ``old=None`` the old value is the field's empty value ("" or []).
    """
    changes = []
    for field in CARD_METADATA_FIELDS:
        after = getattr(new, field)
        before = getattr(old, field) if old is not None else empty_value(field)
        if before != after:
            changes.append((field, before, after))
    return changes
