"""The release pages: the list and its filters, the request form with its live checklist and
the approvers' overrides, the release page and its buttons (shown only to who may press them,
refused to forged POSTs), the model page's "what runs where", the home page's approvals,
runbooks, and the audit trail with its CSV export. Query counts do not grow with the data."""

from __future__ import annotations

import csv
import importlib.machinery
import io
import sys
import types
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from portal.roles import Role
from portal.services.accounts import create_user
from registry.models import ModelVersion
from registry.releases.choices import State
from registry.releases.models import (
    Approval,
    ChecklistOverride,
    Environment,
    ReleaseRequest,
    Runbook,
)
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import current_deployment, mark_deployed
from registry.releases.services.requests import request_release
from registry.releases.services.runbooks import save_runbook
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

DS, ENG, APPROVER = Role.DATA_SCIENTIST, Role.ENGINEER, Role.APPROVER

# Fixtures: the requester ``alice`` (Data scientist of the Risk team, tests/conftest.py) and
# here ``rhea``, her teammate who is also an Approver (so the requester-may-not-approve rule
# is seen with someone who could otherwise approve), ``dora`` (Approver and Data scientist),
# ``ezra`` (Approver and Engineer), both in no team; the model churn with 1.0.0 and 1.1.0,
# candidates.


def _person(name: str, *roles: Role) -> Any:
    return create_user(username=name, password=None, roles=list(roles), email=f"{name}@example.com")


@pytest.fixture
def rhea(risk_team: Any) -> Any:
    user = _person("rhea", DS, APPROVER)
    risk_team.members.add(user)
    return user


@pytest.fixture
def dora(db: Any) -> Any:
    return _person("dora", APPROVER, DS)


@pytest.fixture
def ezra(db: Any) -> Any:
    return _person("ezra", APPROVER, ENG)


@pytest.fixture
def staging(db: Any) -> Environment:
    return Environment.objects.get(name="staging")


@pytest.fixture
def production(db: Any) -> Environment:
    """Production as migrated, without the card and runbook checks."""
    environment = Environment.objects.get(name="production")
    environment.min_completeness = 0
    environment.runbook_required = False
    environment.save()
    return environment


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    return create_model(
        actor=alice, name="churn", title="Churn", team=risk_team, task_type="binary_classification"
    )


def _version(alice: Any, model: Any, number: str, properties: dict[str, Any] | None = None) -> Any:
    version = create_version(
        actor=alice,
        model=model,
        version=number,
        input_schema={"type": "object", "properties": properties or {"age": {"type": "number"}}},
        output_schema={"type": "object"},
    )
    return set_version_status(actor=alice, version=version, status="candidate")


@pytest.fixture
def versions(alice: Any, churn: Any) -> tuple[ModelVersion, ModelVersion]:
    return _version(alice, churn, "1.0.0"), _version(alice, churn, "1.1.0")


def _request(actor: Any, version: Any, environment: Any, **extra: Any) -> ReleaseRequest:
    return request_release(
        actor=actor,
        version=version,
        environment=environment,
        justification=extra.pop("justification", "Better recall on **new** customers."),
        rollback_plan="Roll back to the previous version.",
        **extra,
    )


def _deployed(requester: Any, version: Any, environment: Any, *approvers: Any) -> ReleaseRequest:
    release = _request(requester, version, environment)
    for person in approvers:
        decide(actor=person, release=release, decision="approve", comment="ok")
    release.refresh_from_db()
    return mark_deployed(actor=requester, release=release)


def _detail(release: ReleaseRequest) -> str:
    return reverse("releases:detail", args=[release.pk])


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The release page: who sees which button ----------------------------------------------------


def test_the_requester_sees_no_approve_button_even_as_an_approver(
    client_for, rhea, dora, victor, versions, staging
):
    """The buttons follow the rules: the requester (an approver too) and a viewer see none,
    another approver sees approve and reject."""
    release = _request(rhea, versions[1], staging)

    as_requester = _html(client_for(rhea).get(_detail(release)))
    assert 'value="approve"' not in as_requester
    assert "Cancel the request" in as_requester
    assert "approvers other than you decide it" in as_requester

    as_viewer = _html(client_for(victor).get(_detail(release)))
    assert 'value="approve"' not in as_viewer and "Cancel the request" not in as_viewer

    as_approver = _html(client_for(dora).get(_detail(release)))
    assert 'value="approve"' in as_approver and 'value="reject"' in as_approver
    assert "Cancel the request" not in as_approver


def test_a_forged_approval_by_the_requester_is_refused_and_changes_nothing(
    client_for, rhea, versions, staging
):
    """A POST the page never offered meets the service's rule: 403, no approval, no event."""
    release = _request(rhea, versions[1], staging)
    events = AuditEvent.objects.count()

    response = client_for(rhea).post(
        reverse("releases:decide", args=[release.pk]),
        {"decide-decision": "approve", "decide-comment": "looks fine to me"},
    )

    assert response.status_code == 403
    release.refresh_from_db()
    assert release.state == State.PENDING
    assert not Approval.objects.filter(request=release).exists()
    assert AuditEvent.objects.count() == events


def test_a_viewer_cannot_reject_by_a_forged_post(client_for, alice, victor, versions, staging):
    release = _request(alice, versions[1], staging)
    response = client_for(victor).post(
        reverse("releases:decide", args=[release.pk]),
        {"decide-decision": "reject", "decide-comment": "no"},
    )
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.state == State.PENDING


def test_an_approver_approves_from_the_page_and_then_sees_their_decision(
    client_for, alice, dora, versions, staging
):
    release = _request(alice, versions[1], staging)
    client = client_for(dora)

    response = client.post(
        reverse("releases:decide", args=[release.pk]),
        {"decide-decision": "approve", "decide-comment": "Checked the gates."},
    )

    assert response.status_code == 302 and response["Location"] == _detail(release)
    release.refresh_from_db()
    assert release.state == State.APPROVED
    html = _html(client.get(_detail(release)))
    assert "You approved this" in html and 'value="approve"' not in html
    assert "Checked the gates." in html  # the approvals table
    assert "release.approve" in html  # the timeline


def test_a_rejection_without_a_reason_shows_the_error_summary_and_keeps_the_request(
    client_for, alice, dora, versions, staging
):
    release = _request(alice, versions[1], staging)

    response = client_for(dora).post(
        reverse("releases:decide", args=[release.pk]),
        {"decide-decision": "reject", "decide-comment": ""},
    )

    html = _html(response)
    assert "data-error-summary" in html
    assert 'href="#id_decide-comment"' in html and "Say why you reject it" in html
    release.refresh_from_db()
    assert release.state == State.PENDING


def test_the_requester_cancels_the_request(client_for, alice, versions, staging):
    release = _request(alice, versions[1], staging)
    response = client_for(alice).post(
        reverse("releases:cancel", args=[release.pk]), {"cancel-reason": "Wrong version."}
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.state == State.CANCELLED and release.status_message == "Wrong version."


def test_the_release_page_shows_checklist_contract_runbook_and_timeline(
    client_for, alice, dora, churn, staging, versions
):
    """The request, both checklists, the contract against the replaced version, the runbook
    and the timeline of events."""
    _deployed(alice, versions[0], staging, dora)
    save_runbook(actor=alice, model=churn, body="# Serving\n\nPage **on-call**.")
    wider = _version(alice, churn, "1.2.0", {"age": {"type": "string"}})
    release = _request(alice, wider, staging, acknowledge_breaking=True)

    html = _html(client_for(dora).get(_detail(release)))

    assert "Waiting for approval" in html and "0 of 1 approval" in html
    assert "<strong>new</strong> customers" in html  # the justification, rendered
    assert "When requested" in html and "Now" in html
    assert "Changes against 1.0.0" in html and 'class="badge bad">breaking' in html
    assert "<strong>on-call</strong>" in html and "revision 1" in html
    assert "release.requested" in html
    assert 'id="gate-verdict"' in html


def test_deployment_controls_deploy_the_release_for_the_team_only(
    client_for, alice, charlie, dora, versions, staging
):
    release = _request(alice, versions[1], staging)
    decide(actor=dora, release=release, decision="approve")

    assert "Mark deployed" not in _html(client_for(charlie).get(_detail(release)))
    refused = client_for(charlie).post(
        reverse("releases:deployment", args=[release.pk]), {"deployment-status": "succeeded"}
    )
    assert refused.status_code == 403

    assert "Mark deployed" in _html(client_for(alice).get(_detail(release)))
    response = client_for(alice).post(
        reverse("releases:deployment", args=[release.pk]),
        {"deployment-status": "succeeded", "deployment-message": "Rolled out by hand."},
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.state == State.DEPLOYED
    assert current_deployment(staging, versions[1].model).version == versions[1]


@dataclass(frozen=True)
class _Comparison:
    """What the canary analysis gives the page: label, guarding, worse and a verdict."""

    label: str
    guarding: bool
    worse: bool
    verdict: str


@pytest.fixture
def canary_says(monkeypatch) -> list[_Comparison]:
    """Stands in for registry.releases.services.canary (its own tests are test_canary.py):
    the comparisons the test puts in the returned list."""
    said: list[_Comparison] = []
    name = "registry.releases.services.canary"
    fake = types.ModuleType(name)
    fake.__spec__ = importlib.machinery.ModuleSpec(name, None)
    fake.compare = lambda release: list(said)  # type: ignore[attr-defined]
    fake.blocking_comparisons = lambda release: [c for c in said if c.guarding and c.worse]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, fake)
    return said


def test_a_canary_worse_on_a_guarding_metric_needs_an_override_reason_to_promote(
    client_for, alice, dora, versions, staging, canary_says
):
    release = _request(alice, versions[1], staging, strategy="canary", canary_steps=[10, 50, 100])
    decide(actor=dora, release=release, decision="approve")
    mark_deployed(actor=alice, release=release)
    canary_says.append(_Comparison("Error rate", True, True, "worse: 2.1 points higher, p = 0.003"))
    url = reverse("releases:promote", args=[release.pk])

    html = _html(client_for(dora).get(_detail(release)))
    assert "Promote to 50%" in html and "worse: 2.1 points higher, p = 0.003" in html
    assert "blocks the next step" in html

    refused = _html(client_for(dora).post(url, {"promote-override_reason": ""}))
    assert "data-error-summary" in refused and 'href="#id_promote-override_reason"' in refused
    release.refresh_from_db()
    assert release.traffic_percent == 10

    done = client_for(dora).post(url, {"promote-override_reason": "Known noisy client."})
    assert done.status_code == 302
    release.refresh_from_db()
    assert release.traffic_percent == 50
    assert release.steps.last().override_reason == "Known noisy client."


def test_promote_is_hidden_from_and_refused_to_outsiders(
    client_for, alice, charlie, dora, versions, staging, canary_says
):
    release = _request(alice, versions[1], staging, strategy="canary", canary_steps=[10, 100])
    decide(actor=dora, release=release, decision="approve")
    mark_deployed(actor=alice, release=release)

    assert "Promote to" not in _html(client_for(charlie).get(_detail(release)))
    response = client_for(charlie).post(reverse("releases:promote", args=[release.pk]))
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.traffic_percent == 10


# The model page: what runs where, and a rollback in one click ------------------------------


def test_the_model_page_shows_what_runs_where_and_rolls_back_for_those_allowed(
    client_for, alice, charlie, dora, versions, staging
):
    _deployed(alice, versions[0], staging, dora)
    release = _deployed(alice, versions[1], staging, dora)
    page = reverse("registry:model-detail", args=["churn"])

    html = _html(client_for(alice).get(page))
    assert "What runs where" in html and f"release {release.pk}" in html
    assert reverse("releases:rollback", args=[release.pk]) in html
    assert "Roll back" not in _html(client_for(charlie).get(page))

    response = client_for(alice).post(
        reverse("releases:rollback", args=[release.pk]),
        {"rollback-reason": "Latency doubled.", "next": page},
    )

    assert response.status_code == 302 and response["Location"] == page
    assert current_deployment(staging, versions[0].model).version == versions[0]
    release.refresh_from_db()
    assert release.state == State.ROLLED_BACK
    assert release.status_message == "Latency doubled."


def test_what_runs_where_costs_one_query_however_many_environments_run_the_model(
    client_for, alice, dora, ezra, versions, staging, production
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(alice)
    page = reverse("registry:model-detail", args=["churn"])
    client.get(page)
    with CaptureQueriesContext(connection) as nothing_runs:
        client.get(page)

    _deployed(alice, versions[0], staging, dora)
    _deployed(alice, versions[1], production, dora, ezra)
    with CaptureQueriesContext(connection) as both_run:
        html = _html(client.get(page))

    assert html.count('class="rollback-inline"') == 2
    assert len(both_run) == len(nothing_runs)


def test_a_rollback_never_redirects_off_site(client_for, alice, dora, versions, staging):
    release = _deployed(alice, versions[1], staging, dora)
    response = client_for(alice).post(
        reverse("releases:rollback", args=[release.pk]),
        {"rollback-reason": "Bad.", "next": "https://evil.example/"},
    )
    assert response["Location"] == _detail(release)


def test_the_version_page_links_to_the_request_form_for_the_team_only(
    client_for, alice, victor, versions
):
    page = reverse("registry:version-detail", args=["churn", "1.1.0"])
    link = reverse("releases:request", args=["churn", "1.1.0"])
    assert link in _html(client_for(alice).get(page))
    assert link not in _html(client_for(victor).get(page))


# The request form ---------------------------------------------------------------------------


def test_the_request_form_shows_the_live_checklist_of_the_chosen_environment(
    client_for, alice, versions, staging, production
):
    client = client_for(alice)
    url = reverse("releases:request", args=["churn", "1.1.0"])

    assert "Checklist for Staging" in _html(client.get(url))
    html = _html(client.get(url, {"environment": "production"}))
    assert "Checklist for Production" in html and "Data scientist and Engineer" in html

    fragment = _html(client.get(url, {"environment": "production"}, headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith("<section") or 'id="release-checklist"' in fragment
    assert "<html" not in fragment


def test_a_request_from_the_form_creates_the_release(client_for, alice, versions, staging):
    response = client_for(alice).post(
        reverse("releases:request", args=["churn", "1.1.0"]),
        {
            "environment": "staging",
            "strategy": "canary",
            "canary_steps": "10, 50, 100",
            "serving_mode": "batch",
            "justification": "Better.",
            "rollback_plan": "Go back.",
        },
    )

    release = ReleaseRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(release)
    assert (release.strategy, release.canary_steps, release.serving_mode) == (
        "canary",
        [10, 50, 100],
        "batch",
    )


def test_a_refused_request_lists_every_problem_at_the_top(client_for, alice, versions, staging):
    response = client_for(alice).post(
        reverse("releases:request", args=["churn", "1.1.0"]),
        {"environment": "staging", "strategy": "canary", "canary_steps": "50, 20"},
    )

    html = _html(response)
    summary = html.split("data-error-summary")[1].split("</div>")[0]
    assert 'href="#id_justification"' in summary and 'href="#id_rollback_plan"' in summary
    assert not ReleaseRequest.objects.exists()


def test_a_blocked_checklist_is_named_in_the_summary(client_for, alice, versions, production):
    production.min_completeness = 100
    production.save()
    response = client_for(alice).post(
        reverse("releases:request", args=["churn", "1.1.0"]),
        {
            "environment": "production",
            "strategy": "full",
            "serving_mode": "realtime",
            "justification": "Better.",
            "rollback_plan": "Go back.",
        },
    )
    html = _html(response)
    assert "data-error-summary" in html and "Card completeness" in html
    assert not ReleaseRequest.objects.exists()


def test_people_outside_the_team_cannot_open_or_post_the_request_form(
    client_for, charlie, victor, versions, staging
):
    url = reverse("releases:request", args=["churn", "1.1.0"])
    for outsider in (charlie, victor):
        assert client_for(outsider).get(url).status_code == 403
    forged = client_for(charlie).post(
        url,
        {
            "environment": "staging",
            "strategy": "full",
            "serving_mode": "realtime",
            "justification": "x",
            "rollback_plan": "y",
        },
    )
    assert forged.status_code == 403
    assert not ReleaseRequest.objects.exists()


def test_an_approver_overrides_a_blocking_check_on_the_request_form(
    client_for, alice, dora, versions, production
):
    production.min_completeness = 100
    production.save()
    url = reverse("releases:request", args=["churn", "1.1.0"])
    override = reverse("releases:override", args=["churn", "1.1.0", "completeness"])

    assert override not in _html(client_for(alice).get(url, {"environment": "production"}))
    assert override in _html(client_for(dora).get(url, {"environment": "production"}))
    refused = client_for(alice).post(
        override,
        {"override-completeness-environment": "production", "override-completeness-reason": "x"},
    )
    assert refused.status_code == 403

    response = client_for(dora).post(
        override,
        {
            "override-completeness-environment": "production",
            "override-completeness-reason": "The card is written elsewhere.",
        },
    )

    assert response.status_code == 302 and response["Location"] == f"{url}?environment=production"
    found = ChecklistOverride.objects.get()
    assert (found.check_name, found.environment, found.by) == ("completeness", production, dora)
    html = _html(client_for(alice).get(url, {"environment": "production"}))
    assert "The card is written elsewhere." in html and "overridden" in html


def test_an_override_without_a_reason_shows_its_error(client_for, dora, versions, production):
    production.min_completeness = 100
    production.save()
    response = client_for(dora).post(
        reverse("releases:override", args=["churn", "1.1.0", "completeness"]),
        {"override-completeness-environment": "production", "override-completeness-reason": ""},
    )
    html = _html(response)
    assert "data-error-summary" in html and "id_override-completeness-reason" in html
    assert not ChecklistOverride.objects.exists()


def _canary(alice: Any, dora: Any, versions: Any, staging: Any) -> ReleaseRequest:
    """1.0.0 runs in staging; 1.1.0 is a canary there at 10% (steps 10, 50, 100)."""
    _deployed(alice, versions[0], staging, dora)
    release = _request(alice, versions[1], staging, strategy="canary", canary_steps=[10, 50, 100])
    decide(actor=dora, release=release, decision="approve")
    release.refresh_from_db()
    return mark_deployed(actor=alice, release=release)


def test_a_running_canary_shows_its_analysis_and_its_step_control_to_deployers_only(
    client_for, alice, dora, victor, versions, staging, monkeypatch
):
    from types import SimpleNamespace

    # release_page reads canary_comparisons from the module it is defined in.
    from registry.releases.queries import release_detail as page_queries

    release = _canary(alice, dora, versions, staging)
    worse = SimpleNamespace(
        label="Thumbs-up rate", guarding=True, worse=True, verdict="worse: 2.1 points lower"
    )
    monkeypatch.setattr(page_queries, "canary_comparisons", lambda release: ([worse], ""))

    html = _html(client_for(alice).get(_detail(release)))
    assert "Promote to 50%" in html
    assert f'action="{reverse("releases:promote", args=[release.pk])}"' in html
    assert "worse: 2.1 points lower" in html and "blocks the next step" in html
    assert "Promote to" not in _html(client_for(victor).get(_detail(release)))


def test_a_canary_step_is_promoted_by_the_team_and_refused_to_others(
    client_for, alice, dora, victor, versions, staging, monkeypatch
):
    import sys
    from types import SimpleNamespace

    # The canary analysis finds nothing worse (its own tests are in test_canary.py).
    fake = SimpleNamespace(blocking_comparisons=lambda release: [])
    monkeypatch.setitem(sys.modules, "registry.releases.services.canary", fake)
    release = _canary(alice, dora, versions, staging)
    url = reverse("releases:promote", args=[release.pk])

    assert client_for(victor).post(url, {"promote-override_reason": ""}).status_code == 403
    release.refresh_from_db()
    assert release.traffic_percent == 10

    response = client_for(alice).post(url, {"promote-override_reason": ""})
    assert response.status_code == 302 and response["Location"] == _detail(release)
    release.refresh_from_db()
    assert release.traffic_percent == 50 and release.steps.last().by == alice


# The list -------------------------------------------------------------------------------------


@pytest.fixture
def assorted(alice, rhea, dora, churn, versions, staging, production) -> dict[str, Any]:
    """A deployed staging release of 1.0.0, a pending production request of 1.1.0 by alice,
    and a pending staging request of 1.2.0 by rhea."""
    deployed = _deployed(alice, versions[0], staging, dora)
    pending = _request(alice, versions[1], production)
    theirs = _request(rhea, _version(alice, churn, "1.2.0"), staging)
    return {"deployed": deployed, "pending": pending, "theirs": theirs}


def _listed(client: Any, **params: str) -> list[int]:
    response = client.get(reverse("releases:list"), params)
    return [release.pk for release, _ in response.context["rows"]]


def test_the_list_filters_by_state_environment_model_and_waiting_for_me(
    client_for, alice, rhea, dora, assorted
):
    deployed, pending, theirs = assorted["deployed"], assorted["pending"], assorted["theirs"]
    client = client_for(dora)

    assert _listed(client) == [theirs.pk, pending.pk, deployed.pk]
    assert _listed(client, state="deployed") == [deployed.pk]
    assert _listed(client, environment="production") == [pending.pk]
    assert _listed(client, model="churn", state="pending") == [theirs.pk, pending.pk]
    assert _listed(client, model="nothing") == []
    assert _listed(client, waiting_for_me="on") == [theirs.pk, pending.pk]
    # rhea requested one: only alice's waits for her; alice is no approver: none.
    assert _listed(client_for(rhea), waiting_for_me="on") == [pending.pk]
    assert _listed(client_for(alice), waiting_for_me="on") == []

    decide(actor=dora, release=pending, decision="approve")
    assert _listed(client, waiting_for_me="on") == [theirs.pk]


def test_the_list_answers_htmx_with_its_table(client_for, dora, assorted):
    response = client_for(dora).get(reverse("releases:list"), headers={"HX-Request": "true"})
    html = _html(response)
    assert html.startswith('<div id="release-table"') or 'id="release-table"' in html[:200]
    assert "<html" not in html


def test_the_list_is_paginated(client_for, alice, dora, churn, staging):
    for minor in range(27):
        _request(alice, _version(alice, churn, f"2.{minor}.0"), staging)
    client = client_for(dora)
    first = client.get(reverse("releases:list"))
    assert len(first.context["rows"]) == 25 and "Page 1 of 2" in _html(first)
    assert len(client.get(reverse("releases:list"), {"page": 2}).context["rows"]) == 2


# Query counts -------------------------------------------------------------------------------

# session, user, the reader's roles, environments (the filter's choices), the page's count and
# rows (each with its approvals counted in a subquery), and the bell
LIST_QUERIES = 7


def test_the_list_runs_the_same_queries_for_few_or_many_releases(
    client_for, alice, dora, ezra, churn, staging, django_assert_num_queries
):
    client = client_for(dora)
    _request(alice, _version(alice, churn, "3.0.0"), staging)
    client.get(reverse("releases:list"))
    with django_assert_num_queries(LIST_QUERIES):
        client.get(reverse("releases:list"), {"waiting_for_me": "on"})

    for minor in range(1, 12):
        release = _request(alice, _version(alice, churn, f"3.{minor}.0"), staging)
        if minor % 2:
            decide(actor=ezra, release=release, decision="approve")
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("releases:list"), {"waiting_for_me": "on"})
    assert len(response.context["rows"]) == 6


# session, user, the release (with its version, model, team, environment, requester, replaced
# version and runbook), its approvals, its canary steps, the timeline's events, the model's
# latest runbook; the live checklist: what runs there, overrides, the gate verdict, the card,
# open P0/P1 items, the runbook (and the running version's drift when one runs there); the
# reader's roles and teams, the bell, and the gate panel's verdict
DETAIL_QUERIES = 17


def test_the_release_page_runs_the_same_queries_for_few_or_many_approvals(
    client_for, alice, churn, staging, versions, django_assert_num_queries
):
    staging.approvals_needed = 10
    staging.save()
    approvers = [_person(f"approver{n}", APPROVER) for n in range(8)]
    release = _request(alice, versions[1], staging)
    decide(actor=approvers[0], release=release, decision="approve", comment="one")
    client = client_for(alice)
    client.get(_detail(release))
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(_detail(release))

    for person in approvers[1:]:
        decide(actor=person, release=release, decision="approve", comment="more")
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(_detail(release))
    assert len(response.context["page"].approvals) == 8


# The home page --------------------------------------------------------------------------------


def test_home_counts_the_approvals_waiting_for_me(client_for, alice, dora, rhea, assorted):
    html = _html(client_for(dora).get("/"))
    panel = html.split('id="approvals-waiting"')[1].split("</section>")[0]
    assert '<span class="badge warn">2</span>' in panel
    assert "churn 1.1.0 to Production" in panel and "churn 1.2.0 to Staging" in panel

    rhea_panel = _html(client_for(rhea).get("/")).split('id="approvals-waiting"')[1]
    assert '<span class="badge warn">1</span>' in rhea_panel.split("</section>")[0]

    alice_panel = _html(client_for(alice).get("/")).split('id="approvals-waiting"')[1]
    assert "you hold no Approver role" in alice_panel.split("</section>")[0]


# Runbooks -------------------------------------------------------------------------------------


def test_the_team_writes_runbook_revisions_and_others_only_read(client_for, alice, victor, churn):
    url = reverse("releases:runbook", args=["churn"])

    response = client_for(alice).post(url, {"body": "# Serving\n\nOn-call: **risk**."})
    assert response.status_code == 302 and response["Location"] == url
    client_for(alice).post(url, {"body": "# Serving\n\nOn-call: **risk-2**."})
    assert list(Runbook.objects.values_list("revision", flat=True)) == [2, 1]

    as_viewer = _html(client_for(victor).get(url))
    assert "<strong>risk-2</strong>" in as_viewer and "Save a new revision" not in as_viewer
    assert client_for(victor).post(url, {"body": "mine now"}).status_code == 403
    assert Runbook.objects.count() == 2

    history = _html(client_for(victor).get(reverse("releases:runbook-revisions", args=["churn"])))
    assert "Revision 2" in history and "Revision 1" in history


def test_an_empty_runbook_is_refused_with_the_error_summary(client_for, alice, churn):
    html = _html(client_for(alice).post(reverse("releases:runbook", args=["churn"]), {"body": " "}))
    assert "data-error-summary" in html and 'href="#id_body"' in html
    assert not Runbook.objects.exists()


# The audit trail ------------------------------------------------------------------------------


def test_the_audit_page_filters_by_verb_prefix_actor_and_day(client_for, alice, dora, assorted):
    client = client_for(dora)
    url = reverse("releases:audit")

    verbs = {e.verb for e, _ in client.get(url, {"verb": "release."}).context["rows"]}
    assert verbs >= {"release.requested", "release.approve", "release.approved", "release.deployed"}
    assert all(verb.startswith("release.") for verb in verbs)
    mine = client.get(url, {"actor": "dora"}).context["rows"]
    assert mine and {event.actor for event, _ in mine} == {dora}
    assert client.get(url, {"since": "2999-01-01"}).context["rows"] == []
    today = assorted["pending"].created_at.date().isoformat()
    assert client.get(url, {"since": today, "until": today}).context["rows"]

    linked = _html(client.get(url, {"verb": "release.requested"}))
    assert _detail(assorted["pending"]) in linked


def test_the_model_audit_page_shows_the_models_events_only(
    client_for, alice, charlie, search_team, dora, assorted
):
    other = create_model(actor=charlie, name="ranker", title="Ranker", team=search_team)
    url = reverse("releases:model-audit", args=["churn"])

    rows = client_for(dora).get(url).context["rows"]
    targets = {event.target_repr for event, _ in rows}
    assert any("churn" in target for target in targets)
    assert not any("ranker" in target for target in targets)
    verbs = {event.verb for event, _ in rows}
    assert {"model.created", "version.created", "release.requested"} <= verbs
    assert other.name == "ranker"


def test_the_audit_csv_has_one_row_per_event_and_is_spreadsheet_safe(
    client_for, alice, dora, versions, staging
):
    release = _request(alice, versions[1], staging, justification="Fine.")
    decide(actor=dora, release=release, decision="reject", comment="=HYPERLINK(evil)")

    response = client_for(dora).get(reverse("releases:audit-csv"), {"verb": "release."})

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="audit.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        *("time", "actor", "verb", "target_type", "target_id", "target"),
        *("before", "after", "request_id"),
    ]
    body = {(row[1], row[2]) for row in rows[1:]}
    assert body == {
        ("alice", "release.requested"),
        ("dora", "release.reject"),
        ("dora", "release.rejected"),
    }
    reject = next(row for row in rows[1:] if row[2] == "release.reject")
    assert reject[3] == "releases.releaserequest" and reject[4] == str(release.pk)
    assert '"comment": "=HYPERLINK(evil)"' in reject[7]
    # A cell starting with = would run as a formula: the rejected event's message is one.
    rejected = next(row for row in rows[1:] if row[2] == "release.rejected")
    assert "=HYPERLINK" in rejected[7] and not rejected[7].startswith("=")

    model_csv = client_for(dora).get(reverse("releases:model-audit-csv", args=["churn"]))
    assert 'filename="audit-churn.csv"' in model_csv["Content-Disposition"]


def test_api_tokens_stay_out_of_the_audit_trail_for_everyone_but_admins(
    client_for, alice, dora, superuser
):
    from portal.services.tokens import create_token

    create_token(user=alice, name="laptop", scope="read")
    url = reverse("releases:audit")
    assert not [
        e for e, _ in client_for(dora).get(url).context["rows"] if e.verb.startswith("token.")
    ]
    assert [
        e for e, _ in client_for(superuser).get(url).context["rows"] if e.verb == "token.created"
    ]


def test_the_audit_trail_offers_no_way_to_change_it(client_for, superuser, alice, churn):
    """Read-only pages: a POST is not allowed on either, and no edit or delete is linked."""
    client = client_for(superuser)
    for url in (reverse("releases:audit"), reverse("releases:model-audit", args=["churn"])):
        assert client.post(url).status_code == 405
        html = _html(client.get(url))
        assert "delete" not in html.lower().replace("deleted", "")


# Delivery metrics -----------------------------------------------------------------------------


def test_the_delivery_page_shows_the_figures_and_charts_of_the_period(
    client_for, alice, dora, risk_team, search_team, versions, staging
):
    _deployed(alice, versions[0], staging, dora)
    url = reverse("releases:delivery")
    client = client_for(dora)

    html = _html(client.get(url))
    assert "Deployments per week" in html and "the last 90 days" in html
    assert 'data-plotly="delivery-weekly-data"' in html and "vendor/plotly.min.js" in html
    metrics = client.get(url).context["metrics"]
    assert metrics.deployments == 1 and metrics.approval_wait.count == 1

    chosen = {"days": "30", "team": risk_team.slug, "model": "churn"}
    risk = client.get(url, chosen).context
    assert risk["page"].days == 30 and risk["metrics"].deployments == 1
    assert risk["page"].team_name == "Risk Modelling" and risk["page"].model == "churn"
    assert client.get(url, {"team": search_team.slug}).context["metrics"].deployments == 0
    # What is not a choice is ignored: the default period, every team.
    odd = client.get(url, {"days": "7", "team": "<nobody>"}).context["page"]
    assert (odd.days, odd.team, odd.metrics.deployments) == (90, "", 1)


def test_the_delivery_page_without_releases_says_so_without_charts(client_for, victor):
    html = _html(client_for(victor).get(reverse("releases:delivery")))
    assert "No deployment in the last 90 days" in html and "plotly.min.js" not in html


# session, user, teams and models (the filters' choices), delivery_metrics' own (releases,
# their events, drift alerts, open drift alerts; the versions of drift alerts when there are
# any), the reader's roles, the bell
DELIVERY_QUERIES = 10


def test_the_delivery_page_runs_the_same_queries_for_few_or_many_releases(
    client_for, alice, dora, churn, staging, django_assert_num_queries
):
    client = client_for(dora)
    _deployed(alice, _version(alice, churn, "4.0.0"), staging, dora)
    client.get(reverse("releases:delivery"))
    with django_assert_num_queries(DELIVERY_QUERIES):
        client.get(reverse("releases:delivery"))

    for minor in range(1, 8):
        _deployed(alice, _version(alice, churn, f"4.{minor}.0"), staging, dora)
    with django_assert_num_queries(DELIVERY_QUERIES):
        response = client.get(reverse("releases:delivery"))
    assert response.context["metrics"].deployments == 8


def test_the_weekly_chart_shows_quiet_weeks_as_zero():
    from datetime import UTC, datetime

    from registry.releases.views.delivery import weekly_chart

    start, end = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    figure = weekly_chart({"2026-W46": 3}, start, end)
    assert figure["data"][0]["x"] == ["2026-W45", "2026-W46", "2026-W47"]
    assert figure["data"][0]["y"] == [0, 3, 0]


def test_audit_events_of_releases_link_to_their_pages(alice, dora, versions, staging):
    from portal.activity import links_for

    release = _request(alice, versions[1], staging)
    events = list(AuditEvent.objects.filter(verb="release.requested"))
    assert set(links_for(events).values()) == {_detail(release)}


def test_the_durations_chart_uses_hours_for_short_waits_and_days_for_long_ones():
    from registry.releases.delivery import Metrics, Spread
    from registry.releases.views.delivery import durations_chart

    none = Spread(0, None, None)

    def metrics(wait: Spread, lead: Spread = none) -> Metrics:
        return Metrics(lead, wait, 0, 0.0, None, none, none)

    assert durations_chart(metrics(none)) is None
    short = durations_chart(metrics(Spread(2, 3.0, 6.0)))
    assert short is not None and short["layout"]["xaxis"]["title"]["text"] == "hours"
    assert short["data"][0]["y"] == ["Waiting for approval"] and short["data"][0]["x"] == [3.0]
    long = durations_chart(metrics(Spread(2, 3.0, 6.0), lead=Spread(1, 72.0, 96.0)))
    assert long is not None and long["layout"]["xaxis"]["title"]["text"] == "days"
    assert long["data"][1]["x"] == [4.0, 0.25]
