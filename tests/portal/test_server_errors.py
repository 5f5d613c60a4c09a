"""A page that fails answers with a page of its own: 503 and Retry-After when the database is
out of reach (the session cannot even be read), 500 otherwise; neither touches the database."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def _failing(client: Client, error: Exception) -> Any:
    # Where a lost database first shows on a page: reading the signed-in person.
    with mock.patch("django.contrib.auth.get_user", side_effect=error):
        return client.get("/models/", HTTP_X_REQUEST_ID="req-outage-1")


def test_a_page_without_its_database_answers_503_with_retry_after(
    client_for: Any, alice: Any
) -> None:
    client = client_for(alice)
    client.raise_request_exception = False

    response = _failing(client, OperationalError("server closed the connection unexpectedly"))

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "cannot reach its database" in page and "req-outage-1" in page
    assert "server closed the connection" not in page  # no internals shown


def test_any_other_failure_is_a_500_page_naming_the_request(client_for: Any, alice: Any) -> None:
    client = client_for(alice)
    client.raise_request_exception = False

    response = _failing(client, RuntimeError("a bug"))

    assert response.status_code == 500 and "Retry-After" not in response
    page = response.content.decode()
    assert "Something went wrong" in page and "req-outage-1" in page and "a bug" not in page
