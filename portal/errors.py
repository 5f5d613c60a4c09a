"""Error pages that say what to do next, not only what went wrong."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

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
