"""The quality-gates API: rules of a model and of a team, a version's verdict, override,
re-judge and contract acknowledgement, with who may write each."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.models import AuditEvent
from portal.services.accounts import create_team
from registry.evaluation.models import ContractAcknowledgement, GateOverride, QualityGate
from registry.evaluation.services.gates import add_rule, judge
from tests.evaluation.data import INPUT_SCHEMA
from tests.evaluation.gate_helpers import dataset_row, evaluation_of, rule_of, version_of

MODEL_GATES = "/api/v1/models/churn/gates/"
VERSION_GATES = "/api/v1/models/churn/versions/1.0.0/gates/"


@pytest.fixture
def v1(alice: Any, churn: Any) -> Any:
    return version_of(alice, churn, "1.0.0")


@pytest.fixture
def failing(alice: Any, churn: Any, v1: Any) -> Any:
    """churn 1.0.0 judged against a card rule its empty card fails."""
    rule = rule_of(alice, churn, kind="card", threshold=80)
    judge(v1)
    return rule


def test_a_models_rules_list_its_own_and_its_teams_marked_inherited(
    api_for: Any, alice: Any, bob: Any, victor: Any, churn: Any, risk_team: Any
) -> None:
    own = rule_of(alice, churn, kind="metric", metric="f1_macro", threshold=0.85)
    add_rule(actor=bob, team=risk_team, kind="latency", threshold=20)

    response = api_for(victor).get(MODEL_GATES)

    assert response.status_code == 200
    rows = {row["text"]: row for row in response.json()}
    assert rows["f1_macro ≥ 0.85"]["inherited"] is False
    assert rows["f1_macro ≥ 0.85"]["id"] == own.pk and rows["f1_macro ≥ 0.85"]["model"] == "churn"
    assert rows["latency p95 ≤ 20 ms"]["inherited"] is True
    assert rows["latency p95 ≤ 20 ms"]["team"] == risk_team.slug


def test_an_author_adds_a_slice_rule(api_for: Any, alice: Any, churn: Any) -> None:
    body = {"kind": "metric", "metric": "f1_macro", "threshold": 0.85, "slice_column": "region"}
    response = api_for(alice).post(MODEL_GATES, body, format="json")
    assert response.status_code == 201
    assert response.json()["text"] == "f1_macro ≥ 0.85 on every slice of region"
    assert QualityGate.objects.get().model == churn


@pytest.mark.parametrize("who", ["victor", "charlie", "dana"])
def test_others_may_not_add_a_models_rules(
    request: pytest.FixtureRequest, api_for: Any, churn: Any, who: str
) -> None:
    client = api_for(request.getfixturevalue(who))
    response = client.post(MODEL_GATES, {"kind": "card", "threshold": 50}, format="json")
    assert response.status_code == 403
    assert not QualityGate.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "metric", "metric": "f1", "threshold": 0.85}, "metric"),
        ({"kind": "card", "threshold": 150}, "threshold"),
        ({"kind": "card", "threshold": 50, "owner": "me"}, "owner"),
        ({"kind": "card"}, "threshold"),
        ({"kind": "nope", "threshold": 1}, "kind"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field(
    api_for: Any, alice: Any, churn: Any, body: dict[str, Any], field: str
) -> None:
    response = api_for(alice).post(MODEL_GATES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_team_defaults_are_read_by_anyone_and_written_by_the_teams_authors(
    api_for: Any, bob: Any, charlie: Any, victor: Any, risk_team: Any
) -> None:
    url = f"/api/v1/teams/{risk_team.slug}/gates/"
    body = {"kind": "card", "threshold": 60}
    assert api_for(charlie).post(url, body, format="json").status_code == 403
    assert api_for(victor).post(url, body, format="json").status_code == 403

    created = api_for(bob).post(url, body, format="json")

    assert created.status_code == 201 and created.json()["inherited"] is True
    listed = api_for(victor).get(url).json()
    assert [row["text"] for row in listed] == ["card completeness ≥ 60%"]
    assert api_for(victor).get("/api/v1/teams/no-such-team/gates/").status_code == 404


def test_removing_a_rule_needs_its_editor(
    api_for: Any, alice: Any, charlie: Any, victor: Any, churn: Any
) -> None:
    rule = rule_of(alice, churn, kind="card", threshold=50)
    url = f"/api/v1/gates/{rule.pk}/"
    assert api_for(victor).delete(url).status_code == 403
    assert api_for(charlie).delete(url).status_code == 403
    assert api_for(victor).get(url).json()["text"] == "card completeness ≥ 50%"

    assert api_for(alice).delete(url).status_code == 204
    assert not QualityGate.objects.exists()
    assert api_for(alice).delete(url).status_code == 404


def test_the_verdict_lists_every_result_with_its_reason_and_evaluation(
    api_for: Any, alice: Any, victor: Any, churn: Any, risk_team: Any, v1: Any
) -> None:
    rule = rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    rule_of(alice, churn, kind="latency", threshold=20)
    evaluation = evaluation_of(
        v1, dataset_row(alice, risk_team), metrics={"roc_auc": 0.7}, latency={"p95_ms": 5}
    )
    judge(v1, evaluation=evaluation)

    data = api_for(victor).get(VERSION_GATES).json()

    assert (data["state"], data["blocks_release"], data["override"]) == ("fail", True, None)
    by_rule = {row["rule"]: row for row in data["results"]}
    failed = by_rule["roc_auc ≥ 0.8"]
    assert (failed["outcome"], failed["observed"], failed["evaluation"]) == (
        "fail",
        0.7,
        evaluation.pk,
    )
    assert failed["rule_id"] == rule.pk and "roc_auc is 0.7" in failed["reason"]
    assert by_rule["latency p95 ≤ 20 ms"]["outcome"] == "pass"


def test_an_approver_overrides_with_a_justification(
    api_for: Any, alice: Any, dana: Any, failing: Any
) -> None:
    url = f"{VERSION_GATES}override/"
    assert api_for(alice).post(url, {"justification": "Ship it."}, format="json").status_code == 403
    blank = api_for(dana).post(url, {"justification": " "}, format="json")
    assert blank.status_code == 400 and "justification" in blank.json()["errors"]
    assert api_for(dana).get(url).status_code == 405

    response = api_for(dana).post(url, {"justification": "Card due Monday."}, format="json")

    assert response.status_code == 201
    assert response.json()["by"] == "dana" and len(response.json()["results"]) == 1
    verdict = api_for(alice).get(VERSION_GATES).json()
    assert verdict["state"] == "overridden" and not verdict["blocks_release"]
    assert verdict["override"]["justification"] == "Card due Monday."
    assert GateOverride.objects.count() == 1
    assert AuditEvent.objects.filter(verb="gate.overridden").count() == 1


def test_rejudging_reads_the_card_as_it_is_now(
    api_for: Any, alice: Any, victor: Any, failing: Any, v1: Any
) -> None:
    url = f"{VERSION_GATES}judge/"
    assert api_for(victor).post(url).status_code == 403
    QualityGate.objects.filter(pk=failing.pk).update(threshold=0)

    response = api_for(alice).post(url)

    assert response.status_code == 200 and response.json()["state"] == "pass"


def test_a_breaking_change_is_acknowledged_by_an_editor_with_a_note(
    api_for: Any, alice: Any, victor: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="contract", threshold=None)
    narrower = {**INPUT_SCHEMA, "required": [*INPUT_SCHEMA["required"], "region"]}
    version_of(alice, churn, "2.0.0", input_schema=narrower)
    url = "/api/v1/models/churn/versions/2.0.0/contract-acknowledgement/"
    assert api_for(victor).post(url, {"note": "Told."}, format="json").status_code == 403
    missing = api_for(alice).post(url, {}, format="json")
    assert missing.status_code == 400 and "note" in missing.json()["errors"]

    response = api_for(alice).post(url, {"note": "Clients told on 3 May."}, format="json")

    assert response.status_code == 201 and response.json()["by"] == "alice"
    assert ContractAcknowledgement.objects.get().note == "Clients told on 3 May."
    verdict = api_for(victor).get("/api/v1/models/churn/versions/2.0.0/gates/").json()
    assert verdict["state"] == "pass"


def test_anonymous_callers_get_401_and_unknown_models_404(
    api_for: Any, victor: Any, churn: Any
) -> None:
    assert APIClient().get(MODEL_GATES).status_code == 401
    assert APIClient().post(f"{VERSION_GATES}judge/").status_code == 401
    assert api_for(victor).get("/api/v1/models/nothing/gates/").status_code == 404
    assert api_for(victor).get("/api/v1/models/churn/versions/9.9.9/gates/").status_code == 404


def test_another_teams_author_may_not_write_to_a_version(
    api_for: Any, charlie: Any, failing: Any
) -> None:
    other = api_for(charlie)
    assert other.post(f"{VERSION_GATES}judge/").status_code == 403
    assert other.post(f"{VERSION_GATES}override/", {"justification": "x"}).status_code == 403
    second_team = create_team(name="Elsewhere")
    assert (
        other.post(f"/api/v1/teams/{second_team.slug}/gates/", {"kind": "card"}).status_code == 403
    )


def test_a_rule_not_judged_yet_leaves_the_verdict_pending(
    api_for: Any, alice: Any, victor: Any, churn: Any, v1: Any
) -> None:
    rule = rule_of(alice, churn, kind="card", threshold=50)
    data = api_for(victor).get(VERSION_GATES).json()
    assert (data["state"], data["blocks_release"], data["results"]) == ("pending", False, [])
    assert data["unjudged"] == [{"rule_id": rule.pk, "rule": "card completeness ≥ 50%"}]
