"""Personal API tokens: shown once, stored hashed, revocable."""

import pytest
from django.test import Client

from portal.models import AuditEvent, PersonalToken
from portal.services.tokens import create_token, revoke_token


def test_a_token_is_shown_once_and_stored_as_a_digest(client_for, alice: object) -> None:
    """The page shows the new key once; the database holds only its SHA-256."""
    client = client_for(alice)
    client.post("/account/tokens/", {"name": "notebook", "scope": "write"})
    response = client.get("/account/tokens/")
    key = response.context["new_key"]
    assert key.startswith("hnd_") and key in response.content.decode()
    token = PersonalToken.objects.get(user=alice)
    assert key not in (token.digest, token.prefix) and len(token.digest) == 64
    assert key not in client.get("/account/tokens/").content.decode()


def test_the_api_accepts_a_valid_token(alice: object) -> None:
    """Authorization: Token <key> authenticates as the owner."""
    _, key = create_token(user=alice, name="ci")
    response = Client().get("/api/v1/me/", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200
    assert response.json() == {
        "username": "alice",
        "full_name": "",
        "roles": ["Data scientist"],
        "teams": ["risk-modelling"],
    }
    assert PersonalToken.objects.get(user=alice).last_used_at is not None


def test_a_revoked_or_wrong_token_gets_401(alice: object) -> None:
    """Revocation takes effect at once; unknown keys and malformed headers are refused."""
    token, key = create_token(user=alice, name="ci")
    revoke_token(token=token, actor=alice)
    for header in (f"Token {key}", "Token hnd_wrong", "Token", "Token a b"):
        response = Client().get("/api/v1/me/", headers={"Authorization": header})
        assert response.status_code == 401, header
    assert AuditEvent.objects.filter(verb="token.revoked").count() == 1


def test_nobody_can_revoke_someone_elses_token(client_for, alice: object, bob: object) -> None:
    """Another person's token is a 404 and stays active."""
    token, _ = create_token(user=alice, name="ci")
    response = client_for(bob).post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_revoking_needs_a_post(client_for, alice: object) -> None:
    """A link or an image cannot revoke a token."""
    token, _ = create_token(user=alice, name="ci")
    assert client_for(alice).get(f"/account/tokens/{token.pk}/revoke/").status_code == 405
    response = client_for(alice).post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert not token.is_active


def test_a_token_form_without_a_name_names_the_field(client_for, alice: object) -> None:
    """Bad input is refused with the field named."""
    response = client_for(alice).post("/account/tokens/", {"name": "", "scope": "read"})
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert not PersonalToken.objects.exists()


def test_a_read_only_token_reads_but_cannot_write(alice: object) -> None:
    """Wrong scope is a 403 naming the reason; the same person's write token may write."""
    _, read_key = create_token(user=alice, name="dashboards", scope="read")
    _, write_key = create_token(user=alice, name="ci", scope="write")
    body = {"name": "m1", "title": "M1", "team": "risk-modelling"}
    reader = Client(headers={"Authorization": f"Token {read_key}"})
    assert reader.get("/api/v1/models/").status_code == 200
    refused = reader.post("/api/v1/models/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "read-only" in refused.json()["errors"]["detail"][0]
    writer = Client(headers={"Authorization": f"Token {write_key}"})
    assert writer.post("/api/v1/models/", body, content_type="application/json").status_code == 201


def test_the_token_form_defaults_to_read_only(client_for, alice: object) -> None:
    """Least privilege unless the person asks for more."""
    client_for(alice).post("/account/tokens/", {"name": "x", "scope": "read"})
    assert PersonalToken.objects.get(user=alice).scope == "read"
    response = client_for(alice).get("/account/tokens/")
    assert response.context["form"]["scope"].initial == "read"
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_token_is_read_only_unless_writing_is_asked_for(client_for, alice: object) -> None:
    """The service's default and the form's initial choice agree: read-only."""
    from portal.forms import TokenForm

    token, _ = create_token(user=alice, name="dashboards")

    assert token.scope == PersonalToken.Scope.READ
    assert TokenForm(user=alice).fields["scope"].initial == PersonalToken.Scope.READ


def test_creating_a_token_redirects_so_a_reload_cannot_make_a_second(client_for, alice) -> None:
    """Post/redirect/get: the key is shown once on the next page, then never again."""
    client = client_for(alice)

    created = client.post("/account/tokens/", {"name": "ci", "scope": "read"})
    shown = client.get("/account/tokens/")
    again = client.get("/account/tokens/")

    assert created.status_code == 302 and created["Location"] == "/account/tokens/"
    assert PersonalToken.objects.filter(user=alice).count() == 1
    key = shown.context["new_key"]
    assert key.startswith("hnd_") and key in shown.content.decode()
    assert 'data-copy="new-key"' in shown.content.decode()
    assert again.context["new_key"] is None and key not in again.content.decode()


def test_a_viewer_is_offered_and_granted_read_tokens_only(client_for, victor) -> None:
    """A Viewer can never write, so neither can their tokens: the form and service agree."""
    from django.core.exceptions import ValidationError

    page = client_for(victor).get("/account/tokens/")
    refused = client_for(victor).post("/account/tokens/", {"name": "x", "scope": "write"})

    assert [value for value, _ in page.context["form"].fields["scope"].choices] == ["read"]
    assert refused.status_code == 200 and "scope" in refused.context["form"].errors
    with pytest.raises(ValidationError):
        create_token(user=victor, name="x", scope="write")
    assert not PersonalToken.objects.filter(user=victor).exists()
    assert '<label for="id_name">Name</label>' in page.content.decode()


def _token_writes(client: Client, key: str) -> int:
    """UPDATEs of the token table while ``client`` reads the API once with ``key``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me/", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200
    return sum(q["sql"].startswith('UPDATE "portal_personaltoken"') for q in queries)


def test_last_used_at_is_written_at_most_once_a_minute(alice: object) -> None:
    """Reads within a minute of the last write leave the row alone; a later read writes."""
    from datetime import timedelta

    from django.utils import timezone

    token, key = create_token(user=alice, name="ci")
    client = Client()

    assert _token_writes(client, key) == 1  # never used before
    first = PersonalToken.objects.get(pk=token.pk).last_used_at
    assert _token_writes(client, key) == 0
    assert _token_writes(client, key) == 0
    assert PersonalToken.objects.get(pk=token.pk).last_used_at == first

    PersonalToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(seconds=59)
    )
    assert _token_writes(client, key) == 0
    PersonalToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(seconds=61)
    )
    assert _token_writes(client, key) == 1
    assert PersonalToken.objects.get(pk=token.pk).last_used_at > first


def test_concurrent_first_uses_write_last_used_at_once(alice: object) -> None:
    """The UPDATE repeats the check, so a worker holding a stale copy writes nothing."""
    from django.utils import timezone

    from portal.services.tokens import active_token, note_use

    _, key = create_token(user=alice, name="ci")
    seen_by_one, seen_by_other = active_token(key), active_token(key)
    assert seen_by_one is not None and seen_by_other is not None

    note_use(seen_by_one, timezone.now())
    written = PersonalToken.objects.get(pk=seen_by_one.pk).last_used_at
    note_use(seen_by_other, timezone.now())  # its copy still says "never used"

    assert PersonalToken.objects.get(pk=seen_by_one.pk).last_used_at == written
