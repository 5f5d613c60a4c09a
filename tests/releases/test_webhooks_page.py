"""The release webhooks page: the webhooks each person may see, the add form and its errors,
delete and resend buttons only for who may press them (and forged POSTs refused), and a
query count that does not grow with the webhooks or the deliveries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.webhooks.models import WebhookDelivery
from registry.releases.models import Environment, ReleaseRequest, ReleaseWebhook
from registry.releases.services.requests import request_release

PAGE = "/releases/webhooks/"
HOOK_URL = "https://hooks.example.com/cd/s3cret-token"

# Personas (tests/releases/conftest.py): ``alice`` (Data scientist) and ``erin`` (Engineer)
# of the Risk team, which owns churn; ``daria`` an Approver in no team; ``viewer`` a Viewer,
# here added to the Risk team; ``charlie`` a Data scientist of the Search team.


@pytest.fixture
def team_viewer(viewer: Any, risk_team: Any) -> Any:
    risk_team.members.add(viewer)
    return viewer


@pytest.fixture
def release(alice: Any, candidate_version: Any, production_env: Environment) -> ReleaseRequest:
    return request_release(
        actor=alice,
        version=candidate_version,
        environment=production_env,
        justification="Better recall on new customers.",
        rollback_plan="Roll back to 1.0.0 from the release page.",
    )


@pytest.fixture
def team_hook(alice: Any, risk_team: Any) -> ReleaseWebhook:
    return ReleaseWebhook.objects.create(
        team=risk_team, url=HOOK_URL, events=["release.approved"], created_by=alice
    )


def _delivery(release_id: int, phase: JobStatus = JobStatus.FAILED) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        url=HOOK_URL,
        event="release.approved",
        payload={"event": "release.approved", "release": {"id": release_id}},
        status=phase,
        attempts=3,
        response_status=503,
        error="The receiver answered 503.",
    )


def _html(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _resend(delivery: WebhookDelivery) -> str:
    return reverse("releases:delivery-resend", args=[delivery.pk])


def _delete(hook: ReleaseWebhook) -> str:
    return reverse("releases:webhook-delete", args=[hook.pk])


def test_the_page_is_linked_from_the_releases_list(client_for, alice):
    assert f'href="{PAGE}"' in _html(client_for(alice).get(reverse("releases:list")))


def test_an_engineer_of_the_team_sees_its_webhooks_form_and_buttons(
    client_for, erin, risk_team, team_hook, release
):
    failed, delivered = _delivery(release.pk), _delivery(release.pk, JobStatus.SUCCEEDED)

    html = _html(client_for(erin).get(PAGE))

    assert HOOK_URL in html  # the full URL: erin configures it
    assert _delete(team_hook) in html
    assert 'name="webhook-target"' in html and f'value="team:{risk_team.slug}"' in html
    assert 'value="environment:production"' not in html  # environments are the approvers'
    assert 'name="webhook-events"' in html and 'value="release.rolled_back"' in html
    assert _resend(failed) in html and _resend(delivered) not in html
    assert "The receiver answered 503." in html
    page = html.split('id="webhooks-heading"')[1].split("<footer")[0]
    assert "<script" not in page and not re.search(r"\son[a-z]+=", page)  # CSP: no script


def test_an_approver_configures_environments_and_resends_any_release_delivery(
    client_for, daria, risk_team, team_hook, release
):
    failed = _delivery(release.pk)

    html = _html(client_for(daria).get(PAGE))

    assert 'value="environment:production"' in html and 'value="environment:staging"' in html
    assert f'value="team:{risk_team.slug}"' not in html
    assert HOOK_URL not in html  # a team's webhook: not daria's to see
    assert _resend(failed) in html


def test_a_viewer_sees_the_list_but_no_form_or_buttons(client_for, team_viewer, team_hook, release):
    failed = _delivery(release.pk)

    html = _html(client_for(team_viewer).get(PAGE))

    assert "hooks.example.com" in html and "s3cret-token" not in html  # the host only
    assert "Approved" in html  # the webhook's events
    assert 'name="webhook-url"' not in html
    assert _delete(team_hook) not in html
    assert "release.approved" in html and _resend(failed) not in html


def test_a_team_member_adds_a_webhook_for_some_events(client_for, alice, risk_team):
    response = client_for(alice).post(
        PAGE,
        {
            "webhook-target": f"team:{risk_team.slug}",
            "webhook-url": "https://cd.example.com/hook",
            "webhook-events": ["release.deployed", "release.rolled_back"],
        },
    )

    assert response.status_code == 302 and response["Location"] == PAGE
    hook = ReleaseWebhook.objects.get()
    assert hook.team == risk_team and hook.environment is None and hook.created_by == alice
    assert hook.events == ["release.deployed", "release.rolled_back"]
    assert AuditEvent.objects.filter(verb="release_webhook.created").count() == 1


def test_an_approver_adds_a_webhook_for_every_event_of_an_environment(
    client_for, daria, production_env
):
    body = {"webhook-target": "environment:production", "webhook-url": "https://cd.example.com/h"}

    assert client_for(daria).post(PAGE, body).status_code == 302

    hook = ReleaseWebhook.objects.get()
    assert hook.environment == production_env and hook.team is None and hook.events == []


def test_a_private_address_is_refused_on_the_url_field(client_for, alice, risk_team):
    response = client_for(alice).post(
        PAGE, {"webhook-target": f"team:{risk_team.slug}", "webhook-url": "http://10.0.0.5/hook"}
    )

    html = _html(response)
    assert response.context["form"].errors["url"][0].startswith("10.0.0.5 is a private")
    assert "error-summary" in html and 'href="#id_webhook-url"' in html
    assert not ReleaseWebhook.objects.exists()


def test_a_target_the_person_may_not_configure_is_not_accepted(client_for, alice):
    """Alice configures her team's webhooks, not production's: it is not among her choices."""
    body = {"webhook-target": "environment:production", "webhook-url": "https://cd.example.com/h"}

    response = client_for(alice).post(PAGE, body)

    assert "target" in response.context["form"].errors
    assert not ReleaseWebhook.objects.exists()


def test_someone_who_configures_nothing_gets_a_403_for_a_forged_add(
    client_for, team_viewer, risk_team
):
    body = {"webhook-target": f"team:{risk_team.slug}", "webhook-url": "https://cd.example.com/h"}

    assert client_for(team_viewer).post(PAGE, body).status_code == 403
    assert not ReleaseWebhook.objects.exists()


def test_a_forged_delete_by_someone_not_allowed_is_refused(
    client_for, team_viewer, charlie, daria, alice, team_hook
):
    for person in (team_viewer, charlie, daria):
        assert client_for(person).post(_delete(team_hook)).status_code == 403
    assert ReleaseWebhook.objects.filter(pk=team_hook.pk).exists()
    assert not AuditEvent.objects.filter(verb="release_webhook.deleted").exists()

    response = client_for(alice).post(_delete(team_hook))

    assert response.status_code == 302 and not ReleaseWebhook.objects.exists()
    assert AuditEvent.objects.filter(verb="release_webhook.deleted").count() == 1


def test_delete_and_resend_take_only_a_post(client_for, alice, team_hook, release):
    failed = _delivery(release.pk)
    client = client_for(alice)

    assert client.get(_delete(team_hook)).status_code == 405
    assert client.get(_resend(failed)).status_code == 405
    assert client.post(reverse("releases:webhook-delete", args=[10**6])).status_code == 404


def test_a_forged_resend_by_someone_not_allowed_changes_nothing(
    client_for, team_viewer, charlie, release
):
    failed = _delivery(release.pk)

    for person in (team_viewer, charlie):
        assert client_for(person).post(_resend(failed)).status_code == 403

    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED and failed.attempts == 3
    assert not AuditEvent.objects.filter(verb="webhook.resent").exists()


def test_resending_a_failed_delivery_queues_it_again(
    client_for, erin, release, django_capture_on_commit_callbacks
):
    failed = _delivery(release.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(erin).post(_resend(failed))

    assert response.status_code == 302 and response["Location"] == PAGE
    failed.refresh_from_db()
    assert failed.status == JobStatus.QUEUED and failed.attempts == 0
    assert failed.response_status is None and failed.error == ""
    assert len(callbacks) == 1  # the task is sent once the change commits
    event = AuditEvent.objects.get(verb="webhook.resent", target_id=str(failed.pk))
    assert event.actor == erin


def test_a_delivery_that_has_not_failed_is_not_resent(client_for, alice, release):
    delivered = _delivery(release.pk, JobStatus.SUCCEEDED)

    response = client_for(alice).post(_resend(delivered), follow=True)

    assert "only a failed one is resent" in _html(response)
    delivered.refresh_from_db()
    assert delivered.status == JobStatus.SUCCEEDED
    assert not AuditEvent.objects.filter(verb="webhook.resent").exists()


# session, user, the reader's teams and roles, whether they belong to each team (may_configure),
# environments, deliveries, the failed deliveries' releases with their teams (``resendable``)
# and the membership once per team, webhooks, the bell: 11 for alice; an approver's answers
# need no query, so daria's page runs fewer
PAGE_QUERIES = 11


@pytest.mark.parametrize("persona", ["alice", "daria"])
def test_the_page_runs_the_same_queries_for_few_or_many_webhooks_and_deliveries(
    request, persona, client_for, risk_team, production_env, release, django_assert_max_num_queries
):
    client = client_for(request.getfixturevalue(persona))
    gone = 10**6  # a delivery about a release that no longer exists

    def add(count: int) -> None:
        for n in range(count):
            ReleaseWebhook.objects.create(team=risk_team, url=f"https://t{n}.example.com/h")
            ReleaseWebhook.objects.create(
                environment=production_env, url=f"https://e{n}.example.com"
            )
            _delivery(release.pk)
            _delivery(release.pk, JobStatus.SUCCEEDED)
            _delivery(gone)

    add(1)
    client.get(PAGE)
    with django_assert_max_num_queries(PAGE_QUERIES):
        client.get(PAGE)

    add(20)
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(PAGE)
    assert len(response.context["deliveries"]) >= 40
    assert any(row.may_resend for row in response.context["deliveries"])
