"""Dataset pages: the list, the upload form, a dataset's page (metadata, profile and the
job that makes it), downloading and deleting it, and checking it against a contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from portal.uploads import upload_limit
from portal.web import (
    HtmxHttpRequest,
    apply_service_errors,
    cancel_job,
    submit,
    upload_refusal,
    wants_fragment,
)
from registry.evaluation import dataset_charts
from registry.evaluation.dataset_filters import DatasetFilterSet, dataset_list_queryset
from registry.evaluation.dataset_forms import ContractChoiceForm, DatasetForm
from registry.evaluation.models import Dataset, DatasetFormat
from registry.evaluation.permissions import can_upload_dataset
from registry.evaluation.profiling import EXACT_DISTINCT
from registry.evaluation.services.datasets import (
    cancel_profiling,
    create_dataset,
    delete_dataset,
    validate_dataset,
)
from registry.evaluation.templatetags.dataset_tags import figure
from registry.permissions import can_create_model

PAGE_SIZE = 25
MAX_CHARTS = 60  # a page of a few hundred Plotly charts would take seconds to draw


def get_dataset(name: str, version: str) -> Dataset:
    return get_object_or_404(
        Dataset.objects.select_related("team", "created_by"), name=name, version=version
    )


@require_GET
def dataset_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = DatasetFilterSet(request.GET or None, queryset=dataset_list_queryset())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "can_upload": can_create_model(request.user)}
    template = "evaluation/dataset_list.html"
    if wants_fragment(request):
        template = "evaluation/partials/dataset_table.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "POST"])
def dataset_create(request: HtmxHttpRequest) -> HttpResponse:
    if not can_create_model(request.user):
        raise PermissionDenied("Only a Data scientist or Engineer may upload datasets.")
    if request.method == "POST" and (refusal := upload_refusal(request)):
        form = DatasetForm(request.POST, user=request.user)
        form.add_error("file", refusal)
        form.ask_for_the_file_again()
        return render(request, "evaluation/dataset_form.html", _form_context(form), status=413)
    form = DatasetForm(request.POST or None, request.FILES or None, user=request.user)

    def save(data: dict[str, Any]) -> Dataset:
        fields = dict(data)
        return create_dataset(actor=request.user, upload=fields.pop("file"), **fields)

    done = submit(request, form, save, success=_uploaded_message)
    if form.errors and form.files.get("file"):
        form.ask_for_the_file_again()
    return done.response or render(request, "evaluation/dataset_form.html", _form_context(form))


def _form_context(form: DatasetForm) -> dict[str, Any]:
    return {"form": form, "upload_limit": upload_limit()}


def _uploaded_message(dataset: Dataset) -> str:
    """What happened to the file, said once: in-process workers may have profiled it already."""
    dataset.refresh_from_db()
    if dataset.is_final:
        return f"Dataset {dataset} uploaded; profiling {dataset.get_status_display().lower()}."
    return f"Dataset {dataset} uploaded; a worker will profile it shortly."


@require_GET
def dataset_detail(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    dataset = get_dataset(name, version)
    context = {
        **_job_context(request, dataset),
        "columns": profile_rows(dataset.columns),
        "max_charts": MAX_CHARTS,
        "exact_distinct": EXACT_DISTINCT,
        "contract_form": ContractChoiceForm(),
        "evaluation_count": dataset.evaluations.count(),
    }
    return render(request, "evaluation/dataset_detail.html", context)


def _job_context(request: HtmxHttpRequest, dataset: Dataset) -> dict[str, Any]:
    return {"dataset": dataset, "can_change": can_upload_dataset(request.user, dataset.team)}


@require_GET
def dataset_job(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """The profiling job's status while it runs; once final, the page reloads with the profile."""
    return _job(request, get_dataset(name, version))


@require_POST
def dataset_cancel(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """Stop the profiling (the team's Data scientists and Engineers); answers like the poll."""
    return cancel_job(
        request,
        get_dataset(name, version),
        lambda dataset: cancel_profiling(actor=request.user, dataset=dataset),
        cancelled="Profiling cancelled.",
        stopping="Profiling stops after its current batch.",
        panel=lambda dataset: _job(request, dataset),
    )


def _job(request: HtmxHttpRequest, dataset: Dataset) -> HttpResponse:
    if dataset.is_final and wants_fragment(request):
        # The profile, the failure or the cancellation change the whole page, not only the job.
        return HttpResponseClientRefresh()
    return render(request, "evaluation/partials/dataset_job.html", _job_context(request, dataset))


@require_GET
def dataset_download(request: HtmxHttpRequest, name: str, version: str) -> FileResponse:
    dataset = get_dataset(name, version)
    csv = dataset.file_format == DatasetFormat.CSV
    response = FileResponse(
        dataset.file.open("rb"),
        as_attachment=True,
        filename=f"{dataset.name}-{dataset.version}.{dataset.file_format}",
        content_type="text/csv; charset=utf-8" if csv else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Checksum-SHA256"] = dataset.sha256
    return response


@require_POST
def dataset_delete(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    dataset = get_dataset(name, version)
    try:
        delete_dataset(actor=request.user, dataset=dataset)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(dataset)
    messages.success(request, f"Dataset {dataset} deleted.")
    return redirect("datasets:list")


@require_GET
def dataset_validate(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """Check the dataset against the input contract of the model version chosen in the form."""
    dataset = get_dataset(name, version)
    form = ContractChoiceForm(request.GET or None)
    report, checked = None, None
    if form.is_bound and form.is_valid():
        checked = form.cleaned_data["model_version"]
        try:
            report = validate_dataset(dataset=dataset, version=checked)
        except ValidationError as exc:
            apply_service_errors(form, exc)
    context = {"dataset": dataset, "contract_form": form, "report": report, "checked": checked}
    return render(request, "evaluation/dataset_validate.html", context)


# The profile as the page shows it ---------------------------------------------------------


@dataclass(frozen=True)
class ProfileRow:
    column: dict[str, Any]
    chart: dict[str, Any] | None
    chart_id: str
    facts: list[tuple[str, str]]  # (label, value) pairs for numbers
    quantiles: list[tuple[str, str]]
    top: list[tuple[str, str]]  # (value, count) for categories
    null_share: str
    distinct: str


def profile_rows(columns: list[dict[str, Any]]) -> list[ProfileRow]:
    return [_row(index, column) for index, column in enumerate(columns)]


def _row(index: int, column: dict[str, Any]) -> ProfileRow:
    rows = column.get("nulls", 0) + _present(column)
    quantiles = column.get("quantiles") or {}
    facts = [
        (label, figure(column.get(key)))
        for label, key in (("min", "min"), ("max", "max"), ("mean", "mean"), ("std", "std"))
        if column.get(key) is not None
    ]
    if column.get("non_finite"):
        facts.append(("NaN or ±inf", figure(column["non_finite"])))
    return ProfileRow(
        column=column,
        chart=dataset_charts.column_chart(column) if index < MAX_CHARTS else None,
        chart_id=f"column-chart-{index}",
        facts=facts,
        quantiles=[(name, figure(value)) for name, value in quantiles.items()],
        top=[
            (dataset_charts.shown_value(item["value"]), figure(item["count"]))
            for item in column.get("top", [])
        ],
        null_share=f"{100 * column.get('nulls', 0) / rows:.1f}%" if rows else "",
        distinct=_distinct(column),
    )


def _present(column: dict[str, Any]) -> int:
    histogram = column.get("histogram") or {}
    if column.get("kind") == "number":
        return int(sum(histogram.get("counts", []))) + int(column.get("non_finite") or 0)
    if column.get("kind") == "category":
        return int(sum(histogram.get("counts", []))) + int(histogram.get("other", 0))
    return 0


def _distinct(column: dict[str, Any]) -> str:
    distinct = column.get("distinct")
    if distinct is None:
        return "—"
    return f"{distinct:,}" if column.get("distinct_exact") else f"≈ {distinct:,}"
