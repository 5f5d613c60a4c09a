"""Who may call the feedback API at all: a valid key, or a signed-in person. What each may
do to which model is the services' call (``feedback.services.access``)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from feedback.models import ApiKey
from feedback.services.access import Caller


class KeyOrPerson(BasePermission):
    message = "Send an API key ('Authorization: ApiKey <key>') or sign in."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiKey) or bool(
            request.user and request.user.is_authenticated
        )


def caller_of(request: Request) -> Caller:
    if isinstance(request.auth, ApiKey):
        return Caller(key=request.auth)
    return Caller(person=request.user)  # type: ignore[arg-type]
