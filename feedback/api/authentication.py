"""``Authorization: ApiKey <key>``: production services and product pages, not people.

A request made with a key is anonymous (``request.user``); ``request.auth`` is the key.
A browser request (one that sends ``Origin``) must come from an origin the key lists, so a
key copied out of a product page cannot be used from anywhere else in a browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from feedback.services.keys import active_key, note_use


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "ApiKey"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid key header: expected 'ApiKey <key>'.")
        try:
            secret = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid key header: not ASCII.") from exc
        key = active_key(secret)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in key.allowed_origins:
            raise exceptions.PermissionDenied(
                f"This key may not be used from {origin[:100]}: add the origin to the key, "
                "or call from a server."
            )
        note_use(key, timezone.now())
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
