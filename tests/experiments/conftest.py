"""Experiment fixtures: an experiment of the risk team and a running run of alice's."""

from __future__ import annotations

from typing import Any

import pytest

from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run


@pytest.fixture
def sweep(alice: Any, risk_team: Any) -> Any:
    return create_experiment(
        actor=alice, team=risk_team, name="churn-sweep", metric_directions={"loss": "min"}
    )


@pytest.fixture
def run(alice: Any, sweep: Any) -> Any:
    return create_run(actor=alice, experiment=sweep, name="lr=0.1")
