"""Deleting models and draft versions from the pages."""

from typing import Any

from registry.models import ModelVersion, RegisteredModel
from registry.services.versions import set_version_status


def test_the_team_deletes_a_draft_version(client_for: Any, alice: Any, v1: Any) -> None:
    """The model page offers it for drafts; the POST removes the version."""
    page = client_for(alice).get("/models/fraud-score/versions/1.0.0/").content.decode()
    assert "/models/fraud-score/versions/1.0.0/delete/" in page
    response = client_for(alice).post("/models/fraud-score/versions/1.0.0/delete/")
    assert response.status_code == 302 and response["Location"] == "/models/fraud-score/"
    assert not ModelVersion.objects.exists()


def test_a_candidate_is_not_deleted_and_the_reason_is_shown(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """Only drafts go; the refusal comes back as a message."""
    set_version_status(actor=alice, version=v1, status="candidate")
    response = client_for(alice).post("/models/fraud-score/versions/1.0.0/delete/", follow=True)
    assert "Only draft versions can be deleted" in response.content.decode()
    assert ModelVersion.objects.count() == 1


def test_outsiders_and_viewers_cannot_delete(
    client_for: Any, charlie: Any, victor: Any, v1: Any
) -> None:
    """403 for both routes; nothing removed; no delete button shown."""
    for user in (charlie, victor):
        client = client_for(user)
        assert "/delete/" not in client.get("/models/fraud-score/").content.decode()
        assert client.post("/models/fraud-score/versions/1.0.0/delete/").status_code == 403
        assert client.post("/models/fraud-score/delete/").status_code == 403
    assert RegisteredModel.objects.count() == ModelVersion.objects.count() == 1


def test_deleting_needs_a_post(client_for: Any, alice: Any, v1: Any) -> None:
    """A link cannot delete anything."""
    assert client_for(alice).get("/models/fraud-score/delete/").status_code == 405
    assert client_for(alice).get("/models/fraud-score/versions/1.0.0/delete/").status_code == 405


def test_the_team_deletes_an_unreleased_model(client_for: Any, bob: Any, v1: Any) -> None:
    """From the edit page's danger zone, back to the list."""
    assert (
        "/models/fraud-score/delete/"
        in client_for(bob).get("/models/fraud-score/edit/").content.decode()
    )
    response = client_for(bob).post("/models/fraud-score/delete/")
    assert response.status_code == 302 and response["Location"] == "/models/"
    assert not RegisteredModel.objects.exists()
