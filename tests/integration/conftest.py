"""What the API tests against the OpenAPI schema share: a team, its data scientist with a
personal token, model "fraud-score" 1.0.0 of that team, and the schema as the token sees it."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.test import Client

from portal.roles import Role
from portal.services.accounts import create_team, create_user
from portal.services.tokens import create_token
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.integration.wsgi import wsgi_app
from tests.registry.conftest import INPUT_V1, OUTPUT_V1

SCHEMA_URL = "/api/v1/schema/"
TEAM_NAME = "Schemathesis"
MODEL_NAME = "fraud-score"
VERSION = "1.0.0"


@pytest.fixture
def api_team(db: Any) -> Any:
    return create_team(name=TEAM_NAME)


@pytest.fixture
def api_user(api_team: Any) -> Any:
    user = create_user(username="schemathesis", password=None, roles=[Role.DATA_SCIENTIST])
    api_team.members.add(user)
    return user


@pytest.fixture
def fraud_version(api_user: Any, api_team: Any) -> Any:
    """Model "fraud-score" 1.0.0 of the token user's team, with a contract and a card."""
    model = create_model(
        actor=api_user,
        name=MODEL_NAME,
        title="Fraud score",
        team=api_team,
        summary="Scores card transactions for fraud.",
        task_type="binary_classification",
        tags=["tabular", "payments"],
    )
    return create_version(
        actor=api_user,
        model=model,
        version=VERSION,
        input_schema=INPUT_V1,
        output_schema=OUTPUT_V1,
        example_request={"amount": 12.5, "country": "DE"},
        example_response={"score": 0.02, "decision": "approve"},
    )


@pytest.fixture
def token_headers(api_user: Any) -> dict[str, str]:
    _, key = create_token(user=api_user, name="schemathesis", scope="write")
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def openapi_document(token_headers: dict[str, str]) -> dict[str, Any]:
    response = Client().get(
        SCHEMA_URL,
        HTTP_ACCEPT="application/vnd.oai.openapi+json",
        HTTP_AUTHORIZATION=token_headers["Authorization"],
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def api_schema(openapi_document: dict[str, Any]) -> Any:
    return schemathesis.from_dict(openapi_document, app=wsgi_app, validate_schema=True)
