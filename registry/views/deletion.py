"""Deleting a never-released model or a draft version; the services decide what may go."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from portal.web import HtmxHttpRequest, report_outcome
from registry.services.models import delete_model
from registry.services.versions import delete_version
from registry.views.shared import get_model, get_version


@require_POST
def model_delete(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    deleted = report_outcome(
        request,
        lambda: delete_model(actor=request.user, model=model),
        f"Model {name} deleted.",
    )
    return redirect("registry:model-list") if deleted else redirect(model)


@require_POST
def version_delete(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    deleted = report_outcome(
        request,
        lambda: delete_version(actor=request.user, version=found),
        f"Draft {version} of {name} deleted.",
    )
    return redirect(found.model) if deleted else redirect(found)
