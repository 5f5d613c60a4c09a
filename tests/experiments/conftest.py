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


@pytest.fixture
def make_runs(alice: Any, sweep: Any) -> Any:
    """``make_runs(count, steps=5)``: finished runs of ``sweep`` with an lr each, a shared
    depth, a falling loss curve, an accuracy, a tag and a pip freeze differing in numpy."""
    from registry.experiments.services.runs import end_run, log_batch

    def make(count: int, *, steps: int = 5, experiment: Any = None, start: int = 0) -> list[Any]:
        runs = []
        for number in range(start, start + count):
            lr = 10 ** -(number % 4 + 1)
            made = create_run(
                actor=alice,
                experiment=experiment or sweep,
                name=f"lr-{number}",
                python_version="3.11.9",
                packages=f"numpy==1.{number}.0\npandas==2.2.2\n",
            )
            log_batch(
                actor=alice,
                run=made,
                params=[{"key": "lr", "value": lr}, {"key": "depth", "value": 6}],
                tags=[{"key": "stage", "value": "sweep" if number % 2 else "baseline"}],
                metrics=[
                    {"key": "loss", "value": 1.0 / (step + 1) + lr, "step": step}
                    for step in range(steps)
                ]
                + [{"key": "accuracy", "value": 0.5 + number / 100, "step": 0}],
            )
            end_run(actor=alice, run=made)
            runs.append(made)
        return runs

    return make
