"""Object permissions of the registry API: refuse a write before reading its body.

The services check the same rule (``require_edit``) and stay the authority; checking it in
``get_object`` too means an outsider gets 403 rather than a 400 about a body they may not
send at all.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from registry.models import ModelVersion, RegisteredModel
from registry.permissions import can_edit_model


class CanEditModel(BasePermission):
    message = "Only the owning team's Data scientists and Engineers may change this model."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        model = obj.model if isinstance(obj, ModelVersion) else obj
        return isinstance(model, RegisteredModel) and can_edit_model(request.user, model)
