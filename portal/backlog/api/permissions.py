"""Permissions of the backlog API: refuse a write before reading its body.

The services check the same rules (``portal.backlog.permissions``) and stay the authority;
asking them here too means a Viewer or an outsider gets 403 rather than a 400 about a body
they may not send at all.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from portal.api.people import person
from portal.backlog.models import BacklogItem, ItemLink, Iteration
from portal.backlog.permissions import WORKER_ROLES, can_edit_item, can_edit_iteration
from portal.roles import has_role


class CanChangeBacklog(BasePermission):
    message = (
        "Only the team's members (and an item's assignees) change the backlog; a Viewer reads it."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or has_role(request.user, *WORKER_ROLES)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if isinstance(obj, ItemLink):
            obj = obj.item
        if isinstance(obj, BacklogItem):
            return can_edit_item(person(request), obj)
        if isinstance(obj, Iteration):
            return can_edit_iteration(person(request), obj)
        return False
