"""Login with throttled failures.

Failures are counted per (client address, username) in the cache. Past the limit the form
refuses before checking the password, and the answer never says whether the user exists.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest

from portal.api.throttling import CACHE_DOWN

logger = logging.getLogger("handoff.login")


def client_address(request: HttpRequest | None) -> str:
    """The client's address: from the proxy's header when one is configured.

    Behind a proxy every REMOTE_ADDR is the proxy's, which would make all people share one
    failure counter per username. The proxy appends the address it saw, so take the last.
    """
    if request is None:
        return ""
    header = settings.HANDOFF_CLIENT_IP_HEADER
    forwarded = request.META.get(header, "") if header else ""
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _failure_key(request: HttpRequest | None, username: str) -> str:
    address = client_address(request)
    digest = hashlib.sha256(f"{address}|{username.lower()}".encode()).hexdigest()
    return f"login-failures:{digest}"


def throttled(request: HttpRequest | None, username: str) -> bool:
    """Too many recent failures for this address and username: refuse before checking.

    With the cache down, sign-in still works, uncounted (logged), rather than failing for all.
    """
    try:
        return cache.get(_failure_key(request, username), 0) >= settings.LOGIN_FAILURE_LIMIT
    except CACHE_DOWN as exc:
        logger.error("sign-in failures not counted, the cache is unavailable: %s", exc)
        return False


def note_failure(request: HttpRequest | None, username: str) -> None:
    logger.warning("failed login for %r", username)
    key = _failure_key(request, username)
    try:
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        cache.incr(key)
    except CACHE_DOWN as exc:
        logger.error("sign-in failure not counted, the cache is unavailable: %s", exc)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Wait a few minutes and try again.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if throttled(self.request, username):
            logger.warning("login throttled for %r", username)
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            note_failure(self.request, username)
            raise


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True
