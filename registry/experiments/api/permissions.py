"""Permissions of the experiments API: refuse a write before reading its body.

Everyone signed in reads. The services check who may write (``require_log``) and stay the
authority; asking here too means a Viewer, or an outsider writing to a run, gets 403 rather
than a 400 about a body they may not send at all.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from portal.api.people import person
from portal.roles import has_role
from registry.experiments.models import Experiment, Run
from registry.experiments.permissions import AUTHOR_ROLES, can_log


class CanLogRuns(BasePermission):
    message = "Only the experiment team's Data scientists and Engineers may write here."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or has_role(request.user, *AUTHOR_ROLES)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if isinstance(obj, Run):
            obj = obj.experiment
        return isinstance(obj, Experiment) and can_log(person(request), obj.team)
