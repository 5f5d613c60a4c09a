"""A version's monitoring settings: its model's editors change them, everyone else reads."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from portal.web import HtmxHttpRequest, submit
from registry.monitoring.forms import ConfigForm
from registry.monitoring.models import MonitoringConfig
from registry.monitoring.permissions import can_monitor, require_monitor
from registry.monitoring.queries import config_page
from registry.monitoring.services.configs import save_config
from registry.views.shared import get_version


@require_http_methods(["GET", "POST"])
def config_edit(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    if request.method == "POST":
        require_monitor(request.user, found)
    source = request.POST if request.method == "POST" else request.GET
    page = config_page(found, wanted=source.get("reference"))
    allowed = can_monitor(request.user, found)
    initial = ConfigForm.initial_for(page.config, page.reference)
    if not allowed:
        initial["webhook_url"] = ""  # it may hold the receiver's secret, as in the API
    form = ConfigForm(
        request.POST or None,
        version=found,
        datasets=page.datasets,
        rows=page.rows,
        initial=initial,
    )
    if not allowed:
        form.disable()

    def save(data: dict[str, Any]) -> MonitoringConfig:
        return save_config(
            actor=request.user,
            version=found,
            reference=data["reference"],
            columns=form.columns.entries(page.paths),
            **form.settings(),
        )

    done = submit(
        request,
        form,
        save,
        success=lambda saved: f"Drift monitoring of {found} saved.",
    )
    context = {
        "version": found,
        "model": found.model,
        "page": page,
        "form": form,
        "can_monitor": allowed,
        "hints": form.hints(page.reference_columns),
    }
    return done.response or render(request, "monitoring/config_form.html", context)
