"""A model's feedback overview and a version's error analysis: read-only pages for anyone
signed in (the login middleware sends everyone else to the login page)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from feedback import charts, slices, trends
from feedback.analysis import (
    WINDOWS,
    VersionAnalysis,
    analyse_version,
    shows_labels,
    shows_values,
    window_from,
)
from feedback.trends import ModelFeedback
from portal.web import HtmxHttpRequest, wants_fragment
from registry.models import ModelVersion, RegisteredModel

SLICES_TARGET = "slices"


@require_GET
def model_feedback(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_object_or_404(RegisteredModel, name=name)
    read = trends.model_feedback(model, window_from(request.GET.get("days"), timezone.now()))
    context = {
        "model": model,
        "read": read,
        "windows": WINDOWS,
        "figures": _trend_figures(read),
        "widget_src": request.build_absolute_uri(static("js/feedback-widget.js")),
        "endpoint": request.build_absolute_uri(reverse("feedback-api:feedback")),
    }
    return render(request, "feedback/model_feedback.html", context)


@require_GET
def version_analysis(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_object_or_404(
        ModelVersion.objects.select_related("model"), model__name=name, version=version
    )
    window = window_from(request.GET.get("days"), timezone.now())
    feature = request.GET.get("feature", "")
    min_count = slices.min_count_from(request.GET.get("min"))
    context: dict[str, Any] = {
        "version": found,
        "model": found.model,
        "window": window,
        "windows": WINDOWS,
        "min_counts": slices.MIN_COUNTS,
    }
    if wants_fragment(request) and request.htmx.target == SLICES_TARGET:
        features, table = slices.slice_table(found, window, feature=feature, min_count=min_count)
        context |= {"features": features, "slices": table}
        return render(request, "feedback/partials/analysis_slices.html", context)
    read = analyse_version(found, window, feature=feature, min_count=min_count)
    context |= {
        "read": read,
        "features": read.features,
        "slices": read.slices,
        "shows_labels": shows_labels(found.model),
        "shows_values": shows_values(found.model),
        "figures": _analysis_figures(read),
        "confusion_rows": zip(read.confusion.labels, read.confusion.counts, strict=True)
        if read.confusion
        else [],
    }
    return render(request, "feedback/analysis.html", context)


def _analysis_figures(read: VersionAnalysis) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if read.judged:
        figures["accuracy"] = charts.accuracy_chart(
            [day.day for day in read.days],
            [day.accuracy for day in read.days],
            [day.thumbs_up_rate for day in read.days],
            [day.judged for day in read.days],
        )
    if read.confusion is not None and read.confusion.total:
        figures["confusion"] = charts.confusion_chart(read.confusion.labels, read.confusion.counts)
    if read.residuals is not None:
        figures["histogram"] = charts.residual_histogram(
            read.residuals.edges, read.residuals.counts
        )
        figures["scatter"] = charts.residual_scatter(read.residuals.points)
    return figures


def _trend_figures(read: ModelFeedback) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if read.predictions or read.feedback:
        figures["activity"] = charts.activity_chart(
            [day.day for day in read.days],
            [day.predictions for day in read.days],
            [day.feedback for day in read.days],
            [day.thumbs_up_rate for day in read.days],
        )
    figures["outcomes"] = [
        {
            "name": trend.name,
            "id": f"outcome-chart-{index}",
            "figure": charts.outcome_chart(
                trend.name,
                [
                    charts.Line(line.version, line.days, line.means, line.counts)
                    for line in trend.lines
                ],
                span=(read.window.dates[0], read.window.dates[-1]),
            ),
        }
        for index, trend in enumerate(read.outcomes)
    ]
    return figures
