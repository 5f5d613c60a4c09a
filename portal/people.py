"""The person a service acts for.

Handoff uses Django's own user model; services name it ``Person`` so their signatures say
"a signed-in person" (views pass ``request.user`` from a login-required request, the API
passes ``portal.api.people.person(request)``). ``None`` where a service also runs for the
system (a worker, a migration).
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

Person: TypeAlias = User


def signed_in(request: HttpRequest) -> Person:
    """The person behind a login-required request; PermissionDenied if there is none."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user
