"""``Authorization: Token <key>`` for the API, with personal tokens.

The lookup and the once-a-minute ``last_used_at`` rule live in ``portal.services.tokens``.
"""

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from portal.services.tokens import active_token, note_use


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>`` with a personal token; 401 when wrong or revoked."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if parts and parts[0].lower() == b"bearer":
            # A common guess; say which scheme works instead of a bare 401.
            raise exceptions.AuthenticationFailed(
                "Send personal tokens as 'Authorization: Token <key>', not 'Bearer'."
            )
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header: not ASCII.") from exc
        token = active_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        note_use(token, timezone.now())
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
