"""Migrating series stored a row per point into packed chunks loses no point."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from registry.experiments import series
from registry.experiments.models import MetricSummary

BEFORE = [("experiments", "0002_promotion")]
AFTER = [("experiments", "0003_metric_chunks")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def _back_to_latest() -> Iterator[None]:
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_back_to_latest")
def test_every_logged_point_moves_into_chunks_and_each_series_gets_its_sketch(
    alice: Any, run: Any
) -> None:
    apps = _migrate(BEFORE)
    point = apps.get_model("experiments", "MetricPoint")
    summary = apps.get_model("experiments", "MetricSummary")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    # Logged out of order, as the old rows allowed: the chunks read back in step order.
    steps = [*range(12_000, 25_000), *range(12_000)]
    point.objects.bulk_create(
        [
            point(
                run_id=run.pk,
                key="loss",
                step=step,
                value=1 / (step + 1),
                timestamp=start + timedelta(seconds=step),
            )
            for step in steps
        ]
    )
    summary.objects.create(
        run_id=run.pk,
        key="loss",
        last=1 / 25_000,
        last_step=24_999,
        last_timestamp=start + timedelta(seconds=24_999),
        min=1 / 25_000,
        max=1.0,
        count=len(steps),
    )

    _migrate(AFTER)

    logged = series.read([run.pk], ["loss"])[run.pk, "loss"]
    assert logged.steps.tolist() == list(range(25_000))
    assert logged.values[0] == 1.0 and logged.values[-1] == 1 / 25_000
    assert logged.stamps[1] - logged.stamps[0] == 1_000  # milliseconds
    assert logged.stamps[0] == int(start.timestamp() * 1000)
    sketch = MetricSummary.objects.get(run=run, key="loss").sketch
    assert sketch["steps"][0] == 0 and sketch["steps"][-1] == 24_999
    assert max(sketch["values"]) == 1.0 and min(sketch["values"]) == 1 / 25_000
