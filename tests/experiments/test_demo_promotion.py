"""The demo promotes the wine sweep's best run when the registry holds the wine model."""

from __future__ import annotations

import pytest

from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.experiments.demo import seed_experiments
from registry.experiments.models import MetricSummary
from registry.models import ModelVersion
from registry.services.models import create_model
from registry.services.versions import create_version


@pytest.mark.django_db
def test_the_best_wine_run_becomes_version_1_2_0_when_the_model_is_registered() -> None:
    """With wine-cultivar registered, the sweep's best run is promoted: the new version links
    it and its card holds the run's final metrics."""
    bob = create_user(username="bob", password=None, roles=[Role.DATA_SCIENTIST])
    alice = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Risk Modelling", members=[alice, bob])
    wine = create_model(actor=bob, name="wine-cultivar", title="Wine cultivar", team=team)
    create_version(actor=bob, model=wine, version="1.1.0")

    seed_experiments({"alice": alice, "bob": bob})

    promoted = ModelVersion.objects.get(model=wine, version="1.2.0")
    run = promoted.promotion.run
    sweep = MetricSummary.objects.filter(run__experiment=run.experiment, key="val_accuracy")
    assert run.summaries.get(key="val_accuracy").last == max(s.last for s in sweep)
    assert "| val\\_accuracy |" in promoted.card.metrics  # Markdown-escaped
    assert not ModelVersion.objects.filter(model__name="breast-cancer-screening").exists()
