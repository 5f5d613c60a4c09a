"""Error pages that say what to do next, not only what went wrong."""

from __future__ import annotations

import sys

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

from portal.api.errors import DATABASE_DOWN, RETRY_AFTER_SECONDS
from portal.request_id import current_request_id

MAX_ADMINS_SHOWN = 3


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: why, who can grant access, and a link back to what the person was looking at."""
    admins = User.objects.filter(is_superuser=True, is_active=True).order_by("username")
    context = {
        "exception": str(exception or ""),
        "back": back_link(request),
        "admins": list(admins[:MAX_ADMINS_SHOWN]),
    }
    return render(request, "403.html", context, status=403)


def back_link(request: HttpRequest) -> str:
    """The page the person came from (same site), else the nearest page above this path."""
    referer = request.headers.get("Referer", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if referer and safe and not referer.endswith(request.path):
        return referer
    path = request.path
    while path not in ("", "/"):
        path = path.rstrip("/").rsplit("/", 1)[0] + "/"
        try:
            resolve(path)
        except Resolver404:
            continue
        return path
    return "/"


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 with Retry-After when the database is out of reach (the API says the same
    in JSON). Rendered without the request: its session and user may be what failed."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        context = {
            "title": "Back in a moment",
            "message": "Handoff cannot reach its database right now.",
            "advice": "Nothing you sent was half-saved. Try again in a few seconds.",
        }
        status = 503
    else:
        context = {
            "title": "Something went wrong",
            "message": "Handoff failed to answer this request.",
            "advice": "Try again; if it keeps failing, tell an administrator.",
        }
        status = 500
    html = render_to_string("server_error.html", {**context, "request_id": current_request_id()})
    response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
