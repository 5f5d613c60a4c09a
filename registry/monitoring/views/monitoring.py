"""A model's drift monitoring: each monitored version's latest verdict and its reports, the
drift share over time, and the open drift alerts."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.web import HtmxHttpRequest
from registry.monitoring.queries import RECENT_REPORTS, monitoring_page
from registry.permissions import can_edit_model
from registry.views.shared import get_model


@require_GET
def model_monitoring(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    context = {
        "model": model,
        "page": monitoring_page(model),
        # registry.monitoring.permissions.can_monitor, asked of the model: every version
        # of one model has the same editors.
        "can_monitor": can_edit_model(request.user, model),
        "recent_limit": RECENT_REPORTS,
    }
    return render(request, "monitoring/model_monitoring.html", context)
