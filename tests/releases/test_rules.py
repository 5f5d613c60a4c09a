"""The rules of releases, in the services every client goes through: who may request and
decide, what the checklist blocks, approvals by distinct people and roles, stale approvals,
deployment, rollback, notifications, and the approval race on PostgreSQL."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from portal.models import AuditEvent
from portal.notifications.models import Notification
from portal.roles import Role
from portal.services.accounts import create_user
from portal.webhooks.models import WebhookDelivery
from registry.models import ModelVersion
from registry.releases.choices import State
from registry.releases.models import (
    Approval,
    Deployment,
    Environment,
    ReleaseRequest,
    ReleaseWebhook,
)
from registry.releases.services import approvals as approvals_service
from registry.releases.services.approvals import decide, unmet_roles
from registry.releases.services.deployments import current_deployment, mark_deployed, roll_back
from registry.releases.services.requests import cancel_release, override_check, request_release
from registry.releases.services.runbooks import save_runbook
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

DS, ENG, APPROVER = Role.DATA_SCIENTIST, Role.ENGINEER, Role.APPROVER


def _person(name: str, *roles: Role) -> Any:
    return create_user(username=name, password=None, roles=list(roles), email=f"{name}@example.com")


@pytest.fixture
def approvers(db: Any) -> dict[str, Any]:
    """Approvers by their second role: "ds", "eng", and "both" (who holds the two)."""
    return {
        "ds": _person("dora", APPROVER, DS),
        "eng": _person("ezra", APPROVER, ENG),
        "both": _person("bea", APPROVER, DS, ENG),
    }


@pytest.fixture
def production(db: Any) -> Environment:
    """Production as migrated (an approver with each role), without the card and runbook
    checks unless a test puts them back."""
    environment = Environment.objects.get(name="production")
    environment.min_completeness = 0
    environment.runbook_required = False
    environment.save()
    return environment


@pytest.fixture
def versions(alice: Any, risk_team: Any) -> tuple[ModelVersion, ModelVersion]:
    """churn 1.0.0 and 1.1.0, both candidates."""
    model = create_model(
        actor=alice, name="churn", title="Churn", team=risk_team, task_type="binary_classification"
    )
    made = []
    for number in ("1.0.0", "1.1.0"):
        version = create_version(
            actor=alice,
            model=model,
            version=number,
            input_schema={"type": "object", "properties": {"age": {"type": "number"}}},
            output_schema={"type": "object"},
        )
        made.append(set_version_status(actor=alice, version=version, status="candidate"))
    return made[0], made[1]


def _request(actor: Any, version: Any, environment: Any, **extra: Any) -> ReleaseRequest:
    return request_release(
        actor=actor,
        version=version,
        environment=environment,
        justification=extra.pop("justification", "Better recall on **new** customers."),
        rollback_plan="Roll back to the previous version.",
        **extra,
    )


def _approved(release: ReleaseRequest, *people: Any) -> ReleaseRequest:
    for person in people:
        decide(actor=person, release=release, decision="approve", comment="ok")
    release.refresh_from_db()
    return release


def _deployed(alice: Any, version: Any, environment: Any, *people: Any) -> ReleaseRequest:
    release = _approved(_request(alice, version, environment), *people)
    return mark_deployed(actor=alice, release=release)


# Requesting -----------------------------------------------------------------------------


def test_a_request_snapshots_its_checklist_and_tells_each_approver_once(
    alice, versions, production, approvers, victor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        release = _request(alice, versions[1], production)

    assert release.state == State.PENDING
    checks = {item["check"]: item for item in release.checklist["items"]}
    assert set(checks) == {"gates", "completeness", "contract", "open_items", "drift", "runbook"}
    assert "<strong>new</strong>" in release.justification_html
    notified = Notification.objects.filter(kind="release").values_list(
        "recipient__username", flat=True
    )
    assert sorted(notified) == ["bea", "dora", "ezra"]
    assert sorted(address for m in mail.outbox for address in m.to) == [
        "bea@example.com",
        "dora@example.com",
        "ezra@example.com",
    ]
    assert (
        AuditEvent.objects.filter(verb="release.requested", target_id=str(release.pk)).count() == 1
    )


def test_outsiders_viewers_and_drafts_cannot_be_released(
    alice, charlie, victor, risk_team, versions, production
):
    for person in (charlie, victor):
        with pytest.raises(PermissionDenied):
            _request(person, versions[1], production)
    draft = create_version(actor=alice, model=versions[0].model, version="2.0.0")
    with pytest.raises(ValidationError) as caught:
        _request(alice, draft, production)
    assert "draft" in caught.value.message_dict["version"][0]


def test_missing_fields_and_bad_canary_steps_are_named(alice, versions, production):
    with pytest.raises(ValidationError) as caught:
        request_release(
            actor=alice,
            version=versions[1],
            environment=production,
            justification=" ",
            rollback_plan="",
        )
    assert set(caught.value.message_dict) == {"justification", "rollback_plan"}
    for steps in ([50, 25, 100], [5, 25], [100], [0, 100], [5, 5, 100]):
        with pytest.raises(ValidationError) as caught:
            _request(alice, versions[1], production, strategy="canary", canary_steps=steps)
        assert "canary_steps" in caught.value.message_dict


def test_a_failing_check_blocks_the_request_with_what_to_fix_until_an_approver_overrides(
    alice, versions, production, approvers
):
    production.runbook_required = True
    production.min_completeness = 50
    production.save()

    with pytest.raises(ValidationError) as caught:
        _request(alice, versions[1], production)
    problems = " ".join(caught.value.message_dict["checklist"])
    assert "Operations runbook" in problems and "Card completeness" in problems
    assert not ReleaseRequest.objects.exists()

    save_runbook(
        actor=alice, model=versions[1].model, body="Served by **churn-api**; roll back by …"
    )
    with pytest.raises(PermissionDenied):
        override_check(
            actor=alice,
            version=versions[1],
            environment=production,
            check="completeness",
            reason="x",
        )
    override_check(
        actor=approvers["ds"],
        version=versions[1],
        environment=production,
        check="completeness",
        reason="Card finished after launch; agreed with the lead.",
    )
    release = _request(alice, versions[1], production)
    completeness = next(i for i in release.checklist["items"] if i["check"] == "completeness")
    assert completeness["ok"] is False and "agreed" in completeness["overridden"]
    assert release.runbook is not None and release.runbook.revision == 1


def test_a_breaking_contract_change_must_be_acknowledged(alice, versions, production, approvers):
    _deployed(alice, versions[0], production, approvers["ds"], approvers["eng"])
    breaking = create_version(
        actor=alice,
        model=versions[0].model,
        version="2.0.0",
        input_schema={
            "type": "object",
            "properties": {"age": {"type": "string"}},
            "required": ["age"],
        },
        output_schema={"type": "object"},
    )
    set_version_status(actor=alice, version=breaking, status="candidate")

    with pytest.raises(ValidationError) as caught:
        _request(alice, breaking, production)
    assert "Contract changes" in caught.value.message_dict["checklist"][0]
    release = _request(alice, breaking, production, acknowledge_breaking=True)
    assert release.breaking_acknowledged and release.checklist["breaking_changes"]


def test_one_open_request_per_version_and_environment(alice, versions, production):
    _request(alice, versions[1], production)
    with pytest.raises(ValidationError) as caught:
        _request(alice, versions[1], production)
    assert "open request" in caught.value.message_dict["version"][0]


# Deciding -------------------------------------------------------------------------------


def test_the_requester_cannot_approve_even_as_an_approver(alice, versions, production, approvers):
    requester = approvers["both"]
    requester.teams.add(versions[1].model.team)
    release = _request(requester, versions[1], production)

    with pytest.raises(PermissionDenied):
        decide(actor=requester, release=release, decision="approve")
    assert not Approval.objects.exists()


def test_people_without_the_approver_role_cannot_decide(alice, bob, versions, production):
    release = _request(alice, versions[1], production)
    with pytest.raises(PermissionDenied):
        decide(actor=bob, release=release, decision="approve")


def test_production_needs_a_data_scientist_and_an_engineer_who_are_two_people(
    alice, versions, production, approvers
):
    release = _request(alice, versions[1], production)

    _approved(release, approvers["both"])  # both roles, but one person counts once
    assert release.state == State.PENDING
    _approved(release, approvers["ds"])
    assert release.state == State.APPROVED
    assert (
        AuditEvent.objects.filter(verb="release.approved", target_id=str(release.pk)).count() == 1
    )


def test_two_approvers_of_the_same_role_do_not_meet_a_two_role_requirement(
    alice, versions, production, approvers
):
    other_ds = _person("olga", APPROVER, DS)
    release = _approved(_request(alice, versions[1], production), approvers["ds"], other_ds)
    assert release.state == State.PENDING
    assert _approved(release, approvers["eng"]).state == State.APPROVED


@pytest.mark.parametrize(
    ("required", "people", "missing"),
    [
        (["DS", "ENG"], [{"DS", "ENG"}], 1),  # one person fills one of the roles
        (["DS", "ENG"], [{"DS", "ENG"}, {"DS"}], 0),
        (["DS", "ENG"], [{"DS"}, {"DS"}], 1),
        (["DS", "ENG"], [{"ENG"}, {"X"}, {"DS"}], 0),
        (["DS"], [], 1),
        ([], [{"X"}], 0),
    ],
)
def test_required_roles_are_matched_to_distinct_people(required, people, missing):
    unmet = unmet_roles(required, people)
    assert len(unmet) == missing and set(unmet) <= set(required)


def test_one_rejection_rejects_and_needs_a_reason(alice, versions, production, approvers):
    release = _approved(_request(alice, versions[1], production), approvers["ds"])
    with pytest.raises(ValidationError) as caught:
        decide(actor=approvers["eng"], release=release, decision="reject")
    assert "comment" in caught.value.message_dict
    decide(actor=approvers["eng"], release=release, decision="reject", comment="Latency too high.")
    release.refresh_from_db()
    assert release.state == State.REJECTED
    assert release.requested_by.notifications.filter(message__contains="rejected").exists()
    with pytest.raises(ValidationError):
        decide(actor=approvers["both"], release=release, decision="approve")


def test_a_person_decides_once(alice, versions, production, approvers):
    release = _request(alice, versions[1], production)
    decide(actor=approvers["ds"], release=release, decision="approve")
    with pytest.raises(ValidationError) as caught:
        decide(actor=approvers["ds"], release=release, decision="approve")
    assert "already" in caught.value.message_dict["decision"][0]


def test_a_card_change_after_approval_dismisses_it_and_the_request_waits_again(
    alice, versions, production, approvers
):
    release = _approved(_request(alice, versions[1], production), approvers["ds"], approvers["eng"])
    assert release.state == State.APPROVED

    update_card(
        actor=alice, card=versions[1].card, sections={"intended_use": "Churn scoring, now for B2B."}
    )

    release.refresh_from_db()
    assert release.state == State.PENDING
    assert Approval.objects.filter(request=release, dismissed_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(verb="release.approvals_dismissed").count() == 1
    # Those who approved may approve the version as it is now.
    assert _approved(release, approvers["ds"], approvers["eng"]).state == State.APPROVED


def test_the_requester_may_cancel_and_a_cancelled_request_takes_no_decision(
    alice, charlie, versions, production, approvers
):
    release = _request(alice, versions[1], production)
    with pytest.raises(PermissionDenied):
        cancel_release(actor=charlie, release=release)
    cancel_release(actor=alice, release=release, reason="Wrong version.")
    release.refresh_from_db()
    assert release.state == State.CANCELLED
    with pytest.raises(ValidationError):
        decide(actor=approvers["ds"], release=release, decision="approve")


# Deploying and rolling back --------------------------------------------------------------


def test_deploying_replaces_the_running_version_and_rollback_restores_it(
    alice, versions, production, approvers
):
    old, new = versions
    first = _deployed(alice, old, production, approvers["ds"], approvers["eng"])
    old.refresh_from_db()
    assert old.status == "production"
    assert current_deployment(production, old.model).version == old

    second = _deployed(alice, new, production, approvers["ds"], approvers["eng"])
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("archived", "production")
    assert second.replaces == old and second.traffic_percent == 100

    with pytest.raises(ValidationError):
        roll_back(actor=alice, release=second, reason=" ")
    roll_back(actor=alice, release=second, reason="Error rate doubled after the release.")

    old.refresh_from_db()
    new.refresh_from_db()
    second.refresh_from_db()
    running = current_deployment(production, old.model)
    assert running.version == old and running.rollback_of is not None
    assert (old.status, new.status, second.state) == ("production", "archived", State.ROLLED_BACK)
    assert Deployment.objects.filter(environment=production, ended_at__isnull=True).count() == 1
    event = AuditEvent.objects.get(verb="release.rolled_back", target_id=str(second.pk))
    assert event.after["reason"].startswith("Error rate") and event.after["restored"] == str(old)
    assert first.state == State.DEPLOYED


def test_a_canary_starts_at_its_first_step_and_the_running_version_stays(
    alice, versions, production, approvers
):
    old, new = versions
    _deployed(alice, old, production, approvers["ds"], approvers["eng"])
    release = _approved(
        _request(alice, new, production, strategy="canary", canary_steps=[5, 25, 100]),
        approvers["ds"],
        approvers["eng"],
    )
    release = mark_deployed(actor=alice, release=release)

    assert release.traffic_percent == 5 and release.is_canary_running
    assert release.next_step() == 25
    assert current_deployment(production, old.model).version == old
    roll_back(actor=alice, release=release, reason="Canary looked bad.")
    assert current_deployment(production, old.model).version == old


def test_a_release_must_be_approved_before_it_deploys(alice, versions, production):
    release = _request(alice, versions[1], production)
    with pytest.raises(ValidationError):
        mark_deployed(actor=alice, release=release)


def test_configured_webhooks_receive_the_release_events(
    alice, versions, production, approvers, risk_team
):
    ReleaseWebhook.objects.create(
        team=risk_team, url="https://hooks.example.com/handoff", events=[]
    )
    ReleaseWebhook.objects.create(
        environment=production, url="https://cd.example.com/x", events=["release.approved"]
    )
    _approved(_request(alice, versions[1], production), approvers["ds"], approvers["eng"])

    sent = sorted(WebhookDelivery.objects.values_list("url", "event"))
    assert sent == [
        ("https://cd.example.com/x", "release.approved"),
        ("https://hooks.example.com/handoff", "release.approved"),
        ("https://hooks.example.com/handoff", "release.requested"),
    ]
    payload = WebhookDelivery.objects.filter(event="release.approved").first().payload
    assert payload["release"]["model"] == "churn" and payload["release"]["state"] == "approved"


# The race ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_make_exactly_one_transition(
    alice, versions, production, approvers, monkeypatch
):
    """Each approval alone leaves the request pending; together they approve it. Without the
    row lock both would count one approval and the request would stay pending (or, counted
    after both commit, move twice)."""
    release = _request(alice, versions[1], production)
    counted = approvals_service.progress

    def slow_progress(row: ReleaseRequest) -> Any:
        time.sleep(0.3)  # both decisions are inside their transactions at once
        return counted(row)

    monkeypatch.setattr(approvals_service, "progress", slow_progress)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(person: Any) -> None:
        try:
            barrier.wait()
            decide(actor=person, release=release, decision="approve", comment="go")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()  # the thread's own connection: the test database can go

    threads = [
        threading.Thread(target=approve, args=(p,)) for p in (approvers["ds"], approvers["eng"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    release.refresh_from_db()
    assert release.state == State.APPROVED
    assert (
        AuditEvent.objects.filter(verb="release.approved", target_id=str(release.pk)).count() == 1
    )


# Environments -----------------------------------------------------------------------------


def test_only_an_administrator_changes_an_environment_and_each_change_is_audited(
    superuser, approvers
):
    from registry.releases.services.environments import save_environment

    canary = Environment(name="eu-canary", title="EU canary", version_status="staging")
    with pytest.raises(PermissionDenied):
        save_environment(actor=approvers["ds"], environment=canary)
    canary.required_roles = ["Data scientist", "Chef"]
    with pytest.raises(ValidationError) as caught:
        save_environment(actor=superuser, environment=canary)
    assert "required_roles" in caught.value.message_dict

    canary.required_roles = ["Engineer"]
    save_environment(actor=superuser, environment=canary)
    canary.approvals_needed = 2
    save_environment(actor=superuser, environment=canary)
    events = AuditEvent.objects.filter(verb="environment.saved").order_by("pk")
    assert [e.before and e.before["approvals_needed"] for e in events] == [None, 1]
    assert events.last().after["approvals_needed"] == 2


def test_a_production_version_released_to_staging_stays_production(
    alice, versions, production, approvers
):
    old = versions[0]
    _deployed(alice, old, production, approvers["ds"], approvers["eng"])
    staging = Environment.objects.get(name="staging")
    _deployed(alice, old, staging, approvers["ds"])
    old.refresh_from_db()
    assert old.status == "production"
    assert current_deployment(staging, old.model).version == old


def test_a_model_with_a_release_request_is_kept_with_a_reason_not_a_crash(
    alice: Any, risk_team: Any
) -> None:
    from registry.models import RegisteredModel
    from registry.releases.models import Environment
    from registry.services.models import create_model, delete_model
    from registry.services.versions import create_version, set_version_status

    model = create_model(actor=alice, name="fresh", title="Fresh", team=risk_team)
    version = create_version(actor=alice, model=model, version="0.1.0")
    set_version_status(actor=alice, version=version, status="candidate")
    release = request_release(
        actor=alice,
        version=version,
        environment=Environment.objects.get(name="staging"),
        justification="Try it in staging.",
        rollback_plan="Nothing runs there yet.",
    )
    cancel_release(actor=alice, release=release, reason="Not yet.")
    with pytest.raises(ValidationError, match="Kept by 1 release request"):
        delete_model(actor=alice, model=model)
    assert RegisteredModel.objects.filter(name="fresh").exists()
