"""A churn model with a classifier version (contract + validated ONNX artifact), a
regressor version, and dataset files to evaluate them on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.services.artifacts import store_artifact
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.evaluation.data import (
    INPUT_SCHEMA,
    classifier_onnx,
    regressor_onnx,
    stored_dataset,
    table,
    write,
)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    return create_model(
        actor=alice,
        name="churn",
        title="Churn",
        team=risk_team,
        task_type="binary_classification",
    )


def _version(actor: Any, model: Any, number: str, onnx: bytes, capture: Any) -> Any:
    version = create_version(
        actor=actor,
        model=model,
        version=number,
        input_schema=INPUT_SCHEMA,
        output_schema={"type": "object"},
        example_request={"age": 40, "income": 3000, "tenure": 12, "tickets": 1},
        example_response={"label": 0, "probabilities": [0.8, 0.2]},
    )
    upload = SimpleUploadedFile("model.onnx", onnx, content_type="application/octet-stream")
    with capture(execute=True):  # the validation job runs on commit, as on a worker
        store_artifact(actor=actor, version=version, upload=upload)
    version.refresh_from_db()
    return version


@pytest.fixture
def classifier(alice: Any, churn: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """churn 1.0.0: a logistic regression over age, income, tenure and tickets."""
    return _version(alice, churn, "1.0.0", classifier_onnx(), django_capture_on_commit_callbacks)


@pytest.fixture
def regressor(alice: Any, risk_team: Any, django_capture_on_commit_callbacks: Any) -> Any:
    model = create_model(
        actor=alice, name="spend", title="Spend", team=risk_team, task_type="regression"
    )
    return _version(alice, model, "1.0.0", regressor_onnx(), django_capture_on_commit_callbacks)


@pytest.fixture
def data_file(tmp_path: Path) -> Callable[..., Path]:
    """``data_file(rows=2000, suffix=".csv", seed=0)``: the churn table written to a file."""

    def make(rows: int = 2_000, suffix: str = ".csv", seed: int = 0) -> Path:
        return write(tmp_path / f"churn-{rows}-{seed}{suffix}", table(rows, seed))

    return make


@pytest.fixture
def make_dataset(alice: Any, risk_team: Any) -> Callable[..., Any]:
    """``make_dataset(path, name="churn-eval", version="1", kind="evaluation")``: a dataset
    row over a file already written (as if uploaded and profiled), for tests of what comes
    after the upload."""
    from portal.jobs import JobStatus

    def make(
        path: Path, name: str = "churn-eval", version: str = "1", kind: str = "evaluation"
    ) -> Any:
        return stored_dataset(
            path,
            team=risk_team,
            actor=alice,
            name=name,
            version=version,
            kind=kind,
            status=JobStatus.SUCCEEDED,
        )

    return make
