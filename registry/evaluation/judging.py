"""How one quality-gate rule judges one version: pass, fail or "not evaluable", with the
value it saw and a reason a person can act on ("the worst slice, region=north, has 0.71").

Nothing here writes; ``services.gates.judge`` stores what these return.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

from registry.evaluation.directions import improvement
from registry.evaluation.models import (
    Comparator,
    ContractAcknowledgement,
    Evaluation,
    GateOutcome,
    QualityGate,
    RuleKind,
)
from registry.evaluation.queries import champion_for, production_version
from registry.models import CARD_SECTIONS, ModelCard, ModelVersion, completeness_percent
from registry.services.versions import contract_changes, previous_version

COMPARE: dict[str, Callable[[float, float], bool]] = {
    Comparator.GE: operator.ge,
    Comparator.GT: operator.gt,
    Comparator.LE: operator.le,
    Comparator.LT: operator.lt,
}
SECTION_TITLES = dict(CARD_SECTIONS)
SHOWN_CHANGES = 3  # breaking contract changes named in a reason


class Judgement(NamedTuple):
    outcome: str
    observed: float | None
    reason: str
    evaluation: Evaluation | None = None


def _judged(passed: bool, observed: float | None, reason: str) -> Judgement:
    return Judgement(GateOutcome.PASS if passed else GateOutcome.FAIL, observed, reason)


def _not_evaluable(reason: str) -> Judgement:
    return Judgement(GateOutcome.NOT_EVALUABLE, None, reason)


def number(value: Any) -> float | None:
    """A stored metric as a float; None when it is missing or undefined."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def judge_rule(
    rule: QualityGate, version: ModelVersion, evaluation: Evaluation | None
) -> Judgement:
    if rule.kind == RuleKind.CARD:
        return _card(rule, version)
    if rule.kind == RuleKind.CONTRACT:
        return _contract(version)
    if evaluation is None:
        return _not_evaluable("No evaluation yet.")
    judged = EVALUATION_JUDGES[rule.kind](rule, evaluation)
    return judged._replace(evaluation=evaluation)


def _symbol(rule: QualityGate) -> str:
    return Comparator(rule.comparator).label


def _metric(rule: QualityGate, evaluation: Evaluation) -> Judgement:
    if rule.slice_column:
        return _slices(rule, evaluation)
    value = number(evaluation.metrics.get(rule.metric))
    where = f"evaluation #{evaluation.pk} on {evaluation.dataset}"
    if value is None:
        return _not_evaluable(f"{rule.metric} could not be computed in {where}.")
    passed = COMPARE[rule.comparator](value, rule.threshold)
    bar = "" if passed else f", short of {_symbol(rule)} {rule.threshold:g}"
    return _judged(passed, value, f"{rule.metric} is {value:.4g} in {where}{bar}.")


def _slices(rule: QualityGate, evaluation: Evaluation) -> Judgement:
    """Every slice of the column must pass; the worst one is the value seen."""
    column, metric = rule.slice_column, rule.metric
    slices = [entry for entry in evaluation.slices if isinstance(entry, dict)]
    entries = [entry for entry in slices if entry.get("column") == column]
    if not entries:
        sliced = sorted({str(entry.get("column")) for entry in slices})
        by = f"it was sliced by {', '.join(sliced)}" if sliced else "it was not sliced"
        return _not_evaluable(f"Evaluation #{evaluation.pk} has no slices of {column} ({by}).")
    measured = [
        (value, entry)
        for entry in entries
        if (value := number((entry.get("metrics") or {}).get(metric))) is not None
    ]
    if not measured:
        return _not_evaluable(f"No slice of {column} has {metric} in evaluation #{evaluation.pk}.")
    pick = min if rule.comparator in (Comparator.GE, Comparator.GT) else max
    value, worst = pick(measured, key=lambda pair: pair[0])
    misses = sum(not COMPARE[rule.comparator](seen, rule.threshold) for seen, _ in measured)
    named = f"{column}={worst.get('value')} ({worst.get('rows')} rows), has {metric} {value:.4g}"
    if misses:
        reason = f"{misses} of {len(measured)} slices of {column} are short of "
        reason += f"{_symbol(rule)} {rule.threshold:g}; the worst, {named}."
    else:
        reason = f"Every slice of {column} passes; the worst, {named}."
    if skipped := len(entries) - len(measured):
        reason += f" {skipped} slice(s) without {metric} not judged."
    return _judged(not misses, value, reason)


def _relative(rule: QualityGate, evaluation: Evaluation) -> Judgement:
    """No worse than production's latest evaluation on the same data, by at most the bar."""
    metric = rule.metric
    champion = champion_for(evaluation)
    if champion is None:
        return _not_evaluable(_no_champion(evaluation))
    ours, theirs = number(evaluation.metrics.get(metric)), number(champion.metrics.get(metric))
    production = champion.version.version
    if ours is None:
        return _not_evaluable(f"Evaluation #{evaluation.pk} has no {metric}.")
    if theirs is None:
        return _not_evaluable(
            f"Production {production}'s evaluation #{champion.pk} has no {metric}."
        )
    # Rounded: 0.85 - 0.86 is -0.01000000000000001 in floats, and that is the bar exactly.
    change = round(improvement(metric, ours, theirs), 12)
    passed = change >= -rule.threshold
    how = "better" if change > 0 else "worse" if change < 0 else "no different"
    reason = (
        f"{metric} is {ours:.4g} against {theirs:.4g} for production {production} "
        f"(evaluation #{champion.pk}): {abs(change):.4g} {how}"
    )
    reason += "." if passed else f", more than the {rule.threshold:g} allowed."
    return _judged(passed, change, reason)


def _no_champion(evaluation: Evaluation) -> str:
    production = production_version(evaluation.version)
    if production is None:
        return f"No other version of {evaluation.version.model} is in production to compare with."
    return (
        f"Production version {production.version} has no succeeded evaluation on "
        f"{evaluation.dataset} with label {evaluation.label_column}."
    )


def _latency(rule: QualityGate, evaluation: Evaluation) -> Judgement:
    p95 = number((evaluation.latency or {}).get("p95_ms"))
    if p95 is None:
        return _not_evaluable(
            f"Evaluation #{evaluation.pk} measured no latency: it read stored predictions "
            "instead of running the artifact."
        )
    passed = p95 <= rule.threshold
    rows = f" over {evaluation.rows:,} rows" if evaluation.rows else ""
    bar = "" if passed else f", above {rule.threshold:g} ms"
    return _judged(passed, p95, f"p95 latency is {p95:.4g} ms{rows}{bar}.")


EVALUATION_JUDGES: dict[str, Callable[[QualityGate, Evaluation], Judgement]] = {
    RuleKind.METRIC: _metric,
    RuleKind.RELATIVE: _relative,
    RuleKind.LATENCY: _latency,
}


def _card(rule: QualityGate, version: ModelVersion) -> Judgement:
    """The share of required card sections written, as the version page's badge counts it."""
    card = ModelCard.objects.filter(version_id=version.pk).first()  # as saved now
    if card is None:
        return _judged(rule.threshold <= 0, 0.0, f"{version} has no card.")
    written, required = card.required_counts()
    percent = completeness_percent(written)
    missing = [SECTION_TITLES.get(field, field) for field in card.missing_sections()]
    reason = f"The card is {percent}% complete: {written} of {required} required sections written"
    reason += f"; missing: {', '.join(missing)}." if missing else "."
    return _judged(percent >= rule.threshold, float(percent), reason)


def _contract(version: ModelVersion) -> Judgement:
    """Breaking changes since the previous version pass once someone acknowledged them."""
    previous = previous_version(version)
    if previous is None:
        return _judged(True, 0.0, "The first version: no earlier contract to compare with.")
    breaking = [change for change in contract_changes(previous, version) if change.is_breaking]
    if not breaking:
        return _judged(True, 0.0, f"No breaking change since {previous.version}.")
    shown = "; ".join(f"{c.schema} {c.path}: {c.change}" for c in breaking[:SHOWN_CHANGES])
    if len(breaking) > SHOWN_CHANGES:
        shown += "; …"
    changes = f"{len(breaking)} breaking change(s) since {previous.version} ({shown})"
    acknowledged = (
        ContractAcknowledgement.objects.filter(version_id=version.pk).select_related("by").first()
    )
    if acknowledged is not None:
        return _judged(True, float(len(breaking)), f"{changes}, acknowledged by {acknowledged.by}.")
    return _judged(False, float(len(breaking)), f"{changes}, not acknowledged.")
