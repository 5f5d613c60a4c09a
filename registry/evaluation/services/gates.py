"""Quality gates: the rules a version must meet to be released, judging a version against
them, an approver's override, a contract change's acknowledgement, and the backlog item a
failed gate files.

Judging and overriding both lock the version's row, so an override always lists every
failure there was when it was written (``verdicts.verdict`` relies on that).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.urls import reverse

from portal.backlog.choices import Kind, Priority
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item
from portal.backlog.services.links import open_items_about
from portal.jobs import JobStatus
from portal.models import Team
from portal.people import Person
from portal.roles import Role, has_role, require_role
from portal.services.audit import record_event
from portal.text import unstorable_char
from registry.choices import TaskType
from registry.evaluation.judging import judge_rule
from registry.evaluation.models import (
    Comparator,
    ContractAcknowledgement,
    Evaluation,
    GateOverride,
    GateResult,
    QualityGate,
    RuleKind,
    describe_rule,
)
from registry.evaluation.verdicts import Verdict, rules_for, verdict
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import can_create_model, can_edit_model, require_edit
from registry.services.versions import contract_changes, previous_version

__all__ = [
    "Verdict",
    "acknowledge_contract_change",
    "add_rule",
    "can_edit_rules",
    "file_item_for_failed_gates",
    "judge",
    "latest_evaluation",
    "override_gates",
    "rejudge",
    "remove_rule",
    "rules_for",
    "verdict",
]

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "pr_auc",
    "log_loss",
)
REGRESSION_METRICS = ("mae", "rmse", "r2")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
# Metrics that live between 0 and 1: a bar of 85 is someone writing a percentage.
UNIT_METRICS = frozenset(CLASSIFICATION_METRICS) - {"log_loss"}
CLASSIFICATION_TASKS = {TaskType.BINARY_CLASSIFICATION, TaskType.MULTICLASS_CLASSIFICATION}
# Rules other than metric thresholds read one way only; describe_rule says which.
FIXED_COMPARATORS = {
    RuleKind.RELATIVE: Comparator.GE,
    RuleKind.CARD: Comparator.GE,
    RuleKind.CONTRACT: Comparator.GE,
    RuleKind.LATENCY: Comparator.LE,
}
MAX_TEXT = 5_000  # a justification or an acknowledgement note
GATES_LABEL = "quality-gates"  # marks the backlog items filed for failed gates


def can_edit_rules(user: object, team: Team, model: RegisteredModel | None = None) -> bool:
    """A model's rules belong to its editors; a team's defaults to its authors."""
    if model is not None:
        return can_edit_model(user, model)
    return bool(getattr(user, "is_authenticated", False)) and can_create_model(user, team)


def _require_rule_editor(actor: Person, team: Team, model: RegisteredModel | None) -> None:
    if model is not None:
        require_edit(actor, model)
    elif not can_edit_rules(actor, team):
        raise PermissionDenied(
            f"Only members of {team} who are Data scientists or Engineers may set its "
            "default gates."
        )


@transaction.atomic
def add_rule(
    *,
    actor: Person,
    team: Team,
    model: RegisteredModel | None = None,
    kind: str,
    metric: str = "",
    comparator: str = Comparator.GE,
    threshold: float | None,
    slice_column: str = "",
) -> QualityGate:
    """Add a rule to ``model``, or a default to every model of ``team`` (``model`` None)."""
    _require_rule_editor(actor, team, model)
    if model is not None and model.team_id != team.pk:
        raise ValidationError({"team": f"{model.name} belongs to {model.team}, not {team}."})
    rule = QualityGate(
        team=team,
        model=model,
        kind=kind,
        metric=(metric or "").strip(),
        comparator=comparator,
        threshold=0.0 if threshold is None else threshold,
        slice_column=(slice_column or "").strip(),
        created_by=actor,
    )
    _check_rule(rule, threshold, model)
    rule.save()
    record_event(actor=actor, verb="gate.added", target=model or team, after=_as_dict(rule))
    return rule


def _check_rule(rule: QualityGate, threshold: float | None, model: RegisteredModel | None) -> None:
    """Raise a ValidationError naming every field the rule gets wrong."""
    if rule.kind not in RuleKind.values:
        raise ValidationError({"kind": f"Unknown kind {rule.kind!r}; one of: {_kinds()}."})
    errors = {
        **_metric_errors(rule, model),
        **_comparator_errors(rule),
        **_threshold_errors(rule, threshold),
    }
    if rule.slice_column and rule.kind != RuleKind.METRIC:
        errors["slice_column"] = "Only a metric threshold can apply to every slice."
    if len(rule.slice_column) > 200 or unstorable_char(rule.slice_column):
        errors["slice_column"] = "A column name of at most 200 plain characters."
    if not errors and _duplicate(rule):
        errors["kind"] = f"This rule exists already: {describe_rule(rule)}."
    if errors:
        raise ValidationError(errors)


def _kinds() -> str:
    return ", ".join(RuleKind.values)


def _metric_errors(rule: QualityGate, model: RegisteredModel | None) -> dict[str, str]:
    if rule.kind not in (RuleKind.METRIC, RuleKind.RELATIVE):
        return {"metric": "Only metric rules name a metric."} if rule.metric else {}
    if rule.metric == "latency_p95_ms":
        return {"metric": "Latency has a rule kind of its own: choose “latency”."}
    if rule.metric not in METRICS:
        return {"metric": f"Choose one of: {', '.join(METRICS)}."}
    task = model.task_type if model is not None else None
    if task == TaskType.REGRESSION and rule.metric in CLASSIFICATION_METRICS:
        return {"metric": f"{model} is a regression model: choose mae, rmse or r2."}
    if task in CLASSIFICATION_TASKS and rule.metric in REGRESSION_METRICS:
        return {"metric": f"{model} is a classifier: {rule.metric} measures regression."}
    return {}


def _comparator_errors(rule: QualityGate) -> dict[str, str]:
    if rule.comparator not in Comparator.values:
        return {"comparator": f"One of: {', '.join(Comparator.values)}."}
    fixed = FIXED_COMPARATORS.get(RuleKind(rule.kind))
    if fixed is None:
        return {}
    # The default ">=" is taken as "not chosen"; another choice contradicts the kind.
    if rule.comparator not in (fixed, Comparator.GE):
        return {
            "comparator": f"A {RuleKind(rule.kind).label.lower()} rule always reads {fixed.label}."
        }
    rule.comparator = fixed
    return {}


def _threshold_errors(rule: QualityGate, threshold: float | None) -> dict[str, str]:
    if rule.kind == RuleKind.CONTRACT:
        return {}
    if threshold is None or not math.isfinite(threshold):
        return {"threshold": "A number is required."}
    if rule.kind == RuleKind.METRIC and rule.metric in UNIT_METRICS and not 0 <= threshold <= 1:
        return {"threshold": f"{rule.metric} lies between 0 and 1 (write 0.85, not 85)."}
    if rule.kind == RuleKind.RELATIVE and threshold < 0:
        return {"threshold": "The largest allowed loss: 0 or more (e.g. 0.01)."}
    if rule.kind == RuleKind.CARD and not 0 <= threshold <= 100:
        return {"threshold": "A percentage between 0 and 100."}
    if rule.kind == RuleKind.LATENCY and threshold <= 0:
        return {"threshold": "Milliseconds: more than 0."}
    return {}


def _duplicate(rule: QualityGate) -> bool:
    return QualityGate.objects.filter(
        team=rule.team,
        model=rule.model,
        kind=rule.kind,
        metric=rule.metric,
        comparator=rule.comparator,
        threshold=rule.threshold,
        slice_column=rule.slice_column,
    ).exists()


def _as_dict(rule: QualityGate) -> dict[str, object]:
    return {
        "rule": describe_rule(rule),
        "kind": rule.kind,
        "model": rule.model.name if rule.model else None,
        "team": rule.team.slug,
    }


@transaction.atomic
def remove_rule(*, actor: Person, rule: QualityGate) -> None:
    """Remove a rule with its results; verdicts then count only the rules left."""
    _require_rule_editor(actor, rule.team, rule.model)
    record_event(
        actor=actor, verb="gate.removed", target=rule.model or rule.team, before=_as_dict(rule)
    )
    rule.delete()


def latest_evaluation(version: ModelVersion) -> Evaluation | None:
    """The version's latest succeeded evaluation: what a re-judge reads."""
    return (
        Evaluation.objects.filter(version=version, status=JobStatus.SUCCEEDED)
        .select_related("dataset")
        .order_by(F("finished_at").desc(nulls_last=True), "-pk")
        .first()
    )


@transaction.atomic
def judge(version: ModelVersion, *, evaluation: Evaluation | None = None) -> list[GateResult]:
    """Judge every rule of the version's model and team against ``evaluation`` (rules that
    read an evaluation are "not evaluable" without one) and store one result per rule."""
    if evaluation is not None and evaluation.version_id != version.pk:
        raise ValidationError({"evaluation": f"{evaluation} is not an evaluation of {version}."})
    if evaluation is not None and evaluation.status != JobStatus.SUCCEEDED:
        raise ValidationError(
            {"evaluation": f"{evaluation} has no results yet: it is {evaluation.status}."}
        )
    _lock(version)
    results = [
        GateResult(
            version=version,
            gate=rule,
            rule=describe_rule(rule),
            **judge_rule(rule, version, evaluation)._asdict(),
        )
        for rule in rules_for(version.model)
    ]
    return GateResult.objects.bulk_create(results)


def _lock(version: ModelVersion) -> None:
    ModelVersion.objects.select_for_update().filter(pk=version.pk).values_list("pk").first()


def can_rejudge(user: object, version: ModelVersion) -> bool:
    return can_edit_model(user, version.model) or has_role(user, Role.APPROVER)


def rejudge(*, actor: Person, version: ModelVersion) -> list[GateResult]:
    """Judge again now, with the latest succeeded evaluation (after a card edit, say)."""
    if not can_rejudge(actor, version):
        raise PermissionDenied(
            f"Only the editors of {version.model} or an Approver may judge its gates."
        )
    return judge(version, evaluation=latest_evaluation(version))


@transaction.atomic
def override_gates(*, actor: Person, version: ModelVersion, justification: str) -> GateOverride:
    """Let a version with failing gates be released: an Approver's decision, with why."""
    require_role(actor, Role.APPROVER, action="override failed gates")
    text = _required_text(justification, "justification", "Say why the failures may be released.")
    _lock(version)
    current = verdict(version)
    if not current.failing:
        raise ValidationError(
            {"justification": f"No gate of {version} fails: nothing to override."}
        )
    if current.override is not None:
        raise ValidationError(
            {"justification": f"{current.override.by} has overridden these failures already."}
        )
    override = GateOverride.objects.create(version=version, justification=text, by=actor)
    override.results.set(current.failing)
    record_event(
        actor=actor,
        verb="gate.overridden",
        target=version,
        after={"justification": text, "failing": [result.rule for result in current.failing]},
    )
    return override


def _required_text(value: str, field: str, missing: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: missing})
    if len(text) > MAX_TEXT:
        raise ValidationError({field: f"At most {MAX_TEXT:,} characters."})
    if problem := unstorable_char(text):
        raise ValidationError({field: f"The text {problem}."})
    return text


@transaction.atomic
def acknowledge_contract_change(
    *, actor: Person, version: ModelVersion, note: str
) -> ContractAcknowledgement:
    """Record that the version's breaking contract changes are known and handled, then judge
    the gates again so the contract rule sees it."""
    require_edit(actor, version.model)
    text = _required_text(note, "note", "Say how clients are told or migrated.")
    breaking = [c for c in contract_changes(previous_version(version), version) if c.is_breaking]
    if not breaking:
        raise ValidationError({"note": f"{version} changes its contract in no breaking way."})
    _lock(version)
    before = ContractAcknowledgement.objects.filter(version=version).first()
    acknowledgement, _ = ContractAcknowledgement.objects.update_or_create(
        version=version, defaults={"note": text, "by": actor}
    )
    record_event(
        actor=actor,
        verb="contract.acknowledged",
        target=version,
        before={"note": before.note} if before else None,
        after={"note": text, "breaking_changes": len(breaking)},
    )
    judge(version, evaluation=latest_evaluation(version))
    return acknowledgement


@transaction.atomic
def file_item_for_failed_gates(
    *,
    version: ModelVersion,
    failing: Iterable[GateResult],
    about: models.Model | None = None,
) -> BacklogItem | None:
    """File one bug about the version's failed gates, linked to it and to ``about`` (a
    release request); None when nothing fails or an open item about them exists already."""
    failed = list(failing)
    if not failed:
        return None
    _lock(version)  # two callers at once file one item
    if open_items_about(version).filter(labels__name=GATES_LABEL).exists():
        return None
    lines = "\n".join(f"- {result.rule}: {result.reason}" for result in failed)
    page = reverse("gates:version-gates", args=[version.model.name, version.version])
    description = f"{len(failed)} gate(s) of {version} fail:\n\n{lines}\n\nSee [its gates]({page})."
    return create_item(
        actor=None,
        team=version.model.team,
        title=f"Quality gates fail for {version}",
        kind=Kind.BUG,
        priority=Priority.P1,
        description=description,
        labels=[GATES_LABEL],
        links=[version, about] if about is not None else [version],
    )
