"""Optimistic concurrency: an edit names the revision it was based on, or it is refused.

Rows that people edit in forms and through the API carry a ``revision`` counter. A service
locks the row, compares the counter with the revision the editor started from, and bumps
it on save. A stale edit raises ``StaleEdit``: the API answers 409 and the pages show what
changed, so a later save never silently reverts an earlier one.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class StaleEdit(Exception):
    """The row changed after the editor loaded it."""

    def __init__(self, *, target: models.Model, expected: int, current: int) -> None:
        self.target = target
        self.expected = expected
        self.current = current
        super().__init__(
            f"{target} was changed by someone else after you loaded it (you edited revision "
            f"{expected}, it is now at revision {current}). Reload it, reapply your change "
            "and save again."
        )


def check_revision(locked: Any, expected: int | None) -> None:
    """Raise StaleEdit unless ``expected`` is None or the locked row's current revision."""
    if expected is not None and locked.revision != expected:
        raise StaleEdit(target=locked, expected=expected, current=locked.revision)


def next_revision(locked: Any, *copies: Any) -> list[str]:
    """Bump the revision of the locked row (and in-memory copies); the update_fields entry."""
    locked.revision += 1
    for copy in copies:
        copy.revision = locked.revision
    return ["revision"]
