"""The API against its own OpenAPI schema, with Schemathesis generating the requests.

The schema is read through an authenticated test client inside a fixture (it needs the
database, so it cannot be loaded at import time), then every operation in it is called
in-process through the WSGI application with a personal token. New endpoints are covered
as soon as they appear in /api/schema/.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from portal.roles import Role
from portal.services.accounts import create_user
from portal.services.tokens import create_token
from portal.wsgi import application

SCHEMA_URL = "/api/schema/"
# Fail on any 5xx and on any response that contradicts its documented schema.
CHECKS = (not_a_server_error, content_type_conformance, response_schema_conformance)


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``portal.wsgi.application``, minus closing the database connection around requests.

    Django's WSGI handler closes "old" connections when a request starts and finishes. Inside
    a test's transaction that closes the test's own connection (PostgreSQL then answers
    "connection is closed"), so, as Django's test client does, the signal is held off while
    the response is produced and closed.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return [body]


@pytest.fixture
def api_user(db: Any) -> Any:
    return create_user(username="schemathesis", password=None, roles=[Role.DATA_SCIENTIST])


@pytest.fixture
def token_headers(api_user: Any) -> dict[str, str]:
    _, key = create_token(user=api_user, name="schemathesis")
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


with warnings.catch_warnings():
    # 3.39 warns about its own default filter arguments; nothing here passes any.
    warnings.simplefilter("ignore", DeprecationWarning)
    schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_answers_every_operation_without_5xx_and_as_documented(
    case: Any, token_headers: dict[str, str]
) -> None:
    """Generated requests with a personal token never get a 5xx or an undocumented answer."""
    response = case.call(headers=token_headers)
    assert response.status_code != 401, "the personal token was not accepted"
    case.validate_response(response, checks=CHECKS, headers=token_headers)


def test_it_refuses_the_schema_to_anonymous_callers(db: Any) -> None:
    """/api/schema/ answers 401 without a token or a session."""
    response = Client().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 401


def test_it_serves_a_valid_openapi_3_document(openapi_document: dict[str, Any]) -> None:
    """The schema is a valid OpenAPI 3 document titled "Handoff API" that lists /api/me/."""
    # validate_schema=True checks the document against the OpenAPI 3.0 meta-schema.
    loaded = schemathesis.from_dict(openapi_document, validate_schema=True)

    assert openapi_document["openapi"].startswith("3.")
    assert loaded.operations_count >= 1
    assert openapi_document["info"]["title"] == "Handoff API"
    assert "/api/me/" in openapi_document["paths"]
