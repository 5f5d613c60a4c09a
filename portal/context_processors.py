from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest

from portal.notifications.services import unread
from portal.roles import roles_of


def roles(request: HttpRequest) -> dict[str, Any]:
    return {"user_roles": sorted(roles_of(request.user))}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications`` for the bell: one COUNT when a page shows it, none otherwise.

    The count is a cached callable, so a fragment that never names it costs nothing and a
    page that names it twice counts once; anonymous visitors have no bell.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    count: Callable[[], int] = cache(lambda: unread(user).count())
    return {"unread_notifications": count}
