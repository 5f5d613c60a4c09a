"""Benchmark-like columns (numeric normal, lognormal and uniform, some shifted; categories,
10 to 50, some re-weighted; a few-valued and a binary column) and a bounded-mode runner."""

from __future__ import annotations

import json

import numpy as np

from registry.monitoring.stats import (
    ColumnKind,
    ColumnResult,
    CurrentAccumulator,
    ReferenceSummary,
    column_drift_bounded,
)


def benchmark_columns(
    n: int, seed: int = 0
) -> dict[str, tuple[ColumnKind, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    numeric = ColumnKind.NUMERIC
    columns = {
        "normal": (numeric, rng.normal(size=n), rng.normal(size=n)),
        "normal_shifted": (numeric, rng.normal(size=n), rng.normal(0.2, size=n)),
        "normal_wider": (numeric, rng.normal(size=n), rng.normal(0, 1.1, size=n)),
        "lognormal": (numeric, rng.lognormal(size=n), rng.lognormal(size=n)),
        "lognormal_shifted": (numeric, rng.lognormal(size=n), rng.lognormal(0.2, size=n)),
        "uniform": (numeric, rng.uniform(size=n), rng.uniform(size=n)),
        "uniform_shifted": (numeric, rng.uniform(size=n), rng.uniform(0.1, 1.1, size=n)),
        "rating": (
            numeric,
            rng.integers(1, 6, n),
            rng.choice(5, n, p=[0.1, 0.2, 0.3, 0.2, 0.2]) + 1,
        ),
        "flag": (numeric, rng.integers(0, 2, n), (rng.random(n) < 0.55).astype(int)),
    }
    for k in (10, 20, 50):
        names = np.array([f"c{j:02d}" for j in range(k)])
        same = np.full(k, 1 / k)
        reweighted = same.copy()
        reweighted[: k // 5] *= 2
        reweighted /= reweighted.sum()
        columns[f"cat{k}"] = (
            ColumnKind.CATEGORICAL,
            names[rng.choice(k, n, p=same)],
            names[rng.choice(k, n, p=same)],
        )
        columns[f"cat{k}_reweighted"] = (
            ColumnKind.CATEGORICAL,
            names[rng.choice(k, n, p=same)],
            names[rng.choice(k, n, p=reweighted)],
        )
    return columns


def run_bounded(
    kind: ColumnKind | str,
    reference: np.ndarray,
    current: np.ndarray,
    *,
    chunk: int = 25_000,
    through_json: bool = False,
    **options: object,
) -> ColumnResult:
    """The bounded mode end to end: summarise, stream the current window, check."""
    summary = ReferenceSummary.from_values(reference, kind)
    if through_json:
        summary = ReferenceSummary.from_json(json.loads(json.dumps(summary.as_json())))
    accumulator = CurrentAccumulator(kind, summary)
    for start in range(0, max(len(current), 1), chunk):
        accumulator.add(current[start : start + chunk])
    return column_drift_bounded(summary, accumulator, **options)  # type: ignore[arg-type]
