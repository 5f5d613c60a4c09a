"""The request boundary: body caps, field counts and query text, answered in the error shape.

API refusals are ``{"errors": {field: [...]}}`` with "detail" for no field; pages show an
HTML page with the message. Never a 5xx, and always with the limit named.
"""

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    TooManyFieldsSent,
    ValidationError,
)
from django.test.client import MULTIPART_CONTENT
from rest_framework import serializers

from portal.api.errors import exception_handler
from registry.models import RegisteredModel

FORM = "application/x-www-form-urlencoded"
NEW_MODEL = {
    "name": "churn-risk",
    "title": "Churn risk",
    "team": "risk-modelling",
    "task_type": "binary_classification",
}
TOO_MANY = {f"field{i}": "1" for i in range(2_000)}


def post(client: Any, path: str, data: dict[str, str], content_type: str) -> Any:
    """POST ``data`` form-encoded or as multipart (the test client encodes multipart itself)."""
    if content_type == MULTIPART_CONTENT:
        return client.post(path, data)
    return client.post(path, urlencode(data), content_type=content_type)


def json_errors(response: Any) -> dict[str, list[str]]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["errors"]


@pytest.mark.parametrize("content_type", ["application/json", FORM])
def test_an_api_body_over_the_cap_is_413_naming_the_limit(
    client_for, alice, settings, content_type
) -> None:
    """JSON and form-encoded bodies share DATA_UPLOAD_MAX_MEMORY_SIZE; nothing is stored."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {**NEW_MODEL, "summary": "x" * 2000}
    data = urlencode(body) if content_type == FORM else json.dumps(body)
    response = client_for(alice).post("/api/v1/models/", data, content_type=content_type)
    assert response.status_code == 413
    assert "1,000 bytes" in json_errors(response)["detail"][0]
    assert not RegisteredModel.objects.exists()


def test_a_declared_oversized_body_is_refused_before_it_is_read(
    client_for, alice, settings
) -> None:
    """The middleware answers from Content-Length alone, and closes the connection."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    class Unreadable:
        def read(self, *args: Any) -> bytes:
            raise AssertionError("the body was read")

        readline = read

    response = client_for(alice).generic(
        "POST",
        "/api/v1/models/",
        data=b"",
        CONTENT_TYPE=FORM,
        CONTENT_LENGTH="5000",
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert response["Connection"] == "close"
    assert "1,000 bytes" in json_errors(response)["detail"][0]


def test_a_page_form_over_the_cap_is_a_413_page(client_for, alice, settings) -> None:
    """A page answers with an HTML page that names the limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {**NEW_MODEL, "summary": "x" * 2000}
    response = post(client_for(alice), "/models/new/", body, FORM)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "1,000 bytes" in response.content.decode()


@pytest.mark.parametrize("content_type", [FORM, MULTIPART_CONTENT])
def test_too_many_api_fields_is_a_400_naming_the_limit(client_for, alice, content_type) -> None:
    """DATA_UPLOAD_MAX_NUMBER_FIELDS, hit while DRF parses, answers in the error shape."""
    response = post(client_for(alice), "/api/v1/models/", {**NEW_MODEL, **TOO_MANY}, content_type)
    assert response.status_code == 400
    assert "1,000 fields" in json_errors(response)["detail"][0]
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize("content_type", [FORM, MULTIPART_CONTENT])
def test_too_many_page_fields_is_a_400_page(client_for, alice, content_type) -> None:
    """A page form with too many fields shows a page naming the limit."""
    response = post(client_for(alice), "/models/new/", {**NEW_MODEL, **TOO_MANY}, content_type)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "1,000 fields" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "json_answer"), [("/api/v1/models/", True), ("/models/new/", False)]
)
def test_a_huge_multipart_text_field_is_413(client_for, alice, settings, path, json_answer) -> None:
    """Multipart text fields obey the body cap even though the upload cap is far larger."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {**NEW_MODEL, "summary": "x" * 5000}
    response = post(client_for(alice), path, body, MULTIPART_CONTENT)
    assert response.status_code == 413
    if json_answer:
        assert "1,000 bytes" in json_errors(response)["detail"][0]
    else:
        assert "1,000 bytes" in response.content.decode()
    assert not RegisteredModel.objects.exists()


def test_a_nul_in_a_query_parameter_name_is_a_400(client_for, alice) -> None:
    """A parameter name PostgreSQL cannot store is refused under detail."""
    response = client_for(alice).get("/api/v1/models/?%00=1")
    assert response.status_code == 400
    assert "NUL" in json_errors(response)["detail"][0]


def test_a_nul_in_a_page_query_parameter_is_a_400_page(client_for, alice) -> None:
    """The models list page names the parameter in an HTML page."""
    response = client_for(alice).get("/models/?q=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert "&quot;q&quot;" in content and "NUL character (U+0000)" in content


def test_too_many_query_parameters_is_a_400_naming_the_limit(client_for, alice) -> None:
    """Django's parameter count limit answers in the error shape, not a bare 400."""
    query = "&".join(f"p{i}=1" for i in range(1_500))
    response = client_for(alice).get(f"/api/v1/models/?{query}")
    assert response.status_code == 400
    assert "1,000 fields" in json_errors(response)["detail"][0]


def test_a_body_too_big_while_parsing_is_413_in_the_error_shape(settings) -> None:
    """A chunked body has no Content-Length to check up front; parsing raises, the API maps it."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response is not None and response.status_code == 413
    assert "1,000 bytes" in response.data["errors"]["detail"][0]
    response = exception_handler(TooManyFieldsSent("too many"), {})
    assert response is not None and response.status_code == 400
    assert "1,000 fields" in response.data["errors"]["detail"][0]


def test_a_django_non_field_error_goes_under_detail() -> None:
    """ValidationError({NON_FIELD_ERRORS: ...}) from a service is "detail", not "__all__"."""
    error = ValidationError({NON_FIELD_ERRORS: ["Clash."], "name": ["Taken."]})
    response = exception_handler(error, {})
    assert response is not None and response.status_code == 400
    assert response.data == {"errors": {"detail": ["Clash."], "name": ["Taken."]}}


def test_a_serializer_validate_error_goes_under_detail() -> None:
    """DRF's non_field_errors key is configured as "detail"."""

    class PairSerializer(serializers.Serializer):
        a = serializers.IntegerField()
        b = serializers.IntegerField()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            raise serializers.ValidationError("a must be below b.")

    serializer = PairSerializer(data={"a": 2, "b": 1})
    assert not serializer.is_valid()
    response = exception_handler(serializers.ValidationError(serializer.errors), {})
    assert response is not None
    assert response.data == {"errors": {"detail": ["a must be below b."]}}


def test_the_development_server_gets_its_413_without_a_hop_by_hop_header(
    client_for, alice, settings
) -> None:
    """wsgiref (runserver, make demo) turns an app's Connection header into a 500."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000
    response = client_for(alice).generic(
        "POST",
        "/models/new/",
        data=b"",
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(10_000_000),
        SERVER_SOFTWARE="WSGIServer/0.2",
    )
    assert response.status_code == 413
    assert not response.has_header("Connection")
