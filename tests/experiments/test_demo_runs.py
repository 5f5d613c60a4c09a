"""The demo sweeps: real training curves, honest provenance, and seeding twice changes nothing."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import pytest
from django.db.models import Sum

from portal.models import AuditEvent
from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.experiments import series
from registry.experiments.demo import STAGES, seed_experiments
from registry.experiments.models import Experiment, MetricChunk, MetricSummary, Run, RunStatus

SWEEPS = {"wine-cultivar-gbm-sweep": 6, "breast-cancer-gbm-sweep": 8}


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Seed once for the module (training takes a few seconds), then roll it all back."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        alice = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
        bob = create_user(username="bob", password=None, roles=[Role.ENGINEER])
        create_team(name="Risk Modelling", members=[alice, bob])
        users = {"alice": alice, "bob": bob}
        seed_experiments(users)
        yield users
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded: Any, db: Any) -> Any:
    return seeded


def test_each_sweep_has_six_to_ten_finished_runs(demo: Any) -> None:
    counts = {e.name: e.runs.count() for e in Experiment.objects.all()}

    assert counts == SWEEPS
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.FINISHED}


def test_every_run_logs_a_curve_per_metric(demo: Any) -> None:
    summaries = MetricSummary.objects.all()

    assert {s.key for s in summaries} == {"train_loss", "val_loss", "val_accuracy"}
    assert {s.count for s in summaries} == {STAGES}
    stored = MetricChunk.objects.aggregate(points=Sum("count"))["points"]
    assert stored == sum(SWEEPS.values()) * 3 * STAGES


def test_the_curves_are_real_training(demo: Any) -> None:
    """Training loss falls from its first stage, and the best validation accuracy is high."""
    for summary in MetricSummary.objects.filter(key="train_loss"):
        curve = series.read([summary.run_id], ["train_loss"])[summary.run_id, "train_loss"]
        assert curve.steps[0] == 0
        assert summary.last < curve.values[0]
    for name in SWEEPS:
        best = MetricSummary.objects.filter(run__experiment__name=name, key="val_accuracy")
        assert max(s.last for s in best) > 0.9


def test_runs_name_the_bundled_data_by_its_real_hash(demo: Any) -> None:
    run = Run.objects.filter(experiment__name="wine-cultivar-gbm-sweep").first()
    bundled = resources.files("sklearn.datasets.data").joinpath("wine_data.csv").read_bytes()

    assert run is not None
    source = next(d for d in run.datasets if d["role"] == "source")
    assert source["sha256"] == hashlib.sha256(bundled).hexdigest()
    assert {d["role"] for d in run.datasets} == {"source", "training", "validation"}


def test_two_runs_of_a_sweep_froze_different_scikit_learn(demo: Any) -> None:
    runs = Run.objects.filter(experiment__name="breast-cancer-gbm-sweep").order_by("started_at")
    pins = {line for run in runs for line in run.packages.splitlines() if "scikit-learn" in line}

    assert len(pins) == 2
    assert all(run.python_version and run.git_commit for run in runs)
    assert {p.key for p in runs[0].params.all()} >= {"learning_rate", "max_depth"}


def test_seeding_again_changes_nothing(demo: Any) -> None:
    before = (Run.objects.count(), MetricChunk.objects.count(), AuditEvent.objects.count())

    seed_experiments(demo)

    after = (Run.objects.count(), MetricChunk.objects.count(), AuditEvent.objects.count())
    assert after == before
