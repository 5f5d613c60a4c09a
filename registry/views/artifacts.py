"""A version's ONNX artifact: upload or replace, live validation status, cancel, download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from portal.web import HtmxHttpRequest, cancel_job, upload_refusal, wants_fragment
from registry.downloads import artifact_response
from registry.forms import ArtifactForm
from registry.models import Artifact, ModelVersion
from registry.permissions import can_edit_model, require_edit
from registry.services.artifacts import cancel_validation, store_artifact
from registry.views.shared import get_version


def _artifact(version: ModelVersion) -> Artifact | None:
    return Artifact.objects.filter(version=version).first()


@require_POST
def artifact_upload(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    require_edit(request.user, found.model)
    if refusal := upload_refusal(request):
        return render(request, "413.html", {"version": found, "message": refusal}, status=413)
    form = ArtifactForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose an ONNX file to upload.")
        return redirect(found)
    try:
        artifact = store_artifact(
            actor=request.user, version=found, upload=form.cleaned_data["file"]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(found)
    messages.success(request, _uploaded_message(found, artifact))
    return redirect(found)


def _uploaded_message(version: ModelVersion, artifact: Artifact) -> str:
    """What happened to the file, said once: in-process workers may have validated it already."""
    artifact.refresh_from_db()
    if artifact.is_final:
        return f"Artifact uploaded for {version.version}: {artifact.get_status_display()}."
    return f"Artifact uploaded for {version.version}; a worker will validate it shortly."


@require_GET
def artifact_status(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """The validation's job status while it runs; the whole artifact panel once it is final."""
    return _status(request, get_version(name, version))


@require_POST
def artifact_cancel(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """Stop the validation (the model's editors only); answers like the status poll."""
    found = get_version(name, version)
    require_edit(request.user, found.model)
    artifact = _artifact(found)
    if artifact is None:
        raise Http404("This version has no artifact.")
    return cancel_job(
        request,
        artifact,
        lambda job: cancel_validation(actor=request.user, artifact=job),
        cancelled="Validation cancelled.",
        stopping="Validation stops at its next step.",
        panel=lambda _: _status(request, found),  # the panel reads the artifact afresh
        back_to=found,
    )


def _status(request: HtmxHttpRequest, found: ModelVersion) -> HttpResponse:
    artifact = _artifact(found)
    context = {
        "selected": found,
        "artifact": artifact,
        "can_edit": can_edit_model(request.user, found.model),
    }
    if artifact is not None and not artifact.is_final and wants_fragment(request):
        return render(request, "registry/partials/artifact_job.html", context)
    response = render(request, "registry/partials/artifact_panel.html", context)
    if wants_fragment(request):
        # The poll swapped only the job status; a final job brings facts for the whole panel.
        response = reswap(retarget(response, "#artifact-panel"), "outerHTML")
    return response


@require_GET
def artifact_download(request: HtmxHttpRequest, name: str, version: str) -> HttpResponseBase:
    found = get_version(name, version)
    artifact = _artifact(found)
    if artifact is None or not artifact.file:
        raise Http404("This version has no artifact.")
    artifact.version = found
    return artifact_response(artifact)
