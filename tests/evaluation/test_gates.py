"""Quality gates: every rule kind passing, failing and not evaluable; team defaults; the
verdict; overrides; contract acknowledgements; the backlog item a failure files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.backlog.models import BacklogItem
from portal.backlog.services.items import move_item
from portal.models import AuditEvent
from registry.evaluation.models import GateOverride, GateResult, QualityGate
from registry.evaluation.services.gates import (
    acknowledge_contract_change,
    add_rule,
    file_item_for_failed_gates,
    judge,
    override_gates,
    rejudge,
    remove_rule,
    rules_for,
    verdict,
)
from registry.services.models import create_model
from tests.evaluation.data import INPUT_SCHEMA
from tests.evaluation.gate_helpers import (
    dataset_row,
    evaluation_of,
    region_slices,
    rule_of,
    to_production,
    version_of,
    write_sections,
)


@pytest.fixture
def dataset(alice: Any, risk_team: Any) -> Any:
    return dataset_row(alice, risk_team)


@pytest.fixture
def v1(alice: Any, churn: Any) -> Any:
    return version_of(alice, churn, "1.0.0")


def _only(results: list[GateResult]) -> GateResult:
    assert len(results) == 1
    return results[0]


# Rules: validation and permissions


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "metric", "metric": "fscore", "threshold": 0.8}, "metric", "Choose one of"),
        ({"kind": "metric", "metric": "latency_p95_ms", "threshold": 5}, "metric", "latency"),
        ({"kind": "metric", "metric": "f1_macro", "threshold": 85}, "threshold", "0.85"),
        ({"kind": "metric", "metric": "mae", "threshold": 3}, "metric", "classifier"),
        ({"kind": "metric", "metric": "f1_macro"}, "threshold", "number is required"),
        ({"kind": "metric", "metric": "f1_macro", "threshold": float("nan")}, "threshold", ""),
        ({"kind": "card", "threshold": 120}, "threshold", "between 0 and 100"),
        ({"kind": "latency", "threshold": 0}, "threshold", "more than 0"),
        ({"kind": "latency", "threshold": 50, "comparator": ">"}, "comparator", "≤"),
        ({"kind": "relative", "metric": "roc_auc", "threshold": -0.1}, "threshold", "0 or more"),
        ({"kind": "card", "threshold": 80, "slice_column": "region"}, "slice_column", "slice"),
        ({"kind": "card", "threshold": 80, "metric": "f1_macro"}, "metric", "Only metric"),
        ({"kind": "speed", "threshold": 1}, "kind", "Unknown kind"),
    ],
)
def test_a_rule_that_does_not_hold_together_is_refused_naming_the_field(
    alice: Any, churn: Any, fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        rule_of(alice, churn, **fields)
    assert field in caught.value.message_dict
    assert words in " ".join(caught.value.message_dict[field])
    assert not QualityGate.objects.exists()


def test_adding_a_rule_is_audited_and_a_duplicate_is_refused(alice: Any, churn: Any) -> None:
    rule = rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    event = AuditEvent.objects.get(verb="gate.added")
    assert event.actor == alice and (event.after or {})["rule"] == "roc_auc ≥ 0.8"
    with pytest.raises(ValidationError) as caught:
        rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    assert "exists already" in caught.value.message_dict["kind"][0]
    assert list(QualityGate.objects.all()) == [rule]


def test_latency_and_card_rules_store_the_comparator_they_read(alice: Any, churn: Any) -> None:
    latency = rule_of(alice, churn, kind="latency", threshold=20)
    card = rule_of(alice, churn, kind="card", threshold=75)
    assert (latency.comparator, str(latency)) == ("<=", "latency p95 ≤ 20 ms")
    assert (card.comparator, str(card)) == (">=", "card completeness ≥ 75%")


@pytest.mark.parametrize("who", ["victor", "charlie", "dana"])
def test_only_the_models_authors_add_its_rules(
    request: pytest.FixtureRequest, churn: Any, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        rule_of(request.getfixturevalue(who), churn, kind="card", threshold=50)


@pytest.mark.parametrize("who", ["victor", "charlie", "dana"])
def test_only_the_teams_authors_set_its_defaults(
    request: pytest.FixtureRequest, risk_team: Any, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        add_rule(actor=request.getfixturevalue(who), team=risk_team, kind="card", threshold=50)


def test_removing_a_rule_needs_an_author_and_is_audited(
    alice: Any, victor: Any, churn: Any
) -> None:
    rule = rule_of(alice, churn, kind="card", threshold=50)
    with pytest.raises(PermissionDenied):
        remove_rule(actor=victor, rule=rule)
    remove_rule(actor=alice, rule=rule)
    assert not QualityGate.objects.exists()
    assert (AuditEvent.objects.get(verb="gate.removed").before or {})["rule"] == str(rule)


def test_a_model_inherits_its_teams_defaults_and_no_other_teams(
    alice: Any, bob: Any, charlie: Any, churn: Any, risk_team: Any, search_team: Any
) -> None:
    own = rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    default = add_rule(actor=bob, team=risk_team, kind="card", threshold=60)
    add_rule(actor=charlie, team=search_team, kind="latency", threshold=10)
    other = create_model(actor=alice, name="other", title="Other", team=risk_team)
    rule_of(alice, other, kind="latency", threshold=5)

    assert {rule.pk for rule in rules_for(churn)} == {own.pk, default.pk}


# Judging: each kind


def test_a_metric_rule_passes_fails_and_says_what_it_saw(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    good = evaluation_of(v1, dataset, metrics={"roc_auc": 0.83})
    bad = evaluation_of(v1, dataset, metrics={"roc_auc": 0.71})

    passed = _only(judge(v1, evaluation=good))
    failed = _only(judge(v1, evaluation=bad))

    assert (passed.outcome, passed.observed, passed.evaluation) == ("pass", 0.83, good)
    assert (failed.outcome, failed.observed) == ("fail", 0.71)
    assert "roc_auc is 0.71" in failed.reason and "short of ≥ 0.8" in failed.reason


def test_lower_is_better_metrics_read_their_comparator(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="log_loss", comparator="<=", threshold=0.4)
    good = evaluation_of(v1, dataset, metrics={"log_loss": 0.3})
    bad = evaluation_of(v1, dataset, metrics={"log_loss": 0.5})
    assert _only(judge(v1, evaluation=good)).outcome == "pass"
    assert _only(judge(v1, evaluation=bad)).outcome == "fail"


def test_a_metric_the_evaluation_could_not_compute_is_not_evaluable(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    result = _only(judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": None})))
    assert result.outcome == "not_evaluable" and result.observed is None
    assert "roc_auc could not be computed" in result.reason


def test_without_an_evaluation_the_evaluation_rules_are_not_evaluable(
    alice: Any, churn: Any, v1: Any
) -> None:
    for fields in (
        {"kind": "metric", "metric": "roc_auc", "threshold": 0.8},
        {"kind": "relative", "metric": "roc_auc", "threshold": 0.01},
        {"kind": "latency", "threshold": 20},
    ):
        rule_of(alice, churn, **fields)
    results = judge(v1)
    assert [(r.outcome, r.reason) for r in results] == [("not_evaluable", "No evaluation yet.")] * 3


def test_a_slice_rule_fails_when_one_slice_misses_and_names_the_worst(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="f1_macro", threshold=0.85, slice_column="region")
    slices = region_slices(north=0.9, south=0.71, east=0.8)
    result = _only(judge(v1, evaluation=evaluation_of(v1, dataset, slices=slices)))
    assert (result.outcome, result.observed) == ("fail", 0.71)
    assert "2 of 3 slices of region" in result.reason
    assert "region=south (500 rows)" in result.reason


def test_a_slice_rule_passes_when_every_slice_passes(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="f1_macro", threshold=0.85, slice_column="region")
    slices = [
        *region_slices(north=0.9, south=0.88),
        {"column": "plan", "value": "basic", "rows": 10, "metrics": {"f1_macro": 0.1}},
    ]
    result = _only(judge(v1, evaluation=evaluation_of(v1, dataset, slices=slices)))
    assert (result.outcome, result.observed) == ("pass", 0.88)
    assert "the worst, region=south" in result.reason


def test_a_slice_rule_on_a_column_never_sliced_is_not_evaluable(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="f1_macro", threshold=0.85, slice_column="plan")
    evaluation = evaluation_of(v1, dataset, slices=region_slices(north=0.9))
    result = _only(judge(v1, evaluation=evaluation))
    assert result.outcome == "not_evaluable"
    assert "no slices of plan (it was sliced by region)" in result.reason


def test_a_relative_rule_without_a_production_version_is_not_evaluable(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="relative", metric="roc_auc", threshold=0.01)
    result = _only(judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": 0.8})))
    assert result.outcome == "not_evaluable"
    assert "No other version of churn is in production" in result.reason


def test_a_relative_rule_whose_production_version_has_no_evaluation_there_says_so(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="relative", metric="roc_auc", threshold=0.01)
    to_production(alice, v1)
    evaluation_of(v1, dataset_row(alice, churn.team, name="other-data"), metrics={"roc_auc": 0.9})
    v2 = version_of(alice, churn, "1.1.0")
    result = _only(judge(v2, evaluation=evaluation_of(v2, dataset, metrics={"roc_auc": 0.8})))
    assert result.outcome == "not_evaluable"
    assert "Production version 1.0.0 has no succeeded evaluation on churn-eval 1" in result.reason


@pytest.mark.parametrize(
    ("metric", "production", "challenger", "outcome"),
    [
        ("roc_auc", 0.86, 0.85, "pass"),  # exactly the allowed loss
        ("roc_auc", 0.86, 0.84, "fail"),
        ("roc_auc", 0.86, 0.90, "pass"),
        ("log_loss", 0.30, 0.32, "fail"),  # lower is better: higher is a loss
        ("log_loss", 0.30, 0.20, "pass"),
    ],
)
def test_a_relative_rule_compares_with_production_on_the_same_data(
    alice: Any,
    churn: Any,
    v1: Any,
    dataset: Any,
    metric: str,
    production: float,
    challenger: float,
    outcome: str,
) -> None:
    rule_of(alice, churn, kind="relative", metric=metric, threshold=0.01)
    to_production(alice, v1)
    champion = evaluation_of(v1, dataset, metrics={metric: production})
    v2 = version_of(alice, churn, "1.1.0")
    evaluation = evaluation_of(v2, dataset, metrics={metric: challenger})

    result = _only(judge(v2, evaluation=evaluation))

    assert result.outcome == outcome
    assert result.observed == pytest.approx(
        challenger - production if metric == "roc_auc" else production - challenger
    )
    assert f"production 1.0.0 (evaluation #{champion.pk})" in result.reason
    assert ("more than the 0.01 allowed" in result.reason) == (outcome == "fail")


def test_a_latency_rule_reads_the_p95(alice: Any, churn: Any, v1: Any, dataset: Any) -> None:
    rule_of(alice, churn, kind="latency", threshold=20)
    fast = evaluation_of(v1, dataset, latency={"p50_ms": 3, "p95_ms": 12.5, "rows_per_s": 9e4})
    slow = evaluation_of(v1, dataset, latency={"p50_ms": 9, "p95_ms": 31.0, "rows_per_s": 9e3})
    stored = evaluation_of(v1, dataset, latency={})

    assert _only(judge(v1, evaluation=fast)).outcome == "pass"
    failed = _only(judge(v1, evaluation=slow))
    assert (failed.outcome, failed.observed) == ("fail", 31.0)
    assert "above 20 ms" in failed.reason
    unmeasured = _only(judge(v1, evaluation=stored))
    assert unmeasured.outcome == "not_evaluable" and "measured no latency" in unmeasured.reason


def test_a_card_rule_counts_the_required_sections_written(alice: Any, churn: Any, v1: Any) -> None:
    rule_of(alice, churn, kind="card", threshold=75)
    write_sections(alice, v1, 4)
    failed = _only(judge(v1))
    assert (failed.outcome, failed.observed, failed.evaluation) == ("fail", 50.0, None)
    assert "4 of 8 required sections" in failed.reason and "Ethical considerations" in failed.reason

    write_sections(alice, v1, 6)
    assert _only(judge(v1)).outcome == "pass"


def test_a_contract_rule_fails_on_an_unacknowledged_breaking_change(
    alice: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="contract", threshold=None)
    assert "first version" in _only(judge(v1)).reason
    narrower = {**INPUT_SCHEMA, "required": [*INPUT_SCHEMA["required"], "region"]}
    v2 = version_of(alice, churn, "2.0.0", input_schema=narrower)

    failed = _only(judge(v2))

    assert (failed.outcome, failed.observed) == ("fail", 1.0)
    assert "input /region: became required" in failed.reason
    assert "not acknowledged" in failed.reason


def test_acknowledging_a_breaking_change_passes_the_contract_rule(
    alice: Any, victor: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="contract", threshold=None)
    narrower = {**INPUT_SCHEMA, "required": [*INPUT_SCHEMA["required"], "region"]}
    v2 = version_of(alice, churn, "2.0.0", input_schema=narrower)
    with pytest.raises(PermissionDenied):
        acknowledge_contract_change(actor=victor, version=v2, note="Clients told.")
    with pytest.raises(ValidationError) as caught:
        acknowledge_contract_change(actor=alice, version=v2, note="  ")
    assert "note" in caught.value.message_dict

    acknowledge_contract_change(actor=alice, version=v2, note="Clients told on 3 May.")

    assert verdict(v2).state == "pass"  # judged again on acknowledging
    assert "acknowledged by alice" in verdict(v2).results[0].reason
    assert AuditEvent.objects.filter(verb="contract.acknowledged").count() == 1


def test_a_version_without_breaking_changes_has_nothing_to_acknowledge(
    alice: Any, churn: Any, v1: Any
) -> None:
    v2 = version_of(alice, churn, "1.1.0")
    with pytest.raises(ValidationError) as caught:
        acknowledge_contract_change(actor=alice, version=v2, note="Nothing to see.")
    assert "no breaking way" in caught.value.message_dict["note"][0]


def test_team_defaults_are_judged_with_the_models_own_rules(
    alice: Any, bob: Any, churn: Any, risk_team: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    add_rule(actor=bob, team=risk_team, kind="latency", threshold=20)
    evaluation = evaluation_of(v1, dataset, metrics={"roc_auc": 0.9}, latency={"p95_ms": 40})
    results = judge(v1, evaluation=evaluation)
    assert sorted((r.rule, r.outcome) for r in results) == [
        ("latency p95 ≤ 20 ms", "fail"),
        ("roc_auc ≥ 0.8", "pass"),
    ]


def test_judging_refuses_another_versions_evaluation(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    v2 = version_of(alice, churn, "1.1.0")
    with pytest.raises(ValidationError) as caught:
        judge(v1, evaluation=evaluation_of(v2, dataset))
    assert "evaluation" in caught.value.message_dict


def test_rejudging_uses_the_latest_succeeded_evaluation(
    alice: Any, victor: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    evaluation_of(v1, dataset, metrics={"roc_auc": 0.7})
    latest = evaluation_of(v1, dataset, metrics={"roc_auc": 0.9})
    with pytest.raises(PermissionDenied):
        rejudge(actor=victor, version=v1)
    assert _only(rejudge(actor=alice, version=v1)).evaluation == latest


# The verdict and overrides


def test_the_verdict_follows_the_latest_result_of_each_rule_that_exists(
    alice: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    assert verdict(v1).state == "none"
    auc = rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    assert verdict(v1).state == "pending"
    judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": 0.7}))
    assert verdict(v1).state == "fail" and verdict(v1).blocks_release
    judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": 0.9}))
    assert verdict(v1).state == "pass" and not verdict(v1).blocks_release

    rule_of(alice, churn, kind="card", threshold=100)
    assert verdict(v1).state == "pending"  # a new rule is not judged yet
    judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": 0.9}))
    current = verdict(v1)
    assert current.state == "fail" and [r.rule for r in current.failing] == [
        "card completeness ≥ 100%"
    ]

    remove_rule(actor=alice, rule=QualityGate.objects.get(kind="card"))
    assert verdict(v1).state == "pass"
    assert [r.gate_id for r in verdict(v1).results] == [auc.pk]


def test_an_override_needs_an_approver_and_a_justification(
    alice: Any, dana: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="card", threshold=100)
    judge(v1)
    with pytest.raises(PermissionDenied):
        override_gates(actor=alice, version=v1, justification="We need it.")
    with pytest.raises(ValidationError) as caught:
        override_gates(actor=dana, version=v1, justification="   ")
    assert "justification" in caught.value.message_dict
    assert not GateOverride.objects.exists()

    override = override_gates(actor=dana, version=v1, justification="Card follows on Monday.")

    current = verdict(v1)
    assert current.state == "overridden" and not current.blocks_release
    assert current.override == override
    event = AuditEvent.objects.get(verb="gate.overridden")
    assert (event.actor, (event.after or {})["justification"]) == (dana, "Card follows on Monday.")


def test_an_override_covers_only_the_failures_it_saw(
    alice: Any, dana: Any, churn: Any, v1: Any, dataset: Any
) -> None:
    rule_of(alice, churn, kind="card", threshold=100)
    rule_of(alice, churn, kind="metric", metric="roc_auc", threshold=0.8)
    judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": 0.9}))
    override_gates(actor=dana, version=v1, justification="Card follows on Monday.")
    with pytest.raises(ValidationError):  # already overridden
        override_gates(actor=dana, version=v1, justification="Again.")

    judge(v1, evaluation=evaluation_of(v1, dataset, metrics={"roc_auc": 0.6}))

    current = verdict(v1)
    assert current.state == "fail" and current.override is None
    assert sorted(r.rule for r in current.failing) == ["card completeness ≥ 100%", "roc_auc ≥ 0.8"]


def test_nothing_to_override_when_nothing_fails(alice: Any, dana: Any, churn: Any, v1: Any) -> None:
    rule_of(alice, churn, kind="card", threshold=0)
    judge(v1)
    with pytest.raises(ValidationError) as caught:
        override_gates(actor=dana, version=v1, justification="Just in case.")
    assert "nothing to override" in caught.value.message_dict["justification"][0]


# The backlog item


def test_a_failed_gate_files_one_bug_linked_to_the_version_and_the_request(
    alice: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="card", threshold=100)
    judge(v1)
    failing = verdict(v1).failing
    about = churn  # stands in for a release request: any linkable object

    item = file_item_for_failed_gates(version=v1, failing=failing, about=about)
    again = file_item_for_failed_gates(version=v1, failing=failing, about=about)

    assert item is not None and again is None
    assert BacklogItem.objects.count() == 1
    assert (item.kind, item.team, item.reporter) == ("bug", churn.team, None)
    assert "card completeness ≥ 100%" in item.description
    assert sorted(link.target_repr for link in item.links.all()) == ["churn", "churn 1.0.0"]


def test_a_new_item_is_filed_once_the_previous_one_is_closed(
    alice: Any, churn: Any, v1: Any
) -> None:
    rule_of(alice, churn, kind="card", threshold=100)
    judge(v1)
    first = file_item_for_failed_gates(version=v1, failing=verdict(v1).failing)
    assert first is not None
    move_item(actor=alice, item=first, status="wont_do")

    second = file_item_for_failed_gates(version=v1, failing=verdict(v1).failing)

    assert second is not None and second.pk != first.pk
    assert file_item_for_failed_gates(version=v1, failing=[]) is None
