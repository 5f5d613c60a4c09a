"""The release request form of a version, with the live checklist of the chosen environment,
and the approvers' override of a check that blocks it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.people import Person, signed_in
from portal.web import HtmxHttpRequest, apply_service_errors, submit, wants_fragment
from registry.models import ModelVersion
from registry.releases.choices import Check
from registry.releases.forms import OverrideForm, ReleaseRequestForm
from registry.releases.models import Environment, ReleaseRequest
from registry.releases.permissions import can_request, is_approver
from registry.releases.queries import environments, pick_environment
from registry.releases.services.checklist import checklist
from registry.releases.services.requests import override_check, request_release
from registry.services.versions import contract_changes
from registry.views.shared import get_version

TRUE = ("on", "true", "1")


def _allowed(person: Person, version: ModelVersion) -> tuple[bool, bool]:
    """(may request, may override): anyone else has nothing to do here."""
    may_request, approver = can_request(person, version), is_approver(person)
    if not (may_request or approver):
        raise PermissionDenied(
            f"Only Data scientists and Engineers of {version.model.team} request releases of "
            f"{version.model.name}; approvers may override a blocking check here."
        )
    return may_request, approver


@require_http_methods(["GET", "POST"])
def release_request(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    person = signed_in(request)
    _allowed(person, found)
    envs = environments()
    source = request.POST if request.method == "POST" else request.GET
    environment = pick_environment(envs, source.get("environment"))
    by_name = {env.name: env for env in envs}
    form = ReleaseRequestForm(
        request.POST or None,
        version=found,
        environments=envs,
        initial={"environment": environment.name if environment else None},
    )

    def save(data: dict[str, Any]) -> ReleaseRequest:
        return request_release(
            actor=person,
            version=found,
            environment=by_name[data["environment"]],
            strategy=data["strategy"],
            canary_steps=data["canary_steps"] or None,
            serving_mode=data["serving_mode"],
            justification=data["justification"],
            rollback_plan=data["rollback_plan"],
            acknowledge_breaking=data["acknowledge_breaking"],
        )

    done = submit(
        request,
        form,
        save,
        success=lambda made: f"Release of {found} to {made.environment} requested: "
        "the approvers have been told.",
    )
    if done.response is not None:
        return done.response
    acknowledged = source.get("acknowledge_breaking", "").lower() in TRUE
    return _render(request, found, environment, form, acknowledged=acknowledged)


def _render(
    request: HtmxHttpRequest,
    version: ModelVersion,
    environment: Environment | None,
    form: ReleaseRequestForm | None,
    *,
    acknowledged: bool,
    override: tuple[str, forms.Form] | None = None,
) -> HttpResponse:
    person = signed_in(request)
    may_request, approver = _allowed(person, version)
    checks = checklist(version, environment, acknowledged=acknowledged) if environment else None
    overrides: dict[str, forms.Form] = {}
    if approver and checks is not None and environment is not None:
        for item in checks.items:
            if item.blocks:
                prefix = OverrideForm.prefix_for(item.check)
                overrides[item.check] = OverrideForm(
                    prefix=prefix, initial={"environment": environment.name}
                )
    if override is not None:
        overrides[override[0]] = override[1]
    context = {
        "version": version,
        "model": version.model,
        "environment": environment,
        "form": form,
        "may_request": may_request,
        "approver": approver,
        "checks": checks,
        "contract": contract_changes(checks.replaces, version) if checks else [],
        "overrides": overrides,
        "override_failed": override[1] if override else None,
    }
    if wants_fragment(request) and request.method == "GET":
        return render(request, "releases/partials/live_checklist.html", context)
    return render(request, "releases/request_form.html", context)


@require_POST
def release_override(request: HtmxHttpRequest, name: str, version: str, check: str) -> HttpResponse:
    if check not in Check.values:
        raise Http404(f"No check {check!r}.")
    found = get_version(name, version)
    person = signed_in(request)
    envs = environments()
    by_name = {env.name: env for env in envs}
    form = OverrideForm(request.POST, prefix=OverrideForm.prefix_for(check))
    environment = by_name.get(form.data.get(f"{form.prefix}-environment", ""))
    if form.is_valid() and environment is None:
        form.add_error(None, "Choose one of the environments.")
    if form.is_valid() and environment is not None:
        try:
            override_check(
                actor=person,
                version=found,
                environment=environment,
                check=check,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, f"{Check(check).label} may now pass for {found} in {environment}."
            )
            url = reverse("releases:request", args=[found.model.name, found.version])
            return redirect(f"{url}?environment={environment.name}")
    environment = environment or pick_environment(envs, None)
    initial = {"environment": environment.name if environment else None}
    return _render(
        request,
        found,
        environment,
        ReleaseRequestForm(version=found, environments=envs, initial=initial),
        acknowledged=False,
        override=(check, form),
    )
