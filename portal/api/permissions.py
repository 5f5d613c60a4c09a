from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from portal.models import PersonalToken


class TokenScopePermission(BasePermission):
    """A read-only personal token may only read, whatever its owner may do."""

    message = "This token is read-only: create a read-and-write token to change things."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if isinstance(token, PersonalToken) and token.scope != PersonalToken.Scope.WRITE:
            return request.method in SAFE_METHODS
        return True
