"""What a drift check returns, per column and for the dataset, ready for JSON. Pure."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from registry.monitoring.selection import ColumnKind, Mode, StatTest

DATASET_SHARE = 0.5  # Evidently: the dataset drifts when at least half its columns do


@dataclass(frozen=True)
class ColumnResult:
    test: StatTest
    statistic: float | None  # D, chi-square, z, A2, or the distance itself
    p_value: float | None  # None for distances
    threshold: float | None
    drifted: bool
    score: float  # orders columns by drift: 1 - p for tests, the distance for distances
    kind: ColumnKind
    mode: Mode
    n_reference: int
    n_current: int
    reference_histogram: dict[str, Any] = field(default_factory=dict)
    current_histogram: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    band: str | None = None  # PSI only: "none", "moderate" or "major"
    exact: bool = True  # False when the bounded mode had to approximate the statistic
    error_bound: float | None = None  # bounded mode: |statistic - exact statistic| at most this

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as strings, and an infinite statistic (Evidently's chi-square
        with a new category) or NaN as None."""
        data = asdict(self)
        for key in ("statistic", "p_value", "error_bound"):
            value = data[key]
            if value is not None and not math.isfinite(value):
                data[key] = None
        data["test"], data["kind"], data["mode"] = str(self.test), str(self.kind), str(self.mode)
        return data


@dataclass(frozen=True)
class DatasetResult:
    n_columns: int
    n_drifted: int
    share: float  # drifted columns / columns
    threshold: float
    drifted: bool
    drifted_columns: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_drift(columns: dict[str, ColumnResult], share: float = DATASET_SHARE) -> DatasetResult:
    """The dataset drifts when the share of drifted columns is at least ``share``."""
    drifted = sorted(name for name, result in columns.items() if result.drifted)
    fraction = len(drifted) / len(columns) if columns else 0.0
    return DatasetResult(
        n_columns=len(columns),
        n_drifted=len(drifted),
        share=fraction,
        threshold=share,
        drifted=bool(columns) and fraction >= share,
        drifted_columns=drifted,
    )
