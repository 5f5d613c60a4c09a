"""Roles are Django groups; this is the one place that asks who may do what.

Services call these helpers, not only views, so the browser and the API share every rule.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    DATA_SCIENTIST = "Data scientist"
    ENGINEER = "Engineer"
    APPROVER = "Approver"
    VIEWER = "Viewer"


def roles_of(user: Any) -> frozenset[str]:
    """The role names a user holds; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_handoff_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)
        cached = frozenset(names)
        user._handoff_roles = cached
    return cached


def has_role(user: Any, *roles: Role) -> bool:
    """True when the user holds any of ``roles``; superusers hold them all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(roles_of(user) & {str(role) for role in roles})


def require_role(user: Any, *roles: Role, action: str = "do this") -> None:
    """Raise PermissionDenied naming the roles that may ``action``."""
    if not has_role(user, *roles):
        allowed = " or ".join(str(role) for role in roles)
        raise PermissionDenied(f"Only a {allowed} may {action}.")
