"""The demo registry: three trained models, seeded through the services, idempotently."""

from __future__ import annotations

from typing import Any

import pytest

from registry.choices import ArtifactStatus
from registry.demo import seed_registry
from registry.models import Artifact, ModelVersion, RegisteredModel
from registry.services.contracts import check_contract
from registry.services.versions import contract_changes, previous_version

LINK_SCHEMES = ("https://",)
# The registry demo's models; the MLflow demo registers digit-reader as an MLflow client would
# (tests/mlflow_api/test_demo.py).
MODELS = ("breast-cancer-screening", "wine-cultivar", "search-ranker")


@pytest.fixture
def demo(seeded_demo: Any, db: Any) -> Any:
    return seeded_demo


def test_it_seeds_three_models_with_several_versions(demo: Any) -> None:
    """wine-cultivar 1.2.0 is the experiments demo's promoted run, registered without a file."""
    counts = {m.name: m.versions.count() for m in RegisteredModel.objects.filter(name__in=MODELS)}

    assert counts == {"breast-cancer-screening": 3, "wine-cultivar": 3, "search-ranker": 2}
    promoted = ModelVersion.objects.get(model__name="wine-cultivar", version="1.2.0")
    assert promoted.promotion.run.experiment.name == "wine-cultivar-gbm-sweep"


def test_seeding_again_changes_nothing(demo: Any) -> None:
    users, _ = demo
    before = (
        RegisteredModel.objects.count(),
        ModelVersion.objects.count(),
        Artifact.objects.count(),
    )

    seed_registry(users)

    after = (
        RegisteredModel.objects.count(),
        ModelVersion.objects.count(),
        Artifact.objects.count(),
    )
    assert after == before


def test_version_two_breaks_the_contract_of_one_one(demo: Any) -> None:
    v2 = ModelVersion.objects.get(model__name="breast-cancer-screening", version="2.0.0")

    changes = contract_changes(previous_version(v2), v2)

    breaking = {(c.schema, c.path, c.change) for c in changes if c.is_breaking}
    assert ("input", "/acquisition", "became required") in breaking
    assert ("output", "/model_version", "field removed") in breaking


def test_one_one_is_compatible_with_one_zero(demo: Any) -> None:
    v11 = ModelVersion.objects.get(model__name="breast-cancer-screening", version="1.1.0")

    changes = contract_changes(previous_version(v11), v11)

    assert changes and not any(c.is_breaking for c in changes)


def test_every_example_satisfies_its_contract(demo: Any) -> None:
    for version in ModelVersion.objects.filter(model__name__in=MODELS):
        assert version.example_request is not None and version.example_response is not None
        check_contract(
            input_schema=version.input_schema,
            output_schema=version.output_schema,
            example_request=version.example_request,
            example_response=version.example_response,
        )


def test_artifacts_are_valid_onnx_files_on_disk(demo: Any) -> None:
    _, media = demo
    artifacts = Artifact.objects.select_related("version__model").filter(
        version__model__name__in=MODELS
    )

    assert sorted(str(a.version) for a in artifacts) == [
        "breast-cancer-screening 1.0.0",
        "breast-cancer-screening 1.1.0",
        "breast-cancer-screening 2.0.0",
        "search-ranker 0.9.0",
        "wine-cultivar 1.0.0",
        "wine-cultivar 1.1.0",
    ]
    for artifact in artifacts:
        assert artifact.status == ArtifactStatus.VALID, artifact.error
        assert artifact.opset == 17
        assert artifact.inputs[0]["name"] == "features"
        assert (media / artifact.file.name).is_file()


def test_the_latest_ranker_has_no_artifact(demo: Any) -> None:
    latest = ModelVersion.objects.get(model__name="search-ranker", version="1.0.0")

    assert not Artifact.objects.filter(version=latest).exists()


def test_complete_and_incomplete_cards(demo: Any) -> None:
    versions = ModelVersion.objects.select_related("card", "model").filter(model__name__in=MODELS)
    cards = {str(v): v.card for v in versions}

    assert cards["breast-cancer-screening 2.0.0"].completeness == 100
    assert cards["wine-cultivar 1.1.0"].completeness == 100
    assert cards["search-ranker 0.9.0"].completeness < 100
    metrics = cards["breast-cancer-screening 1.0.0"].metrics
    assert "| ROC AUC |" in metrics
    assert "| nan |" not in metrics
    for card in cards.values():
        assert all(link.startswith(LINK_SCHEMES) for link in card.links)
        assert card.languages == ["en"]


def test_versions_stand_where_their_releases_left_them(demo: Any) -> None:
    statuses = {str(v): v.status for v in ModelVersion.objects.select_related("model")}

    # In staging, and a canary in production that has not taken over yet.
    assert statuses["breast-cancer-screening 1.1.0"] == "staging"
    assert statuses["breast-cancer-screening 1.0.0"] == "production"
    assert statuses["breast-cancer-screening 2.0.0"] == "draft"
    # Rolled back from production.
    assert statuses["wine-cultivar 1.1.0"] == "archived"
    assert statuses["wine-cultivar 1.0.0"] == "production"
    # Its release to staging waits for an approver.
    assert statuses["search-ranker 1.0.0"] == "candidate"
