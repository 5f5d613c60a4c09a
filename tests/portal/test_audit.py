"""The audit log is append-only and written in the caller's transaction."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from portal.models import AuditEvent, Team
from portal.services.audit import events_for, record_event


def test_it_records_who_did_what_to_which_object(alice: object, risk_team: Team) -> None:
    """Actor, verb, target, before and after are stored."""
    event = record_event(
        actor=alice, verb="team.renamed", target=risk_team, before={"n": "a"}, after={"n": "b"}
    )
    assert event.target == risk_team
    assert events_for(risk_team).first() == event
    assert (event.actor, event.before, event.after) == (alice, {"n": "a"}, {"n": "b"})


def test_an_event_rolls_back_with_the_change_it_records(alice: object, risk_team: Team) -> None:
    """If the caller's transaction fails, the event is gone too."""
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=alice, verb="team.renamed", target=risk_team)
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == before


def test_the_orm_refuses_updates_and_deletes(alice: object, risk_team: Team) -> None:
    """Neither a row nor a queryset can change or remove an event."""
    event = record_event(actor=alice, verb="x", target=risk_team)
    event.verb = "y"
    with pytest.raises(AuditEvent.Immutable):
        event.save()
    with pytest.raises(AuditEvent.Immutable):
        event.delete()
    with pytest.raises(AuditEvent.Immutable):
        AuditEvent.objects.filter(pk=event.pk).update(verb="y")
    with pytest.raises(AuditEvent.Immutable):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "x"


@pytest.mark.postgres
def test_postgres_refuses_raw_sql_updates(alice: object, risk_team: Team) -> None:
    """A trigger guards the table even from code that bypasses the ORM."""
    event = record_event(actor=alice, verb="x", target=risk_team)
    for sql in (
        "UPDATE portal_auditevent SET verb = 'y' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])


def test_the_admin_cannot_add_change_or_delete_events(alice: object) -> None:
    """Even a superuser only reads the audit log in the admin."""
    alice.is_superuser = alice.is_staff = True
    request = RequestFactory().get("/admin/")
    request.user = alice
    model_admin = admin.site._registry[AuditEvent]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_events_carry_the_request_id(client_for, alice: object) -> None:
    """An event written while serving a request records that request's id."""
    response = client_for(alice).post(
        "/account/tokens/", {"name": "ci", "scope": "read"}, headers={"X-Request-ID": "req-abc.123"}
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-abc.123"
    assert AuditEvent.objects.get(verb="token.created").request_id == "req-abc.123"


def test_a_hostile_request_id_is_replaced(client_for, alice: object) -> None:
    """Only short, plain ids are adopted; anything else gets a fresh one."""
    response = client_for(alice).get("/", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert response["X-Request-ID"].isalnum()
    assert len(response["X-Request-ID"]) == 32
