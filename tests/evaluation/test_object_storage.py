"""Datasets, artifacts and evaluations on a storage with no local path (S3's kind): every
reader gets a temporary copy, every upload is moved by copy, and nothing is left behind."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from portal.jobs import JobStatus
from registry.choices import ArtifactStatus
from registry.evaluation.services.datasets import validate_dataset
from registry.evaluation.services.evaluations import start_evaluation
from tests.evaluation.dataset_helpers import parquet_bytes, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("object_store")]


def copies() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob("handoff-*.*"))


def test_the_storage_has_no_path() -> None:
    """What the rest relies on: a reader asking for a path would fail here."""
    with pytest.raises(NotImplementedError):
        default_storage.path("anything")


def test_upload_profile_check_and_evaluate_without_a_path(
    alice: Any, risk_team: Any, classifier: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = copies()
    # the classifier's artifact was validated by onnxruntime from a copy
    assert classifier.artifact.status == ArtifactStatus.VALID, classifier.artifact.error
    assert classifier.artifact.opset is not None

    # an upload is stored under its server-made name, then profiled from a copy
    with django_capture_on_commit_callbacks(execute=True):
        dataset = upload(alice, risk_team, parquet_bytes(500))
    dataset.refresh_from_db()
    assert dataset.phase == JobStatus.SUCCEEDED and dataset.row_count == 500, dataset.error
    assert dataset.file.name == f"datasets/{risk_team.pk}/{dataset.sha256}.parquet"
    assert default_storage.listdir(f"datasets/{risk_team.pk}")[1] == [f"{dataset.sha256}.parquet"]

    # checked against the contract, and evaluated
    report = validate_dataset(dataset=dataset, version=classifier)
    assert report.rows == 500 and report.ok
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = start_evaluation(
            actor=alice, version=classifier, dataset=dataset, label_column="churned"
        )
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.SUCCEEDED, evaluation.error
    assert evaluation.rows == 500 and 0 <= evaluation.metrics["accuracy"] <= 1

    # every copy went when its reader was done
    assert copies() == before
