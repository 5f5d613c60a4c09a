"""The releases API: every rule of the services reached through it (self-approval, roles
held by distinct people, rejection, the blocked checklist), the CD pipeline's callbacks with
scoped API keys, what runs where after a deploy and a rollback, webhook configuration and
resending, and anonymous callers refused everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from feedback.models import Scope
from feedback.services.keys import create_key, revoke_key
from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.roles import Role
from portal.services.accounts import create_user
from portal.webhooks.models import WebhookDelivery
from registry.models import Artifact, ModelVersion
from registry.releases.choices import State
from registry.releases.models import Approval, Environment, ReleaseRequest, ReleaseWebhook
from registry.releases.services.approvals import decide
from registry.releases.services.requests import request_release
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

DS, ENG, APPROVER = Role.DATA_SCIENTIST, Role.ENGINEER, Role.APPROVER
API = "/api/v1"

# Fixtures from tests/releases/conftest.py: the requester ``alice`` and ``erin`` (Risk team),
# the approvers ``daria`` (Data scientist) and ``eve`` (Engineer), churn 1.0.0 running in
# ``production_env`` and the candidate 1.1.0 that passes its checklist, ``make_release``.
# Here: ``rhea``, alice's teammate who is also an Approver (the requester-may-not-approve
# rule with someone who could otherwise approve), and ``bea``, an Approver with both roles
# (one person counts once).


def _person(name: str, *roles: Role) -> Any:
    return create_user(username=name, password=None, roles=list(roles), email=f"{name}@example.com")


@pytest.fixture
def rhea(risk_team: Any) -> Any:
    user = _person("rhea", DS, APPROVER)
    risk_team.members.add(user)
    return user


@pytest.fixture
def bea(db: Any) -> Any:
    return _person("bea", APPROVER, DS, ENG)


@pytest.fixture
def staging(db: Any) -> Environment:
    return Environment.objects.get(name="staging")


def _request(actor: Any, version: Any, environment: Any, **extra: Any) -> ReleaseRequest:
    return request_release(
        actor=actor,
        version=version,
        environment=environment,
        justification="Better recall on new customers.",
        rollback_plan="Roll back to the previous version.",
        **extra,
    )


def _approved(release: ReleaseRequest, *people: Any) -> ReleaseRequest:
    for person in people:
        decide(actor=person, release=release, decision="approve", comment="ok")
    release.refresh_from_db()
    return release


def _body(release_of: ModelVersion, **extra: Any) -> dict[str, Any]:
    return {
        "model": release_of.model.name,
        "version": release_of.version,
        "environment": "production",
        "justification": "Recall up 4 points on the Q3 hold-out.",
        "rollback_plan": "Roll back to 1.0.0.",
        **extra,
    }


def _key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {secret}")
    return client


@pytest.fixture
def pipeline_key(alice: Any, risk_team: Any, churn_model: Any) -> str:
    """The Risk team's CD pipeline key: deployments:write for every model of the team."""
    _, secret = create_key(
        actor=alice, team=risk_team, name="CD pipeline", scopes=[Scope.DEPLOYMENTS]
    )
    return secret


def _url(release: ReleaseRequest, verb: str = "") -> str:
    return f"{API}/releases/{release.pk}/" + (f"{verb}/" if verb else "")


WHERE = f"{API}/environments/production/models/churn/"


# Anonymous callers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/environments/"),
        ("get", "/environments/production/models/churn/"),
        ("get", "/releases/"),
        ("post", "/releases/"),
        ("get", "/releases/1/"),
        ("post", "/releases/1/approve/"),
        ("post", "/releases/1/reject/"),
        ("post", "/releases/1/cancel/"),
        ("post", "/releases/1/promote/"),
        ("post", "/releases/1/rollback/"),
        ("post", "/releases/1/deployment-status/"),
        ("get", "/release-webhooks/"),
        ("post", "/release-webhooks/"),
        ("delete", "/release-webhooks/1/"),
        ("get", "/webhook-deliveries/"),
        ("post", "/webhook-deliveries/1/resend/"),
    ],
)
def test_anonymous_callers_are_refused_everywhere(db: Any, method: str, path: str) -> None:
    response = getattr(APIClient(), method)(API + path, {}, format="json")

    assert response.status_code == 401
    assert "errors" in response.json()


# Environments -----------------------------------------------------------------------------


def test_environments_list_what_a_release_into_each_needs(viewer, api_for, production_env):
    response = api_for(viewer).get(f"{API}/environments/")

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) >= {"staging", "production"}
    assert sorted(rows["production"]["required_roles"]) == [DS, ENG]
    assert rows["production"]["approvals_needed"] == 2
    assert rows["production"]["version_status"] == "production"


# Requesting -------------------------------------------------------------------------------


def test_a_team_member_requests_a_release_and_reads_its_checklist(
    alice, viewer, api_for, candidate_version
):
    body = _body(candidate_version, strategy="canary", canary_steps=[5, 25, 100])

    response = api_for(alice).post(f"{API}/releases/", body)

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["state"] == State.PENDING
    assert data["requested_by"] == "alice"
    assert data["canary_steps"] == [5, 25, 100]
    assert data["replaces"] == "1.0.0"
    assert data["approvals_given"] == 0 and data["approvals_needed"] == 2
    assert sorted(data["missing_roles"]) == [DS, ENG]
    checks = {item["check"]: item for item in data["checklist"]["items"]}
    assert set(checks) == {"gates", "completeness", "contract", "open_items", "drift", "runbook"}
    assert checks["runbook"]["ok"] and checks["runbook"]["required"]
    read = api_for(viewer).get(data["url"])
    assert read.status_code == 200 and read.json()["id"] == data["id"]


def test_a_blocked_checklist_is_a_400_naming_what_to_fix(
    alice, api_for, churn_model, production_env
):
    # given a version whose card is not written (production wants 75 %)
    bare = create_version(actor=alice, model=churn_model, version="1.2.0")
    set_version_status(actor=alice, version=bare, status="candidate")

    response = api_for(alice).post(f"{API}/releases/", _body(bare))

    assert response.status_code == 400
    problems = response.json()["errors"]["checklist"]
    assert len(problems) == 1 and problems[0].startswith("Card completeness")
    assert not ReleaseRequest.objects.exists()


def test_a_request_names_what_it_cannot_take(alice, charlie, api_for, candidate_version):
    client = api_for(alice)

    unknown = client.post(f"{API}/releases/", _body(candidate_version, version="9.9.9"))
    assert unknown.status_code == 400 and "version" in unknown.json()["errors"]
    nowhere = client.post(f"{API}/releases/", _body(candidate_version, environment="moon"))
    assert nowhere.status_code == 400 and "environment" in nowhere.json()["errors"]
    misspelt = client.post(f"{API}/releases/", _body(candidate_version, stratgy="canary"))
    assert misspelt.status_code == 400 and "stratgy" in misspelt.json()["errors"]
    steps = client.post(f"{API}/releases/", _body(candidate_version, strategy="canary"))
    assert steps.status_code == 400 and "canary_steps" in steps.json()["errors"]
    outsider = api_for(charlie).post(f"{API}/releases/", _body(candidate_version))
    assert outsider.status_code == 403
    assert not ReleaseRequest.objects.exists()


# Deciding ---------------------------------------------------------------------------------


def test_the_requester_cannot_approve_even_as_an_approver(
    rhea, api_for, candidate_version, production_env
):
    release = _request(rhea, candidate_version, production_env)

    response = api_for(rhea).post(_url(release, "approve"), {"comment": "looks fine"})

    assert response.status_code == 403
    assert "someone else" in response.json()["errors"]["detail"][0]
    assert not Approval.objects.exists()
    release.refresh_from_db()
    assert release.state == State.PENDING


def test_people_without_the_approver_role_cannot_decide(
    alice, erin, api_for, candidate_version, production_env
):
    release = _request(alice, candidate_version, production_env)

    for verb in ("approve", "reject"):
        response = api_for(erin).post(_url(release, verb), {"comment": "no"})
        assert response.status_code == 403
    assert not Approval.objects.exists()


def test_production_needs_its_roles_held_by_distinct_people(
    alice, bea, daria, api_for, candidate_version, production_env
):
    release = _request(alice, candidate_version, production_env)

    first = api_for(bea).post(_url(release, "approve"), {"comment": "ok"})
    assert first.status_code == 200
    data = first.json()
    # bea holds both roles, but one person counts once: one role is still missing.
    assert data["state"] == State.PENDING
    assert data["approvals_given"] == 1 and len(data["missing_roles"]) == 1
    assert data["approvals"][0]["approver"] == "bea" and data["approvals"][0]["counts"]
    assert sorted(data["approvals"][0]["roles"]) == sorted([APPROVER, DS, ENG])

    again = api_for(bea).post(_url(release, "approve"), {})
    assert again.status_code == 400 and "already decided" in str(again.json())

    second = api_for(daria).post(_url(release, "approve"), {})
    assert second.status_code == 200
    assert second.json()["state"] == State.APPROVED
    assert second.json()["missing_roles"] == []


def test_two_approvers_of_one_role_do_not_approve_production(
    alice, daria, api_for, candidate_version, production_env
):
    other_ds = _person("dirk", APPROVER, DS)
    release = _request(alice, candidate_version, production_env)

    for approver in (daria, other_ds):
        assert api_for(approver).post(_url(release, "approve"), {}).status_code == 200

    data = api_for(alice).get(_url(release)).json()
    assert data["state"] == State.PENDING
    assert data["approvals_given"] == 2 and data["missing_roles"] == [ENG]


def test_a_rejection_rejects_and_needs_a_reason(
    alice, daria, eve, api_for, candidate_version, production_env
):
    release = _request(alice, candidate_version, production_env)
    assert api_for(eve).post(_url(release, "approve"), {}).status_code == 200

    bare = api_for(daria).post(_url(release, "reject"), {})
    assert bare.status_code == 400 and "comment" in bare.json()["errors"]
    rejected = api_for(daria).post(_url(release, "reject"), {"comment": "Gates fail on EU."})
    assert rejected.status_code == 200
    assert rejected.json()["state"] == State.REJECTED
    late = api_for(daria).post(_url(release, "approve"), {})
    assert late.status_code == 400


def test_the_requester_cancels_and_an_outsider_may_not(
    alice, charlie, api_for, candidate_version, production_env
):
    release = _request(alice, candidate_version, production_env)

    refused = api_for(charlie).post(_url(release, "cancel"), {"reason": "mine now"})
    assert refused.status_code == 403
    cancelled = api_for(alice).post(_url(release, "cancel"), {"reason": "Superseded by 1.2.0."})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == State.CANCELLED


def test_an_unknown_release_is_a_404(viewer, api_for, db):
    assert api_for(viewer).get(f"{API}/releases/999999/").status_code == 404


# The list ---------------------------------------------------------------------------------


def test_the_list_filters_by_state_environment_model_and_waiting_for_me(
    alice, daria, eve, api_for, running_version, candidate_version, production_env, staging
):
    to_production = _request(alice, candidate_version, production_env)
    to_staging = _approved(_request(alice, running_version, staging), daria)
    client = api_for(eve)

    def ids(query: str) -> list[int]:
        response = client.get(f"{API}/releases/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [to_staging.pk, to_production.pk]
    assert ids("state=approved") == [to_staging.pk]
    assert ids("environment=production") == [to_production.pk]
    assert ids("model=churn") == [to_staging.pk, to_production.pk]
    assert ids("model=other") == []
    assert ids("waiting_for_me=true") == [to_production.pk]
    assert api_for(alice).get(f"{API}/releases/?waiting_for_me=true").json()["results"] == []
    bad = client.get(f"{API}/releases/?state=shipped")
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


def test_the_list_takes_as_many_queries_for_three_releases_as_for_one(
    alice, daria, api_for, running_version, candidate_version, production_env, staging
):
    client = api_for(daria)
    _request(alice, candidate_version, production_env)
    client.get(f"{API}/releases/")  # warm the person's roles and content types
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"{API}/releases/").status_code == 200
    _request(alice, running_version, staging)
    _request(alice, candidate_version, staging)
    with CaptureQueriesContext(connection) as three:
        response = client.get(f"{API}/releases/")
    assert response.json()["count"] == 3
    assert len(three.captured_queries) == len(one.captured_queries)


# The CD pipeline --------------------------------------------------------------------------


def test_the_pipeline_reports_a_rollout_with_a_key_of_the_deployments_scope(
    make_release, pipeline_key
):
    release = make_release(strategy="full", deploy=False)
    pipeline = _key_client(pipeline_key)

    started = pipeline.post(
        _url(release, "deployment-status"), {"status": "started"}, format="json"
    )
    assert started.status_code == 200, started.json()
    assert started.json()["state"] == State.DEPLOYING
    done = pipeline.post(
        _url(release, "deployment-status"),
        {"status": "succeeded", "message": "Pipeline run 4711."},
        format="json",
    )
    assert done.status_code == 200
    assert done.json()["state"] == State.DEPLOYED
    assert done.json()["status_message"] == "Pipeline run 4711."
    events = AuditEvent.objects.filter(target_id=str(release.pk), verb="release.deployed")
    assert [event.actor for event in events] == [None]  # the pipeline, not a person


def test_a_failed_rollout_is_recorded_with_its_message(make_release, pipeline_key):
    release = make_release(strategy="full", deploy=False)

    response = _key_client(pipeline_key).post(
        _url(release, "deployment-status"),
        {"status": "failed", "message": "Health check failed."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["state"] == State.FAILED
    assert response.json()["status_message"] == "Health check failed."


def test_deployment_callbacks_refuse_the_wrong_scope_another_team_and_no_key(
    alice, charlie, risk_team, search_team, make_release, pipeline_key
):
    release = make_release(strategy="full", deploy=False)
    url, body = _url(release, "deployment-status"), {"status": "succeeded"}
    _, wrong_scope = create_key(
        actor=alice, team=risk_team, name="ingest", scopes=[Scope.PREDICTIONS, Scope.READ]
    )
    _, other_team = create_key(
        actor=charlie, team=search_team, name="their pipeline", scopes=[Scope.DEPLOYMENTS]
    )

    assert _key_client(wrong_scope).post(url, body, format="json").status_code == 403
    refused = _key_client(other_team).post(url, body, format="json")
    assert refused.status_code == 403
    assert "deployments:write" in refused.json()["errors"]["detail"][0]
    assert APIClient().post(url, body, format="json").status_code == 401
    assert _key_client("hfk_not-a-key").post(url, body, format="json").status_code == 401
    release.refresh_from_db()
    assert release.state == State.APPROVED


def test_a_revoked_key_no_longer_reports(alice, risk_team, make_release):
    release = make_release(strategy="full", deploy=False)
    key, secret = create_key(actor=alice, team=risk_team, name="old", scopes=[Scope.DEPLOYMENTS])
    revoke_key(actor=alice, key=key)

    response = _key_client(secret).post(
        _url(release, "deployment-status"), {"status": "started"}, format="json"
    )

    assert response.status_code == 401


def test_a_key_for_one_model_does_not_cover_the_teams_other_models(alice, risk_team, make_release):
    other = create_model(
        actor=alice, name="fraud", title="Fraud", team=risk_team, task_type="binary_classification"
    )
    _, secret = create_key(
        actor=alice, team=risk_team, name="fraud CD", scopes=[Scope.DEPLOYMENTS], model=other
    )
    release = make_release(strategy="full", deploy=False)

    response = _key_client(secret).post(
        _url(release, "deployment-status"), {"status": "started"}, format="json"
    )

    assert response.status_code == 403


def test_people_who_may_deploy_report_too_and_others_may_not(erin, charlie, api_for, make_release):
    release = make_release(strategy="full", deploy=False)
    url = _url(release, "deployment-status")

    assert api_for(charlie).post(url, {"status": "started"}).status_code == 403
    response = api_for(erin).post(url, {"status": "started", "message": "by hand"})
    assert response.status_code == 200 and response.json()["state"] == State.DEPLOYING
    bad = api_for(erin).post(url, {"status": "shipped"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


# What runs where --------------------------------------------------------------------------


def test_nothing_running_is_a_404_that_says_so(viewer, api_for, running_version):
    client = api_for(viewer)

    nothing = client.get(f"{API}/environments/staging/models/churn/")
    assert nothing.status_code == 404
    assert "Nothing runs in staging for churn" in nothing.json()["errors"]["detail"][0]
    assert client.get(f"{API}/environments/moon/models/churn/").status_code == 404
    assert client.get(f"{API}/environments/production/models/nope/").status_code == 404


def test_what_runs_follows_a_deploy_and_a_rollback(
    alice, api_for, running_version, make_release, pipeline_key
):
    # given 1.0.0 running with its artifact
    Artifact.objects.create(
        version=running_version,
        file="artifacts/churn-1.0.0.onnx",
        size=1234,
        sha256="ab" * 32,
        uploaded_by=alice,
    )
    pipeline = _key_client(pipeline_key)

    before = pipeline.get(WHERE)
    assert before.status_code == 200, before.json()
    current = before.json()["current"]
    assert current["version"] == "1.0.0" and current["traffic_percent"] == 100
    assert current["sha256"] == "ab" * 32 and current["size"] == 1234
    assert current["artifact_url"].endswith(
        "/api/v1/models/churn/versions/1.0.0/artifact/download/"
    )
    assert set(current["contract"]["input_schema"]["properties"]) == {"age", "income", "region"}
    assert current["release"] is None  # put there without a release
    assert before.json()["canary"] is None

    # when 1.1.0 is deployed
    release = make_release(strategy="full")
    deployed = pipeline.get(WHERE).json()["current"]
    assert deployed["version"] == "1.1.0" and deployed["release"] == release.pk
    assert deployed["strategy"] == "full" and deployed["serving_mode"] == "realtime"
    assert deployed["traffic_percent"] == 100
    assert deployed["artifact_url"] is None and deployed["sha256"] is None

    # and rolled back
    rolled = api_for(alice).post(_url(release, "rollback"), {"reason": "Latency doubled."})
    assert rolled.status_code == 200 and rolled.json()["state"] == State.ROLLED_BACK
    restored = pipeline.get(WHERE).json()["current"]
    assert restored["version"] == "1.0.0" and restored["traffic_percent"] == 100
    assert restored["sha256"] == "ab" * 32


def test_a_running_canary_shows_next_to_what_it_replaces(alice, api_for, make_release):
    canary = make_release()

    data = api_for(alice).get(WHERE).json()

    assert data["current"]["version"] == "1.0.0" and data["current"]["traffic_percent"] == 95
    assert data["canary"]["version"] == "1.1.0" and data["canary"]["traffic_percent"] == 5
    assert data["canary"]["strategy"] == "canary" and data["canary"]["release"] == canary.pk
    detail = api_for(alice).get(_url(canary)).json()
    assert detail["next_step"] == 25
    assert [step["traffic_percent"] for step in detail["steps"]] == [5]


def test_promote_moves_a_canary_to_its_next_step_and_rollback_ends_it(
    alice, charlie, api_for, make_release
):
    canary = make_release()

    assert api_for(charlie).post(_url(canary, "promote"), {}).status_code == 403
    promoted = api_for(alice).post(_url(canary, "promote"), {})
    assert promoted.status_code == 200, promoted.json()
    assert promoted.json()["traffic_percent"] == 25
    assert api_for(alice).get(WHERE).json()["canary"]["traffic_percent"] == 25

    rolled = api_for(alice).post(_url(canary, "rollback"), {"reason": "Error rate up."})
    assert rolled.status_code == 200
    after = api_for(alice).get(WHERE).json()
    assert after["canary"] is None
    assert after["current"]["version"] == "1.0.0" and after["current"]["traffic_percent"] == 100


def test_what_runs_refuses_a_key_of_another_team(charlie, search_team, running_version):
    _, secret = create_key(actor=charlie, team=search_team, name="x", scopes=[Scope.DEPLOYMENTS])

    response = _key_client(secret).get(WHERE)

    assert response.status_code == 403


def test_a_rollback_needs_a_reason_and_someone_allowed(alice, charlie, api_for, make_release):
    release = make_release(strategy="full")

    assert api_for(charlie).post(_url(release, "rollback"), {"reason": "x"}).status_code == 403
    bare = api_for(alice).post(_url(release, "rollback"), {})
    assert bare.status_code == 400 and "reason" in bare.json()["errors"]


# Webhooks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "ftp://hooks.example.com/x",
        "https://user:secret@hooks.example.com/x",
    ],
)
def test_a_webhook_to_a_private_or_unusable_url_is_refused(alice, api_for, risk_team, url):
    response = api_for(alice).post(f"{API}/release-webhooks/", {"team": risk_team.slug, "url": url})

    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert not ReleaseWebhook.objects.exists()


def test_a_team_configures_its_webhook_and_outsiders_may_not(alice, charlie, api_for, risk_team):
    client = api_for(alice)
    hooks = f"{API}/release-webhooks/"
    good = {"team": risk_team.slug, "url": "https://hooks.example.com/cd"}

    made = client.post(hooks, {**good, "events": ["release.approved"]})
    assert made.status_code == 201, made.json()
    assert made.json()["events"] == ["release.approved"] and made.json()["team"] == risk_team.slug
    assert api_for(charlie).post(hooks, good).status_code == 403
    unknown = client.post(hooks, {**good, "events": ["release.shipped"]})
    assert unknown.status_code == 400 and "events" in unknown.json()["errors"]
    both = client.post(hooks, {**good, "environment": "production"})
    assert both.status_code == 400
    assert client.post(hooks, {**good, "team": "nobody"}).status_code == 400
    assert AuditEvent.objects.filter(verb="release_webhook.created").count() == 1


def test_environment_webhooks_are_for_approvers(alice, daria, api_for, production_env):
    body = {"environment": "production", "url": "https://cd.example.com/hook"}

    assert api_for(alice).post(f"{API}/release-webhooks/", body).status_code == 403
    made = api_for(daria).post(f"{API}/release-webhooks/", body)
    assert made.status_code == 201 and made.json()["environment"] == "production"


def test_webhooks_are_listed_and_removed_by_who_configures_them(alice, charlie, api_for, risk_team):
    hook = ReleaseWebhook.objects.create(team=risk_team, url="https://hooks.example.com/cd")
    hooks = f"{API}/release-webhooks/"

    assert [row["id"] for row in api_for(alice).get(hooks).json()["results"]] == [hook.pk]
    assert api_for(charlie).get(hooks).json()["results"] == []
    assert api_for(charlie).delete(f"{hooks}{hook.pk}/").status_code == 403
    assert api_for(alice).delete(f"{hooks}{hook.pk}/").status_code == 204
    assert not ReleaseWebhook.objects.exists()
    assert api_for(alice).delete(f"{hooks}{hook.pk}/").status_code == 404


def _delivery(release: ReleaseRequest, phase: JobStatus) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        url="https://hooks.example.com/cd",
        event="release.approved",
        payload={"event": "release.approved", "release": {"id": release.pk}},
        status=phase,
        attempts=3,
        response_status=503,
        error="The receiver answered 503.",
    )


def test_a_failed_delivery_is_resent_by_the_team(
    alice, charlie, api_for, candidate_version, production_env, django_capture_on_commit_callbacks
):
    release = _request(alice, candidate_version, production_env)
    failed = _delivery(release, JobStatus.FAILED)
    delivered = _delivery(release, JobStatus.SUCCEEDED)
    deliveries = f"{API}/webhook-deliveries/"

    listed = api_for(alice).get(deliveries).json()["results"]
    assert {row["id"] for row in listed} == {failed.pk, delivered.pk}
    assert listed[0]["host"] == "hooks.example.com" and listed[0]["release"] == release.pk
    assert api_for(charlie).get(deliveries).json()["results"] == []
    assert api_for(charlie).post(f"{deliveries}{failed.pk}/resend/").status_code == 403
    assert api_for(alice).post(f"{deliveries}{delivered.pk}/resend/").status_code == 400

    with django_capture_on_commit_callbacks() as callbacks:
        resent = api_for(alice).post(f"{deliveries}{failed.pk}/resend/")

    assert resent.status_code == 202, resent.json()
    assert resent.json()["job_status"] == JobStatus.QUEUED
    assert resent.json()["attempts"] == 0 and resent.json()["response_status"] is None
    assert len(callbacks) == 1  # the task is sent once the change commits
    assert AuditEvent.objects.filter(verb="webhook.resent", target_id=str(failed.pk)).exists()


# API keys ---------------------------------------------------------------------------------


def test_the_keys_page_creates_a_deployments_key(alice, client_for, churn_model):
    """The deployments:write scope needs no migration: keys keep their scopes as JSON."""
    form = {
        "name": "CD pipeline",
        "scopes": [Scope.DEPLOYMENTS],
        "applies_to": "team",
        "allowed_origins": "",
        "nonce": "form-nonce-0001",
    }

    response = client_for(alice).post(f"/feedback/models/{churn_model.name}/keys/", form)

    assert response.status_code == 200
    assert response.context["new_key"].scopes == [Scope.DEPLOYMENTS]
