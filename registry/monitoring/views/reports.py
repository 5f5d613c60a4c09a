"""A drift report's page: start one now, watch it run (or cancel it), read its verdict and
columns, and open a column's histograms."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from portal.web import HtmxHttpRequest, cancel_job, wants_fragment
from registry.monitoring.models import DriftReport, MonitoringConfig
from registry.monitoring.permissions import can_monitor, require_monitor
from registry.monitoring.queries import column_chart, report_page, report_queryset
from registry.monitoring.services.reports import cancel_report, start_report
from registry.views.shared import get_version


def get_report(name: str, version: str, pk: int) -> DriftReport:
    return get_object_or_404(
        report_queryset(), pk=pk, version__model__name=name, version__version=version
    )


@require_POST
def report_run(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """Run now: queue the report of the window ending this minute, then open it."""
    found = get_version(name, version)
    require_monitor(request.user, found)
    config = get_object_or_404(MonitoringConfig, version=found)
    config.version = found
    report, created = start_report(actor=request.user, config=config, trigger="manual")
    report.version = found
    messages.success(request, _started_message(report, created))
    return redirect(report)


def _started_message(report: DriftReport, created: bool) -> str:
    """What happened, said once: an in-process worker may have finished it already."""
    if not created:
        return "A report of this window was started already: here it is."
    report.refresh_from_db(fields=["status"])
    if report.is_final:
        return f"Drift report {report.pk}: {report.get_status_display().lower()}."
    return f"Drift report {report.pk} queued; a worker will run it shortly."


@require_GET
def report_detail(request: HtmxHttpRequest, name: str, version: str, pk: int) -> HttpResponse:
    report = get_report(name, version, pk)
    context = {
        "page": report_page(report),
        "report": report,
        "version": report.version,
        "model": report.version.model,
        "can_monitor": can_monitor(request.user, report.version),
    }
    return render(request, "monitoring/report_detail.html", context)


@require_GET
def report_column(
    request: HtmxHttpRequest, name: str, version: str, pk: int, index: int
) -> HttpResponse:
    """A column's overlaid histograms: a fragment for the row that opens it, else a page."""
    report = get_report(name, version, pk)
    try:
        chart = column_chart(report, index)
    except IndexError:
        raise Http404(f"Drift report {report.pk} has no column {index}.") from None
    context = {"chart": chart, "report": report, "version": report.version}
    if wants_fragment(request):
        return render(request, "monitoring/partials/report_column.html", context)
    return render(request, "monitoring/report_column.html", context)


@require_GET
def report_job(request: HtmxHttpRequest, name: str, version: str, pk: int) -> HttpResponse:
    """The job's status while it runs; once final, the page reloads to show the outcome."""
    return _job(request, get_report(name, version, pk))


@require_POST
def report_cancel(request: HtmxHttpRequest, name: str, version: str, pk: int) -> HttpResponse:
    """Stop the report (its model's editors only); the worker stops at its next step."""
    report = get_report(name, version, pk)
    require_monitor(request.user, report.version)
    return cancel_job(
        request,
        report,
        lambda job: _keeping_version(job, cancel_report(actor=request.user, report=job)),
        cancelled="Report cancelled.",
        stopping="The report stops at its next step.",
        panel=lambda job: _job(request, job),
    )


def _keeping_version(before: DriftReport, after: DriftReport) -> DriftReport:
    after.version = before.version  # read already, with its model
    return after


def _job(request: HtmxHttpRequest, report: DriftReport) -> HttpResponse:
    if report.is_final and wants_fragment(request):
        # The verdict, the failure or the cancellation change the whole page.
        return HttpResponseClientRefresh()
    context = {"report": report, "can_monitor": can_monitor(request.user, report.version)}
    return render(request, "monitoring/partials/report_job.html", context)
