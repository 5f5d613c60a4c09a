"""Columns read in chunks, compared with ``stats``: whole (exact mode) or through stored
reference summaries and accumulators (bounded mode). No Django: the report service reads,
this compares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from registry.monitoring.parallel import in_parallel
from registry.monitoring.reading import Chunk, Column
from registry.monitoring.selection import ColumnKind, Mode
from registry.monitoring.stats import (
    ColumnResult,
    CurrentAccumulator,
    ReferenceSummary,
    column_drift,
    column_drift_bounded,
)

Progress = Callable[[int], None]  # told the rows read so far, after each chunk


class Collected:
    """Every chunk of each column, joined once at the end."""

    def __init__(self, names: Iterable[str]) -> None:
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        self.rows = 0

    def add(self, chunk: Chunk) -> None:
        for name, parts in self._parts.items():
            parts.append(_compact(chunk[name]))
        self.rows += len(next(iter(chunk.values()))) if chunk else 0

    def column(self, name: str) -> np.ndarray:
        parts = self._parts.pop(name)  # each column is compared once: free it after
        return np.concatenate(parts) if parts else np.empty(0)


def _compact(values: np.ndarray) -> np.ndarray:
    # Python strings cost ~55 bytes each; a fixed-width array of their text a few.
    if values.dtype.kind == "O" and values.size:
        present = np.not_equal(values, np.array(None))
        if present.all():
            return values.astype(str)
    return values


def collect(chunks: Iterable[Chunk], names: Sequence[str], progress: Progress) -> Collected:
    collected = Collected(names)
    for chunk in chunks:
        collected.add(chunk)
        progress(collected.rows)
    return collected


def compare_exact(
    reference: Collected,
    current: Collected,
    columns: Sequence[Column],
    mode: Mode,
) -> dict[str, ColumnResult]:
    def compare(column: Column) -> ColumnResult:
        # Joined inside the thread, so only the columns at work are whole at once.
        return column_drift(
            reference.column(column.name),
            current.column(column.name),
            kind=column.kind,
            test=column.test or None,
            threshold=column.threshold,
            mode=mode,
        )

    return in_parallel({column.name: partial(compare, column) for column in columns})


def accumulate(
    summaries: Mapping[str, ReferenceSummary],
    chunks: Iterable[Chunk],
    columns: Sequence[Column],
    progress: Progress,
) -> dict[str, CurrentAccumulator]:
    """The current window, chunk by chunk, into one accumulator per column."""
    accumulators = {c.name: CurrentAccumulator(c.kind, summaries[c.name]) for c in columns}
    rows = 0
    for chunk in chunks:
        for name, accumulator in accumulators.items():
            accumulator.add(chunk[name])
        rows += len(next(iter(chunk.values()))) if chunk else 0
        progress(rows)
    return accumulators


def compare_bounded(
    summaries: Mapping[str, ReferenceSummary],
    accumulators: Mapping[str, CurrentAccumulator],
    columns: Sequence[Column],
    mode: Mode,
) -> dict[str, ColumnResult]:
    return {
        column.name: column_drift_bounded(
            summaries[column.name],
            accumulators[column.name],
            test=column.test or None,
            threshold=column.threshold,
            mode=mode,
        )
        for column in columns
    }


def summarise(values: np.ndarray, kind: ColumnKind) -> ReferenceSummary:
    return ReferenceSummary.from_values(values, kind)


def ranked(
    results: Mapping[str, ColumnResult], critical: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Stored form: one dict per column, the most drifted first."""
    marked = set(critical)
    rows = [
        {"name": name, **result.as_dict(), "critical": name in marked}
        for name, result in results.items()
    ]
    return sorted(rows, key=lambda row: (not row["drifted"], -row["score"], row["name"]))
