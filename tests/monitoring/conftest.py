"""A churn model version with a contract, a profiled reference dataset, and predictions
logged through the feedback service, for the drift report tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from registry.services.models import create_model
from registry.services.versions import create_version
from tests.evaluation.data import INPUT_SCHEMA, stored_dataset, table, write

NOW = datetime(2026, 11, 30, 10, 30, tzinfo=timezone.get_fixed_timezone(0))


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def version(alice: Any, risk_team: Any) -> Any:
    """churn 1.0.0, with the churn contract and no artifact (drift needs none)."""
    model = create_model(
        actor=alice, name="churn", title="Churn", team=risk_team, task_type="binary_classification"
    )
    return create_version(
        actor=alice,
        model=model,
        version="1.0.0",
        input_schema=INPUT_SCHEMA,
        output_schema={"type": "object"},
        example_request={"age": 40, "income": 3000, "tenure": 12, "tickets": 1, "region": "north"},
        example_response={"label": "0"},
    )


@pytest.fixture
def dataset(alice: Any, risk_team: Any, tmp_path: Path) -> Callable[..., Any]:
    """``dataset(rows=2000, seed=0, name="churn-ref", shift=0.0)``: the churn table as a
    profiled dataset; ``shift`` moves age and income up by that many standard deviations."""
    from registry.evaluation.services.datasets import profile_dataset

    def make(rows: int = 2_000, seed: int = 0, name: str = "churn-ref", shift: float = 0.0) -> Any:
        data = shifted(table(rows, seed), shift)
        path = write(tmp_path / f"{name}-{rows}-{seed}.parquet", data)
        row = stored_dataset(
            path, team=risk_team, actor=alice, name=name, version=str(seed), kind="reference"
        )
        return profile_dataset(dataset_id=row.pk)

    return make


def shifted(data: Any, shift: float) -> Any:
    if not shift:
        return data
    import pyarrow as pa

    for name in ("age", "income"):
        values = data.column(name).to_numpy()
        moved = values + shift * values.std()
        data = data.set_column(data.schema.get_field_index(name), name, pa.array(moved))
    return data


@pytest.fixture
def log_window() -> Callable[..., Any]:
    """``log_window(version, rows=1500, seed=1, shift=0.0, at=NOW - 1h, by=person)``: log
    rows of the churn table as predictions of ``version`` made at ``at``."""
    from feedback.services.access import Caller
    from feedback.services.predictions import log_predictions

    def make(
        version: Any,
        *,
        by: Any,
        rows: int = 1_500,
        seed: int = 1,
        shift: float = 0.0,
        at: datetime | None = None,
        prefix: str = "p",
    ) -> Any:
        data = shifted(table(rows, seed), shift).to_pylist()
        when = (at or NOW - timedelta(hours=1)).isoformat()
        records = [
            {
                "model": version.model.name,
                "version": version.version,
                "prediction_id": f"{prefix}-{seed}-{i}",
                "timestamp": when,
                "features": {k: row[k] for k in ("age", "income", "tenure", "tickets", "region")},
                "output": {"label": str(row["stored_prediction"])},
            }
            for i, row in enumerate(data)
        ]
        result = log_predictions(caller=Caller(person=by), records=records, now=NOW)
        assert result.accepted == rows, result
        return result

    return make


def verdicts(report: Any) -> dict[str, bool]:
    return {column["name"]: column["drifted"] for column in report.columns}


__all__ = ["NOW", "np", "verdicts"]
