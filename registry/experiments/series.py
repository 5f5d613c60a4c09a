"""Metric series stored as packed chunks: one row per metric key of a logged batch.

A chunk holds its points as little-endian int64 steps, float64 values and int64 timestamps
(milliseconds since the epoch), in the order they were logged. Reading a series gathers its
chunks in one query and orders the points by (step, timestamp); equal points keep the
order they were logged in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from registry.experiments.models import MetricChunk, Run
from registry.experiments.times import milliseconds as milliseconds_of

STEP, VALUE, STAMP = np.dtype("<i8"), np.dtype("<f8"), np.dtype("<i8")


@dataclass(frozen=True)
class Arrays:
    """One series, or part of one: three arrays of equal length."""

    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    stamps: npt.NDArray[np.int64]  # milliseconds since the epoch

    def __len__(self) -> int:
        return len(self.steps)

    def points(self) -> list[tuple[int, float, int]]:
        """(step, value, milliseconds) tuples, for code that walks points one by one."""
        return list(
            zip(self.steps.tolist(), self.values.tolist(), self.stamps.tolist(), strict=True)
        )


def milliseconds(moments: Sequence[datetime]) -> list[int]:
    """Aware times as whole milliseconds since the epoch; a batch often repeats one time."""
    known: dict[datetime, int] = {}
    out = []
    for moment in moments:
        value = known.get(moment)
        if value is None:
            value = known[moment] = milliseconds_of(moment)
        out.append(value)
    return out


def chunk(run: Run, key: str, series: Arrays) -> MetricChunk:
    """The chunk row holding ``series`` of ``key``."""
    return MetricChunk(
        run=run,
        key=key,
        first_step=int(series.steps.min()),
        last_step=int(series.steps.max()),
        count=len(series),
        steps=series.steps.astype(STEP).tobytes(),
        values=series.values.astype(VALUE).tobytes(),
        timestamps=series.stamps.astype(STAMP).tobytes(),
    )


def read(run_ids: Iterable[int], keys: Iterable[str]) -> dict[tuple[int, str], Arrays]:
    """Every series of ``keys`` in ``run_ids``, each in (step, timestamp) order: one query."""
    return dict(iterate(run_ids, keys))


def iterate(
    run_ids: Iterable[int], keys: Iterable[str]
) -> Iterator[tuple[tuple[int, str], Arrays]]:
    """``read``, one series at a time, so memory holds one series however many are read."""
    rows = (
        MetricChunk.objects.filter(run_id__in=list(run_ids), key__in=list(keys))
        .order_by("run_id", "key", "first_step", "pk")
        .values_list("run_id", "key", "steps", "values", "timestamps")
    )
    current: tuple[int, str] | None = None
    pieces: list[Arrays] = []
    for run_id, key, steps, values, stamps in rows.iterator(chunk_size=100):
        if (run_id, key) != current:
            if current is not None:
                yield current, _ordered(pieces)
            current, pieces = (run_id, key), []
        pieces.append(
            Arrays(
                np.frombuffer(steps, dtype=STEP),
                np.frombuffer(values, dtype=VALUE),
                np.frombuffer(stamps, dtype=STAMP),
            )
        )
    if current is not None:
        yield current, _ordered(pieces)


def _ordered(pieces: list[Arrays]) -> Arrays:
    steps = np.concatenate([p.steps for p in pieces])
    values = np.concatenate([p.values for p in pieces])
    stamps = np.concatenate([p.stamps for p in pieces])
    if len(steps) > 1 and (np.any(steps[1:] < steps[:-1]) or np.any(stamps[1:] < stamps[:-1])):
        order = np.lexsort((stamps, steps))  # stable: ties keep the order logged
        steps, values, stamps = steps[order], values[order], stamps[order]
    return Arrays(steps, values, stamps)
