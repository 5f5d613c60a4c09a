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
    base = "/api/models/fraud-score"
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
        "/api/models/fraud-score/versions/",
        {"version": "2.0.0", "input_schema": DEEP},
        format="multipart",
    )
    assert response.status_code == 415
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "json_answer"),
    [
        ("/api/models/fraud-score/versions/1.0.0/artifact/", True),
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
