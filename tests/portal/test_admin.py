"""The admin changes nothing past the services: read-only, or saved through a service."""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory

from portal.models import AuditEvent, PersonalToken, Team
from portal.services.audit import events_for
from portal.services.tokens import create_token

HANDOFF_APPS = {"portal", "registry", "feedback"}
# Teams are managed in the admin, through the accounts services (tested below).
SAVED_THROUGH_SERVICES = {Team}


def _handoff_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in HANDOFF_APPS and model not in SAVED_THROUGH_SERVICES
    ]


def test_no_handoff_model_can_be_added_changed_or_deleted_in_the_admin(superuser) -> None:
    """Every Handoff admin (bar teams) is browse-only, even for a superuser."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    editable = [
        model.__name__
        for model, model_admin in _handoff_admins()
        if model_admin.has_add_permission(request)
        or model_admin.has_change_permission(request)
        or model_admin.has_delete_permission(request)
    ]
    assert _handoff_admins(), "no Handoff admin found"
    assert editable == []


def test_tokens_are_revoked_from_the_admin_through_the_service(client_for, superuser, alice):
    """The admin action records token.revoked, and the token stops working."""
    token, _ = create_token(user=alice, name="leaked")

    response = client_for(superuser).post(
        "/admin/portal/personaltoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(verb="token.revoked", actor=superuser).count() == 1
    assert PersonalToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_teams_are_created_and_staffed_in_the_admin_with_audit_events(
    client_for, superuser, alice, bob
) -> None:
    """Creating a team and changing its members go through the accounts services."""
    client = client_for(superuser)

    created = client.post(
        "/admin/portal/team/add/",
        {"name": "Pricing", "description": "Prices", "members": [alice.pk]},
    )
    team = Team.objects.get(name="Pricing")
    changed = client.post(
        f"/admin/portal/team/{team.pk}/change/",
        {"name": "Pricing and offers", "description": "Prices", "members": [bob.pk]},
    )

    assert (created.status_code, changed.status_code) == (302, 302)
    team.refresh_from_db()
    assert (team.slug, team.name) == ("pricing", "Pricing and offers")
    assert list(team.members.values_list("username", flat=True)) == ["bob"]
    verbs = list(events_for(team).order_by("id").values_list("verb", flat=True))
    assert verbs == ["team.created", "team.members_changed", "team.updated", "team.members_changed"]
    assert client.post(f"/admin/portal/team/{team.pk}/delete/", {"post": "yes"}).status_code == 403
