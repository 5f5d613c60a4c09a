"""The page that promotes a finished run to a model version (the service does the work)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from portal.roles import has_role
from portal.web import HtmxHttpRequest, apply_service_errors, submit
from registry.experiments.models import Run
from registry.experiments.services.promotion import check_promotion, preview_tables, promote_run
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import AUTHOR_ROLES
from registry.semver import next_version_after
from registry.services.versions import latest_version


class PromoteForm(forms.Form):
    """Which model and version a run becomes; the experiment's model is offered first."""

    model = forms.ModelChoiceField(queryset=RegisteredModel.objects.none(), empty_label=None)
    version = forms.CharField(max_length=64, help_text="Semantic version, e.g. 1.2.0.")
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown. A line naming the run is added.",
    )

    def __init__(self, *args: Any, run: Run, models: QuerySet[RegisteredModel], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["model"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = models
        start = run.experiment.model
        if start is not None and models.filter(pk=start.pk).exists():
            field.initial = start.pk
            latest = latest_version(start)
            if latest is not None:
                self.fields["version"].initial = next_version_after(latest.version)
                self.fields[
                    "version"
                ].help_text = f"Semantic version. The latest of {start.name} is {latest.version}."


def editable_models(user: Any) -> QuerySet[RegisteredModel]:
    """The models whose versions ``user`` may register (``registry.permissions`` rules)."""
    if getattr(user, "is_superuser", False):
        return RegisteredModel.objects.order_by("name")
    if not has_role(user, *AUTHOR_ROLES):
        return RegisteredModel.objects.none()
    return RegisteredModel.objects.filter(team__members=user).order_by("name")


@require_http_methods(["GET", "POST"])
def promote(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("experiment__model"), pk=pk)
    models = editable_models(request.user)
    if not models.exists():
        raise PermissionDenied("Only the Data scientists and Engineers of a model's team may.")
    form = PromoteForm(request.POST or None, run=run, models=models)
    if form.is_bound:
        _check_everything(form, run)

    def save(data: dict[str, Any]) -> ModelVersion:
        return promote_run(actor=request.user, run=run, **data)

    done = submit(
        request,
        form,
        save,
        success=lambda version: f"Run {run} promoted to {version.model.name} {version.version}.",
    )
    context = {"run": run, "form": form, "tables": preview_tables(run)}
    return done.response or render(request, "experiments/promote.html", context)


def _check_everything(form: PromoteForm, run: Run) -> None:
    """Put every refusal of the promotion on the form at once, before promoting."""
    form.is_valid()
    data = form.cleaned_data
    if "model" not in data:
        return  # the choice itself was refused
    try:
        check_promotion(run=run, version=data.get("version"), model=data["model"])
    except ValidationError as exc:
        apply_service_errors(form, exc)
