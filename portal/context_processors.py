from typing import Any

from django.http import HttpRequest

from portal.roles import roles_of


def roles(request: HttpRequest) -> dict[str, Any]:
    return {"user_roles": sorted(roles_of(request.user))}
