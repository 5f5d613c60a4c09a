"""Registering a version (optionally with its artifact), its status and its contract."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.concurrency import StaleEdit
from portal.uploads import limit_message, upload_too_large
from registry.choices import VersionStatus
from registry.forms import ContractForm, StatusForm, VersionForm, apply_service_errors
from registry.permissions import require_edit
from registry.services.versions import register_version, set_version_status, update_contract
from registry.views.shared import (
    HtmxHttpRequest,
    get_model,
    get_version,
    report_outcome,
    stale_notice,
)

# The artifact service reports problems with the file on "file"; the form calls it "artifact".
VERSION_FORM_ERRORS = {"file": "artifact"}


@require_http_methods(["GET", "POST"])
def version_create(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    require_edit(request.user, model)
    context: dict[str, Any] = {"model": model}
    if request.method == "POST" and upload_too_large(request):
        form = VersionForm(request.POST)
        form.add_error("artifact", limit_message())
        context["form"] = form
        return render(request, "registry/version_form.html", context, status=413)
    form = VersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            fields = dict(form.cleaned_data)
            version = register_version(
                actor=request.user, model=model, upload=fields.pop("artifact", None), **fields
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, VERSION_FORM_ERRORS)
        else:
            messages.success(request, f"Version {version.version} registered.")
            return redirect(version)
    context["form"] = form
    return render(request, "registry/version_form.html", context)


@require_POST
def version_status(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed statuses.")
        return redirect(found)
    status = form.cleaned_data["status"]
    report_outcome(
        request,
        lambda: set_version_status(actor=request.user, version=found, status=status),
        f"Version {found.version} is now {VersionStatus(status).label}.",
    )
    return redirect(found)


@require_http_methods(["GET", "POST"])
def contract_edit(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    require_edit(request.user, found.model)
    form = ContractForm(request.POST or None, initial=ContractForm.initial_for(found))
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            update_contract(
                actor=request.user,
                version=found,
                expected_revision=form.cleaned_data["revision"],
                **form.contract(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except StaleEdit as exc:
            saved = ContractForm.initial_for(get_version(name, version))
            stale = stale_notice(form, exc, saved=saved)
        else:
            messages.success(request, f"Contract of {found.version} saved.")
            return redirect(found)
    context = {"model": found.model, "version": found, "form": form, "stale": stale}
    return render(request, "registry/contract_form.html", context)
