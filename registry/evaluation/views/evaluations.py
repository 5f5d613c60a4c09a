"""A version's evaluations: start one, watch it run (or cancel it), read its results."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from portal.jobs import JobStatus
from portal.web import HtmxHttpRequest, cancel_job, submit, wants_fragment
from registry.choices import ArtifactStatus
from registry.evaluation import charts
from registry.evaluation.models import Dataset, DatasetKind, Evaluation
from registry.evaluation.permissions import can_evaluate
from registry.evaluation.queries import champion_for, production_version
from registry.evaluation.result_tables import (
    SUMMARY_METRICS,
    class_rows,
    main_metric,
    metric_label,
    metric_rows,
    number,
    slice_rows,
)
from registry.evaluation.services.evaluation_checks import MAX_SLICE_COLUMNS
from registry.evaluation.services.evaluations import cancel_evaluation, start_evaluation
from registry.models import ModelVersion
from registry.views.shared import get_version

DATASETS_LISTED = 200
EVALUATED_KINDS = (DatasetKind.EVALUATION, DatasetKind.REFERENCE)


def has_valid_artifact(version: ModelVersion) -> bool:
    artifact = getattr(version, "artifact", None)
    return artifact is not None and artifact.status == ArtifactStatus.VALID


def evaluable_datasets() -> QuerySet[Dataset]:
    """Profiled evaluation and reference datasets: what a version is measured on."""
    return Dataset.objects.filter(kind__in=EVALUATED_KINDS, status=JobStatus.SUCCEEDED)


COLUMN_HINTS = {"list": "dataset-columns", "autocomplete": "off"}


class EvaluationStartForm(forms.Form):
    dataset = forms.TypedChoiceField(coerce=int, empty_value=None)
    label_column = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs=COLUMN_HINTS),
        help_text="The dataset column holding the true values.",
    )
    slice_columns = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs=COLUMN_HINTS),
        help_text=f"Columns to break the metrics down by, separated by commas "
        f"(at most {MAX_SLICE_COLUMNS}).",
    )
    prediction_column = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs=COLUMN_HINTS),
        help_text="This version has no valid ONNX artifact: the dataset column holding its "
        "predictions.",
    )

    def __init__(self, *args: Any, version: ModelVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read once: the same rows fill the select, the column hints and the cleaned value.
        # By name, newest first, without their profiles: the select needs names only.
        listed = evaluable_datasets().only("pk", "name", "version", "kind", "created_at")
        listed = listed.order_by("name", "-created_at")[:DATASETS_LISTED]
        self.datasets = {dataset.pk: dataset for dataset in listed}
        choices = [(pk, _dataset_choice(dataset)) for pk, dataset in self.datasets.items()]
        field = self.fields["dataset"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Choose a dataset"), *choices]
        # Choosing a dataset fetches its columns as the text inputs' suggestions.
        field.widget.attrs.update(
            {
                "hx-get": reverse(
                    "evaluation:evaluation-start", args=[version.model.name, version.version]
                ),
                "hx-target": "#dataset-columns",
                "hx-swap": "outerHTML",
            }
        )
        if has_valid_artifact(version):
            del self.fields["prediction_column"]

    def clean_dataset(self) -> Dataset:
        return self.datasets[self.cleaned_data["dataset"]]

    def hints(self) -> SafeString:
        """Suggestions for the column inputs: the columns of the dataset chosen, if any."""
        pk = _pk(self.data.get("dataset"))
        chosen = self.datasets.get(pk) if pk is not None else None
        return column_hints(column_names(chosen) if chosen else [])

    def clean_slice_columns(self) -> list[str]:
        text = self.cleaned_data.get("slice_columns") or ""
        columns = list(dict.fromkeys(c.strip() for c in re.split(r"[,\n]", text) if c.strip()))
        if len(columns) > MAX_SLICE_COLUMNS:
            raise ValidationError(
                f"At most {MAX_SLICE_COLUMNS} slice columns; you gave {len(columns)}."
            )
        return columns


def _pk(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def column_names(dataset: Dataset) -> list[str]:
    # Loads the deferred profile of this one dataset.
    return sorted(dataset.column_names())


def column_hints(columns: list[str]) -> SafeString:
    """The datalist the column inputs suggest from."""
    options = format_html_join("", '<option value="{}"></option>', ((c,) for c in columns))
    return format_html('<datalist id="dataset-columns">{}</datalist>', options)


def _dataset_choice(dataset: Dataset) -> str:
    return f"{dataset.name} {dataset.version} ({dataset.get_kind_display().lower()})"


def start_form(version: ModelVersion, data: Any = None) -> EvaluationStartForm:
    return EvaluationStartForm(data, version=version)


def _require_evaluate(user: Any, version: ModelVersion) -> None:
    if not can_evaluate(user, version):
        raise PermissionDenied(
            f"Only members of {version.model.team} who are Data scientists or Engineers "
            f"may evaluate {version.model.name}."
        )


def _started_message(evaluation: Evaluation) -> str:
    """What happened, said once: an in-process worker may have finished it already."""
    evaluation.refresh_from_db()
    if evaluation.is_final:
        return f"Evaluation on {evaluation.dataset}: {evaluation.get_status_display().lower()}."
    return f"Evaluation on {evaluation.dataset} queued; a worker will run it shortly."


@require_http_methods(["GET", "POST"])
def evaluation_start(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """The start form on a page of its own (for errors and without JavaScript); posting it
    queues the evaluation and opens its page."""
    found = get_version(name, version)
    _require_evaluate(request.user, found)
    if request.method == "GET" and wants_fragment(request):
        return HttpResponse(_hints_for(request.GET.get("dataset")))
    form = start_form(found, request.POST or None)
    done = submit(
        request,
        form,
        lambda data: start_evaluation(actor=request.user, version=found, **data),
        success=_started_message,
    )
    context = {"version": found, "model": found.model, "form": form}
    return done.response or render(request, "evaluation/evaluation_start.html", context)


def _hints_for(wanted: str | None) -> SafeString:
    """The suggestions for a dataset chosen in the select (none for an unknown one)."""
    pk = _pk(wanted)
    found = evaluable_datasets().filter(pk=pk).first() if pk is not None else None
    return column_hints(column_names(found) if found else [])


def get_evaluation(name: str, version: str, pk: int) -> Evaluation:
    return get_object_or_404(
        Evaluation.objects.select_related("version__model__team", "dataset", "started_by"),
        pk=pk,
        version__model__name=name,
        version__version=version,
    )


@require_GET
def evaluation_detail(request: HtmxHttpRequest, name: str, version: str, pk: int) -> HttpResponse:
    evaluation = get_evaluation(name, version, pk)
    context = {
        "evaluation": evaluation,
        "version": evaluation.version,
        "model": evaluation.version.model,
        "can_evaluate": can_evaluate(request.user, evaluation.version),
        **results_context(evaluation),
    }
    return render(request, "evaluation/evaluation_detail.html", context)


def results_context(evaluation: Evaluation) -> dict[str, Any]:
    """Tables and figures of a succeeded evaluation, with its champion's metrics beside."""
    if evaluation.phase != JobStatus.SUCCEEDED:
        return {}
    champion = champion_for(evaluation)
    ranked_by = main_metric(evaluation.task_kind, evaluation.metrics or {})
    shown = list(dict.fromkeys([ranked_by, *SUMMARY_METRICS.get(evaluation.task_kind, ())]))
    metrics = evaluation.metrics or {}
    slices = slice_rows(
        evaluation.slices or [], ranked_by, [key for key in shown if key], metrics.get(ranked_by)
    )
    return {
        "champion": champion,
        "production": champion.version if champion else production_version(evaluation.version),
        "metric_rows": metric_rows(evaluation, champion),
        "class_rows": class_rows(evaluation.per_class or {}),
        "ranked_by": metric_label(ranked_by),
        "slice_metrics": [(key, metric_label(key)) for key in shown if key],
        "slice_rows": slices,
        "worst_count": sum(row.worst for row in slices),
        "importance_height": charts.importance_height(evaluation.importance or []),
        "latency": {key: number(value) for key, value in (evaluation.latency or {}).items()},
        "figures": figures(evaluation),
    }


def figures(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """The charts the results allow: a curve absent from the results draws nothing."""
    curves = evaluation.curves or {}
    areas = {
        label: {"roc": scores.get("roc_auc"), "pr": scores.get("pr_auc")}
        for label, scores in (evaluation.per_class or {}).items()
    }
    found: dict[str, dict[str, Any]] = {}
    if curves.get("confusion"):
        found["confusion"] = charts.confusion_chart(curves.get("classes", []), curves["confusion"])
    if curves.get("roc"):
        roc_areas = {label: area["roc"] for label, area in areas.items()}
        found["roc"] = charts.roc_chart(curves["roc"], roc_areas)
    if curves.get("pr"):
        pr_areas = {label: area["pr"] for label, area in areas.items()}
        found["pr"] = charts.pr_chart(curves["pr"], pr_areas)
    if curves.get("calibration"):
        found["calibration"] = charts.calibration_chart(curves["calibration"])
    residuals = curves.get("residuals") or {}
    if residuals.get("counts"):
        found["residuals"] = charts.residual_chart(residuals["edges"], residuals["counts"])
    if evaluation.importance:
        found["importance"] = charts.importance_chart(evaluation.importance)
    return found


@require_GET
def evaluation_job(request: HtmxHttpRequest, name: str, version: str, pk: int) -> HttpResponse:
    """The job's status while it runs; once final, the page reloads to show the outcome."""
    return _job(request, get_evaluation(name, version, pk))


@require_POST
def evaluation_cancel(request: HtmxHttpRequest, name: str, version: str, pk: int) -> HttpResponse:
    """Stop the evaluation (its model's editors only); the worker stops between batches."""
    evaluation = get_evaluation(name, version, pk)
    _require_evaluate(request.user, evaluation.version)
    return cancel_job(
        request,
        evaluation,
        lambda job: cancel_evaluation(actor=request.user, evaluation=job),
        cancelled="Evaluation cancelled.",
        stopping="The evaluation stops after its batch.",
        panel=lambda job: _job(request, job),
    )


def _job(request: HtmxHttpRequest, evaluation: Evaluation) -> HttpResponse:
    if evaluation.is_final and wants_fragment(request):
        # Results, the failure or the cancellation change the whole page, not only the job.
        return HttpResponseClientRefresh()
    context = {
        "evaluation": evaluation,
        "can_evaluate": can_evaluate(request.user, evaluation.version),
    }
    return render(request, "evaluation/partials/evaluation_job.html", context)
