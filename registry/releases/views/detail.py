"""A release's page and the buttons on it: approve or reject, cancel, record a deployment,
promote a canary step, roll back.

Every button posts to its own URL and calls one service, which decides again whether the
person may press it: a forged POST meets the same PermissionDenied (a 403) as the API. A
ValidationError shows the page again with the refused form's errors at the top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portal.people import signed_in
from portal.web import HtmxHttpRequest, apply_service_errors
from registry.releases.forms import DecisionForm, DeploymentForm, PromoteForm, ReasonForm
from registry.releases.models import ReleaseRequest
from registry.releases.queries import release_page, release_queryset
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import (
    mark_deployed,
    mark_failed,
    promote,
    roll_back,
    start_deploying,
)
from registry.releases.services.requests import cancel_release


def _release(pk: int) -> ReleaseRequest:
    return get_object_or_404(release_queryset(), pk=pk)


def _forms(bound: dict[str, forms.Form] | None = None) -> dict[str, forms.Form]:
    found: dict[str, forms.Form] = {
        "decide_form": DecisionForm(),
        "cancel_form": ReasonForm(prefix="cancel", required=False),
        "deployment_form": DeploymentForm(),
        "promote_form": PromoteForm(),
        "rollback_form": ReasonForm(prefix="rollback"),
    }
    return found | (bound or {})


def _render(
    request: HtmxHttpRequest,
    release: ReleaseRequest,
    *,
    failed: tuple[str, forms.Form] | None = None,
) -> HttpResponse:
    page = release_page(release, signed_in(request))
    context: dict[str, Any] = {
        "page": page,
        "release": release,
        "model": page.model,
        "version": release.version,
        **_forms(dict([failed]) if failed else None),
        "failed_form": failed[1] if failed else None,
    }
    return render(request, "releases/release_detail.html", context)


@require_GET
def release_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _render(request, _release(pk))


def _act(
    request: HtmxHttpRequest,
    release: ReleaseRequest,
    name: str,
    form: forms.Form,
    action: Callable[[dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    """Call ``action`` with the valid form's data; PermissionDenied rises to a 403."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, success)
            return _back(request, release)
    return _render(request, _release(release.pk), failed=(name, form))


def _back(request: HtmxHttpRequest, release: ReleaseRequest) -> HttpResponseRedirect:
    """To the page the form came from when it names one of ours (the model page's
    rollback), else to the release."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(wanted)
    return redirect(release)


@require_POST
def release_decide(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release = _release(pk)
    form = DecisionForm(request.POST)
    decision = request.POST.get(f"{form.prefix}-decision", "")
    done = "approved" if decision == "approve" else "rejected"
    return _act(
        request,
        release,
        "decide_form",
        form,
        lambda data: decide(
            actor=request.user, release=release, decision=data["decision"], comment=data["comment"]
        ),
        f"You {done} {release.version} for {release.environment}.",
    )


@require_POST
def release_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release = _release(pk)
    form = ReasonForm(request.POST, prefix="cancel", required=False)
    return _act(
        request,
        release,
        "cancel_form",
        form,
        lambda data: cancel_release(actor=request.user, release=release, reason=data["reason"]),
        f"Release {release.pk} cancelled.",
    )


DEPLOYMENT_MOVES: dict[str, tuple[Callable[..., ReleaseRequest], str]] = {
    "started": (start_deploying, "is deploying"),
    "succeeded": (mark_deployed, "is deployed"),
    "failed": (mark_failed, "failed to deploy"),
}


@require_POST
def release_deployment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release = _release(pk)
    form = DeploymentForm(request.POST)
    status = request.POST.get(f"{form.prefix}-status", "")
    move, said = DEPLOYMENT_MOVES.get(status, DEPLOYMENT_MOVES["started"])
    return _act(
        request,
        release,
        "deployment_form",
        form,
        lambda data: move(actor=request.user, release=release, message=data["message"]),
        f"{release.version} in {release.environment} {said}.",
    )


@require_POST
def release_promote(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release = _release(pk)
    form = PromoteForm(request.POST)
    return _act(
        request,
        release,
        "promote_form",
        form,
        lambda data: promote(
            actor=request.user, release=release, override_reason=data["override_reason"]
        ),
        f"{release.version} promoted to its next traffic step.",
    )


@require_POST
def release_rollback(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release = _release(pk)
    form = ReasonForm(request.POST, prefix="rollback")
    return _act(
        request,
        release,
        "rollback_form",
        form,
        lambda data: roll_back(actor=request.user, release=release, reason=data["reason"]),
        f"{release.version} rolled back in {release.environment}.",
    )
