"""Deleting a never-released model or a draft version; the services decide what may go."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from registry.services.models import delete_model
from registry.services.versions import delete_version
from registry.views.shared import HtmxHttpRequest, get_model, get_version


@require_POST
def model_delete(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    try:
        delete_model(actor=request.user, model=model)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(model)
    messages.success(request, f"Model {name} deleted.")
    return redirect("registry:model-list")


@require_POST
def version_delete(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    try:
        delete_version(actor=request.user, version=found)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(found)
    messages.success(request, f"Draft {version} of {name} deleted.")
    return redirect(found.model)
