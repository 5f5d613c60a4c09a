"""The signed-in person behind an API request, typed for the services."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from portal.people import Person


def person(request: Request) -> Person:
    """``request.user`` as a Person; every API view requires authentication before this runs."""
    user = request.user
    if not isinstance(user, Person) or not user.is_authenticated:
        raise NotAuthenticated()
    return user
