"""Environments are added and changed here, through the service that audits them; the rest
of releases is browsed only (every move goes through the release services)."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from portal.admin import ReadOnlyAdmin
from portal.people import signed_in
from registry.releases.models import Approval, Deployment, Environment, ReleaseRequest
from registry.releases.services.environments import save_environment


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "version_status", "approvals_needed", "required_roles")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # releases and deployments point at it

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        save_environment(actor=signed_in(request), environment=obj)


@admin.register(ReleaseRequest)
class ReleaseRequestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "version", "environment", "state", "requested_by", "created_at")
    list_filter = ("state", "environment")


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ("request", "approver", "decision", "created_at", "dismissed_at")


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ("environment", "version", "started_at", "ended_at")
