"""Rates per API key (and per person for the rest), kept in the shared cache (Redis in
production), so every worker counts against the same budget. Over it: 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from feedback.models import ApiKey
from portal.api.throttling import PersonRateThrottle as EveryPersonRateThrottle
from portal.api.throttling import WindowRateThrottle


class ApiKeyRateThrottle(WindowRateThrottle):
    scope = "apikey"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class PersonRateThrottle(EveryPersonRateThrottle):
    """People's own budget; a key's requests are counted by ApiKeyRateThrottle only."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            return None
        return super().get_cache_key(request, view)
