"""Hostile and oversized input against the registry's pages and API."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.roles import Role
from portal.services.accounts import create_user
from registry.models import ModelVersion
from registry.permissions import can_edit_model

DEEP = "[" * 200_000 + "]" * 200_000


@pytest.fixture
def team_viewer(risk_team: Any) -> Any:
    """A Viewer who sits in the owning team: reads, never writes."""
    user = create_user(username="tess", password="pw-tess-12345", roles=[Role.VIEWER])
    risk_team.members.add(user)
    return user


def test_a_viewer_in_the_owning_team_cannot_write(client_for, team_viewer, v1) -> None:
    """Team membership without an author role gives read access only, on pages and API."""
    assert not can_edit_model(team_viewer, v1.model)
    api = APIClient()
    api.force_authenticate(team_viewer)
    base = "/api/v1/models/fraud-score"
    assert api.patch(f"{base}/", {"title": "x"}, format="json").status_code == 403
    assert api.delete(f"{base}/").status_code == 403
    assert api.post(f"{base}/versions/1.0.0/status/", {"status": "archived"}).status_code == 403
    client = client_for(team_viewer)
    assert client.get("/models/fraud-score/edit/").status_code == 403
    assert client.post("/models/fraud-score/delete/").status_code == 403
    assert "Edit card" not in client.get("/models/fraud-score/").content.decode()
    v1.refresh_from_db()
    assert v1.status == "draft"


def test_deeply_nested_json_in_a_form_is_a_field_error(client_for, alice, v1) -> None:
    """The contract form names the field instead of crashing."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/1.0.0/contract/edit/",
        {"input_schema": DEEP, "output_schema": "{}"},
    )
    assert response.status_code == 200
    assert "nests too deeply" in str(response.context["form"].errors["input_schema"])


def test_the_versions_api_takes_json_only(alice, v1) -> None:
    """Form-encoded schemas would bypass the JSON parser's guards: 415."""
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post(
        "/api/v1/models/fraud-score/versions/",
        {"version": "2.0.0", "input_schema": DEEP},
        format="multipart",
    )
    assert response.status_code == 415
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "json_answer"),
    [
        ("/api/v1/models/fraud-score/versions/1.0.0/artifact/", True),
        ("/models/fraud-score/versions/1.0.0/artifact/", False),
    ],
)
def test_a_declared_oversized_upload_is_refused_before_it_is_read(
    client_for, alice, v1, settings, path, json_answer
) -> None:
    """The middleware answers 413 from Content-Length alone; the body is never parsed."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000
    client = client_for(alice)

    class Unreadable:
        def read(self, *args: Any) -> bytes:
            raise AssertionError("the body was read")

        readline = read

    response = client.generic(
        "POST",
        path,
        data=b"",
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(10_000_000),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert response["Connection"] == "close"
    if json_answer:
        assert "1,000 bytes" in response.json()["errors"]["detail"][0]
    else:
        assert "1,000 bytes" in response.content.decode()


# Text PostgreSQL cannot store: NUL and lone surrogates, written as JSON escapes.
UNSTORABLE = [("\\u0000", "NUL character (U+0000)"), ("\\ud800", "lone surrogate (U+D800)")]


@pytest.mark.parametrize(("escape", "named"), UNSTORABLE)
def test_unstorable_text_in_an_api_json_body_names_the_field_and_path(
    client_for, alice, v1, escape, named
) -> None:
    """The JSON parser answers 400 under the top-level field, with the path inside it."""
    body = (
        '{"version": "2.0.0", "input_schema": {"type": "object", "properties": {"a": '
        f'{{"type": "string", "pattern": "x{escape}"}}}}}}}}'
    )
    response = client_for(alice).post(
        "/api/v1/models/fraud-score/versions/", body, content_type="application/json"
    )
    assert response.status_code == 400
    [message] = response.json()["errors"]["input_schema"]
    assert f"{named} at properties/a/pattern" in message
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [('["\\u0000"]', "at 0"), ('{"\\ud800": 1}', "A field name contains")],
)
def test_unstorable_text_outside_a_field_is_under_detail(
    client_for, alice, v1, body, named
) -> None:
    """A non-object body, or a bad top-level key, belongs to no field."""
    response = client_for(alice).put(
        "/api/v1/models/fraud-score/versions/1.0.0/contract/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert named in response.json()["errors"]["detail"][0]


@pytest.mark.parametrize(("escape", "named"), UNSTORABLE)
def test_unstorable_text_in_the_contract_form_is_a_field_error(
    client_for, alice, v1, escape, named
) -> None:
    """The contract page keeps the form and names the field and the path."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/1.0.0/contract/edit/",
        {"input_schema": f'{{"properties": {{"a": "{escape}"}}}}', "output_schema": "{}"},
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors["input_schema"]
    assert error == f"Input schema contains a {named} at properties/a."


def test_unstorable_text_in_the_version_form_is_a_field_error(client_for, alice, v1) -> None:
    """Registering a version through the page refuses the same text; nothing is stored."""
    response = client_for(alice).post(
        "/models/fraud-score/versions/new/",
        {"version": "2.0.0", "example_request": '{"\\u0000": 1}'},
    )
    assert response.status_code == 200
    assert "NUL character" in str(response.context["form"].errors["example_request"])
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "parameter", "json_answer"),
    [
        ("/models/fraud-score/?version=%00", "version", False),
        ("/models/fraud-score/compare/?a=%00&b=1.0.0", "a", False),
        ("/api/v1/models/?q=%00", "q", True),
        ("/api/v1/models/fraud-score/compare/?a=%00&b=1.0.0", "a", True),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(
    client_for, alice, v1, path, parameter, json_answer
) -> None:
    """Query text that would reach the ORM with a NUL is refused before any view runs."""
    response = client_for(alice).get(path)
    assert response.status_code == 400
    if json_answer:
        assert "NUL character (U+0000)" in response.json()["errors"][parameter][0]
    else:
        content = response.content.decode()
        assert f"&quot;{parameter}&quot;" in content and "NUL character (U+0000)" in content


def test_a_surrogate_escape_in_a_query_string_arrives_replaced(client_for, alice, v1) -> None:
    """Django decodes %ED%A0%80 to U+FFFD replacement characters: an unknown version, 404."""
    response = client_for(alice).get("/models/fraud-score/?version=%ED%A0%80")
    assert response.status_code == 404
    response = client_for(alice).get("/api/v1/models/?q=%ED%A0%80")
    assert response.status_code == 200 and response.json()["results"] == []


def test_a_multipart_file_keeps_the_upload_cap_not_the_body_cap(
    client_for, alice, v1, settings
) -> None:
    """A README file larger than the body cap but under the upload cap is accepted."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    readme = SimpleUploadedFile("README.md", b"# Fraud score\n\n" + b"word " * 1000)
    response = client_for(alice).post(
        "/api/v1/models/fraud-score/versions/1.0.0/card/import/", {"file": readme}
    )
    assert response.status_code == 200, response.content[:300]


def test_a_readme_file_with_a_nul_byte_names_the_section(api_for, alice, v1) -> None:
    """A NUL is valid UTF-8 in an uploaded file; the card refuses it before the database."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    readme = b"---\nlicense: mit\n---\n\n## Intended use\n\nScores \x00 payments.\n"
    upload = SimpleUploadedFile("README.md", readme, content_type="text/markdown")

    response = api_for(alice).post(
        "/api/v1/models/fraud-score/versions/1.0.0/card/import/",
        {"file": upload},
        format="multipart",
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["errors"]["intended_use"][0]
    v1.card.refresh_from_db()
    assert v1.card.license == ""
