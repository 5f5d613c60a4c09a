"""A model's API keys page: who sees the forms, the secret shown once, revoking."""

from __future__ import annotations

from typing import Any

import pytest

from feedback.models import ApiKey, Scope
from feedback.services.keys import create_key, digest_of
from portal.models import AuditEvent

URL = "/feedback/models/scorer/keys/"


def _form(**changes: Any) -> dict[str, Any]:
    return {
        "name": "checkout service",
        "scopes": [Scope.PREDICTIONS, Scope.READ],
        "applies_to": "model",
        "allowed_origins": "",
        "nonce": "form-nonce-0001",
        **changes,
    }


def _key(alice: Any, model: Any, name: str, *, every_model: bool = False) -> ApiKey:
    key, _ = create_key(
        actor=alice,
        team=model.team,
        name=name,
        scopes=[Scope.FEEDBACK],
        model=None if every_model else model,
    )
    return key


def test_the_page_lists_the_models_keys_and_its_teams_but_no_other_models(
    client_for: Any, alice: Any, victor: Any, scorer: Any, other_model: Any
) -> None:
    _key(alice, scorer, "scorer-only")
    _key(alice, scorer, "whole-team", every_model=True)
    _key(alice, other_model, "other-only")

    html = client_for(victor).get(URL).content.decode()

    assert "scorer-only" in html and "whole-team" in html
    assert "All Risk Modelling models" in html
    assert "other-only" not in html


def test_an_author_creates_a_key_and_sees_its_secret_once(
    client_for: Any, bob: Any, scorer: Any
) -> None:
    client = client_for(bob)

    response = client.post(
        URL, _form(allowed_origins="https://shop.example/\n\nhttp://localhost:3000")
    )

    assert response.status_code == 200
    secret = response.context["new_secret"]
    key = ApiKey.objects.get()
    assert secret.startswith("hfk_") and key.digest == digest_of(secret)
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert (key.name, key.model, key.created_by) == ("checkout service", scorer, bob)
    assert key.scopes == [Scope.PREDICTIONS, Scope.READ]
    assert key.allowed_origins == ["https://shop.example", "http://localhost:3000"]
    assert AuditEvent.objects.filter(verb="apikey.created").count() == 1
    # never again: not on the next page, not in the session, not in a URL
    again = client.get(URL).content.decode()
    assert key.prefix in again and secret not in again
    assert secret not in str(dict(client.session.items()))


def test_a_resent_form_creates_no_second_key(client_for: Any, alice: Any, scorer: Any) -> None:
    client = client_for(alice)
    client.post(URL, _form())

    again = client.post(URL, _form())

    assert again.status_code == 303 and again["Location"] == URL
    assert ApiKey.objects.count() == 1


def test_a_key_may_cover_every_model_of_the_team(client_for: Any, alice: Any, scorer: Any) -> None:
    client_for(alice).post(URL, _form(applies_to="team"))

    key = ApiKey.objects.get()
    assert (key.model, key.team) == (None, scorer.team)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"allowed_origins": "ftp://shop.example"}, "allowed_origins", "is not an origin"),
        ({"allowed_origins": "http://shop.example"}, "allowed_origins", "http only for localhost"),
        ({"scopes": []}, "scopes", "required"),
        ({"scopes": ["admin"]}, "scopes", "not one of the available choices"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_a_refused_key_is_named_on_its_field_and_nothing_is_stored(
    client_for: Any, alice: Any, scorer: Any, changes: dict[str, Any], field: str, reason: str
) -> None:
    response = client_for(alice).post(URL, _form(**changes))

    assert response.status_code == 200
    assert reason in " ".join(response.context["form"].errors[field])
    assert 'class="error-summary"' in response.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("person", ["charlie", "victor", "dana"])
def test_outsiders_viewers_and_approvers_see_no_form_and_get_403(
    request: Any, client_for: Any, alice: Any, scorer: Any, person: str
) -> None:
    """Only the team's data scientists and engineers manage its keys."""
    key = _key(alice, scorer, "in use")
    client = client_for(request.getfixturevalue(person))

    page = client.get(URL)
    created = client.post(URL, _form(name="sneaky"))
    revoked = client.post(f"{URL}{key.pk}/revoke/")

    assert page.status_code == 200
    assert "Create a key" not in page.content.decode()
    assert 'action="/feedback/models/scorer/keys/' not in page.content.decode()
    assert (created.status_code, revoked.status_code) == (403, 403)
    key.refresh_from_db()
    assert key.revoked_at is None and ApiKey.objects.count() == 1


def test_an_author_revokes_a_key(client_for: Any, alice: Any, bob: Any, scorer: Any) -> None:
    key = _key(alice, scorer, "old service")

    response = client_for(bob).post(f"{URL}{key.pk}/revoke/")

    assert response.status_code == 303 and response["Location"] == URL
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == bob
    assert AuditEvent.objects.filter(verb="apikey.revoked").count() == 1
    html = client_for(bob).get(URL).content.decode()
    assert "revoked" in html and f"{URL}{key.pk}/revoke/" not in html


def test_revoking_refuses_get_and_keys_the_page_does_not_list(
    client_for: Any, alice: Any, scorer: Any, other_model: Any
) -> None:
    """Revoking is a POST, and only for a key this model's page lists."""
    client = client_for(alice)
    mine, theirs = _key(alice, scorer, "mine"), _key(alice, other_model, "theirs")

    assert client.get(f"{URL}{mine.pk}/revoke/").status_code == 405
    assert client.post(f"{URL}{theirs.pk}/revoke/").status_code == 404
    assert client.get("/feedback/models/no-such-model/keys/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_anonymous_people_are_sent_to_sign_in(client: Any, scorer: Any) -> None:
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
