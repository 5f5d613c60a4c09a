"""The admin browses and searches; every change it makes goes through a service.

Handoff's rules (who may change a model, what a card may hold, what is audited) live in the
services, so the admin cannot edit rows directly: most models are read-only here, teams
are saved through the accounts services and tokens are revoked through the token service.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from portal.models import AuditEvent, PersonalToken, Team, WorkerHeartbeat
from portal.people import signed_in
from portal.services.accounts import create_team, set_team_members, update_team
from portal.services.tokens import revoke_token


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only: no add, change or delete past the services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams are created, renamed and staffed here, through the audited accounts services."""

    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug", "description", "members"]
    readonly_fields = ["slug"]
    filter_horizontal = ["members"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a team owns models; it is never deleted from under them

    def save_model(self, request: HttpRequest, obj: Team, form: ModelForm, change: bool) -> None:
        name, description = form.cleaned_data["name"], form.cleaned_data["description"]
        if change:
            saved = Team.objects.get(pk=obj.pk)
            update_team(team=saved, actor=signed_in(request), name=name, description=description)
            return
        created = create_team(name=name, description=description, actor=signed_in(request))
        obj.pk, obj.slug, obj.created_at = created.pk, created.slug, created.created_at
        obj._state.adding = False

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        members = form.cleaned_data["members"]
        team = Team.objects.get(pk=form.instance.pk)
        set_team_members(team=team, members=members, actor=signed_in(request))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log is append-only, even for admins."""

    list_display = ["created_at", "actor", "verb", "target_repr", "request_id"]
    list_filter = ["verb"]
    search_fields = ["verb", "target_repr", "actor__username", "request_id"]
    date_hierarchy = "created_at"


@admin.register(PersonalToken)
class PersonalTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "user__username", "prefix"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[PersonalToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            revoke_token(token=token, actor=signed_in(request))
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "seen_at"]
