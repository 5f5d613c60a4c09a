"""Quality-gate pages: a model's rules (with its team's defaults) and a version's verdict,
with the forms that add and remove rules, override failures, acknowledge a breaking
contract change and judge again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.roles import Role, has_role
from portal.web import HtmxHttpRequest, report_outcome, submit
from registry.evaluation.models import (
    Comparator,
    ContractAcknowledgement,
    Evaluation,
    QualityGate,
    RuleKind,
)
from registry.evaluation.services.gates import (
    MAX_TEXT,
    METRICS,
    acknowledge_contract_change,
    add_rule,
    can_edit_rules,
    can_rejudge,
    override_gates,
    rejudge,
    remove_rule,
)
from registry.evaluation.verdicts import rule_filter, verdict
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import can_edit_model, require_edit
from registry.services.versions import contract_changes, previous_version
from registry.views.shared import get_model, get_version

# The fields each kind of rule reads; the form shows only these.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    RuleKind.METRIC: ("metric", "comparator", "threshold", "slice_column"),
    RuleKind.RELATIVE: ("metric", "threshold"),
    RuleKind.CARD: ("threshold",),
    RuleKind.LATENCY: ("threshold",),
    RuleKind.CONTRACT: (),
}
THRESHOLD_LABELS: dict[str, tuple[str, str]] = {
    RuleKind.METRIC: ("Threshold", "The bar the metric must meet, e.g. 0.85."),
    RuleKind.RELATIVE: ("Largest allowed loss", "How much worse than production it may be."),
    RuleKind.CARD: ("Completeness (%)", "Share of the required card sections written."),
    RuleKind.LATENCY: ("p95 latency (ms)", "The slowest 5% of predictions may take this long."),
}


class RuleForm(forms.Form):
    scope = forms.ChoiceField(label="Applies to")
    kind = forms.ChoiceField(label="Kind of rule", choices=RuleKind.choices)
    metric = forms.ChoiceField(
        choices=[("", "Choose a metric"), *[(m, m) for m in METRICS]], required=False
    )
    comparator = forms.ChoiceField(choices=Comparator.choices, initial=Comparator.GE)
    threshold = forms.FloatField(required=False)
    slice_column = forms.CharField(
        label="On every slice of",
        max_length=200,
        required=False,
        help_text="Optional: a column the evaluation sliced by, e.g. region.",
    )

    def __init__(self, *args: Any, model: RegisteredModel, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule_kind = kind if kind in KIND_FIELDS else RuleKind.METRIC
        self.fields["scope"].choices = [  # type: ignore[attr-defined]
            ("model", f"{model.name} only"),
            ("team", f"Every model of {model.team} (a team default)"),
        ]
        self.initial.setdefault("kind", self.rule_kind)
        self.initial.setdefault("scope", "model")
        label, help_text = THRESHOLD_LABELS.get(self.rule_kind, ("Threshold", ""))
        self.fields["threshold"].label, self.fields["threshold"].help_text = label, help_text
        for name in ("metric", "comparator", "threshold", "slice_column"):
            if name not in KIND_FIELDS[self.rule_kind]:
                del self.fields[name]
        # Choosing another kind fetches the form with that kind's fields (htmx, no script).
        self.fields["kind"].widget.attrs.update(
            {
                "hx-get": reverse("gates:model-gates", args=[model.name]),
                "hx-target": "#rule-form",
                "hx-select": "#rule-form",
                "hx-swap": "outerHTML",
            }
        )

    def rule_values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("scope")
        data.setdefault("threshold", None)
        data.setdefault("comparator", Comparator.GE)
        return data


class OverrideForm(forms.Form):
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_TEXT,
        help_text="Why these failures may be released: recorded in the audit log.",
    )


class AcknowledgementForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_TEXT,
        help_text="How clients are told or migrated.",
    )


@dataclass(frozen=True)
class Done:
    """Where a successful form goes, and what it says there."""

    url: str
    message: str

    def get_absolute_url(self) -> str:
        return self.url


def _model_gates_url(model: RegisteredModel) -> str:
    return reverse("gates:model-gates", args=[model.name])


def _version_gates_url(version: ModelVersion) -> str:
    return reverse("gates:version-gates", args=[version.model.name, version.version])


@require_http_methods(["GET", "POST"])
def model_gates(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    can_edit = can_edit_model(request.user, model)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied(f"Only {model.team}'s authors may change {model.name}'s gates.")
    source = request.POST if request.method == "POST" else request.GET
    form = RuleForm(request.POST or None, model=model, kind=source.get("kind", RuleKind.METRIC))

    def save(data: dict[str, Any]) -> Done:
        rule = add_rule(
            actor=request.user,
            team=model.team,
            model=model if data["scope"] == "model" else None,
            **form.rule_values(),
        )
        return Done(_model_gates_url(model), f"Rule added: {rule}.")

    done = submit(request, form, save, success=lambda saved: saved.message)
    if done.response is not None:
        return done.response
    rules = list(QualityGate.objects.filter(rule_filter(model)).select_related("created_by"))
    context = {
        "model": model,
        "own_rules": [rule for rule in rules if rule.model_id is not None],
        "team_rules": [rule for rule in rules if rule.model_id is None],
        "form": form,
        "can_edit": can_edit,
        "can_edit_team": can_edit_rules(request.user, model.team),
    }
    return render(request, "evaluation/gates_model.html", context)


@require_POST
def gate_remove(request: HtmxHttpRequest, name: str, pk: int) -> HttpResponse:
    model = get_model(name)
    rule = get_object_or_404(QualityGate.objects.filter(rule_filter(model)), pk=pk)
    text = str(rule)
    report_outcome(
        request, lambda: remove_rule(actor=request.user, rule=rule), f"Rule removed: {text}."
    )
    return redirect(_model_gates_url(model))


@require_GET
def version_gates(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    return _version_page(request, get_version(name, version))


def _version_page(
    request: HtmxHttpRequest,
    version: ModelVersion,
    *,
    override_form: OverrideForm | None = None,
    acknowledgement_form: AcknowledgementForm | None = None,
) -> HttpResponse:
    current = verdict(version)
    used = {result.evaluation_id for result in current.results} - {None}
    evaluations = Evaluation.objects.filter(pk__in=used).select_related("dataset").in_bulk()
    breaking = [
        change
        for change in contract_changes(previous_version(version), version)
        if change.is_breaking
    ]
    context = {
        "model": version.model,
        "selected": version,
        "verdict": current,
        "rows": [(result, evaluations.get(result.evaluation_id)) for result in current.results],
        "breaking": breaking,
        "acknowledgement": ContractAcknowledgement.objects.filter(version=version)
        .select_related("by")
        .first(),
        "can_override": has_role(request.user, Role.APPROVER),
        "can_edit": can_edit_model(request.user, version.model),
        "can_rejudge": can_rejudge(request.user, version),
        "override_form": override_form or OverrideForm(),
        "acknowledgement_form": acknowledgement_form or AcknowledgementForm(),
    }
    return render(request, "evaluation/gates_version.html", context)


def _version_form(
    request: HtmxHttpRequest,
    version: ModelVersion,
    form: OverrideForm | AcknowledgementForm,
    save: Callable[[dict[str, Any]], Done],
) -> HttpResponse:
    """Save a posted form of the version's gates page, or show the page with its errors."""
    done = submit(request, form, save, success=lambda saved: saved.message)
    if done.response is not None:
        return done.response
    if isinstance(form, OverrideForm):
        return _version_page(request, version, override_form=form)
    return _version_page(request, version, acknowledgement_form=form)


@require_POST
def gates_override(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    if not has_role(request.user, Role.APPROVER):
        raise PermissionDenied("Only an Approver may override failed gates.")

    def save(data: dict[str, Any]) -> Done:
        override_gates(actor=request.user, version=found, justification=data["justification"])
        return Done(_version_gates_url(found), f"The failing gates of {found} are overridden.")

    return _version_form(request, found, OverrideForm(request.POST), save)


@require_POST
def contract_acknowledge(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    require_edit(request.user, found.model)

    def save(data: dict[str, Any]) -> Done:
        acknowledge_contract_change(actor=request.user, version=found, note=data["note"])
        return Done(_version_gates_url(found), "Breaking contract change acknowledged.")

    return _version_form(request, found, AcknowledgementForm(request.POST), save)


@require_POST
def gates_judge(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    if not can_rejudge(request.user, found):
        raise PermissionDenied(f"Only {found.model}'s editors or an Approver may judge its gates.")
    report_outcome(
        request, lambda: rejudge(actor=request.user, version=found), "Gates judged again."
    )
    return redirect(_version_gates_url(found))
