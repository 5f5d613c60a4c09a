"""A version's ONNX artifact: upload or replace, live validation status, download."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.uploads import limit_message, upload_too_large
from registry.downloads import artifact_response
from registry.forms import ArtifactForm
from registry.models import Artifact, ModelVersion
from registry.permissions import require_edit
from registry.services.artifacts import store_artifact
from registry.views.shared import HtmxHttpRequest, get_version, report_outcome


def _artifact(version: ModelVersion) -> Artifact | None:
    return Artifact.objects.filter(version=version).first()


@require_POST
def artifact_upload(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    require_edit(request.user, found.model)
    if upload_too_large(request):
        context = {"version": found, "message": limit_message()}
        return render(request, "413.html", context, status=413)
    form = ArtifactForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose an ONNX file to upload.")
        return redirect(found)
    upload = form.cleaned_data["file"]
    report_outcome(
        request,
        lambda: store_artifact(actor=request.user, version=found, upload=upload),
        f"Artifact uploaded for {found.version}; validation queued.",
    )
    return redirect(found)


@require_GET
def artifact_status(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """The artifact panel alone; it keeps polling itself until validation is final."""
    found = get_version(name, version)
    context = {"selected": found, "artifact": _artifact(found)}
    return render(request, "registry/partials/artifact_panel.html", context)


@require_GET
def artifact_download(request: HtmxHttpRequest, name: str, version: str) -> HttpResponseBase:
    found = get_version(name, version)
    artifact = _artifact(found)
    if artifact is None or not artifact.file:
        raise Http404("This version has no artifact.")
    artifact.version = found
    return artifact_response(artifact)
