"""Which way is better for each evaluation metric: gates, champion-vs-challenger colours and
"worst slice" all ask the same question."""

from __future__ import annotations

# Every other metric (accuracy, precision, recall, F1, ROC AUC, PR AUC, R²) is better higher.
LOWER_IS_BETTER = frozenset(
    {"log_loss", "brier", "mae", "rmse", "mse", "latency_p50_ms", "latency_p95_ms"}
)


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def improvement(metric: str, challenger: float, champion: float) -> float:
    """How much better ``challenger`` is than ``champion`` (negative: worse)."""
    change = challenger - champion
    return change if higher_is_better(metric) else -change
