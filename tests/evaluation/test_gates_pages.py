"""Quality-gate pages: a model's rules, a version's results, and the version page's panel."""

from __future__ import annotations

from typing import Any

import pytest

from registry.evaluation.models import ContractAcknowledgement, GateOverride, QualityGate
from registry.evaluation.services.gates import add_rule, judge
from tests.evaluation.data import INPUT_SCHEMA
from tests.evaluation.gate_helpers import dataset_row, evaluation_of, rule_of, version_of

RULES = "/models/churn/gates/"
RESULTS = "/models/churn/versions/1.0.0/gates/"


@pytest.fixture
def v1(alice: Any, churn: Any) -> Any:
    return version_of(alice, churn, "1.0.0")


@pytest.fixture
def failing(alice: Any, churn: Any, v1: Any) -> Any:
    """churn 1.0.0 judged against a card rule its empty card fails."""
    rule = rule_of(alice, churn, kind="card", threshold=80)
    judge(v1)
    return rule


def test_the_rules_page_shows_own_and_inherited_rules_and_the_form_to_authors(
    client_for: Any, alice: Any, bob: Any, victor: Any, churn: Any, risk_team: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="f1_macro", threshold=0.85)
    add_rule(actor=bob, team=risk_team, kind="latency", threshold=20)

    for_alice = client_for(alice).get(RULES).content.decode()
    for_victor = client_for(victor).get(RULES).content.decode()

    assert "f1_macro ≥ 0.85" in for_victor and "latency p95 ≤ 20 ms" in for_victor
    assert "Inherited from Risk Modelling" in for_victor
    assert 'id="rule-form"' in for_alice and "Remove</button>" in for_alice
    assert 'id="rule-form"' not in for_victor and "Remove</button>" not in for_victor


def test_the_form_shows_the_fields_of_the_chosen_kind(
    client_for: Any, alice: Any, churn: Any
) -> None:
    client = client_for(alice)
    metric = client.get(RULES).content.decode()
    latency = client.get(f"{RULES}?kind=latency").content.decode()

    assert 'name="slice_column"' in metric and 'name="metric"' in metric
    assert 'name="slice_column"' not in latency and 'name="metric"' not in latency
    assert "p95 latency (ms)" in latency
    assert f'hx-get="{RULES}"' in metric  # choosing a kind fetches its fields


def test_adding_a_rule_redirects_and_a_bad_one_shows_the_errors_on_top(
    client_for: Any, alice: Any, churn: Any
) -> None:
    client = client_for(alice)
    bad = client.post(RULES, {"scope": "model", "kind": "card", "threshold": "150"})
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "error-summary" in html and "A percentage between 0 and 100." in html
    assert not QualityGate.objects.exists()

    good = client.post(
        RULES,
        {
            "scope": "team",
            "kind": "metric",
            "metric": "roc_auc",
            "comparator": ">=",
            "threshold": "0.8",
        },
    )

    assert good.status_code == 302 and good["Location"] == RULES
    rule = QualityGate.objects.get()
    assert (rule.model, rule.team, str(rule)) == (None, churn.team, "roc_auc ≥ 0.8")


def test_only_authors_post_rules_and_removing_refuses_get(
    client_for: Any, alice: Any, victor: Any, charlie: Any, churn: Any
) -> None:
    assert client_for(victor).post(RULES, {"kind": "card", "threshold": "5"}).status_code == 403
    assert client_for(charlie).post(RULES, {"kind": "card", "threshold": "5"}).status_code == 403
    rule = rule_of(alice, churn, kind="card", threshold=50)
    remove = f"{RULES}{rule.pk}/remove/"
    assert client_for(alice).get(remove).status_code == 405
    assert client_for(victor).post(remove).status_code == 403

    response = client_for(alice).post(remove)

    assert response.status_code == 302 and not QualityGate.objects.exists()


def test_the_results_page_shows_each_reason_and_the_evaluation_it_came_from(
    client_for: Any, alice: Any, victor: Any, churn: Any, risk_team: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    rule_of(alice, churn, kind="card", threshold=0)
    evaluation = evaluation_of(v1, dataset_row(alice, risk_team), metrics={"roc_auc": 0.7})
    judge(v1, evaluation=evaluation)

    html = client_for(victor).get(RESULTS).content.decode()

    assert "roc_auc is 0.7 in evaluation" in html
    assert f'href="/models/churn/versions/1.0.0/evaluations/{evaluation.pk}/"' in html
    assert "the version itself" in html  # the card rule reads no evaluation
    assert "Gates fail" in html
    assert "Override the failures" not in html and "Judge again" not in html


def test_an_approver_overrides_from_the_results_page(
    client_for: Any, dana: Any, alice: Any, failing: Any
) -> None:
    assert "Override the failures" not in client_for(alice).get(RESULTS).content.decode()
    client = client_for(dana)
    assert "Override the failures" in client.get(RESULTS).content.decode()

    blank = client.post(f"{RESULTS}override/", {"justification": ""})
    assert blank.status_code == 200 and "error-summary" in blank.content.decode()
    assert client_for(alice).post(f"{RESULTS}override/", {"justification": "x"}).status_code == 403

    done = client.post(f"{RESULTS}override/", {"justification": "<b>Card</b> due Monday."})

    assert done.status_code == 302 and GateOverride.objects.count() == 1
    html = client.get(RESULTS).content.decode()
    assert "Failures overridden" in html and "&lt;b&gt;Card&lt;/b&gt; due Monday." in html


def test_an_editor_acknowledges_a_breaking_change_from_the_results_page(
    client_for: Any, alice: Any, victor: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="contract", threshold=None)
    narrower = {**INPUT_SCHEMA, "required": [*INPUT_SCHEMA["required"], "region"]}
    version_of(alice, churn, "2.0.0", input_schema=narrower)
    url = "/models/churn/versions/2.0.0/gates/"
    page = client_for(alice).get(url).content.decode()
    assert "input /region</code>: became required" in page and "Acknowledge</button>" in page
    assert "Acknowledge</button>" not in client_for(victor).get(url).content.decode()
    assert "Acknowledge</button>" not in client_for(alice).get(RESULTS).content.decode()
    assert client_for(victor).post(f"{url}acknowledge/", {"note": "x"}).status_code == 403

    done = client_for(alice).post(f"{url}acknowledge/", {"note": "Clients told."})

    assert done.status_code == 302 and ContractAcknowledgement.objects.get().note == "Clients told."
    assert "Gates pass" in client_for(alice).get(url).content.decode()


def test_judging_again_from_the_page(
    client_for: Any, alice: Any, victor: Any, failing: Any
) -> None:
    assert client_for(victor).post(f"{RESULTS}judge/").status_code == 403
    assert client_for(alice).get(f"{RESULTS}judge/").status_code == 405
    QualityGate.objects.filter(pk=failing.pk).update(threshold=0)

    response = client_for(alice).post(f"{RESULTS}judge/")

    assert response.status_code == 302
    assert "Gates pass" in client_for(alice).get(RESULTS).content.decode()


def test_the_version_page_shows_the_verdict_with_the_failing_rules_and_links(
    client_for: Any, victor: Any, failing: Any
) -> None:
    html = client_for(victor).get("/models/churn/versions/1.0.0/").content.decode()
    assert 'id="gate-verdict"' in html and "Gates fail" in html
    assert "card completeness ≥ 80%" in html
    assert f'href="{RESULTS}"' in html and f'href="{RULES}"' in html


def test_the_version_panel_reads_the_verdict_in_one_query_or_two_when_overridden(
    client_for: Any, alice: Any, dana: Any, churn: Any, v1: Any, django_assert_num_queries: Any
) -> None:
    from django.template import Context, Template

    from registry.evaluation.services.gates import override_gates

    panel = Template("{% load gate_panels %}{% gate_verdict_panel version %}")
    for threshold in (80, 90, 100):
        rule_of(alice, churn, kind="card", threshold=threshold)
    judge(v1)
    judge(v1)
    with django_assert_num_queries(1):
        assert "Gates fail" in panel.render(Context({"version": v1}))
    override_gates(actor=dana, version=v1, justification="Card due Monday.")
    with django_assert_num_queries(2):
        assert "Failures overridden" in panel.render(Context({"version": v1}))
