"""The signed-in person behind an API request, typed for the services."""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request


def person(request: Request) -> User:
    """``request.user`` as a User; every API view requires authentication before this runs."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
