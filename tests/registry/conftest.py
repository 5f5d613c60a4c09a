"""Registry fixtures: a model owned by alice's team, built through the services."""

from pathlib import Path
from typing import Any

import pytest

from registry.services.models import create_model
from registry.services.versions import create_version

INPUT_V1 = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "description": "Transaction amount in EUR"},
        "country": {"type": "string", "enum": ["DE", "FR", "NL"]},
        "channel": {"type": "string"},
    },
    "required": ["amount"],
}
OUTPUT_V1 = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "decision": {"type": "string", "enum": ["approve", "review", "decline"]},
    },
    "required": ["score"],
}


@pytest.fixture
def fraud_model(alice: Any, risk_team: Any) -> Any:
    return create_model(
        actor=alice,
        name="fraud-score",
        title="Fraud score",
        team=risk_team,
        summary="Scores card transactions for fraud.",
        task_type="binary_classification",
        tags=["tabular", "payments"],
    )


@pytest.fixture
def v1(alice: Any, fraud_model: Any) -> Any:
    return create_version(
        actor=alice,
        model=fraud_model,
        version="1.0.0",
        input_schema=INPUT_V1,
        output_schema=OUTPUT_V1,
        example_request={"amount": 12.5, "country": "DE"},
        example_response={"score": 0.02, "decision": "approve"},
    )


@pytest.fixture(scope="session")
def onnx_bytes() -> bytes:
    """A small, real ONNX model (a linear layer) that onnxruntime loads."""
    from tests.registry.onnx_files import linear_onnx

    return linear_onnx()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def scorer(alice: Any, risk_team: Any) -> Any:
    return create_model(
        actor=alice,
        name="tumour-screening",
        title="Tumour screening",
        team=risk_team,
        task_type="binary_classification",
    )


@pytest.fixture
def draft(alice: Any, scorer: Any) -> Any:
    """A version registered without a contract."""
    return create_version(actor=alice, model=scorer, version="1.0.0")
