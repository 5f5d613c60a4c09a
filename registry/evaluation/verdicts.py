"""A version's quality-gate verdict: the latest result of every rule that applies now, and
whether an override covers the failures among them.

The version page reads this for its side panel, so the read is one query for the rules with
their latest results, plus one for the override only when an override is what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery

from registry.evaluation.models import GateOutcome, GateOverride, GateResult, QualityGate
from registry.models import ModelVersion, RegisteredModel


class VerdictState(models.TextChoices):
    PASS = "pass", "Gates pass"
    FAIL = "fail", "Gates fail"
    OVERRIDDEN = "overridden", "Failures overridden"
    PENDING = "pending", "Not judged yet"
    NONE = "none", "No gates"


@dataclass(frozen=True)
class Verdict:
    """``pending``: some rule (or every rule) has no result yet and none fails."""

    state: str
    results: list[GateResult]  # the latest result of each judged rule, in the rules' order
    failing: list[GateResult]
    override: GateOverride | None  # the override covering every failure, if one does
    unjudged: list[QualityGate] = field(default_factory=list)

    @property
    def blocks_release(self) -> bool:
        return self.state == VerdictState.FAIL

    @property
    def not_evaluable(self) -> list[GateResult]:
        return [r for r in self.results if r.outcome == GateOutcome.NOT_EVALUABLE]

    @property
    def label(self) -> str:
        return VerdictState(self.state).label


def rule_filter(model: RegisteredModel) -> Q:
    """The model's own rules and its team's defaults."""
    return Q(model_id=model.pk) | Q(model__isnull=True, team_id=model.team_id)


def rules_for(model: RegisteredModel) -> list[QualityGate]:
    return list(QualityGate.objects.filter(rule_filter(model)).select_related("created_by"))


# What the verdict reads of a rule's latest result, as annotations of the rule's row.
RESULT_FIELDS = ("pk", "evaluation_id", "rule", "outcome", "observed", "reason", "created_at")


def _latest_results(version: ModelVersion) -> models.QuerySet[GateResult]:
    return GateResult.objects.filter(version_id=version.pk, gate_id=OuterRef("pk")).order_by(
        "-created_at", "-pk"
    )


def _rules_with_results(version: ModelVersion) -> list[QualityGate]:
    latest = _latest_results(version)
    newest_override = GateOverride.objects.filter(version_id=version.pk).values("pk")[:1]
    covered = GateOverride.results.through.objects.filter(
        gateresult_id=OuterRef("result_pk"), gateoverride_id=Subquery(newest_override)
    )
    annotations = {f"result_{name}": Subquery(latest.values(name)[:1]) for name in RESULT_FIELDS}
    return list(
        QualityGate.objects.filter(rule_filter(version.model))
        .annotate(**annotations)
        .annotate(result_covered=Exists(covered))
    )


def _result_of(rule: QualityGate, version: ModelVersion) -> GateResult | None:
    """The rule's latest result, built from its annotations; None when it was never judged."""
    values = {name: getattr(rule, f"result_{name}") for name in RESULT_FIELDS}
    if values["pk"] is None:
        return None
    return GateResult(version=version, gate=rule, **values)


def verdict(version: ModelVersion) -> Verdict:
    """The verdict over the rules that exist now (a removed rule's results no longer count).

    Overridden when the version's newest override lists every failing result: an override
    names every failure it saw (see ``override_gates``), so a failure judged after it is
    not covered and the verdict is "fail" again.
    """
    rules = _rules_with_results(version)
    if not rules:
        return Verdict(state=VerdictState.NONE, results=[], failing=[], override=None)
    results, unjudged, covered = [], [], True
    for rule in rules:
        result = _result_of(rule, version)
        if result is None:
            unjudged.append(rule)
            continue
        results.append(result)
        if result.outcome == GateOutcome.FAIL:
            covered = covered and bool(getattr(rule, "result_covered", False))
    failing = [result for result in results if result.outcome == GateOutcome.FAIL]
    override = None
    if failing and covered:
        override = GateOverride.objects.filter(version_id=version.pk).select_related("by").first()
    return Verdict(_state(failing, override, unjudged), results, failing, override, unjudged)


def _state(
    failing: list[GateResult], override: GateOverride | None, unjudged: list[QualityGate]
) -> str:
    if failing:
        return VerdictState.OVERRIDDEN if override is not None else VerdictState.FAIL
    return VerdictState.PENDING if unjudged else VerdictState.PASS
