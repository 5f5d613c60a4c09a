"""The demo's MLflow-logged sweep: what an MLflow user sees once the demo is seeded."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from registry.choices import ArtifactStatus
from registry.experiments.models import Experiment, MetricSummary, RunStatus
from registry.mlflow_api.demo import ALPHAS, EPOCHS, EXPERIMENT, MODEL, seed_mlflow
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_the_demo_logs_a_sweep_and_registers_its_best_run_as_mlflow_does(
    seeded_demo: Any,
) -> None:
    users, _ = seeded_demo
    experiment = Experiment.objects.get(name=EXPERIMENT)
    runs = list(experiment.runs.all())
    assert len(runs) == len(ALPHAS)
    assert all(run.status == RunStatus.FINISHED and run.user == users["dmitri"] for run in runs)
    assert {t.key for t in runs[0].tags.all()} >= {"mlflow.user", "mlflow.runName"}
    accuracy = {s.run_id: s for s in MetricSummary.objects.filter(run__in=runs, key="val_accuracy")}
    assert all(s.count == EPOCHS and 0.8 < s.last <= 1.0 for s in accuracy.values())
    best = max(accuracy.values(), key=lambda s: s.last).run_id

    version = ModelVersion.objects.get(model__name=MODEL)
    assert (version.number, version.version) == (1, "1.0.0")
    assert version.promotion.run_id == best
    assert version.artifact.status == ArtifactStatus.VALID
    assert version.input_schema["properties"]["features"]["items"]["maxItems"] == 64
    assert [a.name for a in version.aliases.all()] == ["champion"]

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(users["victor"])
    page = client.get(f"/models/{MODEL}/").content.decode()
    assert "champion → 1.0.0" in page and "Use from MLflow" in page

    seed_mlflow(users)  # again: nothing changes
    assert ModelVersion.objects.filter(model__name=MODEL).count() == 1
    assert experiment.runs.count() == len(ALPHAS)
