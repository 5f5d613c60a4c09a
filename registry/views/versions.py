"""Registering a version (optionally with its artifact), its status and its contract."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.web import (
    HtmxHttpRequest,
    apply_service_errors,
    report_outcome,
    submit,
    upload_refusal,
)
from registry.choices import VersionStatus
from registry.forms import ContractForm, StatusForm, VersionForm
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import require_edit
from registry.services.versions import (
    check_new_version,
    latest_version,
    register_version,
    set_version_status,
    update_contract,
)
from registry.views.shared import get_model, get_version

EXAMPLES = {"example_request": "example request", "example_response": "example response"}

# The artifact service reports problems with the file on "file"; the form calls it "artifact".
VERSION_FORM_ERRORS = {"file": "artifact"}


@require_http_methods(["GET", "POST"])
def version_create(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    require_edit(request.user, model)
    latest = latest_version(model)
    context: dict[str, Any] = {"model": model, "latest": latest}
    if request.method == "POST" and (refusal := upload_refusal(request)):
        form = VersionForm(request.POST, latest=latest)
        form.add_error("artifact", refusal)
        form.ask_for_the_file_again()
        context["form"] = form
        return render(request, "registry/version_form.html", context, status=413)
    form = VersionForm(request.POST or None, request.FILES or None, latest=latest)
    if form.is_bound:
        _check_everything(form, model)

    def save(data: dict[str, Any]) -> ModelVersion:
        fields = dict(data)
        upload = fields.pop("artifact", None)
        return register_version(actor=request.user, model=model, upload=upload, **fields)

    done = submit(
        request,
        form,
        save,
        success=lambda version: f"Version {version.version} registered.",
        rename=VERSION_FORM_ERRORS,
    )
    if form.errors and form.files.get("artifact"):
        form.ask_for_the_file_again()
    context["form"] = form
    return done.response or render(request, "registry/version_form.html", context)


def _check_everything(form: VersionForm, model: RegisteredModel) -> None:
    """Put the service's refusals on the form beside the fields' own, before registering.

    A form with a bad field never reaches the service, and registering stops at its first
    refusal; ``check_new_version`` names every problem, so one submit shows them all.
    """
    form.is_valid()
    fields = dict(form.cleaned_data)  # the fields that parsed; the others carry their error
    version, upload = fields.pop("version", None), fields.pop("artifact", None)
    try:
        check_new_version(model=model, version=version, upload=upload, **fields)
    except ValidationError as exc:
        apply_service_errors(form, exc, VERSION_FORM_ERRORS)


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
    had = {field: getattr(found, field) is not None for field in EXAMPLES}
    done = submit(
        request,
        form,
        lambda data: update_contract(
            actor=request.user,
            version=found,
            expected_revision=data["revision"],
            **form.contract(),
        ),
        success=lambda saved: _contract_saved(saved, had),
        saved=lambda: ContractForm.initial_for(get_version(name, version)),
    )
    context = {"model": found.model, "version": found, "form": form, "stale": done.stale}
    return done.response or render(request, "registry/contract_form.html", context)


def _contract_saved(version: ModelVersion, had: dict[str, bool]) -> str:
    """The save message, saying so when an empty box removed an example the version had."""
    dropped = [
        label for field, label in EXAMPLES.items() if had[field] and getattr(version, field) is None
    ]
    message = f"Contract of {version.version} saved."
    if dropped:
        message += f" Its {' and '.join(dropped)} was removed: the box was empty."
    return message
