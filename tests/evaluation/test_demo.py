"""The demo's datasets, evaluations and gates: real figures on the held-out data, every
verdict state a reviewer meets, and seeding twice adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from portal.demo import seed
from portal.jobs import JobStatus
from registry.evaluation.models import Dataset, Evaluation, GateOverride
from registry.evaluation.services.gates import verdict
from registry.models import ModelVersion


@pytest.fixture
def demo(seeded_demo: Any, db: Any) -> Any:
    return seeded_demo


def test_the_demo_datasets_are_profiled_and_every_runnable_version_evaluated(demo: Any) -> None:
    rows = dict(Dataset.objects.values_list("name", "row_count"))
    assert rows == {
        "breast-screening-holdout": 143,
        "breast-screening-reference": 426,  # drift monitoring's (registry.monitoring.demo)
        "breast-screening-training": 426,
        "wine-lots-holdout": 45,
    }
    assert set(Dataset.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    done = Evaluation.objects.filter(status=JobStatus.SUCCEEDED)
    assert sorted(f"{e.version.model.name} {e.version.version}" for e in done) == [
        "breast-cancer-screening 1.0.0",
        "breast-cancer-screening 1.1.0",
        "breast-cancer-screening 2.0.0",
        "wine-cultivar 1.0.0",
        "wine-cultivar 1.1.0",
    ]
    first = done.get(version__model__name="breast-cancer-screening", version__version="1.0.0")
    assert 0.99 < first.metrics["roc_auc"] <= 1
    assert {s["value"] for s in first.slices} == {"small", "medium", "large"}
    assert first.importance and first.curves["confusion"]


def test_the_demo_shows_a_pass_a_failure_and_an_override(demo: Any) -> None:
    states = {
        f"{v.model.name} {v.version}": verdict(v).state
        for v in ModelVersion.objects.filter(evaluations__isnull=False).distinct()
    }

    assert states == {
        "breast-cancer-screening 1.0.0": "pass",
        "breast-cancer-screening 1.1.0": "overridden",
        "breast-cancer-screening 2.0.0": "fail",
        "wine-cultivar 1.0.0": "pass",
        "wine-cultivar 1.1.0": "pass",
    }
    assert GateOverride.objects.get().by.username == "carol"


def test_seeding_the_demo_again_adds_no_dataset_or_evaluation(demo: Any) -> None:
    before = (Dataset.objects.count(), Evaluation.objects.count())
    seed()
    assert (Dataset.objects.count(), Evaluation.objects.count()) == before
