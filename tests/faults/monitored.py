"""A monitored version for the fault tests: churn 1.0.0, its profiled reference, a window of
logged predictions that drifts, and a wait for its reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from portal.jobs import JobStatus
from registry.monitoring.models import DriftReport, MonitoringConfig
from registry.monitoring.services.configs import save_config
from registry.monitoring.services.reports import start_report
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.evaluation.data import INPUT_SCHEMA, stored_dataset, table, write
from tests.integration.workers import TASK_TIMEOUT, Worker
from tests.monitoring.conftest import NOW, shifted

REFERENCE_ROWS, WINDOW_ROWS = 2_000, 1_500
FEATURES = ("age", "income", "tenure", "tickets", "region")


@dataclass
class Monitored:
    config: MonitoringConfig
    actor: Any

    def start(self, now: datetime = NOW) -> tuple[DriftReport, bool]:
        """Run now (a manual window ending at ``now``'s minute); the task goes to the queue."""
        return start_report(actor=self.actor, config=self.config, trigger="manual", now=now)


def monitor(alice: Any, risk_team: Any, tmp_path: Path) -> Monitored:
    """churn 1.0.0 monitored against a profiled 2,000-row reference, with 1,500 predictions
    logged an hour before NOW whose age and income moved half a standard deviation: every
    report of a window ending at NOW drifts (2 of 5 columns, share 0.4) and raises an alert.

    Built here rather than with tests/monitoring's fixtures: those store the reference
    before the ``queue`` fixture points MEDIA_ROOT at the folder the workers read, so call
    this from a fixture that takes ``queue``.
    """
    from django.conf import settings

    from feedback.services.access import Caller
    from feedback.services.predictions import log_predictions
    from registry.evaluation.services.datasets import profile_dataset

    model = create_model(
        actor=alice, name="churn", title="Churn", team=risk_team, task_type="binary_classification"
    )
    version = create_version(actor=alice, model=model, version="1.0.0", input_schema=INPUT_SCHEMA)
    path = write(tmp_path / "churn-ref.parquet", table(REFERENCE_ROWS, seed=0))
    reference = stored_dataset(
        path, team=risk_team, actor=alice, name="churn-ref", version="0", kind="reference"
    )
    # Profiled in this process: the row is a queued job no message was sent for.
    reference = profile_dataset(dataset_id=reference.pk)
    assert reference.status == JobStatus.SUCCEEDED, reference.error
    assert str(settings.MEDIA_ROOT) in reference.file.path  # where the workers look

    config = save_config(actor=alice, version=version, reference=reference, drift_share=0.4)
    rows = shifted(table(WINDOW_ROWS, seed=1), 0.5).to_pylist()
    records = [
        {
            "model": model.name,
            "version": version.version,
            "prediction_id": f"p-{i}",
            "timestamp": (NOW - timedelta(hours=1)).isoformat(),
            "features": {name: row[name] for name in FEATURES},
            "output": {"label": str(row["stored_prediction"])},
        }
        for i, row in enumerate(rows)
    ]
    logged = log_predictions(caller=Caller(person=alice), records=records, now=NOW)
    assert logged.accepted == WINDOW_ROWS, logged
    return Monitored(config=config, actor=alice)


def wait_for_report(
    pk: int, done: Callable[[DriftReport], bool], worker: Worker, what: str
) -> DriftReport:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        report = DriftReport.objects.get(pk=pk)
        if done(report):
            return report
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited before {what}:\n{worker.output()}")
        time.sleep(0.1)
    pytest.fail(f"no {what} after {TASK_TIMEOUT:.0f}s; worker output:\n{worker.output()}")
